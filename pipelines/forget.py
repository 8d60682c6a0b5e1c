"""Forget: erase a tenant's events and everything derived only from them, verifiably (see docs/forget.md).

Contract of :func:`forget`
--------------------------
- **Selection** (exactly one): ``event_ids``; ``entity`` (every event whose traces, facts or entity
  mentions name it, aliases resolved); ``before`` (events that occurred before it); ``all``. Unknown
  tenants or ids select nothing: the receipt has zero counts (not an error).
- **Derived rows** (:mod:`tracelake.pipelines.forget_rows`): a trace, fact or entity whose sources are all
  forgotten is deleted; one with other evidence keeps it and loses the forgotten ids. Ledger rows,
  rejects that carry a forgotten id (all the tenant's with ``all``) and tombstoned ids go too.
- **Bytes gone**: the fragments that held erased rows are rewritten, indexes of the touched tables
  rebuilt, and every older version deleted (:mod:`tracelake.storage.erase`) — time travel and ``known_at``
  after an erase never show forgotten data (erase beats history). The new state is published (a
  ``job_runs`` row, ``job = 'forget'``) before the old versions are deleted, so readers never lose a version
  they could be pointed at.
- **Tombstones first**: ``(tenant, event_id)`` and the text's sha256 are recorded before anything is deleted;
  ingest refuses those ids later unless asked. An erase interrupted midway is finished by re-running the
  same forget (its tombstones select the events the interrupted run already deleted).
- **Audit**: an ``erasures`` row (counts, hashes, times, never content) = the :class:`ForgetReceipt`.
- Holds the lake's lease (the consolidation one) throughout.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable

import pyarrow as pa
import pyarrow.compute as pc

from tracelake import schemas
from tracelake.errors import ValidationError
from tracelake.pipelines.forget_rows import Changes, derive_changes
from tracelake.settings import Settings
from tracelake.storage import LakeStore
from tracelake.storage.erase import (delete_ids, delete_where, ids_hash, purge_history, record_tombstones, rewrite,
                                     text_hashes)
from tracelake.storage.lake_store import sql_quote
from tracelake.storage.lease import Lease
from tracelake.timeutil import TS, TimeLike, iso, now_utc, parse_time

__all__ = ["ForgetReceipt", "forget", "count_selected", "CONTENT_TABLES"]

#: Tables that can hold forgotten content (their old versions are deleted by an erase).
CONTENT_TABLES = ("events", "rejects", "traces", "entities", "facts", "ledger")
_TENANT = re.compile(schemas.TENANT_PATTERN)
_ID_CHUNK = 2000


@dataclass
class ForgetReceipt:
    """What an erase did: rows removed or rewritten per table, old versions deleted, a hash of the erased
    event ids (sha256 of the sorted ids, one per line), when. Kept in the ``erasures`` table."""

    erasure_id: str
    tenant: str
    selector: dict[str, Any]
    events: int = 0
    removed: dict[str, int] = field(default_factory=dict)
    versions_cleaned: dict[str, int] = field(default_factory=dict)
    bytes_removed: int = 0
    ids_hash: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["started_at"], out["finished_at"] = iso(self.started_at), iso(self.finished_at)
        return out


def _selector(tenant: Any, event_ids: Iterable[str] | None, entity: str | None, before: TimeLike | None,
              all_: bool) -> dict[str, Any]:
    """Validate a request; returns its selector (what the audit row keeps: no content)."""
    if not isinstance(tenant, str) or not _TENANT.match(tenant):
        raise ValidationError("tenant is required and must match [A-Za-z0-9._:-]{1,128}", field="tenant")
    if isinstance(event_ids, str):
        event_ids = [event_ids]
    given = [name for name, v in (("event_ids", event_ids), ("entity", entity), ("before", before),
                                  ("all", all_ or None)) if v is not None]
    if len(given) != 1:
        raise ValidationError("give exactly one of event_ids, entity, before, all"
                              + (f" (got {', '.join(given)})" if given else ""), field="selector")
    if event_ids is not None:
        ids = list(event_ids)
        if not ids or not all(isinstance(i, str) and 0 < len(i) <= schemas.MAX_ID_CHARS for i in ids):
            raise ValidationError("event_ids must be a non-empty list of non-empty strings", field="event_ids")
        return {"kind": "event_ids", "event_ids": sorted(set(ids))}
    if entity is not None:
        if not isinstance(entity, str) or not entity.strip():
            raise ValidationError("entity must be a non-empty name", field="entity")
        return {"kind": "entity", "entity": entity}
    if before is not None:
        return {"kind": "before", "before": parse_time(before, name="before")}
    return {"kind": "all"}


def _audit_selector(selector: dict[str, Any]) -> dict[str, Any]:
    """The selector without content: ids counted, an entity name hashed."""
    kind = selector["kind"]
    if kind == "event_ids":
        return {"kind": kind, "ids": len(selector["event_ids"])}
    if kind == "entity":
        return {"kind": kind, "name_sha256": text_hashes(pa.array([selector["entity"]]))[0].as_py()}
    if kind == "before":
        return {"kind": kind, "before": iso(selector["before"])}
    return {"kind": kind}


def forget(store: LakeStore, settings: Settings, tenant: str, *, event_ids: Iterable[str] | None = None,
           entity: str | None = None, before: TimeLike | None = None, all: bool = False,
           requested_by: str = "api", wait: float = 0.0,
           on_erased: Callable[[set[str]], None] | None = None) -> ForgetReceipt:
    """Erase the selected events of ``tenant`` and everything derived only from them (module docstring).

    ``on_erased(ids)`` is called with the erased event ids once the lake's rows are deleted (still under
    the lease), for stores outside the lake that hold them (the service's idempotency records).

    Bad requests (no or several selectors, an empty id list, a malformed tenant or time) raise
    :class:`~tracelake.errors.ValidationError`; a held lease :class:`~tracelake.errors.LeaseHeldError`
    after ``wait`` seconds."""
    selector = _selector(tenant, event_ids, entity, before, all)
    receipt = ForgetReceipt(erasure_id=uuid.uuid4().hex, tenant=tenant, selector=_audit_selector(selector),
                            started_at=now_utc())
    with Lease(store, "forget", ttl_s=settings.lease_ttl_seconds, wait_s=wait, run_id=receipt.erasure_id) as lease:
        store.rollback_unpublished()
        chosen = _select_events(store, tenant, selector)
        pending = _unfinished(store, tenant)
        ids = set(chosen["event_id"].to_pylist()) | pending
        if selector["kind"] == "event_ids":
            ids |= set(selector["event_ids"])  # derived rows of ids whose events are already gone
        record_tombstones(store, tenant, chosen, receipt.erasure_id, receipt.started_at)
        removed = {"events": _delete_events(store, tenant, selector, chosen)}
        changes = derive_changes(store, tenant, ids, everything=selector["kind"] == "all", now=receipt.started_at)
        removed.update(_apply(store, changes))
        removed["rejects"] = _delete_rejects(store, tenant, ids, everything=selector["kind"] == "all")
        if on_erased is not None and ids:
            on_erased(ids)
        receipt.events = chosen.num_rows
        receipt.ids_hash = ids_hash(chosen["event_id"].to_pylist())
        receipt.removed = {k: v for k, v in removed.items() if v}
        if receipt.removed or pending:
            touched = [t for t in CONTENT_TABLES if any(k.split(".")[0] == t for k in receipt.removed)]
            rewrite(store, touched)
            from tracelake.pipelines.reindex import reindex

            reindex(store, settings)
            lease.check()
            _publish(store, receipt)
            receipt.versions_cleaned, receipt.bytes_removed = purge_history(store, CONTENT_TABLES)
        receipt.finished_at = now_utc()
        _audit(store, receipt, requested_by)
    return receipt


def count_selected(store: LakeStore, tenant: str, *, event_ids: Iterable[str] | None = None,
                   entity: str | None = None, before: TimeLike | None = None, all: bool = False) -> int:
    """How many events :func:`forget` with the same arguments would erase now (for a confirmation prompt)."""
    return _select_events(store, tenant, _selector(tenant, event_ids, entity, before, all)).num_rows


def _select_events(store: LakeStore, tenant: str, selector: dict[str, Any]) -> pa.Table:
    """The tenant's events the selector names: columns ``event_id``, ``text``."""
    where = f"tenant = {sql_quote(tenant)}"
    cols = ["event_id", "text"]
    kind = selector["kind"]
    if kind == "all":
        return store.read("events", columns=cols, filter=where)
    if kind == "before":
        stamp = selector["before"].strftime("%Y-%m-%d %H:%M:%S.%f")
        return store.read("events", columns=cols, filter=f"{where} AND occurred_at < TIMESTAMP '{stamp}'")
    ids = selector["event_ids"] if kind == "event_ids" else sorted(_entity_event_ids(store, tenant, selector["entity"]))
    parts = [store.read("events", columns=cols, filter=f"{where} AND event_id IN ("
                        + ", ".join(sql_quote(i) for i in ids[s:s + _ID_CHUNK]) + ")")
             for s in range(0, len(ids), _ID_CHUNK)]
    return pa.concat_tables(parts) if parts else pa.schema([schemas.EVENTS.field(c) for c in cols]).empty_table()


def _entity_event_ids(store: LakeStore, tenant: str, entity: str) -> set[str]:
    """Events that mention ``entity`` (name or alias, normalised): its entity rows' sources, and the sources
    of the published traces naming it and of the facts about or pointing at it."""
    from tracelake.operators.entities import normalize_name

    key = normalize_name(entity)
    published = store.published_versions()
    where = f"tenant = {sql_quote(tenant)}"
    ents = store.read("entities", columns=["name", "aliases", "source_event_ids"], filter=where,
                      version=published["entities"]).to_pylist()
    names = {e["name"] for e in ents if key in {normalize_name(n) for n in [e["name"], *(e["aliases"] or [])]}}
    names.add(entity)
    ids = {i for e in ents if e["name"] in names for i in e["source_event_ids"] or []}
    name_list = pa.array(sorted(names))
    traces = store.read("traces", columns=["entities", "source_event_ids"], filter=where, version=published["traces"])
    if traces.num_rows:
        flat = pc.list_flatten(traces["entities"])
        rows = pc.list_parent_indices(traces["entities"]).filter(pc.is_in(flat, value_set=name_list))
        hit = traces["source_event_ids"].take(pc.unique(rows))
        ids |= set(pc.list_flatten(hit).to_pylist())
    facts = store.read("facts", columns=["subject", "object", "source_event_ids"], filter=where,
                       version=published["facts"])
    if facts.num_rows:
        about = pc.or_(pc.is_in(facts["subject"], value_set=name_list), pc.is_in(facts["object"], value_set=name_list))
        ids |= set(pc.list_flatten(facts["source_event_ids"].filter(about)).to_pylist())
    return ids


def _unfinished(store: LakeStore, tenant: str) -> set[str]:
    """Tombstoned ids of the tenant whose erasure never completed: no ``erasures`` row of their own, and no
    completed erasure started after they were written (it would have finished them). To finish now."""
    where = f"tenant = {sql_quote(tenant)}"
    tombs = store.read("tombstones", columns=["event_id", "erasure_id", "forgotten_at"], filter=where)
    if tombs.num_rows == 0:
        return set()
    done = store.read("erasures", columns=["erasure_id", "started_at"], filter=where)
    open_ = pc.invert(pc.is_in(tombs["erasure_id"], value_set=done["erasure_id"]))
    if done.num_rows:
        open_ = pc.and_(open_, pc.greater(tombs["forgotten_at"], pc.max(done["started_at"])))
    return set(tombs.filter(open_)["event_id"].to_pylist())


def _delete_events(store: LakeStore, tenant: str, selector: dict[str, Any], chosen: pa.Table) -> int:
    if selector["kind"] == "all":
        return delete_where(store, "events", f"tenant = {sql_quote(tenant)}")
    return delete_ids(store, "events", tenant, "event_id", chosen["event_id"].to_pylist())


def _apply(store: LakeStore, changes: Changes) -> dict[str, int]:
    """Commit the derived changes: deletes by key, then rewritten rows (merge-insert on the key)."""
    out: dict[str, int] = {}
    for table, key in (("traces", "trace_id"), ("facts", "row_id"), ("entities", "entity_id")):
        deleted, updated = changes.deleted.get(table, set()), changes.updated.get(table)
        out[f"{table}.deleted"] = delete_ids(store, table, changes.tenant, key, deleted) if deleted else 0
        if updated is not None and updated.num_rows:
            store.upsert(table, updated, on=[key])
            out[f"{table}.rewritten"] = updated.num_rows
    out["ledger"] = delete_ids(store, "ledger", changes.tenant, "event_id", changes.ids) if changes.ids else 0
    if changes.everything:
        for table in ("traces", "facts", "entities", "ledger"):
            out[f"{table}.deleted" if table != "ledger" else "ledger"] += delete_where(
                store, table, f"tenant = {sql_quote(changes.tenant)}")
    return out


def _delete_rejects(store: LakeStore, tenant: str, ids: set[str], *, everything: bool) -> int:
    """The tenant's rejects: all of them with ``everything``, else those whose raw record names a forgotten id."""
    where = f"tenant = {sql_quote(tenant)}"
    if everything:
        return delete_where(store, "rejects", where)
    if not ids:
        return 0
    rejects = store.read("rejects", columns=["batch_id", "line", "raw"], filter=where)
    if rejects.num_rows == 0:
        return 0
    raw = pc.fill_null(rejects["raw"], "")
    hit = pa.repeat(pa.scalar(False), rejects.num_rows)
    words = sorted(ids)
    for s in range(0, len(words), 200):
        pattern = "|".join(re.escape(json.dumps(w)) for w in words[s:s + 200])
        hit = pc.or_(hit, pc.match_substring_regex(raw, pattern))
    rows = rejects.filter(hit).select(["batch_id", "line"]).to_pylist()
    removed = 0
    for r in rows:  # rejects have no id: (batch_id, line) names one
        removed += delete_where(store, "rejects", f"{where} AND batch_id = {sql_quote(r['batch_id'])} "
                                                  f"AND line = {int(r['line'])}")
    return removed


def _publish(store: LakeStore, receipt: ForgetReceipt) -> None:
    """The job_runs row that points readers at the erased state (before old versions are deleted)."""
    store.record_run(run_id=receipt.erasure_id, job="forget", tenant=receipt.tenant, status="committed",
                     started_at=receipt.started_at, finished_at=now_utc(), report={"forget": receipt.removed},
                     versions={t: store.dataset(t).version for t in schemas.CONSOLIDATED_TABLES})


def _audit(store: LakeStore, receipt: ForgetReceipt, requested_by: str) -> None:
    row = pa.table({
        "erasure_id": [receipt.erasure_id], "tenant": [receipt.tenant],
        "selector": [json.dumps(receipt.selector)], "requested_by": [requested_by], "events": [receipt.events],
        "ids_hash": [receipt.ids_hash], "removed": [json.dumps(receipt.removed)],
        "versions_cleaned": [json.dumps(receipt.versions_cleaned)], "bytes_removed": [receipt.bytes_removed],
        "started_at": pa.array([receipt.started_at], TS), "finished_at": pa.array([receipt.finished_at], TS),
    }, schema=schemas.ERASURES)
    store.append("erasures", row)
