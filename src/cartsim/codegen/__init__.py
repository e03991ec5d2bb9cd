"""Model description → generated code, cached on disk by model hash: numba source for a
specialised module (:func:`model_source`), or LLVM IR and tables for the generic kernel
(:func:`native_source`)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from importlib import resources
from pathlib import Path

from cartsim.codegen.assemble import cache_dir
from cartsim.codegen.generate import generate_source
from cartsim.codegen.native import NotNative, native_ir
from cartsim.codegen.tables import ModelTables, model_tables
from cartsim.model.description import Model


def _generator_fingerprint() -> str:
    """Hash of every source file that shapes the generated code (model resolution included)."""
    digest = hashlib.sha256()
    for package in ("cartsim.model", "cartsim.codegen"):
        folder = resources.files(package)
        for name in sorted(f.name for f in folder.iterdir() if f.name.endswith(".py")):
            digest.update(folder.joinpath(name).read_bytes())
    return digest.hexdigest()


def _cache_path(model: Model, kind: str, suffix: str) -> Path:
    """Where the generated ``kind`` of ``model`` is cached: keyed by the model description and
    the generator's own source, so a second run of the same model skips the symbolic work
    (resolution, Jacobian, CSE) as well as compilation."""
    key = hashlib.sha256(f"{model!r}|{_generator_fingerprint()}".encode()).hexdigest()[:20]
    return cache_dir() / f"{kind}_{key}.{suffix}"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")  # processes sharing the cache never collide
    tmp.write_text(text)
    tmp.replace(path)


def model_source(model: Model) -> tuple[str, float, bool]:
    """Generated model functions for ``model``: (source, seconds spent, came from cache)."""
    start = time.perf_counter()
    path = _cache_path(model, "source", "txt")
    if path.exists():
        return path.read_text(), time.perf_counter() - start, True
    source = generate_source(model.resolve())
    _write(path, source)
    return source, time.perf_counter() - start, False


@dataclasses.dataclass(frozen=True)
class NativeSource:
    """A model's native functions as LLVM IR, with the tables of its record."""

    ir: str
    tables: ModelTables


def native_source(model: Model) -> tuple[NativeSource, float, bool]:
    """The generic kernel's code for ``model``: (source, seconds spent, came from cache).
    Raises :class:`~cartsim.codegen.native.NotNative` for a model it cannot express."""
    start = time.perf_counter()
    path = _cache_path(model, "native", "json")
    if path.exists():
        data = json.loads(path.read_text())
        if "not_native" in data:
            raise NotNative(data["not_native"])
        tables = ModelTables(**{**data["tables"], "event_names": tuple(
            data["tables"]["event_names"]), "jacobian_nonzeros": [
            tuple(pair) for pair in data["tables"]["jacobian_nonzeros"]]})
        return NativeSource(data["ir"], tables), time.perf_counter() - start, True
    resolved = model.resolve()
    tables = model_tables(resolved)
    try:
        source = NativeSource(native_ir(resolved, tables), tables)
    except NotNative as error:  # remembered: the next run goes straight to the specialised
        _write(path, json.dumps({"not_native": str(error)}))
        raise
    _write(path, json.dumps({"ir": source.ir, "tables": dataclasses.asdict(tables)}))
    return source, time.perf_counter() - start, False
