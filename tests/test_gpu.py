"""The GPU target: the per-patient kernel compiles for CUDA, and the GPU driver (one thread per
patient, buffers in local memory, outputs copied back) gives the CPU's results.

No GPU here: the PTX test compiles for sm_90 with NVIDIA's libnvvm (the gpu extra brings it),
and the driver runs in numba's CUDA simulator. The simulator executes the kernel as Python, so
the simulated run uses ``NUMBA_DISABLE_JIT`` (in a subprocess) and is compared with the compiled
CPU run: the same algorithm, differing only in rounding (fused multiply-adds on the CPU).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cartsim.engine import compile_model
from cartsim.errors import SolverOptionsError
from cartsim.examples import cart6_model, cart6_population
from cartsim.model import Model, TimeEvent, add_to
from cartsim.solvers.gpu import gpu_available
from tests.conftest import birth_death_model

ROOT = Path(__file__).resolve().parents[1]
TIMES = np.linspace(0.0, 60.0, 61)
RTOL = 1e-10  # tight, so that rounding differences cannot grow to the size of the bound below


def redosed_birth_death() -> Model:
    """The last few cells of a population as a stochastic birth-death process (events that
    draw random numbers), re-dosed on day 20 (a time event)."""
    return birth_death_model([TimeEvent("redose", 20.0, (add_to("X", "n0*one_cell"),))])


OUTPUTS = ("states", "observables", "status", "info", "t_stop", "event_ids", "event_times")


def solve_both(target: str) -> dict[str, np.ndarray]:
    """Both test models on ``target``: cart6 (state events: tumour extinction; 130 patients in
    chunks of 100, so two GPU blocks in one launch and a second launch starting at patient 100)
    and the re-dosed birth-death process (time event, random draws)."""
    results = {}
    cart6 = compile_model(cart6_model()).solve(TIMES, cart6_population(130, seed=1), seed=3,
                                               target=target, rtol=RTOL, chunk_size=100)
    stochastic = compile_model(redosed_birth_death()).solve(
        TIMES, {"n0": np.array([1.0, 2.0, 3.0, 5.0, 8.0, 13.0]), "b": 0.5, "d": 0.45}, seed=11,
        target=target, rtol=RTOL)
    for name, run in (("cart6", cart6), ("stochastic", stochastic)):
        for field in OUTPUTS:
            results[f"{name}_{field}"] = getattr(run, field)
    return results


def simulate_on_gpu(out: str) -> None:
    """Entry point of the simulator subprocess."""
    np.savez(out, **solve_both("gpu"))


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu") / "simulated.npz"
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1", "NUMBA_DISABLE_JIT": "1",
           "PYTHONWARNINGS": "ignore"}
    code = f"import tests.test_gpu as t; t.simulate_on_gpu({str(out)!r})"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(np.load(out))


def test_gpu_driver_reproduces_the_cpu(simulated):
    """Every output the GPU path copies back: same statuses and event logs (including the
    unused slots), events at the same times (to 1e-9 day), the same stop times, states and
    observables within 1e-7 of each other relative to each one's scale (the solver's rtol is
    1e-10; measured 3e-14 and 5e-12), and step and event counts within 25% (rounding moves
    step-size choices: up to 19% seen in the stochastic model's steps, when its leaps still
    ended on a located crossing)."""
    cpu = solve_both("cpu")
    for name in ("cart6", "stochastic"):
        assert (cpu[f"{name}_status"] == 0).all()
        for field in ("status", "event_ids"):
            np.testing.assert_array_equal(simulated[f"{name}_{field}"], cpu[f"{name}_{field}"])
        np.testing.assert_allclose(simulated[f"{name}_info"], cpu[f"{name}_info"], rtol=0.25)
        for field in ("event_times", "t_stop"):
            np.testing.assert_allclose(simulated[f"{name}_{field}"], cpu[f"{name}_{field}"],
                                       rtol=0, atol=1e-9)
        for field in ("states", "observables"):
            gpu_values, cpu_values = simulated[f"{name}_{field}"], cpu[f"{name}_{field}"]
            assert gpu_values.shape == cpu_values.shape
            if not cpu_values.size:  # the stochastic model has no observables
                continue
            scale = np.maximum(np.abs(cpu_values).max(axis=1, keepdims=True), 1e-300)
            assert np.max(np.abs(gpu_values - cpu_values) / scale) < 1e-7
    # the stochastic model did something: some patients went extinct, others were re-dosed
    final = cpu["stochastic_states"][:, -1, 0]
    assert (final == 0).any() and (final > 0).any()


def test_gpu_target_without_a_gpu_is_a_clear_error():
    compiled = compile_model(cart6_model())
    with pytest.raises(SolverOptionsError, match="target must be one of cpu, gpu"):
        compiled.solve(TIMES, n_patients=2, target="tpu")
    if gpu_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(SolverOptionsError, match="needs an NVIDIA GPU"):
        compiled.solve(TIMES, n_patients=2, target="gpu")
    with pytest.raises(SolverOptionsError, match="needs an NVIDIA GPU"):
        compiled.compile_gpu()


def _ptx_compiler_missing() -> str | None:
    """Why PTX cannot be compiled here, or None."""
    if importlib.util.find_spec("numba_cuda") is None:
        return "numba-cuda is not installed (pip install 'cartsim[gpu]')"
    from numba.cuda.cudadrv import nvvm

    if not nvvm.is_available():
        return "NVIDIA's libnvvm is not available"
    return None


@pytest.mark.skipif(_ptx_compiler_missing() is not None,
                    reason=str(_ptx_compiler_missing()))
@pytest.mark.parametrize("build", [cart6_model, redosed_birth_death,
                                   lambda: cart6_model(extinction=None)],
                         ids=["state-events", "time-event-and-random-draws", "no-events"])
def test_kernel_compiles_for_the_gpu(build):
    """The whole integrator (both steppers, events, random streams) lowers to PTX for sm_90,
    with every buffer in thread-local memory (no heap allocation, which CUDA lacks)."""
    from cartsim.solvers.gpu import compile_ptx

    ptx = compile_ptx(compile_model(build()).module, cc=(9, 0))
    assert ".target sm_90" in ptx
    assert ".visible .entry" in ptx  # the kernel itself
    assert "NRT_MemInfo" not in ptx  # no runtime allocation


@pytest.mark.slow
@pytest.mark.skipif(_ptx_compiler_missing() is not None,
                    reason=str(_ptx_compiler_missing()))
def test_therapy_model_compiles_for_the_gpu():
    """The full CAR-T therapy model (42 states, 35 events) as one GPU kernel (about a minute)."""
    from cartsim.solvers.gpu import compile_ptx
    from cartsim.therapy import therapy_model

    ptx = compile_ptx(compile_model(therapy_model()).module, cc=(9, 0))
    assert ".target sm_90" in ptx and "NRT_MemInfo" not in ptx
