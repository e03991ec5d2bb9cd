"""The results store of a trial: one Parquet file per chunk of patients, written atomically.

Layout of a trial folder::

    manifest.json                      what was asked (the trial spec with its arms'
                                       scenarios, patients, chunking, trajectories)
    patients/arm=NAME/chunk=00000.parquet       one row per patient, partitioned by arm and
                                                chunk
    trajectories/arm=NAME/chunk=00000.parquet   when asked: one row per patient and day

A chunk file appears whole or not at all (written beside its place, then renamed), and a
chunk's trajectories are written before its patients, whose file marks the chunk done: so a
run killed at any moment leaves only finished chunks, and the same command resumes by
skipping them (rewriting a half-done chunk's trajectories). A folder whose manifest asks for
something else is refused untouched. DuckDB reads the folder as the views ``patients`` and
``trajectories`` (:func:`query`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cartsim.errors import CartsimError
from cartsim.trial.trajectories import TrajectorySpec

FORMAT = 6
"""2: the manifest names the trajectories kept (None: none); 3: outcomes are PatientOutcome
JSON (journey/outcome.py); 4: a trial spec with arms and replicates; 5: each line's best tumour
change and blood CAR-T peak (Cmax, Tmax) in the outcome and the patient rows; 6: a comparator
arm's therapy in the outcome (its patients are the treated of its endpoints)."""
MANIFEST = "manifest.json"
PATIENTS = "patients"
TRAJECTORIES = "trajectories"


@dataclass(frozen=True)
class Manifest:
    """What a trial folder holds: enough to refuse a different run and to resume this one.
    ``arms``: each arm's name and the patients it stores (all its replicates)."""

    spec: dict
    arms: tuple[tuple[str, int], ...]
    chunk_size: int
    cartsim_version: str
    trajectories: TrajectorySpec | None = None
    format: int = FORMAT

    @property
    def fingerprint(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def chunks(self, arm: str) -> list[tuple[int, int]]:
        """[first, last) patient ranges of an arm's chunks."""
        patients = dict(self.arms)[arm]
        return [(first, min(first + self.chunk_size, patients))
                for first in range(0, patients, self.chunk_size)]


class TrialStore:
    """A trial folder: its manifest and its finished chunks."""

    def __init__(self, folder: str | Path, manifest: Manifest):
        self.folder = Path(folder)
        self.manifest = manifest
        self._open()

    def _open(self) -> None:
        path = self.folder / MANIFEST
        wanted = {**asdict(self.manifest), "fingerprint": self.manifest.fingerprint}
        if path.exists():
            try:
                found = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as error:
                raise CartsimError(f"unreadable manifest: {error}", file=str(path)) from None
            if found.get("fingerprint") != wanted["fingerprint"]:
                differ = sorted(k for k in wanted if k != "fingerprint"
                                and json.dumps(found.get(k), sort_keys=True, default=str)
                                != json.dumps(wanted[k], sort_keys=True, default=str))
                raise CartsimError(
                    "this folder holds the results of another trial (differs in: "
                    f"{', '.join(differ) or 'format'}); choose another --out or delete it",
                    file=str(self.folder))
            return
        if self.folder.exists() and any(self.folder.iterdir()):
            raise CartsimError("the folder is not empty and holds no trial manifest; choose "
                               "another --out", file=str(self.folder))
        self.folder.mkdir(parents=True, exist_ok=True)
        _atomic_write_bytes(path, json.dumps(wanted, indent=2, default=str).encode())

    def chunk_path(self, arm: str, index: int, kind: str = PATIENTS) -> Path:
        return self.folder / kind / f"arm={arm}" / f"chunk={index:05d}.parquet"

    def done(self, arm: str, index: int) -> bool:
        return self.chunk_path(arm, index).exists()

    def write_chunk(self, arm: str, index: int, table: pa.Table,
                    trajectories: pa.Table | None = None) -> None:
        """Write one chunk's rows (and trajectories): each file whole or not at all, the
        patients last."""
        if (trajectories is None) != (self.manifest.trajectories is None):
            raise ValueError("a chunk's trajectories must match the manifest's")
        if trajectories is not None:
            _atomic_write_table(self.chunk_path(arm, index, TRAJECTORIES), trajectories)
        _atomic_write_table(self.chunk_path(arm, index), table)

    def read(self, columns: list[str] | None = None) -> pa.Table:
        """Every finished chunk's rows, with their arm (the partition), in patient order."""
        return self._read(PATIENTS, columns, ["patient"])

    def read_trajectories(self, columns: list[str] | None = None) -> pa.Table:
        """Every finished chunk's trajectories, with their arm, by patient and day."""
        return self._read(TRAJECTORIES, columns, ["patient", "day"])

    def chunks(self, columns: list[str] | None = None,
               kind: str = PATIENTS) -> Iterator[tuple[str, pa.Table]]:
        """(arm, rows) of each finished chunk, by arm and chunk (so in patient order): a
        trial read one chunk at a time, in bounded memory."""
        for path in self._files(kind):
            yield path.parent.name.removeprefix("arm="), pq.read_table(path, columns=columns)

    def _files(self, kind: str) -> list[Path]:
        """The finished chunks' files, by arm and chunk number."""
        found = [(path.parent.name.removeprefix("arm="), int(path.stem.removeprefix("chunk=")),
                  path) for path in (self.folder / kind).glob("arm=*/chunk=*.parquet")]
        return [path for arm, index, path in sorted(found) if self.done(arm, index)]

    def _read(self, kind: str, columns: list[str] | None, order: list[str]) -> pa.Table:
        tables = [table.append_column("arm", pa.array([arm] * table.num_rows))
                  for arm, table in self.chunks(columns, kind)]
        if not tables:
            return pa.table({})
        table = pa.concat_tables(tables, promote_options="default")
        return table.sort_by([("arm", "ascending"), *((name, "ascending") for name in order)])


def _atomic_write_table(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


KEYS = ("arm", "chunk", "patient", "day")
"""Partition and key columns of the views, beside the stored values."""


def stored_columns(folder: str | Path, kind: str = TRAJECTORIES) -> list[str]:
    """The value columns of a trial folder's view ``kind`` (patients or trajectories), key
    columns left out; empty when the trial kept none of them."""
    folder = Path(folder)
    if not any((folder / kind).glob("arm=*/chunk=*.parquet")):
        return []
    names = query(folder, f"SELECT column_name FROM (DESCRIBE {kind})").fetchall()
    return [name for (name,) in names if name not in KEYS]


def query(folder: str | Path, sql: str):
    """Run ``sql`` with DuckDB over the trial folder, whose patients are the view
    ``patients`` and, when the trial kept them, their trajectories the view ``trajectories``
    (partition columns ``arm`` and ``chunk`` included); returns a DuckDB relation
    (``.fetchall()``, ``.df()``, ``.arrow()``)."""
    import duckdb

    folder = Path(folder)
    if not (folder / MANIFEST).exists():
        raise CartsimError("not a trial folder (no manifest.json)", file=str(folder))
    connection = duckdb.connect()
    for kind in (PATIENTS, TRAJECTORIES):
        if kind == PATIENTS or any((folder / kind).glob("arm=*/chunk=*.parquet")):
            pattern = str(folder / kind / "**" / "*.parquet").replace("'", "''")
            connection.execute(f"CREATE VIEW {kind} AS SELECT * FROM read_parquet("
                               f"'{pattern}', hive_partitioning = true)")
    try:
        return connection.sql(sql)
    except duckdb.Error as error:
        raise CartsimError(f"query failed: {error}", element="SQL") from None
