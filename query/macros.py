"""Time-aware DuckDB table macros over the lake's views (installed by :class:`tracelake.query.sql.SqlEngine`).

Times are anything DuckDB casts to ``TIMESTAMPTZ`` (``'2023-05-08T13:56:00Z'``, ``TIMESTAMPTZ '...'``,
``now()``). Each macro implements the same rules as the Python API (``docs/queries.md``):

- ``entity_names(tenant, name)``: canonical entity names that ``name`` refers to (name or alias, case- and
  accent-insensitive), plus ``name`` itself;
- ``traces_at(tenant, t)``: traces visible at ``t`` (``occurred_at <= t``, not archived, not merged), sources
  trimmed to those at or before ``t``;
- ``timeline_of(tenant, name)`` / ``timeline_at(tenant, name, t)``: an entity's traces in time order;
- ``facts_known(tenant, t, k)``: facts valid at ``t`` as known at ``k`` (closings learned after ``t`` hidden);
- ``facts_at(tenant, t)``: ``facts_known(tenant, t, now())``.
"""

from __future__ import annotations

import duckdb

__all__ = ["MACROS", "MACRO_NAMES", "install_macros"]

_T = "CAST(t AS TIMESTAMPTZ)"

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
    "timeline_of": """
CREATE OR REPLACE MACRO timeline_of(ten, ent) AS TABLE
  SELECT * EXCLUDE (embedding) FROM traces
  WHERE tenant = ten AND archived = false AND merged_into IS NULL
    AND list_has_any(entities, (SELECT list(name) FROM entity_names(ten, ent)))
  ORDER BY occurred_at, trace_id
""",
    "timeline_at": """
CREATE OR REPLACE MACRO timeline_at(ten, ent, t) AS TABLE
  SELECT * FROM traces_at(ten, t)
  WHERE list_has_any(entities, (SELECT list(name) FROM entity_names(ten, ent)))
  ORDER BY occurred_at, trace_id
""",
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


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create every macro on ``con`` (the views must exist: macros bind to them when called)."""
    for sql in MACROS.values():
        con.execute(sql)
