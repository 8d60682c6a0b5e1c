"""Time-aware DuckDB table macros over the lake's views (installed by :class:`tracelake.query.sql.SqlEngine`).

Times are anything DuckDB casts to ``TIMESTAMPTZ`` (``'2023-05-08T13:56:00Z'``, ``TIMESTAMPTZ '...'``,
``now()``). Each macro implements the same rules as the Python API (``docs/queries.md``):

- ``entity_names(tenant, name)``: canonical entity names that ``name`` refers to (name or alias, case- and
  accent-insensitive), plus ``name`` itself;
- ``traces_at(tenant, t)``: traces visible at ``t`` (``occurred_at <= t``, not archived, not merged), sources
  trimmed to those at or before ``t``;
- ``timeline_of(tenant, name)`` / ``timeline_at(tenant, name, t)``: an entity's timeline in ``(occurred_at,
  trace_id)`` order, **one row per event**, as ``lake.timeline`` (``query/traces.py::one_per_event``): of the
  visible traces naming the entity, those whose first source event is the same collapse to one row — the
  event's whole-text trace when it is among them (it stands for its sentence units), else the smallest
  ``trace_id``; a trace without a source event is its own row. ``timeline_at`` reads ``traces_at(tenant, t)``
  (sources trimmed to ``t``), so its event is the first source at or before ``t``;
- ``facts_known(tenant, t, k)``: facts valid at ``t`` as known at ``k`` (closings learned after ``t`` hidden);
- ``facts_at(tenant, t)``: ``facts_known(tenant, t, now())``.

Besides the macros, one scalar function: ``tracelake_trace_id(tenant, event_id)``, the id of the event's
whole-text trace (:func:`tracelake.ids.trace_id`, the one formula; a Python UDF over Arrow batches).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from tracelake.ids import trace_id

__all__ = ["MACROS", "MACRO_NAMES", "install_macros"]

_T = "CAST(t AS TIMESTAMPTZ)"
_TRACE_ID_FN = "tracelake_trace_id"
# One row per event: rows sharing a first source collapse to the event's whole-text trace, else the smallest id.
_ONE_PER_EVENT = f"""
  QUALIFY row_number() OVER (
    PARTITION BY source_event_ids[1], CASE WHEN source_event_ids[1] IS NULL THEN trace_id END
    ORDER BY coalesce(trace_id = {_TRACE_ID_FN}(tenant, source_event_ids[1]), false) DESC, trace_id) = 1
  ORDER BY occurred_at, trace_id
"""

MACROS: dict[str, str] = {
    "entity_names": """
CREATE OR REPLACE MACRO entity_names(ten, ent) AS TABLE
  SELECT name FROM entities
  WHERE tenant = ten
    AND (lower(strip_accents(name)) = lower(strip_accents(ent))
         OR list_contains(list_transform(aliases, lambda a: lower(strip_accents(a))), lower(strip_accents(ent))))
  UNION SELECT ent AS name
""",
    "traces_at": f"""
CREATE OR REPLACE MACRO traces_at(ten, t) AS TABLE
  SELECT * EXCLUDE (embedding) REPLACE (
    CASE WHEN last_source_at > {_T}
         THEN [x[1] FOR x IN list_zip(source_event_ids, source_times) IF x[2] <= {_T}]
         ELSE source_event_ids END AS source_event_ids,
    CASE WHEN last_source_at > {_T} THEN [x FOR x IN source_times IF x <= {_T}]
         ELSE source_times END AS source_times,
    CASE WHEN last_source_at > {_T}
         THEN coalesce(list_max([x FOR x IN source_times IF x <= {_T}]), occurred_at)
         ELSE last_source_at END AS last_source_at,
    CASE WHEN last_source_at > {_T} AND valid_to > {_T} THEN NULL ELSE valid_to END AS valid_to)
  FROM traces
  WHERE tenant = ten AND occurred_at <= {_T} AND archived = false AND merged_into IS NULL
""",
    "timeline_of": f"""
CREATE OR REPLACE MACRO timeline_of(ten, ent) AS TABLE
  SELECT * EXCLUDE (embedding) FROM traces
  WHERE tenant = ten AND archived = false AND merged_into IS NULL
    AND list_has_any(entities, (SELECT list(name) FROM entity_names(ten, ent)))
{_ONE_PER_EVENT}""",
    "timeline_at": f"""
CREATE OR REPLACE MACRO timeline_at(ten, ent, t) AS TABLE
  SELECT * FROM traces_at(ten, t)
  WHERE list_has_any(entities, (SELECT list(name) FROM entity_names(ten, ent)))
{_ONE_PER_EVENT}""",
    "facts_known": f"""
CREATE OR REPLACE MACRO facts_known(ten, t, k) AS TABLE
  SELECT * REPLACE (
    CASE WHEN invalidated_at > {_T} THEN NULL ELSE valid_to END AS valid_to,
    CASE WHEN invalidated_at > {_T} THEN NULL ELSE invalidated_at END AS invalidated_at,
    CASE WHEN invalidated_at > {_T} THEN NULL ELSE superseded_by END AS superseded_by,
    [x[1] FOR x IN list_zip(source_event_ids, source_times) IF x[2] <= {_T}] AS source_event_ids,
    [x FOR x IN source_times IF x <= {_T}] AS source_times)
  FROM facts
  WHERE tenant = ten AND occurred_at <= {_T} AND valid_from <= {_T}
    AND (valid_to IS NULL OR valid_to > {_T} OR invalidated_at > {_T})
    AND recorded_at <= CAST(k AS TIMESTAMPTZ)
    AND (retracted_at IS NULL OR retracted_at > CAST(k AS TIMESTAMPTZ))
    AND archived = false
""",
    "facts_at": """
CREATE OR REPLACE MACRO facts_at(ten, t) AS TABLE SELECT * FROM facts_known(ten, t, now())
""",
}
MACRO_NAMES = tuple(MACROS)


def _whole_trace_ids(tenants: pa.Array, event_ids: pa.Array) -> pa.Array:
    """``tracelake_trace_id`` over one Arrow batch (null in, null out)."""
    return pa.array([None if t is None or e is None else trace_id(t, e)
                     for t, e in zip(tenants.to_pylist(), event_ids.to_pylist())], pa.string())


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create ``tracelake_trace_id`` and every macro on ``con`` (the views must exist: macros bind to them
    when called)."""
    try:
        con.remove_function(_TRACE_ID_FN)
    except duckdb.InvalidInputException:
        pass  # not registered on this connection yet
    con.create_function(_TRACE_ID_FN, _whole_trace_ids, ["VARCHAR", "VARCHAR"], "VARCHAR", type="arrow",
                        null_handling="special", side_effects=False)
    for sql in MACROS.values():
        con.execute(sql)
