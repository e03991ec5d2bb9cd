"""Solve an ensemble on an NVIDIA GPU: one thread per patient, running the CPU's per-patient code.

The assembled model module's ``solve_patient`` (and the integrator, steppers, model functions
and random streams it calls) allocates nothing and is scalar per patient, so numba compiles the
same functions for the CUDA target. The kernel here only gives each thread its buffers in
local memory and calls it; results match the CPU's up to the two compilers' rounding.

Without a GPU, :func:`compile_ptx` still compiles the kernel to PTX (it needs NVIDIA's libnvvm,
not a driver), and ``NUMBA_ENABLE_CUDASIM=1`` runs the kernel in numba's CUDA simulator.
"""

from __future__ import annotations

import contextlib
from types import ModuleType

import numpy as np
from numba import cuda, float64, int64, types, uint64

THREADS_PER_BLOCK = 64
# The kernel's array arguments in the order the engine passes them; everything else is a scalar.
ARRAY_ARGUMENTS = ("t_eval", "params", "y0", "atol", "purposes", "out_states", "out_obs",
                   "status", "info", "t_stop", "log_t", "log_k")
OUTPUTS = ("out_states", "out_obs", "status", "info", "t_stop", "log_t", "log_k")


def gpu_available() -> bool:
    """Whether numba sees a usable CUDA GPU (or runs its simulator)."""
    return bool(cuda.is_available())


def _kernel_function(module: ModuleType):
    """The kernel as a plain Python function closing over the module's sizes (constants to
    numba), for ``cuda.jit`` or ``cuda.compile_ptx``. ``cuda`` stays a module global: numba's
    simulator swaps it in the kernel's globals."""
    solve_patient = module.solve_patient
    n_states = module.N_STATES
    n_params = max(module.N_PARAMS, 1)
    n_streams = module.N_STREAMS
    rng_size = module.RNG_STATE_SIZE
    work_size = module.WORK_SIZE
    iwork_size = module.IWORK_SIZE

    def solve_kernel(n, t_eval, params, y0, use_model_init, rtol, atol, method, max_steps,
                     h_first, h_max, seed, first_patient, purposes, out_states, out_obs, status,
                     info, t_stop, log_t, log_k):
        i = cuda.grid(1)
        if i < n:
            y = cuda.local.array(n_states, float64)
            p = cuda.local.array(n_params, float64)
            rng = cuda.local.array((n_streams, rng_size), uint64)
            work = cuda.local.array(work_size, float64)
            iwork = cuda.local.array(iwork_size, int64)
            solve_patient(i, t_eval, params, y0, use_model_init, rtol, atol, method, max_steps,
                          h_first, h_max, seed, first_patient, purposes, out_states, out_obs,
                          status, info, t_stop, log_t, log_k, y, p, rng, work, iwork)

    return solve_kernel


def kernel(module: ModuleType):
    """The module's CUDA kernel, made once per module (numba compiles it at the first launch)."""
    if getattr(module, "_cuda_kernel", None) is None:
        module._cuda_kernel = cuda.jit(_kernel_function(module))
    return module._cuda_kernel


def solve_chunk(module: ModuleType, n: int, arguments: tuple) -> None:
    """Solve ``n`` patients on the GPU; ``arguments`` are ``solve_range``'s after start/stop,
    and its output arrays are filled from the device (numba compiles the kernel at the first
    launch)."""
    names = ("t_eval", "params", "y0", "use_model_init", "rtol", "atol", "method",
             "max_steps", "h_first", "h_max", "seed", "first_patient", "purposes",
             *OUTPUTS)
    values = dict(zip(names, arguments, strict=True))
    device = {name: cuda.to_device(np.ascontiguousarray(values[name]))
              for name in ARRAY_ARGUMENTS}
    launch = kernel(module)
    blocks = max(1, -(-n // THREADS_PER_BLOCK))
    launch[blocks, THREADS_PER_BLOCK](
        n, *(device.get(name, values[name]) for name in names))
    cuda.synchronize()
    for name in OUTPUTS:
        device[name].copy_to_host(values[name])


def _signature(module: ModuleType):
    """The kernel's argument types for an ensemble solve (C-contiguous arrays)."""
    f64, i64 = types.float64, types.int64
    return (i64, f64[::1], f64[:, ::1], f64[:, ::1], types.boolean, f64, f64[::1], i64, i64,
            f64, f64, types.uint64, i64, types.uint64[::1], f64[:, :, ::1], f64[:, :, ::1],
            i64[::1], i64[:, ::1], f64[::1], f64[:, ::1], i64[:, ::1])


@contextlib.contextmanager
def _assumed_device(cc: tuple[int, int]):
    """Let numba compile device functions with no GPU present: when a kernel calls a device
    function, numba asks the current device for its compute capability; answer ``cc``."""
    from numba.cuda import dispatcher

    class _Device:
        compute_capability = cc

    original = dispatcher.get_current_device
    dispatcher.get_current_device = _Device
    try:
        yield
    finally:
        dispatcher.get_current_device = original


def compile_ptx(module: ModuleType, cc: tuple[int, int] = (9, 0)) -> str:
    """PTX of the module's kernel for compute capability ``cc``: proof that the model and the
    whole integrator compile for the GPU, on a machine without one (needs libnvvm)."""
    with _assumed_device(cc):
        ptx, _ = cuda.compile_ptx(_kernel_function(module), _signature(module), cc=cc)
    return ptx
