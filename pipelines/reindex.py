"""reindex: indexes, fragment compaction and version cleanup of the lake's tables.

- ``traces``: full-text (INVERTED on ``text`` and ``actor``), scalar (BITMAP ``tenant``, LABEL_LIST ``entities``,
  BTREE ``trace_id``) and, once the table holds ``vector_index_min_rows`` rows, an IVF_PQ index on
  ``embedding``. Existing indexes are brought up to date incrementally (``optimize_indices``).
- every table: small fragments compacted; versions older than ``version_retention_hours`` removed, except
  the version named in ``keep[table]`` (the published one) — time travel inside the window keeps working.
"""

from __future__ import annotations

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
    """Bring indexes up to date, compact and clean up. Returns what it did, per table (empty: nothing).

    Idempotent: on an up-to-date lake it commits nothing."""
    report: dict[str, Any] = {}
    for table in _COMPACT:
        ds = store.dataset(table)
        if ds.count_rows() == 0:
            continue
        done: dict[str, Any] = {}
        if len(ds.get_fragments()) > 1:
            compacted = store.compact(table)
            if compacted["fragments_removed"]:
                done.update(compacted)
        ds = store.dataset(table)
        indices = ds.list_indices()
        existing = {tuple(ix["fields"]) for ix in indices}
        created = []
        for column, kind in _SCALAR.get(table, []):
            if (column,) not in existing:
                ds.create_scalar_index(column, kind)
                created.append(f"{kind}({column})")
        if table == "traces":
            if ("text",) not in existing:
                ds.create_scalar_index("text", "INVERTED", with_position=False)
                created.append("INVERTED(text)")
            if ("actor",) not in existing:  # the text signal matches the speaker too (query.retrieval)
                ds.create_scalar_index("actor", "INVERTED", with_position=False)
                created.append("INVERTED(actor)")
            rows = ds.count_rows()
            if ("embedding",) not in existing and rows >= settings.vector_index_min_rows:
                dim = store.embedding_dim()
                ds.create_index("embedding", index_type="IVF_PQ", metric="cosine",
                                # ~10k rows a partition: trains in minutes on 2 cores at 10M (√N does not)
                                num_partitions=max(1, min(rows // 10_000, 4096)),
                                num_sub_vectors=_sub_vectors(dim))
                created.append("IVF_PQ(embedding)")
        stale = [ix["name"] for ix in indices if ds.stats.index_stats(ix["name"]).get("num_unindexed_rows", 0)]
        if stale:
            ds.optimize.optimize_indices()
            done["indexes_optimized"] = len(stale)
        if created:
            done["indexes_created"] = created
        removed = store.cleanup(table, timedelta(hours=settings.version_retention_hours),
                                keep=[keep[table]] if keep and table in keep else [])
        if removed:
            done["bytes_removed"] = removed
        if done:
            report[table] = done
    return report


def _sub_vectors(dim: int) -> int:
    for n in (48, 32, 24, 16, 8, 4, 2, 1):
        if dim % n == 0 and dim // n >= 4:
            return n
    return 1
