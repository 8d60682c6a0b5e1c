"""Build query-test lakes by writing rows directly into the consolidated tables, then publishing them.

``write_traces``/``write_entities``/``write_facts`` append rows (dicts made by :func:`trace`, :func:`entity`,
:func:`fact`); :func:`publish` appends the committed ``job_runs`` row that makes them visible to readers.
Embeddings come from the dependency-free ``hash`` embedder at the lake's dimension.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Iterable

import pyarrow as pa

from tracelake import schemas
from tracelake.operators.embedders import HashEmbedder
from tracelake.operators.text import keywords as text_keywords
from tracelake.timeutil import parse_time

__all__ = ["ts", "trace", "entity", "fact", "write_traces", "write_entities", "write_facts", "publish", "build"]

RECORDED = parse_time("2024-01-01T00:00:00Z")


def ts(value: Any) -> datetime:
    """``parse_time`` shorthand: ``ts("2023-05-08T10:00:00Z")``."""
    return parse_time(value)


def trace(tenant: str, trace_id: str, text: str, at: Any, *, sources: list[tuple[str, Any]] | None = None,
          stream: str = "chat", actor: str | None = "user", kind: str = "episodic", entities: Iterable[str] = (),
          keywords: list[str] | None = None, valid_from: Any = None, valid_to: Any = None, time_start: Any = None,
          time_end: Any = None, merged_into: str | None = None, merged_from: Iterable[str] = (),
          archived: bool = False, strength: float = 1.0, stability: float = 30.0, pinned: bool = False,
          reinforced_at: Any = None) -> dict[str, Any]:
    """One traces row. ``sources`` default to a single event ``ev-<trace_id>`` at ``at``."""
    srcs = [(e, ts(t)) for e, t in (sources or [(f"ev-{trace_id}", at)])]
    times = [t for _, t in srcs]
    return {
        "tenant": tenant, "trace_id": trace_id, "kind": kind, "stream": stream, "actor": actor, "text": text,
        "occurred_at": min(times), "last_source_at": max(times),
        "valid_from": ts(valid_from) if valid_from is not None else None,
        "valid_to": ts(valid_to) if valid_to is not None else None,
        "time_start": ts(time_start) if time_start is not None else None,
        "time_end": ts(time_end) if time_end is not None else None,
        "entities": sorted(set(entities)),
        "keywords": keywords if keywords is not None else text_keywords(text),
        "source_event_ids": [e for e, _ in srcs], "source_times": times,
        "merged_from": list(merged_from), "merged_into": merged_into,
        "stability": stability, "last_reinforced_at": ts(reinforced_at) if reinforced_at else max(times),
        "reinforcement_count": len(srcs) - 1, "strength": strength, "pinned": pinned, "archived": archived,
        "recorded_at": RECORDED, "updated_at": RECORDED,
    }


def entity(tenant: str, name: str, first_seen: Any, *, aliases: Iterable[str] = (), kind: str = "person",
           sources: Iterable[str] = ()) -> dict[str, Any]:
    first = ts(first_seen)
    return {
        "tenant": tenant, "entity_id": f"{tenant}/{name}", "name": name, "kind": kind, "aliases": list(aliases),
        "first_seen": first, "last_seen": first, "mention_count": 1, "source_event_ids": list(sources),
        "recorded_at": RECORDED, "updated_at": RECORDED,
    }


def fact(tenant: str, fact_id: str, subject: str, predicate: str, obj: str, stated_at: Any, *,
         valid_from: Any = None, valid_to: Any = None, invalidated_at: Any = None, superseded_by: str | None = None,
         recorded_at: Any = None, retracted_at: Any = None, row_id: str | None = None,
         sources: list[tuple[str, Any]] | None = None, statement: str | None = None,
         archived: bool = False) -> dict[str, Any]:
    """One facts row version. ``sources`` default to ``ev-<fact_id>`` at ``stated_at``."""
    at = ts(stated_at)
    srcs = [(e, ts(t)) for e, t in (sources or [(f"ev-{fact_id}", at)])]
    return {
        "tenant": tenant, "fact_id": fact_id, "row_id": row_id or f"{fact_id}@{uuid.uuid4().hex[:8]}",
        "subject": subject, "predicate": predicate, "object": obj, "object_type": "text", "value_num": None,
        "value_time": None, "statement": statement or f"{subject} {predicate} {obj}", "stream": "chat",
        "actor": subject, "occurred_at": at, "valid_from": ts(valid_from) if valid_from is not None else at,
        "valid_to": ts(valid_to) if valid_to is not None else None,
        "invalidated_at": ts(invalidated_at) if invalidated_at is not None else None,
        "superseded_by": superseded_by, "source_event_ids": [e for e, _ in srcs],
        "source_times": [t for _, t in srcs], "reinforcement_count": len(srcs) - 1, "stability": 30.0,
        "last_reinforced_at": max(t for _, t in srcs), "strength": 1.0, "pinned": False, "archived": archived,
        "recorded_at": ts(recorded_at) if recorded_at is not None else RECORDED,
        "retracted_at": ts(retracted_at) if retracted_at is not None else None,
    }


def _table(lake: Any, name: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = schemas.schema_for(name, lake.store.embedding_dim())
    return pa.Table.from_pylist([{f: r.get(f) for f in schema.names} for r in rows], schema=schema)


def write_traces(lake: Any, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return lake.store.dataset("traces").version
    emb = HashEmbedder(lake.store.embedding_dim()).embed([r["text"] for r in rows])
    rows = [{**r, "embedding": emb[i].tolist()} for i, r in enumerate(rows)]
    return lake.store.append("traces", _table(lake, "traces", rows))


def write_entities(lake: Any, rows: list[dict[str, Any]]) -> int:
    return lake.store.append("entities", _table(lake, "entities", rows))


def write_facts(lake: Any, rows: list[dict[str, Any]]) -> int:
    return lake.store.append("facts", _table(lake, "facts", rows))


def publish(lake: Any, when: datetime | None = None) -> dict[str, int]:
    """Publish the current version of every consolidated table (a committed ``job_runs`` row)."""
    return lake.store.publish_current(job="consolidate", when=when)


def build(lake: Any, *, traces: list[dict] = (), entities: list[dict] = (), facts: list[dict] = ()) -> dict[str, int]:
    """Write the rows and publish them in one go."""
    write_traces(lake, list(traces))
    if entities:
        write_entities(lake, list(entities))
    if facts:
        write_facts(lake, list(facts))
    return publish(lake)
