# Ensemble driver: solves a range of patients, each with its own parameters, initial state and
# random streams keyed by its global index (one per event, keyed by the event's purpose), so
# results do not depend on how patients are split over calls or threads, and the draws of one
# event do not depend on which other events draw. Compiled with nogil: the Python driver runs
# ranges on a thread pool (cheaper to compile than a numba parallel loop, and load-balanced
# across uneven patients).
# Template text: uses integrate_patient and model_init from the assembled module.
# ruff: noqa: F821
import numpy as np

from cartsim.codegen.jit import njit


@njit(nogil=True, cache=True)
def solve_range(start, stop, t_eval, params, y0, use_model_init, rtol, atol, method, max_steps,
                h_first, h_max, seed, first_patient, purposes, out_states, out_obs, status,
                info, t_stop, log_t, log_k):
    """Solve patients start..stop-1 of the arrays; patient i has global index first_patient+i."""
    y = np.empty(N_STATES)
    rng = np.zeros((max(purposes.shape[0], 1), RNG_STATE_SIZE), dtype=np.uint64)
    for i in range(start, stop):
        p = params[i].copy()
        if use_model_init:
            model_init(p, y)
        else:
            for j in range(N_STATES):
                y[j] = y0[i, j]
        out_states[i, :, :] = np.nan
        out_obs[i, :, :] = np.nan
        for k in range(purposes.shape[0]):
            rng_seed(rng[k], seed, first_patient + i, purposes[k])
        status[i] = integrate_patient(t_eval, y, p, rtol, atol, method, max_steps, h_first,
                                      h_max, rng, out_states[i], out_obs[i], log_t[i],
                                      log_k[i], info[i], t_stop[i:i + 1])
