"""``cartsim demo``: a virtual population on the built-in 6-state CAR-T-like model.

The main job on embedded defaults: compile the model (or load it from the disk cache), solve
10,000 virtual patients for 100 days with daily output on all cores (or, with --target gpu,
one GPU thread per patient), and summarise.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from cartsim.errors import CartsimError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="simulate a virtual population on the built-in 6-state CAR-T-like model",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=10_000, help="default: %(default)s")
    parser.add_argument("--days", type=float, default=100.0, help="default: %(default)s")
    parser.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    parser.add_argument("--threads", type=int, default=None, help="default: all cores")
    parser.add_argument("--rtol", type=float, default=1e-6, help="default: %(default)s")
    parser.add_argument("--target", choices=("cpu", "gpu"), default="cpu",
                        help="where to solve (gpu: an NVIDIA GPU and the gpu extra); "
                             "default: %(default)s")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from cartsim.engine import compile_model
    from cartsim.examples import cart6_model, cart6_population

    if args.patients < 1:
        raise CartsimError(f"--patients must be >= 1, got {args.patients}")
    if not args.days > 0:
        raise CartsimError(f"--days must be > 0, got {args.days}")
    model = compile_model(cart6_model())
    cache = "loaded from cache" if model.kernel_cache_hit else "compiled"
    print(f"model {model.model.name}: {len(model.state_names)} states, "
          f"{len(model.parameter_names)} parameters; kernels {cache} in "
          f"{model.compile_seconds:.2f} s")
    if args.target == "gpu":
        print(f"GPU kernel compiled in {model.compile_gpu():.1f} s")
    t = np.linspace(0.0, args.days, int(round(args.days)) + 1)
    params = cart6_population(args.patients, seed=args.seed)
    start = time.perf_counter()
    result = model.solve(t, params=params, rtol=args.rtol, atol=1e-9, seed=args.seed,
                         threads=args.threads, progress=args.patients >= 100_000,
                         target=args.target)
    seconds = time.perf_counter() - start
    ok = result.ok
    tumour_end = result.observable("tumour")[:, -1]
    cart = result.observable("cart")
    cleared = ok & (tumour_end == 0.0)
    escape = ok & (result.state("Tn")[:, -1] > result.state("Tn")[:, 0])
    print(f"solved {args.patients:,} patients over {args.days:g} days on the {args.target} in "
          f"{seconds:.2f} s ({args.patients / seconds:,.0f} patients/s)")
    print(f"  solver status ok: {ok.mean():.1%}; stiff switches in "
          f"{(result.stats('switches') > 0).mean():.1%} of patients")
    print(f"  tumour eradicated by day {args.days:g}: {cleared.mean():.1%}")
    print(f"  antigen-negative clone grew: {escape.mean():.1%}")
    print(f"  median CAR-T peak: {np.nanmedian(np.nanmax(cart, axis=1)):.3g} x 1e9 cells")
    return 0
