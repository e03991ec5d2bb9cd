# Per-patient integrator: adaptive steps with DOPRI5 or the Rosenbrock method, automatic
# switching on stiffness, time events, located state events, non-negativity, dense output at the
# requested times, an event log and a status. Scalar code, one patient at a time, allocating
# nothing: the CPU driver runs many in parallel on threads, the GPU kernel one per thread.
# Template text: uses the generated model_* functions and the dp_* / ros_* steppers.
# ruff: noqa: F821
import math

from cartsim.codegen.jit import njit

STATUS_OK = 0
STATUS_MAX_STEPS = 1
STATUS_NONFINITE = 2
STATUS_STEP_UNDERFLOW = 3

METHOD_AUTO = 0
METHOD_DOPRI5 = 1
METHOD_ROSENBROCK = 2

INFO_ACCEPTED = 0
INFO_REJECTED = 1
INFO_JACOBIANS = 2
INFO_SWITCHES = 3
INFO_EVENTS = 4
INFO_STIFF_STEPS = 5
INFO_TERMINATED = 6
INFO_RETAKEN = 7  # steps redone to end at a located event crossing
INFO_SIZE = 8

# Switch to Rosenbrock when h|λ| (Hairer & Wanner's estimate, IV.2) passes STIFF_RATIO on
# STIFF_COUNT steps. Hairer's DOPRI5 waits for 3.25, DOPRI5's stability boundary; switching
# nearer it pays on CAR-T models, whose explicit steps sit at the boundary: on the benchmark
# model 2.5 on 3 steps took 502 steps a patient instead of 613 (3.25 on 5), 10% faster, with
# the same error against a 1e-12 reference.
STIFF_RATIO = 2.5
STIFF_COUNT = 3
NONSTIFF_RATIO = 2.0  # h·||J||∞ bound under which explicit steps are stable again
NONSTIFF_COUNT = 10
SAFETY = 0.9
FAC_MIN = 0.2
FAC_MAX = 10.0


# Scratch layout: integrate_patient allocates nothing. Its arrays are views into two buffers the
# caller owns (one per thread on the CPU, local memory per GPU thread), at these offsets.
@njit(cache=True)
def scratch_layout(m):
    """Offsets of integrate_patient's float buffers (k, kr, f0, y_new, y_before, err, ytmp,
    ftmp, dfdt, jac, w, dense_dp, dense_ros, obs, g, occ), then the float total, then the
    integer buffers' (piv, fired, occ) and their total."""
    n = n_states(m)
    w_k = 0
    w_kr = w_k + DP_STAGES * n
    w_f0 = w_kr + ROS_STAGES * n
    w_ynew = w_f0 + n
    w_ybefore = w_ynew + n
    w_err = w_ybefore + n
    w_ytmp = w_err + n
    w_ftmp = w_ytmp + n
    w_dfdt = w_ftmp + n
    w_jac = w_dfdt + n
    w_w = w_jac + n * n
    w_dense_dp = w_w + n * n
    w_dense_ros = w_dense_dp + DP_DENSE_ROWS * n
    w_obs = w_dense_ros + ROS_DENSE_ROWS * n
    w_g = w_obs + n_obs(m)
    w_occ = w_g + 5 * n_state_events(m)
    work_size = w_occ + n_time_occurrences(m)
    i_piv = 0
    i_fired = i_piv + n
    i_occ = i_fired + n_state_events(m)
    iwork_size = max(i_occ + n_time_occurrences(m), 1)
    return (w_k, w_kr, w_f0, w_ynew, w_ybefore, w_err, w_ytmp, w_ftmp, w_dfdt, w_jac, w_w,
            w_dense_dp, w_dense_ros, w_obs, w_g, w_occ, work_size, i_piv, i_fired, i_occ,
            iwork_size)


@njit(cache=True)
def scratch_sizes(m):
    """(floats, integers) of scratch one integrate_patient call needs."""
    layout = scratch_layout(m)
    return layout[16], layout[20]


@njit(cache=True)
def error_norm(m, err, y, y_new, atol, rtol):
    """RMS of the error scaled by atol_i + rtol·max(|y_i|, |y_new_i|); inf if not finite."""
    n = n_states(m)
    total = 0.0
    for i in range(n):
        scale = atol[i] + rtol * max(abs(y[i]), abs(y_new[i]))
        total += (err[i] / scale) ** 2
    value = math.sqrt(total / max(n, 1))
    if not math.isfinite(value):
        return math.inf
    return value


@njit(cache=True)
def initial_step(m, t, y, f0, p, atol, rtol, order, h_max, ytmp, ftmp):
    """Starting step size from the scaled sizes of y, f and f's change (Hairer's HINIT)."""
    n = n_states(m)
    d0 = 0.0
    d1 = 0.0
    for i in range(n):
        scale = atol[i] + rtol * abs(y[i])
        d0 += (y[i] / scale) ** 2
        d1 += (f0[i] / scale) ** 2
    d0 = math.sqrt(d0 / n)
    d1 = math.sqrt(d1 / n)
    h0 = 1e-6 if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
    h0 = min(h0, h_max)
    for i in range(n):
        ytmp[i] = y[i] + h0 * f0[i]
    model_rhs(m, t + h0, ytmp, p, ftmp)
    d2 = 0.0
    for i in range(n):
        scale = atol[i] + rtol * abs(y[i])
        d2 += ((ftmp[i] - f0[i]) / scale) ** 2
    d2 = math.sqrt(d2 / n) / h0
    if not math.isfinite(d2):
        return h0
    if max(d1, d2) <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** (1.0 / order)
    return min(100.0 * h0, h1, h_max)


@njit(cache=True)
def clamp_nonnegative(m, y):
    """Project amounts onto y ≥ 0, and flush a population below 1e-12 of its extinction level
    to exactly 0; returns True if anything changed. Such a value is rounding residue, not
    cells: a stiff step's linear solve mixes other components into a population that is
    exactly 0 (1e-20 to 1e-90 of a cell seen), which would otherwise linger as non-zero."""
    changed = False
    for i in range(n_states(m)):
        if nonnegative(m, i) and y[i] < 0.0:
            y[i] = 0.0
            changed = True
        elif 0.0 < y[i] < 1e-12 * extinction_level(m, i):
            y[i] = 0.0
            changed = True
    return changed


@njit(cache=True)
def prepare_dense(m, stiff, h, y, y_new, k, kr, dense_dp, dense_ros):
    """Coefficients of the last step's continuous extension."""
    if stiff:
        ros_dense_prepare(m, h, y, y_new, kr, dense_ros)
    else:
        dp_dense_prepare(m, h, y, y_new, k, dense_dp)


@njit(cache=True)
def dense_eval(m, stiff, theta, y, y_new, dense_dp, dense_ros, out):
    """The last step's continuous solution at t + θh, amounts clamped at zero."""
    if stiff:
        ros_dense_eval(m, theta, y, y_new, dense_ros, out)
    else:
        dp_dense_eval(m, theta, dense_dp, out)
    clamp_nonnegative(m, out)


@njit(cache=True)
def crosses(sign_old, g_new, direction):
    """Strict sign change of an event function in the event's direction. ``sign_old`` is the
    last non-zero sign seen: touching zero is not a crossing, so an event whose function lands
    exactly on zero (at the end of the run, or where it just fired) cannot fire twice."""
    if direction >= 0 and sign_old < 0.0 and g_new > 0.0:
        return True
    if direction <= 0 and sign_old > 0.0 and g_new < 0.0:
        return True
    return False


@njit(cache=True)
def update_signs(m, g, signs):
    """Remember the sign of each non-zero event function value. A zero keeps the side it was
    on (a touch is not a crossing), except for a rising condition asked to be false at zero
    (strict comparisons, SBML): there it is on the false side."""
    for j in range(g.shape[0]):
        if g[j] > 0.0:
            signs[j] = 1.0
        elif g[j] < 0.0:
            signs[j] = -1.0
        elif state_event_false_at_zero(m, j) and state_event_direction(m, j) == 1:
            signs[j] = -1.0


@njit(cache=True)
def locate_crossing(m, j, t, h, p, g_lo, g_hi, stiff, y, y_new, dense_dp, dense_ros, ytmp, gtmp):
    """θ in (0, 1] just after event function j crosses zero in the last step (Illinois method
    on the dense output); returns the right end of the final bracket, where the function has
    strictly taken its new sign (zero counts as the old side)."""
    rising = g_hi > 0.0
    lo = 0.0
    hi = 1.0
    f_lo = g_lo
    f_hi = g_hi
    side = 0
    tol = 4.0 * 2.220446049250313e-16 * max(abs(t), abs(t + h), 1.0) / abs(h)
    for _ in range(200):
        if hi - lo <= tol:
            break
        theta = hi - f_hi * (hi - lo) / (f_hi - f_lo) if f_hi != f_lo else 0.5 * (lo + hi)
        if not (lo < theta < hi):
            theta = 0.5 * (lo + hi)
        dense_eval(m, stiff, theta, y, y_new, dense_dp, dense_ros, ytmp)
        model_event_g(m, t + theta * h, ytmp, p, gtmp)
        value = gtmp[j]
        if (value > 0.0) if rising else (value < 0.0):
            hi = theta
            f_hi = value
            if side == 1:
                f_lo *= 0.5
            side = 1
        else:
            lo = theta
            f_lo = value
            if side == -1:
                f_hi *= 0.5
            side = -1
    return hi


@njit(cache=True)
def record(m, i_out, t, y, p, out_states, out_obs, obs_tmp):
    """Store states and observables for output point i_out."""
    for i in range(n_states(m)):
        out_states[i_out, i] = y[i]
    model_obs(m, t, y, p, obs_tmp)
    for i in range(obs_tmp.shape[0]):
        out_obs[i_out, i] = obs_tmp[i]


@njit(cache=True)
def fire(m, k, t, y, p, rng, log_t, log_k, info):
    """Apply event k, log it (unless it is a silent breakpoint), and say whether it ends the
    simulation."""
    model_apply(m, k, t, y, p, rng)
    if not event_logged(m, k):
        return False
    count = info[INFO_EVENTS]
    if count < log_t.shape[0]:
        log_t[count] = t
        log_k[count] = k
    info[INFO_EVENTS] = count + 1
    return event_terminal(m, k)


@njit(cache=True)
def fire_cascade(m, t, y, p, rng, log_t, log_k, info, g_sign, fired, g_tmp):
    """Fire, at the same instant, every state event whose condition the events just fired made
    true (SBML semantics: a trigger that becomes true by an event assignment fires), each at
    most once per instant, in rounds until none is left; ``fired`` marks those already fired.
    Returns whether one of them ends the simulation."""
    terminated = False
    for _ in range(n_state_events(m)):
        model_event_g(m, t, y, p, g_tmp)
        more = False
        for j in range(n_state_events(m)):
            if not fired[j] and crosses(g_sign[j], g_tmp[j], state_event_direction(m, j)):
                fired[j] = 1
                more = True
                terminated |= fire(m, state_event_id(m, j), t, y, p, rng, log_t, log_k, info)
        if not more:
            break
    return terminated


@njit(cache=True)
def due_now(theta, theta_first, h, same_time):
    """Whether a state event crossed (at θ of the step of size h) with the first one, within
    rounding (``same_time``)."""
    return theta <= 1.0 and (theta - theta_first) * h <= same_time


@njit(cache=True)
def tie_pick(m, j, theta_event, theta_first, h, same_time, fired, rng):
    """The next state event to fire after j at this instant: one of the due, unfired events of
    j's tie, chosen at random (from the stream of j's event); -1 when j has no tie or none is
    left."""
    tie = state_event_tie(m, j)
    if tie < 0:
        return -1
    count = 0
    for i in range(j, n_state_events(m)):
        count += waiting_in_tie(m, i, tie, theta_event, theta_first, h, same_time, fired)
    if count == 0:
        return -1
    pick = min(int(rng_uniform(rng[state_event_id(m, j)]) * count), count - 1)
    for i in range(j, n_state_events(m)):
        if waiting_in_tie(m, i, tie, theta_event, theta_first, h, same_time, fired):
            if pick == 0:
                return i
            pick -= 1
    return -1


@njit(cache=True)
def waiting_in_tie(m, i, tie, theta_event, theta_first, h, same_time, fired):
    """Whether state event i is of ``tie``, due at this instant and not fired yet."""
    return (state_event_tie(m, i) == tie and not fired[i]
            and due_now(theta_event[i], theta_first, h, same_time))


@njit(cache=True)
def extinguish(m, t, y, before, p, rng, log_t, log_k, info):
    """Fire the extinction event of every population that events moved (``y`` differs from
    ``before``; all of them at the start, where ``before`` is NaN) to between 0 and its
    threshold. Crossings of the threshold, during a step or by an event's jump, fire as state
    events (the latter through :func:`fire_cascade`); what is left here is a population that
    starts below it or that an event raises from 0 to below it. A population growing from 0 by
    an inflow is left alone."""
    for i in range(n_states(m)):
        k = extinction_event(m, i)
        if k >= 0 and y[i] != before[i] and 0.0 < y[i] < extinction_level(m, i):
            fire(m, k, t, y, p, rng, log_t, log_k, info)


@njit(cache=True)
def sorted_occurrences(m, p, times, order):
    """Time-event occurrences for this patient, sorted by time (ties: definition order)."""
    model_event_times(m, p, times)
    for i in range(order.shape[0]):
        order[i] = i
    for i in range(1, order.shape[0]):
        j = i
        while j > 0 and times[order[j - 1]] > times[order[j]]:
            order[j - 1], order[j] = order[j], order[j - 1]
            j -= 1


@njit(cache=True)
def clock_time(m, j, t, y, p, g_sign):
    """When clocked state event j (its function: a clock minus a held value, see
    ``event_clock`` in code generation) will have crossed, if it has not yet: the first float
    after its clock reaches the held value, as a located crossing would give; inf otherwise."""
    clock = state_event_clock(m, j)
    if clock == NOT_CLOCKED or g_sign[j] >= 0.0:
        return math.inf
    due = p[state_event_due(m, j)] if state_event_due_is_param(m, j) else y[state_event_due(m, j)]
    now = t if clock == CLOCK_IS_TIME else y[clock]
    if not due > now:
        return math.inf
    return next_up(t + (due - now))


@njit(cache=True)
def clock_stop(m, t, y, p, g_sign):
    """The earliest :func:`clock_time` of all clocked state events (inf if none)."""
    stop = math.inf
    for j in range(n_state_events(m)):
        stop = min(stop, clock_time(m, j, t, y, p, g_sign))
    return stop


@njit(cache=True)
def next_up(x):
    """The smallest float above x (finite x): np.nextafter(x, inf), written with frexp/ldexp
    because the GPU target has no nextafter."""
    if x == 0.0:
        return 5e-324
    mantissa, exponent = math.frexp(x)  # |mantissa| in [0.5, 1)
    ulp = math.ldexp(1.0, exponent - 53)
    if mantissa == -0.5:  # just above -2^k the spacing halves
        ulp *= 0.5
    return x + max(ulp, 5e-324)


@njit(cache=True)
def all_finite(values):
    for i in range(values.shape[0]):
        if not math.isfinite(values[i]):
            return False
    return True


@njit(cache=True)
def integrate_patient(m, t_eval, y, p, rtol, atol, method, max_steps, h_first, h_max, rng,
                      out_states, out_obs, log_t, log_k, info, t_stop, work, iwork):
    """Solve one patient from t_eval[0] to t_eval[-1]; y (initial state) and p are updated in
    place. Outputs at each t_eval are right limits (after any event at that time). Returns the
    status code; t_stop[0] receives the time reached. ``work`` and ``iwork`` (the
    :func:`scratch_sizes` floats and integers) are the caller's scratch space."""
    n = n_states(m)
    n_out = t_eval.shape[0]
    t = t_eval[0]
    t_end = t_eval[n_out - 1]
    (w_k, w_kr, w_f0, w_ynew, w_ybefore, w_err, w_ytmp, w_ftmp, w_dfdt, w_jac, w_w, w_dense_dp,
     w_dense_ros, w_obs, w_g, w_occ, _, i_piv, i_fired, i_occ, _) = scratch_layout(m)
    k = work[w_k:w_k + DP_STAGES * n].reshape((DP_STAGES, n))
    kr = work[w_kr:w_kr + ROS_STAGES * n].reshape((ROS_STAGES, n))
    f0 = work[w_f0:w_f0 + n]
    y_new = work[w_ynew:w_ynew + n]
    y_before = work[w_ybefore:w_ybefore + n]  # the state before this time's events
    err = work[w_err:w_err + n]
    ytmp = work[w_ytmp:w_ytmp + n]
    ftmp = work[w_ftmp:w_ftmp + n]
    dfdt = work[w_dfdt:w_dfdt + n]
    jac = work[w_jac:w_jac + n * n].reshape((n, n))
    w = work[w_w:w_w + n * n].reshape((n, n))
    dense_dp = work[w_dense_dp:w_dense_dp + DP_DENSE_ROWS * n].reshape((DP_DENSE_ROWS, n))
    dense_ros = work[w_dense_ros:w_dense_ros + ROS_DENSE_ROWS * n].reshape((ROS_DENSE_ROWS, n))
    obs_tmp = work[w_obs:w_obs + n_obs(m)]
    n_se = n_state_events(m)
    n_occ = n_time_occurrences(m)
    g_prev = work[w_g:w_g + n_se]
    g_sign = work[w_g + n_se:w_g + 2 * n_se]
    g_new = work[w_g + 2 * n_se:w_g + 3 * n_se]
    g_tmp = work[w_g + 3 * n_se:w_g + 4 * n_se]
    theta_event = work[w_g + 4 * n_se:w_g + 5 * n_se]
    occ_times = work[w_occ:w_occ + n_occ]
    piv = iwork[i_piv:i_piv + n]
    fired_now = iwork[i_fired:i_fired + n_se]
    occ_order = iwork[i_occ:i_occ + n_occ]
    for i in range(n):
        y_before[i] = math.nan  # NaN: the start, before any event
    for j in range(n_se):
        g_sign[j] = 0.0
        fired_now[j] = 0

    info[:] = 0
    t_stop[0] = t
    clamp_nonnegative(m, y)
    if not (all_finite(y) and all_finite(p)):
        return STATUS_NONFINITE
    sorted_occurrences(m, p, occ_times, occ_order)
    i_occ = 0
    while i_occ < n_occ and occ_times[occ_order[i_occ]] < t:
        i_occ += 1
    while i_occ < n_occ and occ_times[occ_order[i_occ]] == t:
        if fire(m, time_occurrence_event(m, occ_order[i_occ]), t, y, p, rng, log_t, log_k, info):
            info[INFO_TERMINATED] = 1
        i_occ += 1
    clamp_nonnegative(m, y)
    extinguish(m, t, y, y_before, p, rng, log_t, log_k, info)
    i_out = 0
    record(m, i_out, t, y, p, out_states, out_obs, obs_tmp)
    i_out += 1
    if info[INFO_TERMINATED]:
        return STATUS_OK
    model_event_g(m, t, y, p, g_prev)
    update_signs(m, g_prev, g_sign)
    model_rhs(m, t, y, p, f0)
    if not all_finite(f0):
        return STATUS_NONFINITE

    stiff = method == METHOD_ROSENBROCK
    order = ROS_ERROR_ORDER if stiff else DP_ERROR_ORDER
    h = h_first if h_first > 0.0 else initial_step(m, t, y, f0, p, atol, rtol, order, h_max,
                                                    ytmp, ftmp)
    need_jac = True
    t_rhs = t
    retaken = False
    last_rejected = False
    last_nonfinite = False
    n_stiff = 0
    n_nonstiff = 0
    steps = 0
    status = STATUS_OK
    while t < t_end:
        if steps >= max_steps:
            status = STATUS_MAX_STEPS
            break
        steps += 1
        next_stop = t_end
        stop_is_event = False
        if i_occ < n_occ and occ_times[occ_order[i_occ]] <= t_end:
            next_stop = occ_times[occ_order[i_occ]]
            stop_is_event = True
        # a clocked state event is stepped to, like a time event, instead of searched for
        t_clock = clock_stop(m, t, y, p, g_sign)
        stop_is_clock = t_clock <= next_stop
        if stop_is_clock:
            stop_is_event = stop_is_event and next_stop == t_clock
            next_stop = t_clock
        hit_stop = False
        if t + 1.01 * h >= next_stop:
            h = next_stop - t
            hit_stop = True

        if stiff:
            if need_jac:
                model_jac(m, t_rhs, y, p, jac)
                model_tgrad(m, t_rhs, y, p, dfdt)
                info[INFO_JACOBIANS] += 1
                need_jac = False
            code = ros_step(m, t, y, h, p, f0, jac, dfdt, w, piv, kr, y_new, err, ytmp, ftmp)
            ratio = 0.0
        else:
            for i in range(n):
                k[0, i] = f0[i]
            ratio = dp_step(m, t, y, h, p, k, y_new, err, ytmp)
            code = 0
        err_norm = error_norm(m, err, y, y_new, atol, rtol) if code == 0 else math.inf
        if err_norm > 1.0:
            last_nonfinite = not math.isfinite(err_norm)
            fac = 0.25 if last_nonfinite else max(FAC_MIN, SAFETY * err_norm ** (-1.0 / order))
            h *= fac
            info[INFO_REJECTED] += 1
            last_rejected = True
            if h <= 1e-14 * max(1.0, abs(t)):
                status = STATUS_NONFINITE if last_nonfinite else STATUS_STEP_UNDERFLOW
                break
            continue

        # Accepted. The continuous extension over [t, t + h] is built only when an output
        # time or an event crossing falls inside the step.
        t_new = next_stop if hit_stop else t + h
        dense_ready = False
        theta_first = 2.0
        if n_se > 0:
            model_event_g(m, t_new, y_new, p, g_new)
            for j in range(n_se):
                theta_event[j] = 2.0
                if hit_stop and stop_is_clock and clock_time(m, j, t, y, p, g_sign) == next_stop:
                    theta_event[j] = 1.0  # its clock reached the held value at the step's end
                    theta_first = min(theta_first, 1.0)
                elif crosses(g_sign[j], g_new[j], state_event_direction(m, j)):
                    if not dense_ready:
                        prepare_dense(m, stiff, h, y, y_new, k, kr, dense_dp, dense_ros)
                        dense_ready = True
                    theta_event[j] = locate_crossing(m, j, t, h, p, g_prev[j], g_new[j], stiff, y,
                                                     y_new, dense_dp, dense_ros, ytmp, g_tmp)
                    theta_first = min(theta_first, theta_event[j])
        state_event = theta_first <= 1.0
        if state_event and theta_first < 1.0 and not retaken:
            # Retake the step so it ends at the crossing: the state at the event and the
            # outputs before it then come from a real (shorter) step, not from interpolating
            # across the change the event marks.
            h = theta_first * h
            retaken = True
            info[INFO_RETAKEN] += 1
            continue
        retaken = False
        info[INFO_ACCEPTED] += 1
        if stiff:
            info[INFO_STIFF_STEPS] += 1
        if state_event and theta_first < 1.0:
            t_new = t + theta_first * h
            hit_stop = False
            dense_eval(m, stiff, theta_first, y, y_new, dense_dp, dense_ros, ytmp)
            for i in range(n):
                y_new[i] = ytmp[i]
        while i_out < n_out and t_eval[i_out] < t_new:
            if not dense_ready:
                prepare_dense(m, stiff, h, y, y_new, k, kr, dense_dp, dense_ros)
                dense_ready = True
            dense_eval(m, stiff, (t_eval[i_out] - t) / h, y, y_new, dense_dp, dense_ros, ytmp)
            record(m, i_out, t_eval[i_out], ytmp, p, out_states, out_obs, obs_tmp)
            i_out += 1

        h_used = h
        t = t_new
        for i in range(n):
            y[i] = y_new[i]
        changed = clamp_nonnegative(m, y) or state_event
        terminated = False
        t_rhs = t
        events_due = (hit_stop and stop_is_event) or state_event
        if events_due:
            for i in range(n):
                y_before[i] = y[i]
            for j in range(n_se):
                fired_now[j] = 0
        if hit_stop and stop_is_event:
            while i_occ < n_occ and occ_times[occ_order[i_occ]] <= t:
                terminated |= fire(m, time_occurrence_event(m, occ_order[i_occ]), t, y, p, rng,
                                   log_t, log_k, info)
                i_occ += 1
            changed = True
            # Restart from the right limit: f may switch branch exactly at this time.
            t_rhs = next_up(t)
        if state_event:
            # Events that crossed in this step at the same time (within rounding) fire together.
            same_time = 8.0 * 2.220446049250313e-16 * max(abs(t), 1.0)
            for j in range(n_se):
                if fired_now[j] or not due_now(theta_event[j], theta_first, h_used, same_time):
                    continue
                # j alone, or every due event of its tie in random order
                i = j if state_event_tie(m, j) < 0 else tie_pick(
                    m, j, theta_event, theta_first, h_used, same_time, fired_now, rng)
                while i >= 0:
                    fired_now[i] = 1
                    terminated |= fire(m, state_event_id(m, i), t, y, p, rng, log_t, log_k, info)
                    i = tie_pick(m, j, theta_event, theta_first, h_used, same_time, fired_now, rng)
        if events_due:
            terminated |= fire_cascade(m, t, y, p, rng, log_t, log_k, info, g_sign, fired_now,
                                       g_tmp)
        if changed:
            clamp_nonnegative(m, y)
        if events_due:
            extinguish(m, t, y, y_before, p, rng, log_t, log_k, info)
        while i_out < n_out and t_eval[i_out] <= t:
            record(m, i_out, t, y, p, out_states, out_obs, obs_tmp)
            i_out += 1
        if terminated:
            info[INFO_TERMINATED] = 1
            break
        if not all_finite(y):
            status = STATUS_NONFINITE
            break
        model_event_g(m, t, y, p, g_prev)
        update_signs(m, g_prev, g_sign)
        if state_event:
            for j in range(n_se):
                # a clocked event fired with its function (by rounding) at zero: it has crossed
                if fired_now[j] and state_event_clock(m, j) != NOT_CLOCKED and g_prev[j] == 0.0:
                    g_sign[j] = 1.0
        if stiff or changed:
            model_rhs(m, t_rhs, y, p, f0)
            if not all_finite(f0):
                status = STATUS_NONFINITE
                break
        else:
            for i in range(n):
                f0[i] = k[6, i]
        need_jac = True

        fac = FAC_MAX if err_norm == 0.0 else SAFETY * err_norm ** (-1.0 / order)
        fac = min(FAC_MAX, max(FAC_MIN, fac))
        if last_rejected:
            fac = min(fac, 1.0)
        last_rejected = False
        h = min(h_used * fac, h_max)

        if method == METHOD_AUTO:
            if not stiff:
                if ratio > STIFF_RATIO:
                    n_stiff += 1
                    n_nonstiff = 0
                    if n_stiff >= STIFF_COUNT:
                        stiff = True
                        order = ROS_ERROR_ORDER
                        n_stiff = 0
                        info[INFO_SWITCHES] += 1
                else:
                    n_nonstiff += 1
                    if n_nonstiff >= 6:
                        n_stiff = 0
            else:
                jac_norm = 0.0
                for i in range(n):
                    row = 0.0
                    for j in range(n):
                        row += abs(jac[i, j])
                    jac_norm = max(jac_norm, row)
                if h * jac_norm <= NONSTIFF_RATIO:
                    n_nonstiff += 1
                    if n_nonstiff >= NONSTIFF_COUNT:
                        stiff = False
                        order = DP_ERROR_ORDER
                        n_nonstiff = 0
                        info[INFO_SWITCHES] += 1
                else:
                    n_nonstiff = 0
    t_stop[0] = t
    return status
