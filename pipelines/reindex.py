"""reindex: indexes, fragment compaction and version cleanup of the lake's tables.

- every table gets the indexes of the lake's index plan (:mod:`tracelake.storage.indexes`); existing indexes
  are brought up to date incrementally (``optimize_indices``).
- every table: small fragments compacted; versions older than ``version_retention_hours`` removed, except
  the version named in ``keep[table]`` (the published one) — time travel inside the window keeps working.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Mapping

from tracelake.settings import Settings
from tracelake.storage import LakeStore
from tracelake.storage.indexes import build_index, index_plan

__all__ = ["reindex"]

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
        for spec in index_plan(table, ds.count_rows(), store.embedding_dim(), settings.vector_index_min_rows):
            if (spec.column,) not in existing:
                build_index(ds, spec)
                created.append(spec.label)
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
