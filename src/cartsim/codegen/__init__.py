"""Model description → compiled numba module (generated source cached on disk by model hash)."""

from __future__ import annotations

import hashlib
import os
import time
from importlib import resources

from cartsim.codegen.assemble import cache_dir
from cartsim.codegen.generate import generate_source
from cartsim.model.description import Model


def _generator_fingerprint() -> str:
    """Hash of every source file that shapes the generated code (model resolution included)."""
    digest = hashlib.sha256()
    for package in ("cartsim.model", "cartsim.codegen"):
        folder = resources.files(package)
        for name in sorted(f.name for f in folder.iterdir() if f.name.endswith(".py")):
            digest.update(folder.joinpath(name).read_bytes())
    return digest.hexdigest()


def model_source(model: Model) -> tuple[str, float, bool]:
    """Generated model functions for ``model``: (source, seconds spent, came from cache).

    Keyed by the model description and the generator's own source, so a second run of the
    same model skips the symbolic work (resolution, Jacobian, CSE) as well as compilation.
    """
    start = time.perf_counter()
    key = hashlib.sha256(f"{model!r}|{_generator_fingerprint()}".encode()).hexdigest()[:20]
    path = cache_dir() / f"source_{key}.txt"
    if path.exists():
        return path.read_text(), time.perf_counter() - start, True
    source = generate_source(model.resolve())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")  # processes sharing the cache never collide
    tmp.write_text(source)
    tmp.replace(path)
    return source, time.perf_counter() - start, False
