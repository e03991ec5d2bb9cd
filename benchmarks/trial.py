"""Trial benchmark: whole journeys batched in the compiled ensemble, against the limits.

In one run on this machine (run it otherwise idle):
(a) full-journey trial throughput, two years of follow-up, a 4-1BB scenario (ELIANA, tisa-cel)
    and a CD28 scenario (ZUMA-1, axi-cel), through ``run_trial`` and its Parquet store, on
    worker processes (``cartsim trial``'s default) and on threads of one process;
(b) the per-patient path (each journey a batch of one, as ``run_journey`` runs it) on a sample
    of the same patients;
(c) the bare therapy model on the same patients (their journey parameters, same horizon, daily
    output, no journey logic): the limit the journeys approach;
(d) the deterministic therapy model (no stochastic leaps: SBML has no random draws) exported to
    SBML in a libroadrunner loop on a sample, against cartsim on the same model and patients;
(e) with ``--million``: 10^6 patients through ``run_trial`` with peak resident memory (this
    process and its workers together);
(f) Dask with two local workers against the worker processes, on the same patients.
Solver statistics (accepted steps, events per patient) and the time to load the model (with
a warm cache: reading the generated module and kernel, no symbolic work) are printed so a
regression shows.
The last line is one JSON object with every number.

    python benchmarks/trial.py               # a few minutes
    python benchmarks/trial.py --patients 2000 --million
    python benchmarks/trial.py --gpu         # on a GPU machine: the GPU against the CPU
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import threading
import time

import numpy as np

from cartsim.engine import available_cores
from cartsim.journey.batch import run_journeys
from cartsim.journey.cohort import cohort_protocols
from cartsim.journey.run import journey_parameters
from cartsim.therapy.simulate import compiled_therapy_model, default_grid
from cartsim.trial import run_trial
from cartsim.trial.backends import DaskBackend, InProcessBackend, ProcessBackend
from cartsim.trial.execution import trial_protocol

SCENARIOS = {"4-1BB": "eliana-tisa-cel-b-all", "CD28": "zuma1-axi-cel-lbcl"}
FOLLOW_UP = 730.0
CHUNK = 128
"""Patients per chunk: several chunks per worker even at a thousand patients."""


def two_year(name: str) -> dict:
    """The scenario followed for two years."""
    protocol = trial_protocol(name)
    return trial_protocol({**protocol, "follow_up_days": FOLLOW_UP})


def journey_trial(protocol: dict, n: int, backend) -> dict:
    try:
        with tempfile.TemporaryDirectory() as folder:
            run = run_trial(protocol, n, out=folder, chunk_size=CHUNK, backend=backend)
    finally:
        backend.close()
    return {"patients": n, "seconds": round(run.seconds, 2),
            "patients_per_s": round(n / run.seconds, 1)}


def per_patient(protocol: dict, n: int) -> dict:
    protocols, _ = cohort_protocols(protocol, 0, n)
    start = time.perf_counter()
    for p in protocols:
        run_journeys([p])
    seconds = time.perf_counter() - start
    return {"patients": n, "seconds": round(seconds, 2), "patients_per_s": round(n / seconds, 1)}


def bare_table(protocol: dict, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The journey patients' model parameters (before any decision) and a daily grid."""
    compiled = compiled_therapy_model()
    protocols, _ = cohort_protocols(protocol, 0, n)
    rows = [journey_parameters(p) for p in protocols]
    table = np.array([[r[name] for name in compiled.parameter_names] for r in rows])
    return table, default_grid(rows[0], FOLLOW_UP, 1)


def bare(protocol: dict, n: int) -> dict:
    compiled = compiled_therapy_model()
    table, grid = bare_table(protocol, n)
    start = time.perf_counter()
    result = compiled.solve(grid, table, seed=protocol["seed"], max_logged_events=0)
    seconds = time.perf_counter() - start
    return {"patients": n, "seconds": round(seconds, 2), "patients_per_s": round(n / seconds, 1),
            "ok": float(result.ok.mean()),
            "accepted_steps_median": float(np.median(result.stats("accepted"))),
            "accepted_steps_mean": float(np.mean(result.stats("accepted"))),
            "events_mean": float(np.mean(result.stats("events"))),
            "retaken_mean": float(np.mean(result.stats("retaken"))),
            "stiff_steps_mean": float(np.mean(result.stats("stiff_steps")))}


def roadrunner(protocol: dict, n: int) -> dict:
    """The deterministic therapy model (the stochastic leaps off: SBML has no random draws)
    exported to SBML in a libroadrunner loop, against cartsim's ensemble on the same model
    and patients: throughput counts the patients libroadrunner finishes (its failures are
    counted and the first one quoted), and the final tumour burdens are compared."""
    import roadrunner as rr_module

    from cartsim.engine import compile_model
    from cartsim.sbml import export_sbml
    from cartsim.therapy import therapy_model

    model = therapy_model(stochastic=False)
    compiled = compile_model(model)
    table, grid = bare_table(protocol, n)
    start = time.perf_counter()
    ours = compiled.solve(grid, table, max_logged_events=0).observable("tumour_cells")[:, -1]
    cartsim_seconds = time.perf_counter() - start
    rr = rr_module.RoadRunner(export_sbml(model, start=float(grid[0])))
    rr.integrator.relative_tolerance = 1e-6
    theirs = np.full(n, np.nan)
    failures: list[str] = []
    start = time.perf_counter()
    for i, row in enumerate(table):
        rr.resetAll()
        for name, value in zip(compiled.parameter_names, row, strict=True):
            rr[name] = value
        rr.reset()
        try:  # CVODE's default step limit (20,000 per output interval), as a user runs it
            theirs[i] = rr.simulate(0.0, float(grid[-1] - grid[0]), grid.size,
                                    ["tumour_cells"])[-1, 0]
        except RuntimeError as error:
            failures.append(str(error).split(";")[0][:160])
    seconds = time.perf_counter() - start
    ok = ~np.isnan(theirs)
    difference = np.abs(ours[ok] - theirs[ok]) / np.maximum(np.abs(theirs[ok]), 1e-6)
    rate, cartsim_rate = int(ok.sum()) / seconds, n / cartsim_seconds
    return {"patients": n, "seconds": round(seconds, 2),
            "patients_per_s": round(rate, 2), "failed": len(failures),
            "first_failure": failures[0] if failures else None,
            "cartsim_same_model_patients_per_s": round(cartsim_rate, 1),
            "cartsim_over_roadrunner": round(cartsim_rate / max(rate, 1e-9), 1),
            "final_tumour_relative_difference_max":
                float(difference.max()) if ok.any() else None,
            "final_tumour_relative_difference_median":
                float(np.median(difference)) if ok.any() else None}


def million(protocol: dict, n: int) -> dict:
    import psutil

    process = psutil.Process()
    peak = [process.memory_info().rss]
    stop = threading.Event()

    def resident() -> int:
        total = process.memory_info().rss
        for child in process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def sample():
        while not stop.wait(0.5):
            peak[0] = max(peak[0], resident())

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    try:
        result = journey_trial(protocol, n, ProcessBackend())
    finally:
        stop.set()
        watcher.join()
    return {**result, "peak_rss_gib": round(peak[0] / 2**30, 2)}


def dask_against_processes(protocol: dict, n: int) -> dict:
    processes = journey_trial(protocol, n, ProcessBackend(2))
    # its workers load the compiled model when the cluster starts, before the timing
    distributed = journey_trial(protocol, n, DaskBackend("local", workers=2))
    return {"worker_processes": processes, "dask_2_workers": distributed,
            "ratio": round(distributed["patients_per_s"] / processes["patients_per_s"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=1000, help="per scenario")
    parser.add_argument("--sample", type=int, default=50, help="per-patient and roadrunner")
    parser.add_argument("--million", action="store_true")
    parser.add_argument("--gpu", action="store_true", help="the GPU against the CPU")
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    compiled_therapy_model()  # compile or load before any timing
    numbers: dict = {"machine": {"cores": available_cores(), "python": platform.python_version(),
                                 "processor": platform.processor()},
                     "model_load_seconds": round(time.perf_counter() - start, 1)}
    print("model loaded (generated and compiled, or read from the cache) in "
          f"{numbers['model_load_seconds']} s", flush=True)
    for label, name in SCENARIOS.items():
        protocol = two_year(name)
        entry = {"scenario": name,
                 "journey": journey_trial(protocol, args.patients, ProcessBackend()),
                 "journey_threads": journey_trial(protocol, args.patients, InProcessBackend()),
                 "per_patient": per_patient(protocol, args.sample),
                 "bare": bare(protocol, args.patients)}
        entry["journey_over_bare"] = round(entry["journey"]["patients_per_s"]
                                           / entry["bare"]["patients_per_s"], 3)
        if args.gpu:
            entry["gpu_journey"] = journey_trial(protocol, args.patients,
                                                 InProcessBackend("gpu"))
        numbers[label] = entry
        print(label, json.dumps(entry), flush=True)
    slower = min(SCENARIOS, key=lambda k: numbers[k]["journey"]["patients_per_s"])
    numbers["roadrunner"] = roadrunner(two_year(SCENARIOS[slower]), args.sample)
    print("roadrunner", json.dumps(numbers["roadrunner"]), flush=True)
    if not args.no_dask:
        numbers["dask"] = dask_against_processes(two_year(SCENARIOS[slower]),
                                                  min(args.patients, 512))
        print("dask", json.dumps(numbers["dask"]), flush=True)
    if args.million:
        numbers["million"] = million(two_year(SCENARIOS[slower]), 1_000_000)
        print("million", json.dumps(numbers["million"]), flush=True)
    numbers.update(
        journey_patients_per_s=numbers[slower]["journey"]["patients_per_s"],
        bare_patients_per_s=numbers[slower]["bare"]["patients_per_s"],
        per_patient_patients_per_s=numbers[slower]["per_patient"]["patients_per_s"],
        roadrunner_patients_per_s=numbers["roadrunner"].get("patients_per_s"),
        slower_scenario=SCENARIOS[slower])
    print(json.dumps(numbers))


if __name__ == "__main__":
    main()
