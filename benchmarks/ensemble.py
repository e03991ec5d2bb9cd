"""Ensemble benchmark: cartsim against its peers, measured in one run on this machine.

Models: the 6-state CAR-T-like model of reference/performance.md (cartsim.examples.cart6_model,
lognormal population from cart6_population), 100 days, daily output, rtol 1e-6, atol 1e-9
(1 cell); and the Kimmel 2021 SBML model (BIOMD0000001041) with lognormal parameters.

Peers: a Python loop over scipy solve_ivp (LSODA), libroadrunner in a Python loop (CVODE),
JAX + diffrax vmap if installed. Accuracy: per patient max over time and state of
|y - y_ref| / (|y_ref| + floor), floor 1e-6 for cell states and 1e-3 for the cytokine
(performance.md), against (a) scipy DOP853 at rtol 1e-12 (independent code, with cartsim's
extinction rule: a clone below 1 cell becomes 0) on a sample, and (b) cartsim DOPRI5 at
rtol 1e-12 on every patient. The last line printed is one JSON object with all numbers.

    python benchmarks/ensemble.py            # about 5 minutes
    python benchmarks/ensemble.py --quick    # smoke run
    python benchmarks/ensemble.py --million  # adds 10^6 patients, streamed, peak memory
    python benchmarks/ensemble.py --gpu-only # cart6 on the GPU against the CPU (a GPU machine)

Kimmel 2021 also runs on the generic kernel (one solver for every model, native model
functions), and the seconds from a fresh process to its first solve are measured on both
kernels, with an empty and a filled kernel cache.

With an NVIDIA GPU and the gpu extra, cartsim's GPU target is measured too (one thread per
patient): patients per second at each size, its first-launch compile time, and its accuracy
against the same tight reference; otherwise its entry says why it was skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from cartsim.engine import available_cores, compile_model
from cartsim.examples import cart6_model, cart6_population
from cartsim.sbml import export_sbml, import_sbml

T_END = 100.0
GRID = np.linspace(0.0, T_END, 101)
RTOL, ATOL = 1e-6, 1e-9
EXTINCTION = 1e-9
KIMMEL = Path(__file__).resolve().parents[1].parent / "shared" / "biomodels" / \
    "BIOMD0000001041.xml"
STATES = ["E", "M", "X", "Tp", "Tn", "C"]
FLOOR = np.array([1e-6, 1e-6, 1e-6, 1e-6, 1e-6, 1e-3])


def accuracy(y: np.ndarray, ref: np.ndarray, floor) -> dict:
    """Per-patient max relative error with a floor; summary over patients."""
    err = np.abs(y - ref) / (np.abs(ref) + floor)
    per_patient = np.nanmax(err.reshape(err.shape[0], -1), axis=1)
    per_patient[~np.isfinite(per_patient)] = np.inf
    return {"max": float(per_patient.max()), "p99": float(np.percentile(per_patient, 99)),
            "median": float(np.median(per_patient)),
            "share_above_1pct": float((per_patient > 0.01).mean()), "n": int(len(per_patient))}


def row(name: str, n: int, seconds: float, acc: dict | None, extra: str = "") -> None:
    rate = n / seconds
    text = (f"{name:<34} n={n:>7,}  {seconds:8.2f} s  {rate:>10,.0f} patients/s")
    if acc:
        text += (f"  max err {acc['max']:.1e}  p99 {acc['p99']:.1e}  "
                 f">1% {acc['share_above_1pct']:.2%}")
    print(text + extra, flush=True)


# ---- the 6-state model in plain numpy, for the peers ----------------------------------------
def cart6_rhs(p):
    rp, rn, kcap, kappa, kk, rho, ka, de, eps, theta, mum, chi, dx, pic, kc = p

    def f(_, y):
        e, m, x, tp, tn, c = y
        a = tp / (ka + tp)
        kill = kappa * e * tp / (kk + tp)
        crowd = 1.0 - (tp + tn) / kcap
        return [rho * a * e + theta * a * m - (de + eps + chi * a) * e,
                eps * e - theta * a * m - mum * m, chi * a * e - dx * x,
                rp * tp * crowd - kill, rn * tn * crowd, pic * a * e - kc * c]
    return f


PARAM_ORDER = ["rp", "rn", "Kcap", "kappa", "Kk", "rho", "Ka", "dE", "eps", "theta", "muM",
               "chi", "dX", "pic", "kc"]


def patient(table: np.ndarray, names: list[str], i: int):
    values = dict(zip(names, table[i], strict=True))
    p = [values[k] for k in PARAM_ORDER]
    y0 = [values["dose"], 0.0, 0.0, values["T0"] * (1 - values["neg_fraction"]),
          values["T0"] * values["neg_fraction"], 0.0]
    return p, y0


def scipy_reference(table, names, indices) -> np.ndarray:
    """DOP853 at rtol 1e-12 with the extinction rule (restart with the clone set to 0)."""
    from scipy.integrate import solve_ivp

    out = np.empty((len(indices), GRID.size, 6))
    for row_i, i in enumerate(indices):
        p, y0 = patient(table, names, i)
        f = cart6_rhs(p)
        events = []
        for k in (3, 4):
            def hit(_, y, k=k):
                return y[k] - EXTINCTION
            hit.terminal, hit.direction = True, -1
            events.append(hit)
        t0, y, pieces = 0.0, np.array(y0), []
        while True:
            sol = solve_ivp(f, (t0, T_END), y, method="DOP853", rtol=1e-12, atol=1e-15,
                            dense_output=True, events=[e for j, e in zip((3, 4), events,
                                                                         strict=True)
                                                       if y[j] > 0])
            pieces.append((t0, sol.t[-1], sol.sol))
            if sol.status != 1:
                break
            t0, y = sol.t[-1], sol.y[:, -1].copy()
            for j in (3, 4):
                if y[j] <= EXTINCTION * (1 + 1e-9):
                    y[j] = 0.0
        for start, stop, dense in pieces:
            mask = (GRID >= start) & (GRID <= stop)
            out[row_i, mask] = dense(GRID[mask]).T
        out[row_i, :, 3:5][out[row_i, :, 3:5] < EXTINCTION] = 0.0
    return out


def scipy_lsoda(table, names, indices):
    from scipy.integrate import solve_ivp

    out = np.empty((len(indices), GRID.size, 6))
    start = time.perf_counter()
    for row_i, i in enumerate(indices):
        p, y0 = patient(table, names, i)
        sol = solve_ivp(cart6_rhs(p), (0, T_END), y0, method="LSODA", t_eval=GRID, rtol=RTOL,
                        atol=ATOL)
        out[row_i] = sol.y.T if sol.success else np.nan
    return out, time.perf_counter() - start


def roadrunner_loop(sbml: str, settings, indices, selections, rtol, atol, t_end, points):
    """libroadrunner per patient: reset, set parameters and initial values, simulate."""
    import roadrunner

    start_load = time.perf_counter()
    rr = roadrunner.RoadRunner(sbml)
    load = time.perf_counter() - start_load
    rr.integrator.relative_tolerance = rtol
    rr.integrator.absolute_tolerance = atol
    rr.integrator.maximum_num_steps = 1_000_000
    out = np.empty((len(indices), points, len(selections)))
    start = time.perf_counter()
    for row_i, i in enumerate(indices):
        rr.resetAll()
        for key, value in settings(i).items():
            rr[key] = value
        rr.reset()
        out[row_i] = np.array(rr.simulate(0, t_end, points, selections=selections))
    return out, time.perf_counter() - start, load


def fresh_process_seconds(code: str, *, empty_cache: bool = False,
                          cache: str | None = None) -> float:
    """Wall time of ``code`` in a fresh Python process (start-up and imports included), with an
    empty kernel cache, the cache folder ``cache``, or this machine's own."""
    with tempfile.TemporaryDirectory() as folder:
        chosen = folder if empty_cache else cache
        env = dict(os.environ, CARTSIM_CACHE_DIR=chosen) if chosen else None
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)
        return time.perf_counter() - start


def bench_compile() -> dict:
    """Seconds from a fresh process to the first solve of a small SBML model (Kimmel 2021, 101
    output times) on each kernel: with an empty kernel cache; for the generic kernel also a
    model new to a cache that holds the generic kernel (the everyday case); and with the
    model cached. Start-up and imports are in every figure; ``imports_s`` is them alone."""
    def solve(kernel: str, source: str) -> str:
        return ("import numpy as np; from cartsim.engine import compile_model; "
                f"from cartsim.sbml import import_sbml; model = import_sbml({source!r}).model; "
                f"compile_model(model, kernel={kernel!r}).solve(np.linspace(0, 500, 101))")

    other = ("from cartsim.engine import compile_model; from cartsim.examples import "
             "cart6_model; compile_model(cart6_model(), kernel='generic')")
    out: dict = {"imports_s": fresh_process_seconds(
        "import numpy, cartsim.engine, cartsim.sbml")}
    with tempfile.TemporaryDirectory() as cache:
        out["generic_empty_cache_s"] = fresh_process_seconds(solve("generic", str(KIMMEL)),
                                                             empty_cache=True)
        fresh_process_seconds(other, cache=cache)  # the generic kernel, and another model
        out["generic_new_model_s"] = fresh_process_seconds(solve("generic", str(KIMMEL)),
                                                           cache=cache)
        out["generic_cached_s"] = fresh_process_seconds(solve("generic", str(KIMMEL)),
                                                        cache=cache)
        out["specialised_empty_cache_s"] = fresh_process_seconds(
            solve("specialised", str(KIMMEL)), empty_cache=True)
        fresh_process_seconds(solve("specialised", str(KIMMEL)), cache=cache)
        out["specialised_cached_s"] = fresh_process_seconds(solve("specialised", str(KIMMEL)),
                                                            cache=cache)
    print("Kimmel 2021 SBML, fresh process to first solve: "
          + ", ".join(f"{key[:-2].replace('_', ' ')} {value:.2f} s"
                      for key, value in out.items()))
    return out


def best_of(repeats: int, fn):
    best, value = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def bench_cart6(sizes, ref_sample, peer_sample, rr_sample) -> dict:
    results: dict = {"sizes": {}}
    compiled = compile_model(cart6_model())  # fills the disk cache if it was empty
    code = ("from cartsim.engine import compile_model; from cartsim.examples import cart6_model; "
            "compile_model(cart6_model())")
    results["compile_s_cold"] = fresh_process_seconds(code, empty_cache=True)
    results["compile_s_cached"] = fresh_process_seconds(code, empty_cache=False)
    print(f"cart6: compile in a fresh process {results['compile_s_cold']:.1f} s with an empty "
          f"cache, {results['compile_s_cached']:.1f} s from the disk cache (start-up and "
          "imports included)")
    names = compiled.parameter_names
    for n in sizes:
        params = cart6_population(n, seed=0)
        table = compiled.parameter_table(params)
        repeats = 3 if n <= 10_000 else 1
        seconds, res = best_of(repeats, lambda params=params: compiled.solve(
            GRID, params=params, rtol=RTOL, atol=ATOL))
        y = res.states[:, :, [compiled.state_names.index(s) for s in STATES]]
        entry = {"patients_per_s": n / seconds, "seconds": seconds,
                 "failed": int((~res.ok).sum()),
                 "stiff_switch_share": float((res.stats("switches") > 0).mean())}
        sample = np.arange(min(ref_sample, n))
        reference = scipy_reference(table, names, sample)
        entry["accuracy_vs_scipy_dop853"] = accuracy(y[sample], reference, FLOOR)
        tight_idx = np.arange(n) if n <= 10_000 else np.arange(10_000)
        tight = compiled.solve(GRID, params=table[tight_idx], rtol=1e-12, atol=1e-15,
                               method="dopri5")
        entry["accuracy_vs_cartsim_dopri5_1e-12"] = accuracy(
            y[tight_idx], tight.states[:, :, [compiled.state_names.index(s) for s in STATES]],
            FLOOR)
        entry["reference_agreement_dopri5_vs_dop853"] = accuracy(
            tight.states[sample][:, :, [compiled.state_names.index(s) for s in STATES]],
            reference, FLOOR)
        results["sizes"][str(n)] = entry
        row("cartsim (auto, 2 threads)", n, seconds, entry["accuracy_vs_scipy_dop853"],
            f"  [vs dopri5 1e-12 on {len(tight_idx):,}: max "
            f"{entry['accuracy_vs_cartsim_dopri5_1e-12']['max']:.1e}]")

    n_peer = min(peer_sample, sizes[0])
    params = cart6_population(sizes[0], seed=0)
    table = compiled.parameter_table(params)
    idx = np.arange(n_peer)
    lsoda, seconds = scipy_lsoda(table, names, idx)
    ref = scipy_reference(table, names, np.arange(min(ref_sample, n_peer)))
    acc = accuracy(lsoda[: len(ref)], ref, FLOOR)
    results["scipy_lsoda_loop"] = {"patients_per_s": n_peer / seconds, "n": n_peer,
                                   "accuracy_vs_scipy_dop853": acc}
    row("scipy solve_ivp LSODA loop", n_peer, seconds, acc)

    sbml = export_sbml(cart6_model())
    n_rr = min(rr_sample, sizes[0])

    def settings(i):
        return dict(zip(names, table[i], strict=True))

    rr_out, seconds, load = roadrunner_loop(sbml, settings, np.arange(n_rr), STATES, RTOL,
                                            ATOL, T_END, GRID.size)
    acc = accuracy(rr_out[: len(ref)], ref, FLOOR)
    results["libroadrunner_loop"] = {"patients_per_s": n_rr / seconds, "n": n_rr,
                                     "compile_s": load, "accuracy_vs_scipy_dop853": acc}
    row("libroadrunner loop (CVODE)", n_rr, seconds, acc, f"  load+compile {load:.2f} s")
    results["jax_diffrax"] = bench_jax(table, names, sizes[0], ref)
    first = results["sizes"][str(sizes[0])]["patients_per_s"]
    results["ratio_vs_libroadrunner"] = first / results["libroadrunner_loop"]["patients_per_s"]
    results["ratio_vs_scipy_lsoda"] = first / results["scipy_lsoda_loop"]["patients_per_s"]
    text = (f"cartsim / libroadrunner = {results['ratio_vs_libroadrunner']:.1f}x, "
            f"cartsim / scipy LSODA = {results['ratio_vs_scipy_lsoda']:.0f}x")
    if "patients_per_s" in results["jax_diffrax"]:
        results["ratio_vs_jax_diffrax"] = first / results["jax_diffrax"]["patients_per_s"]
        text += f", cartsim / JAX + diffrax = {results['ratio_vs_jax_diffrax']:.1f}x"
    print(text)
    return results


def bench_gpu(sizes, cpu_rates: dict) -> dict:
    """cart6 on the GPU target: rate, first-launch compile, accuracy vs CPU DOPRI5 at 1e-12."""
    from cartsim.solvers.gpu import gpu_available

    if not gpu_available():
        print("cartsim GPU: skipped (no CUDA GPU visible to numba)")
        return {"skipped": "no CUDA GPU visible to numba"}
    compiled = compile_model(cart6_model())
    results: dict = {"compile_s": compiled.compile_gpu(), "sizes": {}}
    columns = [compiled.state_names.index(s) for s in STATES]
    for n in sizes:
        params = cart6_population(n, seed=0)
        seconds, res = best_of(repeats_for(n), lambda params=params: compiled.solve(
            GRID, params=params, rtol=RTOL, atol=ATOL, target="gpu"))
        sample = np.arange(min(n, 10_000))
        tight = compiled.solve(GRID, params=compiled.parameter_table(params)[sample],
                               rtol=1e-12, atol=1e-15, method="dopri5")
        entry = {"patients_per_s": n / seconds, "seconds": seconds,
                 "failed": int((~res.ok).sum()),
                 "accuracy_vs_cartsim_dopri5_1e-12": accuracy(
                     res.states[sample][:, :, columns], tight.states[:, :, columns], FLOOR)}
        if str(n) in cpu_rates:
            entry["ratio_vs_cartsim_cpu"] = entry["patients_per_s"] / cpu_rates[str(n)]
        results["sizes"][str(n)] = entry
        row("cartsim GPU", n, seconds, entry["accuracy_vs_cartsim_dopri5_1e-12"])
    print(f"cartsim GPU: kernel compiled in {results['compile_s']:.1f} s")
    return results


def repeats_for(n: int) -> int:
    """Timing repeats (best of) for a GPU-against-CPU comparison of n patients."""
    return 3 if n <= 100_000 else 1


def cpu_rates(sizes) -> dict:
    """cartsim CPU patients per second on cart6 at each size (all cores)."""
    compiled = compile_model(cart6_model())
    rates = {}
    for n in sizes:
        params = cart6_population(n, seed=0)
        seconds, _ = best_of(repeats_for(n), lambda params=params: compiled.solve(
            GRID, params=params, rtol=RTOL, atol=ATOL))
        rates[str(n)] = n / seconds
        print(f"cartsim CPU ({available_cores()} cores): {n:,} patients, {rates[str(n)]:,.0f}/s")
    return rates


def bench_jax(table, names, n: int, ref: np.ndarray) -> dict:
    """JAX + diffrax: Tsit5 with a PID step controller, vmapped over ``n`` patients (lock-step:
    every patient takes the steps of the hardest). diffrax has no extinction rule, so a clone
    below one cell lingers instead of becoming 0 (as in the other peers)."""
    try:
        import diffrax
        import jax
        import jax.numpy as jnp
    except ImportError:
        print("JAX + diffrax: not installed (pip install jax diffrax to include them)")
        return {"status": "not installed"}
    jax.config.update("jax_enable_x64", True)

    def rhs(_, y, p):
        return jnp.stack(cart6_rhs(list(p))(None, list(y)))

    term = diffrax.ODETerm(rhs)
    controller = diffrax.PIDController(rtol=RTOL, atol=ATOL)
    saveat = diffrax.SaveAt(ts=jnp.asarray(GRID))

    def solve_one(p, y0):
        return diffrax.diffeqsolve(term, diffrax.Tsit5(), 0.0, T_END, None, y0, args=p,
                                   saveat=saveat, stepsize_controller=controller,
                                   max_steps=200_000).ys

    solve_all = jax.jit(jax.vmap(solve_one))
    rows = [patient(table, names, i) for i in range(n)]
    p = jnp.asarray([r[0] for r in rows])
    y0 = jnp.asarray([r[1] for r in rows])
    start = time.perf_counter()
    solve_all(p, y0).block_until_ready()
    first = time.perf_counter() - start
    seconds, ys = best_of(2, lambda: solve_all(p, y0).block_until_ready())
    out = np.asarray(ys)
    acc = accuracy(out[: len(ref)], ref, FLOOR)
    result = {"patients_per_s": n / seconds, "n": n, "compile_s": first - seconds,
              "jax": jax.__version__, "diffrax": diffrax.__version__,
              "accuracy_vs_scipy_dop853": acc}
    row("JAX + diffrax vmap (Tsit5)", n, seconds, acc, f"  compile {first - seconds:.1f} s")
    return result


def bench_kimmel(n: int, rr_sample: int, ref_sample: int) -> dict:
    imported = import_sbml(KIMMEL)
    compiled = compile_model(imported.model)
    rng = np.random.default_rng(0)
    varied = [p for p in compiled.parameter_names if p != "compartment"]
    params = {p: compiled.defaults[compiled.parameter_names.index(p)]
              * np.exp(0.2 * rng.standard_normal(n)) for p in varied}
    grid = np.linspace(0, 500, 101)
    seconds, res = best_of(2, lambda: compiled.solve(grid, params=params, rtol=RTOL, atol=ATOL))
    sample = np.arange(min(ref_sample, n))
    table = compiled.parameter_table(params)
    tight = compiled.solve(grid, params=table[sample], rtol=1e-12, atol=1e-14, method="dopri5")
    species = imported.species[:3]
    y = res.states[sample][:, :, [compiled.state_names.index(imported.name_of(s))
                                  for s in species]]
    ref = tight.states[:, :, [compiled.state_names.index(imported.name_of(s)) for s in species]]
    floor = 1e-6 * np.abs(ref).max(axis=1, keepdims=True)
    acc = accuracy(y, ref, floor)
    out = {"patients_per_s": n / seconds, "n": n, "compile_s": compiled.compile_seconds,
           "kernel_cache_hit": compiled.kernel_cache_hit,
           "accuracy_vs_cartsim_dopri5_1e-12": acc}
    row("Kimmel 2021 SBML: cartsim", n, seconds, acc)
    generic = compile_model(imported.model, kernel="generic")
    g_seconds, g_res = best_of(2, lambda: generic.solve(grid, params=params, rtol=RTOL,
                                                        atol=ATOL))
    g_acc = accuracy(g_res.states[sample][:, :, [generic.state_names.index(imported.name_of(s))
                                                 for s in species]], ref, floor)
    out["generic_kernel"] = {"patients_per_s": n / g_seconds, "n": n,
                             "ratio_vs_specialised": seconds / g_seconds,
                             "accuracy_vs_cartsim_dopri5_1e-12": g_acc}
    row("Kimmel 2021 SBML: cartsim, generic kernel", n, g_seconds, g_acc)

    def settings(i):
        return {imported.ids[p]: table[i, compiled.parameter_names.index(p)] for p in varied}

    n_rr = min(rr_sample, n)
    rr_out, rr_seconds, _ = roadrunner_loop(str(KIMMEL), settings, np.arange(n_rr),
                                            species, RTOL, ATOL, 500, grid.size)
    rr_acc = accuracy(rr_out[: len(sample)], ref[:n_rr], floor[:n_rr])
    out["libroadrunner_loop"] = {"patients_per_s": n_rr / rr_seconds, "n": n_rr,
                                 "accuracy_vs_cartsim_dopri5_1e-12": rr_acc}
    out["ratio_vs_libroadrunner"] = out["patients_per_s"] / (n_rr / rr_seconds)
    row("Kimmel 2021 SBML: libroadrunner", n_rr, rr_seconds, rr_acc)
    return out


def bench_therapy_compile() -> dict:
    """Seconds from a fresh process to the compiled therapy model: on the specialised kernel
    with an empty cache, and on the generic kernel with the model new to a cache that holds
    the generic kernel (its symbolic work, then milliseconds of native code)."""
    def compile_code(kernel: str) -> str:
        return ("from cartsim.engine import compile_model; from cartsim.therapy import "
                f"therapy_model; compile_model(therapy_model(), kernel={kernel!r})")

    other = ("from cartsim.engine import compile_model; from cartsim.examples import "
             "cart6_model; compile_model(cart6_model(), kernel='generic')")
    out = {"specialised_empty_cache_s": fresh_process_seconds(compile_code("specialised"),
                                                              empty_cache=True)}
    with tempfile.TemporaryDirectory() as cache:
        fresh_process_seconds(other, cache=cache)
        out["generic_new_model_s"] = fresh_process_seconds(compile_code("generic"), cache=cache)
    print(f"therapy model, fresh process to compiled: specialised (empty cache) "
          f"{out['specialised_empty_cache_s']:.0f} s, generic (new model) "
          f"{out['generic_new_model_s']:.0f} s")
    return out


def bench_million(n: int = 1_000_000, chunk: int = 50_000) -> dict:
    import psutil

    compiled = compile_model(cart6_model())
    process = psutil.Process()
    peak = [process.memory_info().rss]
    stop = threading.Event()

    def sample_memory():
        while not stop.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.05)

    watcher = threading.Thread(target=sample_memory, daemon=True)
    watcher.start()
    cured = 0
    start = time.perf_counter()
    for first in range(0, n, chunk):
        params = cart6_population(min(chunk, n - first), seed=0, first_patient=first)
        for part in compiled.solve_chunks(GRID, params=params, rtol=RTOL, atol=ATOL,
                                          chunk_size=chunk):
            cured += int((part.observable("tumour")[:, -1] == 0).sum())
    seconds = time.perf_counter() - start
    stop.set()
    watcher.join()
    result = {"patients": n, "seconds": seconds, "patients_per_s": n / seconds,
              "peak_rss_gb": peak[0] / 2**30, "cured_share": cured / n}
    print(f"10^6 streamed: {seconds:.1f} s ({n / seconds:,.0f}/s), peak RSS "
          f"{result['peak_rss_gb']:.2f} GB, tumour eradicated in {cured / n:.1%}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--million", action="store_true", help="also stream 10^6 patients")
    parser.add_argument("--gpu-only", action="store_true",
                        help="only cart6 on the GPU against the CPU (10^4 to 10^6 patients)")
    args = parser.parse_args()
    if args.gpu_only:
        sizes = [10_000, 100_000, 1_000_000]
        print(json.dumps({"machine": {"cores": available_cores()},
                          "cart6_gpu": bench_gpu(sizes, cpu_rates(sizes))}))
        return
    sizes = [1_000] if args.quick else [10_000, 100_000]
    ref_sample, peer_sample, rr_sample = (30, 50, 200) if args.quick else (200, 300, 2_000)
    import numba

    report = {
        "machine": {"cores": available_cores(), "python": platform.python_version(),
                    "numba": numba.__version__, "numpy": np.__version__},
        "cart6": bench_cart6(sizes, ref_sample, peer_sample, rr_sample),
    }
    report["cart6_gpu"] = bench_gpu(sizes, {n: entry["patients_per_s"]
                                            for n, entry in report["cart6"]["sizes"].items()})
    if KIMMEL.exists():
        report["kimmel2021"] = bench_kimmel(1_000 if args.quick else 10_000, rr_sample,
                                            ref_sample)
        report["compile_small_sbml"] = bench_compile()
    if not args.quick:
        report["compile_therapy"] = bench_therapy_compile()
    if args.million:
        report["million"] = bench_million()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
