"""Repair of a lake damaged by concurrent consolidations (before the lease existed, or taken without it).

Two runs that consolidated the same events at once both published: every trace, entity, fact and ledger
row they wrote exists twice (same key, same content). The damage is recognisable in ``job_runs``: two
committed consolidation runs whose ``[started_at, finished_at]`` overlap. The next consolidation (under
the lease) calls :func:`repair` first: when such an overlap exists that no later run has already checked,
it keeps one row per key in each consolidated table and reports what it removed under ``steps.repair``
(the marker later runs look for). Cheap otherwise: only ``job_runs`` is read.
"""

from __future__ import annotations

from tracelake.storage import LakeStore

__all__ = ["KEYS", "repair", "needs_repair"]

#: Per consolidated table: the key with one row per value in a healthy lake, and the rows it applies to. Facts:
#: one current row version per fact (two racing runs each inserted their own, under different row ids).
KEYS = {"traces": (["trace_id"], None), "entities": (["entity_id"], None),
        "facts": (["fact_id"], "retracted_at IS NULL"), "ledger": (["tenant", "event_id"], None)}


def needs_repair(store: LakeStore) -> bool:
    """Whether two committed consolidations overlapped after the last run that checked for duplicates."""
    runs = store.read("job_runs", columns=["status", "started_at", "finished_at", "report"],
                      filter="job = 'consolidate' AND status IN ('committed', 'noop') AND finished_at IS NOT NULL")
    if runs.num_rows < 2:
        return False
    runs = runs.sort_by([("started_at", "ascending")]).to_pylist()
    checked = max((r["started_at"] for r in runs if '"repair"' in (r["report"] or "")), default=None)
    committed = [r for r in runs if r["status"] == "committed"]
    for prev, cur in zip(committed, committed[1:]):
        if cur["started_at"] < prev["finished_at"] and (checked is None or cur["finished_at"] > checked):
            return True
    return False


def repair(store: LakeStore) -> dict[str, int] | None:
    """Remove duplicate rows from the consolidated tables if :func:`needs_repair`; ``{table: rows removed}``.

    ``None`` when no check was needed. Callers hold the lake's lease and publish afterwards."""
    if not needs_repair(store):
        return None
    return {table: store.dedupe(table, keys, where) for table, (keys, where) in KEYS.items()}

