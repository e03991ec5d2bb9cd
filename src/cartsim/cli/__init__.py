"""The ``cartsim`` command line: each subcommand lives in its own module with ``register``."""

from __future__ import annotations

import argparse
import sys
import warnings

from cartsim.errors import CartsimError

SUBCOMMAND_MODULES = ("cartsim.cli.demo", "cartsim.cli.sbml", "cartsim.cli.therapy",
                      "cartsim.cli.clinical", "cartsim.cli.journey",
                      "cartsim.cli.cohort", "cartsim.cli.trial", "cartsim.cli.calibrate")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="cartsim", description="CAR T-cell therapy simulator and population ODE engine."
    )
    from cartsim import __version__

    parser.add_argument("--version", action="version", version=f"cartsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return int(args.handler(args) or 0)
    except CartsimError as exc:
        print(f"cartsim: error: {exc}", file=sys.stderr)
        return 2


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line, like an error: what the user asked for runs, but is unusual."""
    print(f"cartsim: warning: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
