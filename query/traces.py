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

from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracelake import forgetting
from tracelake.ids import trace_id
from tracelake.schemas import TIMELINE_SCHEMA
from tracelake.storage.reading import Dataset, take_rows
from tracelake.timeutil import micros_array, table_rows, to_micros

from .entities import TenantEntities
from .snapshot import quote, str_list, ts_literal

__all__ = ["READ_COLUMNS", "TIMELINE_COLUMNS", "trace_filter", "as_of_table", "as_of_rows",
           "timeline", "timeline_table", "strength_curve", "trimmed_last_source", "entity_rowids"]

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


def trace_filter(tenant: str, as_of: datetime | None, include_archived: bool = False) -> str:
    """The Lance-SQL filter every trace read starts from (tenant first: it hits the tenant index)."""
    parts = [f"tenant = {quote(tenant)}"]
    if as_of is not None:
        parts.append(f"occurred_at <= {ts_literal(as_of)}")
    if not include_archived:
        parts.append("archived = false AND merged_into IS NULL")
    return " AND ".join(parts)


def strength_curve(t: int, last_reinforced: np.ndarray, last_source: np.ndarray, stability: np.ndarray,
                   stored: np.ndarray, pinned: np.ndarray) -> np.ndarray:
    """Strength at epoch-µs ``t`` by the forgetting curve (:func:`tracelake.forgetting.retention`), counted
    from the last reinforcement at or before ``t`` (else from the last source at or before ``t``;
    ``last_source`` must already be trimmed). Pinned traces: 1; a non-positive stability:
    1 at zero elapsed time, else 0. ``stored`` is unused (kept for callers that fall back to it)."""
    ref = np.where(last_reinforced <= t, last_reinforced, np.minimum(last_source, t))
    out = forgetting.retention(t - ref, stability)
    return np.where(pinned, 1.0, out)


def _strength_at(table: pa.Table, as_of: datetime) -> pa.Array:
    t = to_micros(as_of)
    return pa.array(strength_curve(
        t, micros_array(table["last_reinforced_at"], np.iinfo(np.int64).max), micros_array(table["last_source_at"], t),
        pc.fill_null(table["stability"], 0.0).to_numpy(zero_copy_only=False),
        pc.fill_null(table["strength"], 0.0).to_numpy(zero_copy_only=False),
        pc.fill_null(table["pinned"], False).to_numpy(zero_copy_only=False)), pa.float64())


def trimmed_last_source(source_event_ids: list | None, source_times: list | None, occurred_at: datetime,
                        as_of: datetime) -> datetime:
    """``last_source_at`` of a trace as of ``as_of`` (the rule of :func:`as_of_table`)."""
    ids, times = source_event_ids or [], source_times or []
    if len(ids) != len(times):
        return occurred_at
    kept = [t for t in times if t is not None and t <= as_of]
    return max(kept) if kept else occurred_at


def _trim_row(row: dict[str, Any], as_of: datetime, entities: TenantEntities | None) -> dict[str, Any]:
    ids = row.get("source_event_ids") or []
    times = row.get("source_times") or []
    row["last_source_at"] = trimmed_last_source(ids, times, row["occurred_at"], as_of)
    if len(times) == len(ids):
        keep = [i for i, t in enumerate(times) if t is not None and t <= as_of]
        row["source_event_ids"] = [ids[i] for i in keep]
        row["source_times"] = [times[i] for i in keep]
    else:  # no per-source times: keep only what is certain to be old enough
        row["source_event_ids"], row["source_times"] = [], []
    if entities is not None and row.get("entities"):
        first = entities.first_seen
        row["entities"] = [e for e in row["entities"] if first.get(e) is None or first[e] <= as_of]
    if row.get("valid_to") is not None and row["valid_to"] > as_of:
        row["valid_to"] = None
    return row


def as_of_table(table: pa.Table, as_of: datetime | None, entities: TenantEntities | None) -> pa.Table:
    """A ``READ_COLUMNS`` table with the as-of rules applied (see the module docstring), rows in the same order.

    Vectorised; only rows that absorbed evidence after ``as_of`` (``last_source_at > as_of``) go through Python.
    """
    if as_of is None or not table.num_rows:
        return table
    late = pc.fill_null(pc.greater(table["last_source_at"], pa.scalar(as_of, table.schema.field("last_source_at")
                                                                       .type)), False)
    late_idx = np.flatnonzero(late.to_numpy(zero_copy_only=False))
    if len(late_idx):
        rest_idx = np.flatnonzero(~late.to_numpy(zero_copy_only=False))
        fixed = pa.Table.from_pylist([_trim_row(r, as_of, entities) for r in table.take(late_idx).to_pylist()],
                                     schema=table.schema)
        merged = pa.concat_tables([table.take(rest_idx), fixed])
        table = merged.take(np.argsort(np.concatenate([rest_idx, late_idx]), kind="stable"))
    return table.set_column(table.schema.get_field_index("strength"), "strength", _strength_at(table, as_of))


def as_of_rows(table: pa.Table, as_of: datetime | None, entities: TenantEntities | None) -> list[dict[str, Any]]:
    """:func:`as_of_table` as a list of row dicts (lists never ``None``)."""
    rows = table_rows(as_of_table(table, as_of, entities))
    for row in rows:
        row["source_event_ids"] = list(row.get("source_event_ids") or [])
        row["entities"] = list(row.get("entities") or [])
    return rows


def timeline_table(table: pa.Table) -> pa.Table:
    """A ``READ_COLUMNS`` table cut to :data:`TIMELINE_SCHEMA`."""
    return table.select(TIMELINE_COLUMNS).cast(TIMELINE_SCHEMA)


def entity_rowids(traces: Dataset, tenant: str, names: list[str]) -> np.ndarray:
    """Sorted row ids of the tenant's traces listing any of ``names``: an index-only lookup (tenant + LABEL_LIST
    indexes when present; no column is read)."""
    table = traces.to_table(columns=[], with_row_id=True,
                            filter=f"tenant = {quote(tenant)} AND array_has_any(entities, [{str_list(names)}])")
    return np.unique(table["_rowid"].to_numpy())


def one_per_event(table: pa.Table, tenant: str) -> pa.Table:
    """One row per source event, in ``(occurred_at, trace_id)`` order: the event's whole-text trace when it is
    among the rows (it stands for its sentence units), else its first unit by ``trace_id``."""
    if not table.num_rows:
        return table
    ids = table["source_event_ids"].combine_chunks()
    sizes = pc.fill_null(pc.list_value_length(ids), 0)
    firsts = pc.list_flatten(pc.list_slice(ids, 0, 1))  # one value per row with a source, in row order
    event = np.full(table.num_rows, "", dtype=object)
    event[np.flatnonzero(sizes.to_numpy(zero_copy_only=False) > 0)] = firsts.to_numpy(zero_copy_only=False)
    event = pa.array(event, pa.string())
    whole = pa.array([trace_id(tenant, e) for e in event.to_pylist()], pa.string())
    is_whole = pc.equal(table["trace_id"], whole)
    keyed = table.append_column("_event", event).append_column("_rank", pc.invert(is_whole))
    keyed = keyed.take(pc.sort_indices(keyed, [("_event", "ascending"), ("_rank", "ascending"),
                                               ("trace_id", "ascending")]))
    ev = keyed["_event"].to_numpy(zero_copy_only=False)
    first = np.ones(len(ev), dtype=bool)
    first[1:] = ev[1:] != ev[:-1]
    first |= ev == ""  # a trace without a source event is its own entry
    kept = keyed.filter(pa.array(first)).drop_columns(["_event", "_rank"])
    return kept.take(pc.sort_indices(kept, [("occurred_at", "ascending"), ("trace_id", "ascending")]))


def timeline(traces: Dataset, tenant: str, names: list[str], *, start: datetime | None,
             end: datetime | None, as_of: datetime | None, include_archived: bool, limit: int | None,
             entities: TenantEntities | None, latest: bool = False, ws: Any = None) -> pa.Table:
    """The traces that list any of ``names`` (canonical entity names), in time order (:data:`TIMELINE_SCHEMA`),
    one per event (:func:`one_per_event`: the whole turn, not also each of its sentences).

    ``start`` is inclusive and ``end`` exclusive on ``occurred_at``; ``as_of`` bounds knowledge (inclusive).
    ``limit`` keeps the first rows (the last ones with ``latest``). Reads: the entity's row ids from the indexes,
    their ``occurred_at``/flags (from ``ws``, the tenant's cached working set, when given), then the kept rows.
    """
    if not names:
        return TIMELINE_SCHEMA.empty_table()
    where = trace_filter(tenant, as_of, include_archived)
    rowids = entity_rowids(traces, tenant, names)
    if ws is not None:
        pos = ws.positions(rowids)
        occurred, archived, merged = ws.occurred[pos], ws.archived[pos], ws.merged[pos]
    else:
        flags = take_rows(traces, rowids.tolist(), ["occurred_at", "archived", "merged_into"], where)
        occurred = micros_array(flags["occurred_at"], 0)
        archived = pc.fill_null(flags["archived"], False).to_numpy(zero_copy_only=False)
        merged = pc.is_valid(flags["merged_into"]).to_numpy(zero_copy_only=False)
    keep = np.ones(len(rowids), dtype=bool) if include_archived else ~(archived | merged)
    if as_of is not None:
        keep &= occurred <= to_micros(as_of)
    if start is not None:
        keep &= occurred >= to_micros(start)
    if end is not None:
        keep &= occurred < to_micros(end)
    rowids, occurred = rowids[keep], occurred[keep]
    times = np.unique(occurred)
    if limit is not None and len(times) > limit:
        # an event's traces share its time, so the limit-th distinct time keeps at least ``limit`` events; the
        # exact cut happens after one entry per event is chosen
        edge = times[len(times) - limit] if latest else times[limit - 1]
        rowids = rowids[occurred >= edge if latest else occurred <= edge]
    table = one_per_event(take_rows(traces, rowids.tolist(), READ_COLUMNS, where), tenant)
    if limit is not None and table.num_rows > limit:
        table = table.slice(table.num_rows - limit, limit) if latest else table.slice(0, limit)
    return timeline_table(as_of_table(table, as_of, entities))
