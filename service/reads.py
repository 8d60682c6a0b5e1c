"""Reads shared by the HTTP routes and the MCP server, over the public :class:`tracelake.api.Lake` API."""

from __future__ import annotations

from typing import Any

from tracelake.results import jsonable

__all__ = ["rows", "entity_rows", "status_row"]

_ENTITIES_SQL = ("select name, kind, aliases, mention_count, first_seen, last_seen from entities where tenant = ? "
                 "order by mention_count desc, name")
_STATUS_SQL = (
    "select (select count(*) from events where tenant = ?) as events, "
    "(select count(*) from events e where tenant = ? and not exists "
    " (select 1 from ledger l where l.tenant = e.tenant and l.event_id = e.event_id)) as pending, "
    "(select count(*) from traces where tenant = ?) as traces, "
    "(select count(*) from entities where tenant = ?) as entities, "
    "(select count(*) from facts where tenant = ?) as facts, "
    "(select max(finished_at) from job_runs where status = 'committed') as last_consolidation")


def rows(table: Any) -> list[dict[str, Any]]:
    """A result table as JSON-ready row objects (embeddings dropped)."""
    if "embedding" in table.column_names:
        table = table.drop_columns(["embedding"])
    return jsonable(table.to_pylist())


def entity_rows(lake: Any, tenant: str) -> list[dict[str, Any]]:
    """The tenant's entities, most mentioned first: name, kind, aliases, mention_count, first/last seen."""
    return rows(lake.sql(_ENTITIES_SQL, [tenant]))


def status_row(lake: Any, tenant: str) -> dict[str, Any]:
    """How much the lake holds for ``tenant``: events, pending (not yet consolidated), traces, entities, facts
    (row versions), and the time of the last committed consolidation."""
    return {"tenant": tenant, **rows(lake.sql(_STATUS_SQL, [tenant] * 5))[0]}
