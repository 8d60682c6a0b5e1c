"""The index plan of the lake: which index each table gets, and building one. Read by ``pipelines/reindex.py``
(which keeps indexes up to date), the query room (which knows what it can push down) and the benchmarks (which
build the same indexes on generated lakes).

- ``traces``: BITMAP ``tenant``, LABEL_LIST ``entities``, BTREE ``trace_id``; full text (INVERTED, no
  positions) on ``text`` and ``actor`` (the text signal matches the speaker too); once the table holds
  ``vector_min_rows`` rows, IVF_PQ (cosine) on ``embedding`` with ~10k rows a partition (it trains in minutes on
  2 cores at 10M rows; √N partitions do not) and the most sub-vectors of ≥ 4 dimensions each.
- ``facts``: BITMAP ``tenant``, BTREE ``subject``. ``entities``: BITMAP ``tenant``. ``events``: BITMAP
  ``tenant``, BTREE ``event_id`` (the ingest writers confirm a hashed-id hit with an exact lookup).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import lance

__all__ = ["IndexSpec", "index_plan", "build_index"]

_SCALAR = {"traces": [("tenant", "BITMAP"), ("entities", "LABEL_LIST"), ("trace_id", "BTREE"),
                      ("text", "INVERTED"), ("actor", "INVERTED")],
           "facts": [("tenant", "BITMAP"), ("subject", "BTREE")],
           "entities": [("tenant", "BITMAP")],
           "events": [("tenant", "BITMAP"), ("event_id", "BTREE")]}  # event_id: the ingest writers' exact lookups


@dataclass(frozen=True)
class IndexSpec:
    """One index: ``kind`` on ``column`` of ``table`` with ``params`` for Lance."""

    table: str
    column: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.kind}({self.column})"


def index_plan(table: str, rows: int, embedding_dim: int, vector_min_rows: int) -> list[IndexSpec]:
    """The indexes ``table`` should have at ``rows`` rows (see the module docstring)."""
    plan = [IndexSpec(table, column, kind, {"with_position": False} if kind == "INVERTED" else {})
            for column, kind in _SCALAR.get(table, [])]
    if table == "traces" and rows >= vector_min_rows:
        plan.append(IndexSpec(table, "embedding", "IVF_PQ", {
            "metric": "cosine", "num_partitions": max(1, min(rows // 10_000, 4096)),
            "num_sub_vectors": _sub_vectors(embedding_dim)}))
    return plan


def build_index(ds: lance.LanceDataset, spec: IndexSpec) -> None:
    """Create ``spec`` on ``ds`` (a new version of the dataset)."""
    if spec.kind == "IVF_PQ":
        ds.create_index(spec.column, index_type="IVF_PQ", **spec.params)
    else:
        ds.create_scalar_index(spec.column, spec.kind, **spec.params)


def _sub_vectors(dim: int) -> int:
    for n in (48, 32, 24, 16, 8, 4, 2, 1):
        if dim % n == 0 and dim // n >= 4:
            return n
    return 1
