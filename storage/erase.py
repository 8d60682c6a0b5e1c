"""Erase in Lance: delete rows, rewrite the fragments that held them, rebuild indexes, delete old versions.

A Lance ``delete`` only adds a deletion vector: the row's bytes stay in its data file, in every older
version, and in any index built over it (the inverted index holds its tokens). :func:`rewrite` makes the
bytes go: it drops the indexes of a table whose rows were erased (they are rebuilt afterwards by
``reindex``) and compacts with deletions materialised and pages re-encoded, so every fragment that held an
erased row is rewritten without it. :func:`purge_history` then deletes every version but the latest, and with
it every data, deletion, transaction and index file no longer referenced — locally and on ``s3://`` alike.

Also here: tombstones (``tombstones`` table: ``(tenant, event_id)``, the erased text's sha256, the erasure)
and the check ingest makes against them (:func:`tombstoned`).

Predicates never carry content: rows are selected by ids and times only (transaction files keep predicates).
"""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta
from typing import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from tracelake import schemas
from tracelake.errors import StorageError
from tracelake.storage.lake_store import LakeStore, sql_quote
from tracelake.timeutil import TS

__all__ = ["delete_ids", "delete_where", "rewrite", "purge_history", "record_tombstones", "tombstoned",
           "text_hashes", "ids_hash"]

#: Ids per ``IN (...)`` list of one delete commit.
_CHUNK = 2000
#: Tables written only under the lake's lease (consolidation, forget): no concurrent writer can own an
#: uncommitted data file there, so even never-committed files are deleted (``delete_unverified``).
_LEASED = frozenset(schemas.CONSOLIDATED_TABLES)


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN (" + ", ".join(sql_quote(v) for v in values) + ")"


def delete_where(store: LakeStore, table: str, predicate: str) -> int:
    """Delete the rows matching ``predicate`` (ids and times only); returns how many."""
    n = store.dataset(table).count_rows(filter=predicate)
    if n:
        store.delete(table, predicate)
    return n


def delete_ids(store: LakeStore, table: str, tenant: str, column: str, ids: Iterable[str]) -> int:
    """Delete the tenant's rows whose ``column`` is one of ``ids`` (chunked ``IN`` lists); returns how many."""
    values = sorted(set(ids))
    removed = 0
    for start in range(0, len(values), _CHUNK):
        removed += delete_where(store, table,
                                f"tenant = {sql_quote(tenant)} AND {_in(column, values[start:start + _CHUNK])}")
    return removed


def rewrite(store: LakeStore, tables: Iterable[str]) -> dict[str, int]:
    """Drop every index of ``tables`` and rewrite their fragments without deleted rows.

    Returns ``{table: indexes dropped}``. The caller rebuilds indexes (``pipelines.reindex``) before
    :func:`purge_history`, which deletes the old index files along with the old versions."""
    dropped = {}
    for table in tables:
        ds = store.dataset(table)
        names = [ix["name"] for ix in ds.list_indices()]
        try:
            for name in names:
                ds.drop_index(name)
            ds = store.dataset(table)
            if ds.count_rows() or len(ds.get_fragments()):
                ds.optimize.compact_files(materialize_deletions=True, materialize_deletions_threshold=0.0,
                                          compaction_mode="reencode")
        except (OSError, ValueError, RuntimeError) as exc:
            raise StorageError(f"rewriting erased fragments failed: {exc}", table=table, uri=store.uri) from exc
        dropped[table] = len(names)
    return dropped


def purge_history(store: LakeStore, tables: Iterable[str]) -> tuple[dict[str, int], int]:
    """Delete every version of ``tables`` but the latest (time travel to before the erase ends here).

    Returns ``({table: versions deleted}, bytes removed)``."""
    versions, removed = {}, 0
    for table in tables:
        ds = store.dataset(table)
        try:
            stats = ds.cleanup_old_versions(older_than=timedelta(0), delete_unverified=table in _LEASED,
                                            error_if_tagged_old_versions=False)
        except (OSError, ValueError, RuntimeError) as exc:
            raise StorageError(f"deleting old versions failed: {exc}", table=table, uri=store.uri) from exc
        versions[table] = int(stats.old_versions)
        removed += int(stats.bytes_removed)
    return versions, removed


def text_hashes(texts: pa.Array) -> pa.Array:
    """sha256 (hex) of each text (null stays null)."""
    return pa.array([None if t is None else hashlib.sha256(t.encode()).hexdigest() for t in texts.to_pylist()],
                    pa.string())


def ids_hash(ids: Iterable[str]) -> str:
    """sha256 of the sorted, newline-joined ids: what an auditor recomputes from a list of erased ids."""
    return hashlib.sha256("\n".join(sorted(set(ids))).encode()).hexdigest()


def record_tombstones(store: LakeStore, tenant: str, events: pa.Table, erasure_id: str, now: datetime) -> int:
    """Append tombstones for ``events`` (columns ``event_id``, ``text``) not yet tombstoned; returns how many."""
    if events.num_rows == 0:
        return 0
    known = store.read("tombstones", columns=["event_id"], filter=f"tenant = {sql_quote(tenant)}")["event_id"]
    fresh = events.filter(pc.invert(pc.is_in(events["event_id"], value_set=known)))
    if fresh.num_rows == 0:
        return 0
    n = fresh.num_rows
    rows = pa.table({
        "tenant": pa.repeat(pa.scalar(tenant), n), "event_id": fresh["event_id"],
        "text_sha256": text_hashes(fresh["text"]), "erasure_id": pa.repeat(pa.scalar(erasure_id), n),
        "forgotten_at": pa.repeat(pa.scalar(now, TS), n),
    }, schema=schemas.TOMBSTONES)
    store.append("tombstones", rows)
    return n


_cache_lock = threading.Lock()
_cache: dict[tuple[str, int], pa.Array] = {}


def tombstoned(store: LakeStore, events: pa.Table) -> pa.Array:
    """Boolean mask: which ``(tenant, event_id)`` of ``events`` were erased (a re-ingest must not revive them).

    The tombstone keys are cached per lake and table version, so the common case costs one version check."""
    ds = store.dataset("tombstones")
    key = (store.uri, ds.version)
    with _cache_lock:
        keys = _cache.get(key)
    if keys is None:
        rows = ds.to_table(columns=["tenant", "event_id"])
        keys = pc.binary_join_element_wise(rows["tenant"], rows["event_id"], "\x1f")
        with _cache_lock:
            _cache.clear()
            _cache[key] = keys
    if len(keys) == 0 or events.num_rows == 0:
        return pa.repeat(pa.scalar(False), events.num_rows)
    incoming = pc.binary_join_element_wise(events["tenant"], events["event_id"], "\x1f")
    return pc.fill_null(pc.is_in(incoming, value_set=keys), False)
