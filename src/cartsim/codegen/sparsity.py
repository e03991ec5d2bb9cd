"""A sparse LU schedule for the Rosenbrock matrix W = I/(γh) - J, from J's symbolic pattern.

The pattern of W is J's nonzeros plus the diagonal. A greedy minimum-degree order (pivot on
the row/column with the fewest remaining off-diagonal entries; ties by index) keeps the
fill-in small, and symbolic elimination in that order gives, for each pivot, the later rows
below it and the later columns right of it that are structurally nonzero after fill. The
kernel (``solvers/kernel/linalg.py``) eliminates along this schedule without pivoting and
falls back to dense partial pivoting when a pivot is too small, so a schedule never costs
robustness, only the work it saves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class LUSchedule:
    """Elimination order and, per pivot (in order), its later rows and columns."""

    order: tuple[int, ...]
    rows: tuple[tuple[int, ...], ...]
    cols: tuple[tuple[int, ...], ...]

    @property
    def flops(self) -> int:
        """Multiply-adds of one factorisation."""
        return sum(len(r) * (len(c) + 1) for r, c in zip(self.rows, self.cols, strict=True))

    def flat(self) -> dict[str, list[int]]:
        """The schedule as flat index arrays: LU_ORDER, then per pivot s its rows
        LU_ROWS[LU_ROW_START[s]:LU_ROW_START[s + 1]] and columns likewise."""
        def offsets(groups):
            starts = [0]
            for group in groups:
                starts.append(starts[-1] + len(group))
            return starts

        return {"LU_ORDER": list(self.order),
                "LU_ROW_START": offsets(self.rows), "LU_ROWS": [i for g in self.rows for i in g],
                "LU_COL_START": offsets(self.cols), "LU_COLS": [j for g in self.cols for j in g]}


def lu_schedule(n: int, nonzeros: Iterable[tuple[int, int]]) -> LUSchedule:
    """The schedule for an n x n matrix with the given (row, column) nonzeros (the diagonal
    is always included)."""
    below: list[set[int]] = [set() for _ in range(n)]  # column k: rows i with (i, k)
    right: list[set[int]] = [set() for _ in range(n)]  # row k: columns j with (k, j)
    for i, j in nonzeros:
        if i != j:
            below[j].add(i)
            right[i].add(j)
    remaining = set(range(n))
    order, rows, cols = [], [], []
    while remaining:
        k = min(remaining, key=lambda m: (len(below[m] & remaining)
                                          * len(right[m] & remaining), m))
        remaining.discard(k)
        later_rows = sorted(below[k] & remaining)
        later_cols = sorted(right[k] & remaining)
        for i in later_rows:  # fill: row i gains row k's later columns
            for j in later_cols:
                if j != i:
                    right[i].add(j)
                    below[j].add(i)
        order.append(k)
        rows.append(tuple(later_rows))
        cols.append(tuple(later_cols))
    return LUSchedule(tuple(order), tuple(rows), tuple(cols))
