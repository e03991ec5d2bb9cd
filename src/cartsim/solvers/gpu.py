"""Solve an ensemble on an NVIDIA GPU: one thread per patient, running the CPU's per-patient code.

The assembled model module's ``solve_patient`` (and the integrator, steppers, model functions
and random streams it calls) allocates nothing and is scalar per patient, so numba compiles the
same functions for the CUDA target. The kernel here only gives each thread its buffers in
local memory and calls it; results match the CPU's up to the two compilers' rounding.

The kernel is compiled once per process (numba caches no closure on disk): about 15 s for a
small model, a minute for the therapy model. Without a GPU, :func:`compile_ptx` still compiles
it to PTX (it needs NVIDIA's libnvvm, not a driver), and numba's CUDA simulator runs it with
``NUMBA_ENABLE_CUDASIM=1`` and ``NUMBA_DISABLE_JIT=1`` (the simulator runs kernels as Python,
which cannot call compiled CPU functions).
"""

from __future__ import annotations

import contextlib
import inspect
import time
from types import ModuleType

from numba import cuda, float64, int64, types, uint64

THREADS_PER_BLOCK = 64
OUTPUTS = ("out_states", "out_obs", "status", "info", "t_stop", "log_t", "log_k")
# The kernel's argument types after the patient count, in solve_range's order after start and
# stop (C-contiguous arrays, as the engine allocates them).
_F64, _I64 = types.float64, types.int64
SIGNATURE = (_I64, _F64[::1], _F64[:, ::1], _F64[:, ::1], types.boolean, _F64, _F64[::1], _I64,
             _I64, _F64, _F64, types.uint64[::1], _I64[::1], _I64[:, ::1], types.uint64[::1],
             _F64[:, :, ::1], _F64[:, :, ::1], _I64[::1], _I64[:, ::1], _F64[::1], _F64[:, ::1],
             _I64[:, ::1])


def gpu_available() -> bool:
    """Whether numba sees a usable CUDA GPU (or runs its simulator)."""
    return bool(cuda.is_available())


def argument_names(module: ModuleType) -> tuple[str, ...]:
    """The ensemble kernels' arguments after the model record and the patient range:
    ``solve_range``'s own names, so the CPU and GPU drivers cannot disagree on their order."""
    solve_range = getattr(module.solve_range, "py_func", module.solve_range)
    return tuple(inspect.signature(solve_range).parameters)[3:]


def _kernel_function(module: ModuleType):
    """The kernel as a plain Python function closing over the module's sizes (constants to
    numba), for ``cuda.jit`` or ``cuda.compile_ptx``. ``cuda`` stays a module global: numba's
    simulator swaps it in the kernel's globals."""
    solve_patient = module.solve_patient
    n_states = module.N_STATES
    n_params, n_streams, work_size, iwork_size = module.buffer_sizes(0)
    rng_size = module.RNG_STATE_SIZE

    def solve_kernel(n, t_eval, params, y0, use_model_init, rtol, atol, method, max_steps,
                     h_first, h_max, seeds, streams, windows, purposes, out_states, out_obs, status,
                     info, t_stop, log_t, log_k):
        i = cuda.grid(1)
        if i < n:
            y = cuda.local.array(n_states, float64)
            p = cuda.local.array(n_params, float64)
            rng = cuda.local.array((n_streams, rng_size), uint64)
            work = cuda.local.array(work_size, float64)
            iwork = cuda.local.array(iwork_size, int64)
            solve_patient(0, i, t_eval, params, y0, use_model_init, rtol, atol, method, max_steps,
                          h_first, h_max, seeds, streams, windows, purposes, out_states, out_obs,
                          status, info, t_stop, log_t, log_k, y, p, rng, work, iwork)

    return solve_kernel


def compile_kernel(module: ModuleType) -> float:
    """Compile the module's CUDA kernel now (once per module and process); returns the seconds
    it took, 0 if it was compiled already."""
    if getattr(module, "_cuda_kernel", None) is not None:
        return 0.0
    start = time.perf_counter()
    module._cuda_kernel = cuda.jit(SIGNATURE)(_kernel_function(module))
    return time.perf_counter() - start


def solve_chunk(module: ModuleType, n: int, arguments: tuple) -> None:
    """Solve ``n`` patients on the GPU; ``arguments`` are ``solve_range``'s after start/stop.
    Inputs go to the device, outputs are allocated there (the kernel writes every element)
    and copied back into the host arrays of ``arguments``."""
    compile_kernel(module)
    values = dict(zip(argument_names(module), arguments, strict=True))
    device = {name: (cuda.device_array(value.shape, value.dtype) if name in OUTPUTS
                     else cuda.to_device(value))
              for name, value in values.items() if hasattr(value, "shape") and value.ndim}
    blocks = -(-n // THREADS_PER_BLOCK)
    module._cuda_kernel[blocks, THREADS_PER_BLOCK](
        n, *(device.get(name, value) for name, value in values.items()))
    cuda.synchronize()
    for name in OUTPUTS:
        device[name].copy_to_host(values[name])


@contextlib.contextmanager
def _assumed_device(cc: tuple[int, int]):
    """Let numba compile device functions with no GPU present: when a kernel calls a device
    function, numba asks the current device for its compute capability; answer ``cc``."""
    from numba.cuda import dispatcher

    if not hasattr(dispatcher, "get_current_device"):  # numba-cuda moved its internals
        raise RuntimeError("this numba-cuda version cannot compile PTX without a GPU here")

    class _Device:
        compute_capability = cc

    original = dispatcher.get_current_device
    dispatcher.get_current_device = _Device
    try:
        yield
    finally:
        dispatcher.get_current_device = original


def compile_ptx(module: ModuleType, cc: tuple[int, int] = (9, 0)) -> str:
    """PTX of the module's kernel for compute capability ``cc`` (the signature the engine
    launches): proof that the model and the whole integrator compile for the GPU, on a
    machine without one (needs libnvvm)."""
    with _assumed_device(cc):
        ptx, _ = cuda.compile_ptx(_kernel_function(module), SIGNATURE, cc=cc)
    return ptx
