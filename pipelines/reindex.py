"""reindex: indexes, fragment compaction and version cleanup of the lake's tables.

- ``traces``: full-text (INVERTED on ``text``), scalar (BITMAP ``tenant``, LABEL_LIST ``entities``,
  BTREE ``trace_id``) and, once the table holds ``vector_index_min_rows`` rows, an IVF_PQ index on
  ``embedding``. Existing indexes are brought up to date incrementally (``optimize_indices``).
- every table: small fragments compacted; versions older than ``version_retention_hours`` removed, except
  the version named in ``keep[table]`` (the published one) — time travel inside the window keeps working.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any, Mapping

from tracelake.settings import Settings
from tracelake.storage import LakeStore

__all__ = ["reindex"]

_SCALAR = {"traces": [("tenant", "BITMAP"), ("entities", "LABEL_LIST"), ("trace_id", "BTREE")],
           "facts": [("tenant", "BITMAP"), ("subject", "BTREE")],
           "entities": [("tenant", "BITMAP")],
           "events": [("tenant", "BITMAP")]}
_COMPACT = ("events", "traces", "entities", "facts", "ledger", "rejects", "job_runs")


def reindex(store: LakeStore, settings: Settings, keep: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Bring indexes up to date, compact and clean up. Returns what it did, per table."""
    report: dict[str, Any] = {}
    for table in _COMPACT:
        ds = store.dataset(table)
        if ds.count_rows() == 0:
            continue
        done: dict[str, Any] = {}
        if len(ds.get_fragments()) > 1:
            done.update(store.compact(table))
        ds = store.dataset(table)
        existing = {tuple(ix["fields"]) for ix in ds.list_indices()}
        created = []
        for column, kind in _SCALAR.get(table, []):
            if (column,) not in existing:
                ds.create_scalar_index(column, kind)
                created.append(f"{kind}({column})")
        if table == "traces":
            if ("text",) not in existing:
                ds.create_scalar_index("text", "INVERTED", with_position=False)
                created.append("INVERTED(text)")
            rows = ds.count_rows()
            if ("embedding",) not in existing and rows >= settings.vector_index_min_rows:
                dim = store.embedding_dim()
                ds.create_index("embedding", index_type="IVF_PQ", metric="cosine",
                                num_partitions=max(1, int(math.sqrt(rows))),
                                num_sub_vectors=_sub_vectors(dim))
                created.append("IVF_PQ(embedding)")
        if existing:
            ds.optimize.optimize_indices()
            done["indexes_optimized"] = len(existing)
        if created:
            done["indexes_created"] = created
        done["bytes_removed"] = store.cleanup(
            table, timedelta(hours=settings.version_retention_hours), keep=[keep[table]] if keep and table in keep else [])
        report[table] = done
    return report


def _sub_vectors(dim: int) -> int:
    for n in (48, 32, 24, 16, 8, 4, 2, 1):
        if dim % n == 0 and dim // n >= 4:
            return n
    return 1
