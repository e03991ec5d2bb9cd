"""Counter-based random streams for compiled kernels: Philox4x64-10.

Salmon, Moraes, Dror & Shaw (2011), "Parallel random numbers: as easy as 1, 2, 3", SC'11. A
block of four 64-bit outputs is a keyed bijection of a 256-bit counter, so any stream can be
computed independently of every other: the key is (seed, purpose) and the counter carries
(block number, stream = patient index). Results therefore do not depend on which thread or
chunk solves a patient. The block function is bit-identical to ``numpy.random.Philox``.

A stream's state is a ``uint64`` array of :data:`RNG_STATE_SIZE`:
key (2) | counter (4) | buffered outputs (4) | buffer position (1).
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
from numba import njit

RNG_STATE_SIZE = 11

_M0 = np.uint64(0xD2E7470EE14C6C93)
_M1 = np.uint64(0xCA5A826395121157)
_W0 = np.uint64(0x9E3779B97F4A7C15)
_W1 = np.uint64(0xBB67AE8584CAA73B)
_LOW32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_S11 = np.uint64(11)
_ONE = np.uint64(1)
_ZERO = np.uint64(0)
_TWO_POW_M53 = 1.0 / 9007199254740992.0
_ROUNDS = 10
_POSITION = 10


@njit(cache=True)
def _mulhi(a, b):
    """High 64 bits of the 128-bit product a·b, from 32-bit halves."""
    a_lo = a & _LOW32
    a_hi = a >> _S32
    b_lo = b & _LOW32
    b_hi = b >> _S32
    p0 = a_lo * b_lo
    p1 = a_lo * b_hi
    p2 = a_hi * b_lo
    p3 = a_hi * b_hi
    mid = (p0 >> _S32) + (p1 & _LOW32) + (p2 & _LOW32)
    return p3 + (p1 >> _S32) + (p2 >> _S32) + (mid >> _S32)


@njit(cache=True)
def philox_block(c0, c1, c2, c3, k0, k1, out):
    """The 10-round Philox4x64 bijection of counter (c0..c3) under key (k0, k1) into out[0:4]."""
    for r in range(_ROUNDS):
        if r > 0:
            k0 = k0 + _W0
            k1 = k1 + _W1
        hi0 = _mulhi(_M0, c0)
        lo0 = _M0 * c0
        hi1 = _mulhi(_M1, c2)
        lo1 = _M1 * c2
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    out[0] = c0
    out[1] = c1
    out[2] = c2
    out[3] = c3


@njit(cache=True)
def rng_seed(state, seed, stream, purpose):
    """Start the stream keyed by (seed, stream, purpose) at its first block."""
    state[0] = np.uint64(seed)
    state[1] = np.uint64(purpose)
    state[2] = _ZERO
    state[3] = np.uint64(stream)
    state[4] = _ZERO
    state[5] = _ZERO
    state[_POSITION] = np.uint64(4)


@njit(cache=True)
def rng_next_u64(state):
    """Next 64 random bits of the stream."""
    position = state[_POSITION]
    if position >= np.uint64(4):
        philox_block(state[2], state[3], state[4], state[5], state[0], state[1], state[6:10])
        state[2] = state[2] + _ONE
        if state[2] == _ZERO:  # carry into the next counter word
            state[4] = state[4] + _ONE
        position = _ZERO
    state[_POSITION] = position + _ONE
    return state[6 + np.int64(position)]


@njit(cache=True)
def rng_uniform(state):
    """Uniform on [0, 1), 53 random bits."""
    return np.float64(rng_next_u64(state) >> _S11) * _TWO_POW_M53


@njit(cache=True)
def rng_normal(state):
    """Standard normal by Box-Muller; always consumes exactly two draws."""
    u1 = 1.0 - rng_uniform(state)  # (0, 1]
    u2 = rng_uniform(state)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True)
def rng_exponential(state, rate):
    """Exponential with the given rate."""
    return -math.log(1.0 - rng_uniform(state)) / rate


@njit(cache=True)
def _poisson_small(state, mean):
    """Knuth's multiplication method: exact, fast for small means."""
    limit = math.exp(-mean)
    count = 0
    product = rng_uniform(state)
    while product > limit:
        count += 1
        product *= rng_uniform(state)
    return count


@njit(cache=True)
def _poisson_ptrs(state, mean):
    """PTRS transformed rejection (Hörmann 1993, Insurance Math. Econom. 12:39), mean >= 10."""
    slam = math.sqrt(mean)
    loglam = math.log(mean)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = rng_uniform(state) - 0.5
        v = rng_uniform(state)
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + mean + 0.43)
        if us >= 0.07 and v <= vr:
            return np.int64(k)
        if k < 0 or (us < 0.013 and v > us):
            continue
        if (math.log(v) + math.log(inv_alpha) - math.log(a / (us * us) + b)
                <= -mean + k * loglam - math.lgamma(k + 1.0)):
            return np.int64(k)


@njit(cache=True)
def rng_poisson(state, mean):
    """Poisson count with the given mean (exact for every mean)."""
    mean = float(mean)
    if mean <= 0.0:
        return np.int64(0)
    if mean < 10.0:
        return np.int64(_poisson_small(state, mean))
    return _poisson_ptrs(state, mean)


@njit(cache=True)
def _binomial_inversion(state, n, p):
    """Sequential search of the cumulative distribution; exact, for small n·p."""
    q = 1.0 - p
    px0 = math.exp(n * math.log(q))
    bound = min(float(n), n * p + 10.0 * math.sqrt(n * p * q + 1.0))
    x = 0
    px = px0
    u = rng_uniform(state)
    while u > px:
        x += 1
        if x > bound:
            x = 0
            px = px0
            u = rng_uniform(state)
        else:
            u -= px
            px = ((n - x + 1) * p * px) / (x * q)
    return np.int64(x)


@njit(cache=True)
def _stirling_tail(k):
    """log(k!) minus its Stirling approximation."""
    return math.lgamma(k + 1.0) - ((k + 0.5) * math.log(k + 1.0) - (k + 1.0)
                                   + 0.5 * math.log(2.0 * math.pi))


@njit(cache=True)
def _binomial_btrd(state, n, p):
    """BTRD transformed rejection with decomposition (Hörmann 1993, J. Stat. Comput. Simul.
    46:101), for n·p >= 10 and p <= 1/2."""
    m = math.floor((n + 1) * p)
    r = p / (1.0 - p)
    nr = (n + 1) * r
    npq = n * p * (1.0 - p)
    sq = math.sqrt(npq)
    b = 1.15 + 2.53 * sq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    alpha = (2.83 + 5.1 / b) * sq
    vr = 0.92 - 4.2 / b
    urvr = 0.86 * vr
    while True:
        v = rng_uniform(state)
        if v <= urvr:
            u = v / vr - 0.43
            return np.int64(math.floor((2.0 * a / (0.5 - abs(u)) + b) * u + c))
        if v >= vr:
            u = rng_uniform(state) - 0.5
        else:
            u = v / vr - 0.93
            u = math.copysign(0.5, u) - u
            v = rng_uniform(state) * vr
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + c)
        if k < 0 or k > n:
            continue
        v = v * alpha / (a / (us * us) + b)
        km = abs(k - m)
        if km <= 15:
            f = 1.0
            if m < k:
                for i in range(int(m) + 1, int(k) + 1):
                    f *= nr / i - r
            elif m > k:
                for i in range(int(k) + 1, int(m) + 1):
                    v *= nr / i - r
            if v <= f:
                return np.int64(k)
            continue
        v = math.log(v)
        rho = (km / npq) * (((km / 3.0 + 0.625) * km + 1.0 / 6.0) / npq + 0.5)
        t = -km * km / (2.0 * npq)
        if v < t - rho:
            return np.int64(k)
        if v > t + rho:
            continue
        nm = n - m + 1.0
        h = (m + 0.5) * math.log((m + 1.0) / (r * nm)) + _stirling_tail(m) + _stirling_tail(n - m)
        nk = n - k + 1.0
        if v <= (h + (n + 1.0) * math.log(nm / nk) + (k + 0.5) * math.log(nk * r / (k + 1.0))
                 - _stirling_tail(k) - _stirling_tail(n - k)):
            return np.int64(k)


@njit(cache=True)
def rng_binomial(state, n, p):
    """Binomial count of n trials with success probability p (exact)."""
    trials = np.int64(n)
    p = float(p)
    if trials <= 0 or p <= 0.0:
        return np.int64(0)
    if p >= 1.0:
        return trials
    flipped = p > 0.5
    q = 1.0 - p if flipped else p
    if trials * q < 10.0:
        x = _binomial_inversion(state, trials, q)
    else:
        x = _binomial_btrd(state, trials, q)
    return trials - x if flipped else x


@njit(cache=True)
def rng_gamma(state, shape):
    """Gamma variate of unit scale, shape >= 1 (Marsaglia & Tsang 2000, ACM TOMS 26:363)."""
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = rng_normal(state)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = rng_uniform(state)
        if u < 1.0 - 0.0331 * x * x * x * x:
            return d * v
        if math.log(max(u, 1e-300)) < 0.5 * x * x + d * (1.0 - v + math.log(v)):
            return d * v


@njit(cache=True)
def rng_negbinomial(state, k, p):
    """Failures before ``k`` successes of probability ``p`` (exact): a Poisson count whose
    mean is Gamma(k) * (1 - p) / p."""
    successes = np.int64(k)
    p = float(p)
    if successes <= 0 or p >= 1.0:
        return np.int64(0)
    if p <= 0.0:
        return np.int64(9223372036854775807)
    return rng_poisson(state, rng_gamma(state, float(successes)) * (1.0 - p) / p)


def purpose_id(purpose: str | int) -> int:
    """Stable 63-bit id of a purpose name ("population", "model-events", ...)."""
    if isinstance(purpose, int | np.integer):
        return int(purpose)
    digest = hashlib.blake2b(purpose.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


@njit(cache=True)
def _fill(seed, streams, purpose, out, normal):
    state = np.zeros(RNG_STATE_SIZE, dtype=np.uint64)
    for i in range(streams.shape[0]):
        rng_seed(state, seed, streams[i], purpose)
        for j in range(out.shape[1]):
            out[i, j] = rng_normal(state) if normal else rng_uniform(state)


def _draws(seed: int, streams, purpose, n_draws: int, normal: bool) -> np.ndarray:
    streams = np.ascontiguousarray(streams, dtype=np.int64)
    out = np.empty((streams.shape[0], int(n_draws)))
    _fill(np.uint64(seed), streams, np.uint64(purpose_id(purpose)), out, normal)
    return out


def uniform_draws(seed: int, streams, purpose: str | int, n_draws: int) -> np.ndarray:
    """(len(streams), n_draws) uniforms; row i depends only on (seed, streams[i], purpose)."""
    return _draws(seed, streams, purpose, n_draws, False)


def normal_draws(seed: int, streams, purpose: str | int, n_draws: int) -> np.ndarray:
    """(len(streams), n_draws) standard normals; row i depends only on (seed, streams[i],
    purpose)."""
    return _draws(seed, streams, purpose, n_draws, True)
