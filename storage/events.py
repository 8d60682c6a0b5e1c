"""The event writer: commits rows to the ``events`` table exactly once per ``(tenant, event_id)``.

Contract
--------
- :meth:`EventWriter.commit` appends the rows of a batch whose id is neither committed already nor repeated
  earlier in the batch, in one Lance commit, and returns a boolean mask (True = committed by this call).
  Each row gets the commit's ``recorded_at`` and a ``batch_id`` unique to the commit.
- **What is committed** is known from a :class:`~tracelake.storage.idset.HashedIdSet` of the tenants this
  writer has touched (loaded lazily, 8 bytes an id), refreshed from fragments other writers committed
  since its last look. A hash hit is confirmed against the table itself (an ``event_id IN (...)`` lookup
  that uses the ``event_id`` BTREE index where reindex built one), so a hash collision never drops a new
  event and a row deleted by ``forget`` is no longer "committed".
- **Races.** The commit carries ``read_version`` = the version the writer looked at. If another writer
  (another Ray cluster, another process) committed in between, the writer reads exactly those fragments
  and deletes its own copies of ids they hold: the earlier commit wins, so exactly one copy survives,
  and the loser reports those rows as not committed (duplicates).
- One writer per lake and process; not thread-safe (the ingest actor serialises calls with a lock).
"""

from __future__ import annotations

import uuid
from typing import Iterator

import lance
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracelake import schemas
from tracelake.storage.idset import HashedIdSet, id_hashes
from tracelake.storage.lake_store import LakeStore, sql_quote
from tracelake.timeutil import TS, now_utc

__all__ = ["EventWriter"]

#: Ids per ``IN (...)`` lookup; more candidates than _SCAN_ABOVE are confirmed by one scan of their tenants.
_LOOKUP_IDS = 1_000
_SCAN_ABOVE = 20_000
_KEY_SEP = "\x1f"  # cannot occur in a tenant (validate.TENANT_PATTERN)


class EventWriter:
    """Exactly-once appends to one lake's ``events`` table (see the module docstring)."""

    def __init__(self, store: LakeStore) -> None:
        self.store = store
        self.ids = HashedIdSet()
        self.tenants: set[str] = set()  # tenants whose ids are all in ``ids``
        self.seen_fragments: set[int] = set()
        self.version: int | None = None

    def reset(self) -> None:
        """Forget everything known (after a failed commit: the next one starts from the table)."""
        self.ids.clear()
        self.tenants.clear()
        self.seen_fragments.clear()
        self.version = None

    # -- what is committed -------------------------------------------------------------------------------
    def refresh(self, tenants: list[str]) -> lance.LanceDataset:
        """Bring ``ids`` up to the latest committed version for ``tenants``; returns that dataset."""
        ds = self.store.dataset("events")
        if ds.version == self.version and self.tenants.issuperset(tenants):
            return ds  # nothing committed since our last look
        fragments = ds.get_fragments()
        new = [f for f in fragments if f.fragment_id not in self.seen_fragments]
        if new and self.tenants:  # rows other writers committed since our last look
            self._absorb(ds.scanner(fragments=new, columns=["tenant", "event_id"]).to_batches(), self.tenants)
        missing = sorted(set(tenants) - self.tenants)
        if missing:
            self._absorb(ds.scanner(columns=["tenant", "event_id"], filter=_in_filter("tenant", missing)).to_batches())
            self.tenants.update(missing)
        self.seen_fragments = {f.fragment_id for f in fragments}
        self.version = ds.version
        return ds

    def _absorb(self, batches: Iterator[pa.RecordBatch], only: set[str] | None = None) -> None:
        """Add the ids of a stream of ``(tenant, event_id)`` batches (memory bounded by one batch), keeping
        only the tenants in ``only`` when given."""
        keep = pa.array(sorted(only), pa.string()) if only is not None else None
        for batch in batches:
            rows = pa.Table.from_batches([batch])
            if keep is not None:
                rows = rows.filter(pc.is_in(rows["tenant"], value_set=keep))
            self.ids.add(id_hashes(rows))

    def _fresh_mask(self, ds: lance.LanceDataset, table: pa.Table,
                    hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """True for rows whose id is neither committed nor repeated earlier in ``table``; and the rows whose
        hash is in ``ids`` already."""
        in_set, repeated = self.ids.lookup(hashes)
        fresh = ~_repeats(table, hashes, repeated) if repeated.any() else np.ones(len(hashes), dtype=bool)
        maybe = in_set & fresh
        if maybe.any():
            idx = np.flatnonzero(maybe)
            committed = _committed(ds, table.take(pa.array(idx)))
            fresh[idx[committed]] = False
        return fresh, in_set

    # -- committing -------------------------------------------------------------------------------------
    def commit(self, table: pa.Table) -> pa.Array:
        """Commit the new rows of ``table`` (:data:`schemas.EVENTS` columns; ``recorded_at``/``batch_id``
        are set here); returns a boolean array, True where the row was committed by this call."""
        tenants = pc.unique(table["tenant"]).to_pylist()
        ds = self.refresh(tenants)
        hashes = id_hashes(table)
        fresh, in_set = self._fresh_mask(ds, table, hashes)
        rows = table if fresh.all() else table.filter(pa.array(fresh))
        if rows.num_rows == 0:
            return pa.array(fresh)
        batch_id = uuid.uuid4().hex
        n = rows.num_rows
        rows = rows.select(schemas.EVENTS.names)
        rows = rows.set_column(rows.schema.get_field_index("recorded_at"), "recorded_at",
                               pa.repeat(pa.scalar(now_utc(), TS), n))
        rows = rows.set_column(rows.schema.get_field_index("batch_id"), "batch_id",
                               pa.repeat(pa.scalar(batch_id, pa.string()), n))
        read_version = self.version
        committed = self.store.append_dataset("events", rows, read_version=read_version)
        self.ids.add(hashes[fresh & ~in_set], absent=True)  # rows lost to a race are committed too: by the other
        lost = np.zeros(n, dtype=bool)
        if committed.version != (read_version or 0) + 1:
            lost = self._resolve_race(rows, batch_id, committed)
        self.seen_fragments |= {f.fragment_id for f in committed.get_fragments()}
        self.version = committed.version
        if lost.any():
            fresh[np.flatnonzero(fresh)[lost]] = False
        return pa.array(fresh)

    def _resolve_race(self, rows: pa.Table, batch_id: str, committed: lance.LanceDataset) -> np.ndarray:
        """Others committed between our read version and our commit: delete our copies of their ids.

        Returns a mask over ``rows``: True where our copy was dropped (a duplicate of an earlier commit)."""
        before = self.store.dataset("events", committed.version - 1)
        others = [f for f in before.get_fragments() if f.fragment_id not in self.seen_fragments]
        if not others:
            return np.zeros(rows.num_rows, dtype=bool)
        tenants = pc.unique(rows["tenant"]).to_pylist()
        theirs = before.scanner(fragments=others, columns=["tenant", "event_id"],
                                filter=_in_filter("tenant", tenants)).to_table()
        self.ids.add(id_hashes(theirs))
        lost = pc.is_in(_keys(rows), value_set=_keys(theirs)).to_numpy(zero_copy_only=False)
        if lost.any():
            # A delete keeps fragment ids (it adds a deletion file), so seen_fragments stays right.
            ids = rows["event_id"].filter(pa.array(lost)).to_pylist()
            self.store.delete("events", f"batch_id = {sql_quote(batch_id)} AND " + _in_filter("event_id", ids))
        return lost


def _keys(rows: pa.Table) -> pa.Array:
    """One exact string key per row: ``tenant \\x1f event_id``."""
    return pc.binary_join_element_wise(rows["tenant"], rows["event_id"], _KEY_SEP).combine_chunks()


def _repeats(table: pa.Table, hashes: np.ndarray, repeated: np.ndarray) -> np.ndarray:
    """True for rows whose exact id already occurred earlier in ``table``, given ``repeated`` (the rows whose
    hash did): keys are compared only among the rows sharing such a hash."""
    shared = np.flatnonzero(np.isin(hashes, hashes[repeated]))
    out = np.zeros(len(hashes), dtype=bool)
    seen: set[str] = set()
    for i, key in zip(shared.tolist(), _keys(table.take(pa.array(shared))).to_pylist()):
        out[i] = key in seen
        seen.add(key)
    return out


def _committed(ds: lance.LanceDataset, rows: pa.Table) -> np.ndarray:
    """For each row, True if its ``(tenant, event_id)`` is in ``ds`` (exact; uses the event_id index)."""
    keys = _keys(rows)
    tenants = _in_filter("tenant", pc.unique(rows["tenant"]).to_pylist())
    if rows.num_rows > _SCAN_ABOVE:  # many candidates (a re-ingest): one streamed scan of their tenants
        found: Iterator[pa.RecordBatch] = ds.scanner(columns=["tenant", "event_id"], filter=tenants).to_batches()
    else:
        ids = pc.unique(rows["event_id"]).to_pylist()
        found = (batch for i in range(0, len(ids), _LOOKUP_IDS)
                 for batch in ds.scanner(columns=["tenant", "event_id"],
                                         filter=f"{tenants} AND " + _in_filter("event_id", ids[i:i + _LOOKUP_IDS])
                                         ).to_batches())
    hit = np.zeros(rows.num_rows, dtype=bool)
    for batch in found:
        if batch.num_rows:
            hit |= pc.is_in(keys, value_set=_keys(pa.Table.from_batches([batch]))).to_numpy(zero_copy_only=False)
    return hit


def _in_filter(column: str, values: list[str]) -> str:
    """A Lance SQL ``column IN ('a', 'b')`` predicate."""
    return f"{column} IN (" + ", ".join(sql_quote(v) for v in values) + ")"
