"""Reading traces as of a moment: the base filter, source trimming, and the entity timeline.

As-of rules (zero future leakage, ``docs/queries.md``):

- a trace is visible at ``T`` when ``occurred_at <= T`` (its earliest source) — archived traces and traces that
  converged into another (``merged_into`` set) are left out unless ``include_archived``;
- a visible trace with ``last_source_at > T`` (it absorbed later evidence) is returned with its
  ``source_event_ids``/``source_times`` trimmed to sources that occurred at or before ``T``, ``last_source_at``
  recomputed from them, entities first seen after ``T`` dropped, and a ``valid_to`` later than ``T`` hidden
  (it may have been set by the later evidence);
- ``strength`` is estimated at ``T`` from the forgetting curve ``exp(-Δt / stability)`` instead of the value of
  the last decay run (which may reflect later reinforcements). Pinned traces have strength 1.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import lance
import pyarrow as pa
import pyarrow.compute as pc

from tracelake.timeutil import TS

from .entities import TenantEntities
from .snapshot import quote, str_list, ts_literal

__all__ = ["READ_COLUMNS", "TIMELINE_COLUMNS", "TIMELINE_SCHEMA", "trace_filter", "as_of_rows", "timeline"]

#: Columns read from ``traces`` to build results (never the embedding).
READ_COLUMNS = [
    "tenant", "trace_id", "kind", "stream", "actor", "text", "occurred_at", "last_source_at", "valid_from",
    "valid_to", "time_start", "time_end", "entities", "source_event_ids", "source_times", "strength",
    "stability", "last_reinforced_at", "pinned",
]
#: Columns of a timeline row (``lake.timeline`` / ``tracelake timeline``).
TIMELINE_COLUMNS = [
    "tenant", "trace_id", "kind", "stream", "actor", "text", "occurred_at", "last_source_at", "valid_from",
    "valid_to", "time_start", "time_end", "entities", "source_event_ids", "strength",
]
_IDS = pa.list_(pa.string())
TIMELINE_SCHEMA = pa.schema([
    ("tenant", pa.string()), ("trace_id", pa.string()), ("kind", pa.string()), ("stream", pa.string()),
    ("actor", pa.string()), ("text", pa.string()), ("occurred_at", TS), ("last_source_at", TS),
    ("valid_from", TS), ("valid_to", TS), ("time_start", TS), ("time_end", TS), ("entities", _IDS),
    ("source_event_ids", _IDS), ("strength", pa.float64()),
])


def trace_filter(tenant: str, as_of: datetime | None, include_archived: bool = False) -> str:
    """The Lance-SQL filter every trace read starts from (tenant first: it hits the tenant index)."""
    parts = [f"tenant = {quote(tenant)}"]
    if as_of is not None:
        parts.append(f"occurred_at <= {ts_literal(as_of)}")
    if not include_archived:
        parts.append("archived = false AND merged_into IS NULL")
    return " AND ".join(parts)


def strength_at(row: dict[str, Any], as_of: datetime | None, last_source: datetime | None) -> float:
    """The trace's strength at ``as_of`` (the stored value when ``as_of`` is ``None``)."""
    if as_of is None:
        return float(row.get("strength") or 0.0)
    if row.get("pinned"):
        return 1.0
    ref = row.get("last_reinforced_at")
    if ref is None or ref > as_of:
        ref = last_source or row["occurred_at"]
    stability = float(row.get("stability") or 0.0)
    if stability <= 0:
        return float(row.get("strength") or 0.0)
    days = max(0.0, (as_of - ref).total_seconds() / 86400.0)
    return math.exp(-days / stability)


def as_of_rows(table: pa.Table, as_of: datetime | None, entities: TenantEntities | None) -> list[dict[str, Any]]:
    """Rows of a ``READ_COLUMNS`` table as dicts with the as-of rules applied (see the module docstring)."""
    rows = table.to_pylist()
    for row in rows:
        ids = row.get("source_event_ids") or []
        times = row.get("source_times") or []
        last = row.get("last_source_at")
        if as_of is not None and last is not None and last > as_of:
            if len(times) == len(ids):
                keep = [i for i, t in enumerate(times) if t is not None and t <= as_of]
                row["source_event_ids"] = [ids[i] for i in keep]
                row["source_times"] = [times[i] for i in keep]
                kept = [times[i] for i in keep]
                last = max(kept) if kept else row["occurred_at"]
            else:  # no per-source times: only what is certain to be old enough
                row["source_event_ids"], row["source_times"] = [], []
                last = row["occurred_at"]
            row["last_source_at"] = last
            if entities is not None and row.get("entities"):
                first = entities.first_seen
                row["entities"] = [e for e in row["entities"] if first.get(e) is None or first[e] <= as_of]
            if row.get("valid_to") is not None and row["valid_to"] > as_of:
                row["valid_to"] = None
        row["strength"] = strength_at(row, as_of, last)
        row["source_event_ids"] = list(row.get("source_event_ids") or [])
        row["entities"] = list(row.get("entities") or [])
    return rows


def rows_to_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Timeline rows (dicts) as an Arrow table of :data:`TIMELINE_SCHEMA`."""
    return pa.Table.from_pylist([{c: r.get(c) for c in TIMELINE_COLUMNS} for r in rows], schema=TIMELINE_SCHEMA)


def timeline(traces: lance.LanceDataset, tenant: str, names: list[str], *, start: datetime | None,
             end: datetime | None, as_of: datetime | None, include_archived: bool, limit: int | None,
             entities: TenantEntities | None, latest: bool = False) -> list[dict[str, Any]]:
    """Rows of the traces that list any of ``names`` (canonical entity names), in time order.

    ``start`` is inclusive and ``end`` exclusive on ``occurred_at``; ``as_of`` bounds knowledge (inclusive).
    ``limit`` keeps the first rows (the last ones with ``latest``). The entity filter runs inside Lance
    (``array_has_any`` on ``entities``: a LABEL_LIST index when present). With a ``limit`` smaller than the
    match count, only ``trace_id``/``occurred_at`` are read for all matches, full rows for the kept ones.
    """
    if not names:
        return []
    parts = [trace_filter(tenant, as_of, include_archived), f"array_has_any(entities, [{str_list(names)}])"]
    if start is not None:
        parts.append(f"occurred_at >= {ts_literal(start)}")
    if end is not None:
        parts.append(f"occurred_at < {ts_literal(end)}")
    where = " AND ".join(parts)
    order = [("occurred_at", "ascending"), ("trace_id", "ascending")]
    if limit is not None:
        keys = traces.to_table(filter=where, columns=["trace_id", "occurred_at"])
        if keys.num_rows > limit:
            keys = keys.take(pc.sort_indices(keys, order))
            keys = keys.slice(keys.num_rows - limit, limit) if latest else keys.slice(0, limit)
            where = f"{where} AND trace_id IN ({str_list(keys['trace_id'].to_pylist())})"
    table = traces.to_table(filter=where, columns=READ_COLUMNS)
    if table.num_rows:
        table = table.take(pc.sort_indices(table, order))
    return as_of_rows(table, as_of, entities)
