# Ensemble driver: each patient has its own parameters, initial state and random streams keyed
# by its own (seed, stream) pair (one per event, keyed by the event's purpose; by default the
# run's seed and the patient's global index), so results do not depend on
# how patients are split over calls, threads or GPU blocks, and the draws of one event do not
# depend on which other events draw. solve_patient is the per-patient body both targets share:
# solve_range runs it over a range on the CPU (compiled with nogil, the Python driver runs
# ranges on a thread pool), the GPU kernel (cartsim/solvers/gpu.py) runs one per thread.
# A patient may use a window [windows[i, 0], windows[i, 1]) of the shared output times: it is
# solved from the window's first time to its last, and its other output rows stay NaN.
# Template text: uses integrate_patient and model_init from the assembled module.
# ruff: noqa: F821
import numpy as np

from cartsim.codegen.jit import njit

N_STREAMS = max(N_EVENTS, 1)
PARAM_SCRATCH = max(N_PARAMS, 1)  # a patient's parameters (one slot at least: no empty local array)


@njit(cache=True)
def solve_patient(i, t_eval, params, y0, use_model_init, rtol, atol, method, max_steps, h_first,
                  h_max, seeds, streams, windows, purposes, out_states, out_obs, status, info,
                  t_stop, log_t, log_k, y, p, rng, work, iwork):
    """Solve row i of the arrays (random streams keyed by seeds[i] and streams[i], over its
    window of t_eval) with the caller's buffers: y (N_STATES), p (at least N_PARAMS), rng
    (N_STREAMS random states), work and iwork (scratch)."""
    p = p[:N_PARAMS]
    for j in range(N_PARAMS):
        p[j] = params[i, j]
    if use_model_init:
        model_init(p, y)
    else:
        for j in range(N_STATES):
            y[j] = y0[i, j]
    out_states[i, :, :] = np.nan
    out_obs[i, :, :] = np.nan
    log_t[i, :] = np.nan  # unused slots of the event log: NaN time, event -1
    log_k[i, :] = -1
    for k in range(purposes.shape[0]):
        rng_seed(rng[k], seeds[i], streams[i], purposes[k])
    lo = windows[i, 0]
    hi = windows[i, 1]
    status[i] = integrate_patient(t_eval[lo:hi], y, p, rtol, atol, method, max_steps, h_first,
                                  h_max, rng, out_states[i, lo:hi], out_obs[i, lo:hi], log_t[i],
                                  log_k[i], info[i], t_stop[i:i + 1], work, iwork)


@njit(nogil=True, cache=True)
def solve_range(start, stop, t_eval, params, y0, use_model_init, rtol, atol, method, max_steps,
                h_first, h_max, seeds, streams, windows, purposes, out_states, out_obs, status,
                info, t_stop, log_t, log_k):
    """Solve patients start..stop-1 of the arrays, one after another in this thread's
    buffers."""
    y = np.empty(N_STATES)
    p = np.empty(PARAM_SCRATCH)
    rng = np.zeros((N_STREAMS, RNG_STATE_SIZE), dtype=np.uint64)
    work = np.empty(WORK_SIZE)
    iwork = np.empty(IWORK_SIZE, dtype=np.int64)
    for i in range(start, stop):
        solve_patient(i, t_eval, params, y0, use_model_init, rtol, atol, method, max_steps,
                      h_first, h_max, seeds, streams, windows, purposes, out_states, out_obs,
                      status, info, t_stop, log_t, log_k, y, p, rng, work, iwork)
