"""Which derived rows an erase deletes or rewrites (pure decisions over the published state).

For forgotten event ids ``F`` of one tenant:

- **traces**: a trace whose sources are all in ``F`` is deleted. A trace with other sources survives with
  the forgotten ids (and their ``source_times``) removed — unless its *own* text came from ``F``: a trace's
  own sources are its sources minus those of the traces it absorbed (``merged_into`` = it); when they are
  all forgotten its text is forgotten content, so it is deleted and the traces it absorbed become roots
  again (``merged_into`` cleared). ``merged_from`` loses deleted ids; ``entities`` loses deleted entities.
- **facts**: every row version is judged alone. All sources forgotten: deleted. Some: the ids go, the
  ``statement`` (the sentence it was read from, possibly a forgotten one) is cleared. A row superseded by a
  fact that no longer exists takes over that fact's closing (``valid_to``, ``invalidated_at``,
  ``superseded_by``): the supersession chain is spliced, or the row re-opened when the erased fact was current.
- **entities**: no remaining source: deleted; else the ids go and ``mention_count`` drops by as many.

Only light columns are scanned for the whole tenant; full rows are read for the few rows that change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracelake.storage import LakeStore
from tracelake.storage.lake_store import sql_quote

__all__ = ["Changes", "derive_changes"]

_CHUNK = 2000


@dataclass
class Changes:
    """Keys to delete and replacement rows, per table; ``ids`` the forgotten event ids."""

    tenant: str
    ids: set[str]
    everything: bool = False
    deleted: dict[str, set[str]] = field(default_factory=dict)
    updated: dict[str, pa.Table] = field(default_factory=dict)


def derive_changes(store: LakeStore, tenant: str, ids: set[str], *, everything: bool, now: datetime) -> Changes:
    """The derived-row changes for erasing ``ids`` of ``tenant`` (with ``everything`` the caller deletes the
    tenant's rows wholesale: nothing to derive)."""
    changes = Changes(tenant, ids, everything)
    if everything or not ids:
        return changes
    forgotten = pa.array(sorted(ids), pa.string())
    dead_entities = _entities(store, tenant, forgotten, changes)
    _traces(store, tenant, forgotten, dead_entities, now, changes)
    _facts(store, tenant, forgotten, changes)
    return changes


# -- helpers --------------------------------------------------------------------------------------------
def _hits(lists: pa.ChunkedArray, forgotten: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Per row: how many list items are forgotten, and how many items there are."""
    arr = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    n = len(arr)
    flat = pc.list_flatten(arr)
    parents = pc.list_parent_indices(arr).to_numpy(zero_copy_only=False)
    hit = pc.fill_null(pc.is_in(flat, value_set=forgotten), False).to_numpy(zero_copy_only=False)
    counts = np.bincount(parents, weights=hit.astype(np.int64), minlength=n).astype(np.int64)
    lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False)
    return counts, lengths


def _read_keys(store: LakeStore, table: str, tenant: str, key: str, keys: list[str]) -> pa.Table:
    parts = [store.read(table, filter=f"tenant = {sql_quote(tenant)} AND {key} IN ("
                        + ", ".join(sql_quote(k) for k in keys[s:s + _CHUNK]) + ")")
             for s in range(0, len(keys), _CHUNK)]
    return pa.concat_tables(parts) if parts else store.dataset(table).schema.empty_table()


def _strip(ids: list[str] | None, times: list[Any] | None, ids_out: set[str]) -> tuple[list[str], list[Any]]:
    """Sources without the forgotten ids (``times`` parallel to ``ids``)."""
    pairs = [(i, t) for i, t in zip(ids or [], times or [None] * len(ids or [])) if i not in ids_out]
    return [i for i, _ in pairs], [t for _, t in pairs]


def _rebuild(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema)


# -- tables ---------------------------------------------------------------------------------------------
def _entities(store: LakeStore, tenant: str, forgotten: pa.Array, changes: Changes) -> set[str]:
    """Entity changes; returns the names of deleted entities."""
    light = store.read("entities", columns=["entity_id", "name", "source_event_ids"],
                       filter=f"tenant = {sql_quote(tenant)}")
    if light.num_rows == 0:
        return set()
    counts, lengths = _hits(light["source_event_ids"], forgotten)
    gone = (counts > 0) & (counts == lengths)
    mixed = (counts > 0) & ~gone
    changes.deleted["entities"] = set(pc.filter(light["entity_id"], pa.array(gone)).to_pylist())
    dead_names = set(pc.filter(light["name"], pa.array(gone)).to_pylist())
    keep = pc.filter(light["entity_id"], pa.array(mixed)).to_pylist()
    if keep:
        full = _read_keys(store, "entities", tenant, "entity_id", keep)
        ids_out = set(forgotten.to_pylist())
        rows = full.to_pylist()
        for r in rows:
            before = len(r["source_event_ids"] or [])
            r["source_event_ids"] = [i for i in r["source_event_ids"] or [] if i not in ids_out]
            dropped = before - len(r["source_event_ids"])
            r["mention_count"] = max(len(r["source_event_ids"]), r["mention_count"] - dropped)
        changes.updated["entities"] = _rebuild(rows, full.schema)
    return dead_names


def _traces(store: LakeStore, tenant: str, forgotten: pa.Array, dead_entities: set[str], now: datetime,
            changes: Changes) -> None:
    light = store.read("traces", columns=["trace_id", "source_event_ids", "merged_into", "merged_from", "entities"],
                       filter=f"tenant = {sql_quote(tenant)}")
    if light.num_rows == 0:
        return
    counts, lengths = _hits(light["source_event_ids"], forgotten)
    ids_out = set(forgotten.to_pylist())
    tid = light["trace_id"].to_pylist()
    affected = np.flatnonzero(counts > 0)
    gone = {tid[i] for i in affected if counts[i] == lengths[i]}
    mixed = [i for i in affected if counts[i] < lengths[i]]
    if mixed:  # a survivor whose own (not absorbed) sources are all forgotten carries forgotten text
        into = light["merged_into"].to_pylist()
        sources = light["source_event_ids"].to_pylist()
        absorbed: dict[str, set[str]] = {}
        for j, parent in enumerate(into):
            if parent is not None:
                absorbed.setdefault(parent, set()).update(sources[j] or [])
        for i in mixed:
            own = set(sources[i] or []) - absorbed.get(tid[i], set())
            if own and own <= ids_out:
                gone.add(tid[i])
    changes.deleted["traces"] = gone
    gone_arr = pa.array(sorted(gone), pa.string())
    # rows to rewrite: survivors with forgotten sources, children of deleted traces, lineage or entity mentions
    # pointing at something deleted
    touch = {tid[i] for i in mixed} | set(pc.filter(light["trace_id"], pc.fill_null(
        pc.is_in(light["merged_into"], value_set=gone_arr), False)).to_pylist())
    for column, dead in (("merged_from", gone_arr), ("entities", pa.array(sorted(dead_entities), pa.string()))):
        if len(dead):
            c, _ = _hits(light[column], dead)
            touch |= {tid[i] for i in np.flatnonzero(c > 0)}
    touch -= gone
    if not touch:
        return
    full = _read_keys(store, "traces", tenant, "trace_id", sorted(touch))
    rows = full.to_pylist()
    for r in rows:
        r["source_event_ids"], r["source_times"] = _strip(r["source_event_ids"], r["source_times"], ids_out)
        if r["merged_into"] in gone:
            r["merged_into"] = None
        r["merged_from"] = [m for m in r["merged_from"] or [] if m not in gone]
        r["entities"] = [e for e in r["entities"] or [] if e not in dead_entities]
        times = [t for t in r["source_times"] if t is not None]
        if times:
            r["occurred_at"], r["last_source_at"] = min(times), max(times)
        r["reinforcement_count"] = max(1, len(r["source_event_ids"]))
        r["updated_at"] = now
    changes.updated["traces"] = _rebuild(rows, full.schema)


def _facts(store: LakeStore, tenant: str, forgotten: pa.Array, changes: Changes) -> None:
    light = store.read("facts", columns=["row_id", "fact_id", "source_event_ids", "superseded_by"],
                       filter=f"tenant = {sql_quote(tenant)}")
    if light.num_rows == 0:
        return
    counts, lengths = _hits(light["source_event_ids"], forgotten)
    gone_mask = (counts > 0) & (counts == lengths)
    gone = set(pc.filter(light["row_id"], pa.array(gone_mask)).to_pylist())
    changes.deleted["facts"] = gone
    fact_ids = light["fact_id"].to_pylist()
    surviving = {f for f, g in zip(fact_ids, gone_mask) if not g}
    dead_facts = {f for f, g in zip(fact_ids, gone_mask) if g} - surviving
    touch = set(pc.filter(light["row_id"], pa.array((counts > 0) & ~gone_mask)).to_pylist())
    if dead_facts:
        sup = pc.fill_null(pc.is_in(light["superseded_by"], value_set=pa.array(sorted(dead_facts), pa.string())),
                           False)
        touch |= set(pc.filter(light["row_id"], sup).to_pylist())
    touch -= gone
    if not touch:
        return
    closing = _closings(store, tenant, dead_facts)
    ids_out = set(forgotten.to_pylist())
    full = _read_keys(store, "facts", tenant, "row_id", sorted(touch))
    rows = full.to_pylist()
    for r in rows:
        if any(i in ids_out for i in r["source_event_ids"] or []):
            r["source_event_ids"], r["source_times"] = _strip(r["source_event_ids"], r["source_times"], ids_out)
            r["statement"] = None
            r["reinforcement_count"] = max(1, len(r["source_event_ids"]))
            times = [t for t in r["source_times"] if t is not None]
            if times:
                r["occurred_at"] = min(times)
        seen: set[str] = set()
        while r["superseded_by"] in dead_facts and r["superseded_by"] not in seen:  # splice the chain
            seen.add(r["superseded_by"])
            r["valid_to"], r["invalidated_at"], r["superseded_by"] = closing.get(r["superseded_by"], (None, None, None))
    changes.updated["facts"] = _rebuild(rows, full.schema)


def _closings(store: LakeStore, tenant: str, fact_ids: set[str]) -> dict[str, tuple[Any, Any, Any]]:
    """For each erased fact: how its current row version was closed (``valid_to``, ``invalidated_at``,
    ``superseded_by``)."""
    if not fact_ids:
        return {}
    keys = sorted(fact_ids)
    rows = pa.concat_tables([store.read(
        "facts", columns=["fact_id", "valid_to", "invalidated_at", "superseded_by", "retracted_at", "recorded_at"],
        filter=f"tenant = {sql_quote(tenant)} AND fact_id IN (" + ", ".join(sql_quote(k) for k in keys[s:s + _CHUNK])
        + ")") for s in range(0, len(keys), _CHUNK)])
    out: dict[str, tuple[Any, Any, Any]] = {}
    rank: dict[str, tuple[bool, Any]] = {}
    for r in rows.to_pylist():
        order = (r["retracted_at"] is None, r["recorded_at"])
        if r["fact_id"] not in rank or order > rank[r["fact_id"]]:
            rank[r["fact_id"]] = order
            out[r["fact_id"]] = (r["valid_to"], r["invalidated_at"], r["superseded_by"])
    return out
