"""A compact set of event ids for the ingest writers: 64-bit hashes of ``(tenant, event_id)``, 8 bytes an id.

A hit says *maybe*: a new id meets an unrelated id's hash with probability n / 2⁶⁴ (5·10⁻¹² at 100M ids),
so a hit is only a candidate that the caller confirms against the table (:mod:`tracelake.storage.events`);
a miss is certain. The hashes sit in a few sorted numpy runs, merged when a newer run grows to a quarter of the
one before it (an LSM), so adding a batch and looking one up cost about ``log(n)`` per id, vectorised.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

__all__ = ["HashedIdSet", "id_hashes"]

_SEED = 0x7472616365  # any fixed seed: hashes only meet hashes computed by the same process


def id_hashes(rows: pa.Table) -> np.ndarray:
    """uint64 hash of each row's ``(tenant, event_id)`` (vectorised; stable within one polars version)."""
    if rows.num_rows == 0:
        return np.empty(0, np.uint64)
    frame = pl.from_arrow(rows.select(["tenant", "event_id"]), rechunk=False)
    return frame.hash_rows(seed=_SEED).to_numpy()


class HashedIdSet:
    """A set of uint64 hashes in sorted runs. Not thread-safe (one writer owns it)."""

    #: A run is merged into the one before it once it holds at least 1/_GROWTH of that run's hashes.
    _GROWTH = 4

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []  # sorted, disjoint, oldest (largest) first

    def __len__(self) -> int:
        return sum(len(r) for r in self._runs)

    @property
    def nbytes(self) -> int:
        return sum(r.nbytes for r in self._runs)

    def lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Two boolean arrays over ``hashes``: in the set; equal to an earlier hash of the same array."""
        order = np.argsort(hashes, kind="stable")  # sorted probes walk each run in order (fewer cache misses)
        probes = hashes[order]
        in_set, repeated = np.empty(len(hashes), dtype=bool), np.empty(len(hashes), dtype=bool)
        in_set[order] = self._hits(probes)
        repeated[order] = np.concatenate([[False], probes[1:] == probes[:-1]]) if len(probes) else probes > 0
        return in_set, repeated

    def _hits(self, probes: np.ndarray) -> np.ndarray:
        """In-set mask of sorted ``probes``."""
        hit = np.zeros(len(probes), dtype=bool)
        for run in self._runs:
            pos = np.minimum(np.searchsorted(run, probes), len(run) - 1)
            hit |= run[pos] == probes
        return hit

    def add(self, hashes: np.ndarray, *, absent: bool = False) -> None:
        """Add hashes (repeats are ignored). ``absent``: the caller knows none is in the set yet (skips a probe)."""
        new = np.sort(hashes.astype(np.uint64, copy=False))
        if len(new) > 1:
            new = new[np.concatenate([[True], new[1:] != new[:-1]])]
        if not absent:
            new = new[~self._hits(new)]
        if not len(new):
            return
        self._runs.append(new)
        while len(self._runs) > 1 and len(self._runs[-2]) < self._GROWTH * len(self._runs[-1]):
            last = self._runs.pop()
            merged = np.concatenate([self._runs.pop(), last])
            merged.sort(kind="stable")  # two sorted runs: a linear merge
            self._runs.append(merged)

    def clear(self) -> None:
        self._runs.clear()
