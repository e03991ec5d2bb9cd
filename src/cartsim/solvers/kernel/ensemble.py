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


@njit(cache=True)
def buffer_sizes(m):
    """(parameters, random streams, work floats, work integers) of one thread's buffers: one
    slot at least each, so no local array is empty."""
    work_size, iwork_size = scratch_sizes(m)
    return max(n_params(m), 1), max(n_events(m), 1), work_size, iwork_size


@njit(cache=True)
def solve_patient(m, i, t_eval, params, y0, use_model_init, rtol, atol, method, max_steps, h_first,
                  h_max, seeds, streams, windows, purposes, out_states, out_obs, status, info,
                  t_stop, log_t, log_k, y, p, rng, work, iwork):
    """Solve row i of the arrays (random streams keyed by seeds[i] and streams[i], over its
    window of t_eval) with the caller's buffers: y (the model's states), p (at least its
    parameters), rng (one random state per event), work and iwork (scratch)."""
    p = p[:n_params(m)]
    for j in range(n_params(m)):
        p[j] = params[i, j]
    if use_model_init:
        model_init(m, p, y)
    else:
        for j in range(n_states(m)):
            y[j] = y0[i, j]
    out_states[i, :, :] = np.nan
    out_obs[i, :, :] = np.nan
    log_t[i, :] = np.nan  # unused slots of the event log: NaN time, event -1
    log_k[i, :] = -1
    for k in range(purposes.shape[0]):
        rng_seed(rng[k], seeds[i], streams[i], purposes[k])
    lo = windows[i, 0]
    hi = windows[i, 1]
    status[i] = integrate_patient(m, t_eval[lo:hi], y, p, rtol, atol, method, max_steps, h_first,
                                  h_max, rng, out_states[i, lo:hi], out_obs[i, lo:hi], log_t[i],
                                  log_k[i], info[i], t_stop[i:i + 1], work, iwork)


@njit(nogil=True, cache=True)
def solve_range(m, start, stop, t_eval, params, y0, use_model_init, rtol, atol, method, max_steps,
                h_first, h_max, seeds, streams, windows, purposes, out_states, out_obs, status,
                info, t_stop, log_t, log_k):
    """Solve patients start..stop-1 of the arrays, one after another in this thread's
    buffers."""
    n_param_slots, n_streams, work_size, iwork_size = buffer_sizes(m)
    y = np.empty(n_states(m))
    p = np.empty(n_param_slots)
    rng = np.zeros((n_streams, RNG_STATE_SIZE), dtype=np.uint64)
    work = np.empty(work_size)
    iwork = np.empty(iwork_size, dtype=np.int64)
    for i in range(start, stop):
        solve_patient(m, i, t_eval, params, y0, use_model_init, rtol, atol, method, max_steps,
                      h_first, h_max, seeds, streams, windows, purposes, out_states, out_obs,
                      status, info, t_stop, log_t, log_k, y, p, rng, work, iwork)
