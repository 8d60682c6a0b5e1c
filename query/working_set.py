"""A tenant's *working set* (its traces at one traces version as numpy arrays) and the LRU cache that holds them.

Per tenant and traces version the cache keeps row ids, ``occurred_at`` and the archived/converged flags (the
as-of visibility mask), and loads on first use the normalised embeddings (exactly-searched tenants),
``time_start``/``time_end`` (time signal), stream codes (context windows) and the tenant-local BM25 postings —
within ``SearchConfig.cache_bytes``. Counts of a tenant's rows (index lookups) are cached too.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracelake.errors import QueryError
from tracelake.storage.reading import Dataset, take_rows
from tracelake.timeutil import dt_micros, micros_array

from .lexical import LexicalIndex
from .search_config import SearchConfig
from .snapshot import Snapshot, quote
from .traces import READ_COLUMNS

__all__ = ["WorkingSet", "WorkingSets", "fetch", "normalised_vectors"]

def fetch(traces: Dataset, rowids: np.ndarray, columns: list[str] | None = None,
          where: str = "") -> pa.Table:
    """Rows of the candidates by row id (one positioned read), in the given order."""
    return take_rows(traces, rowids.tolist(), columns or READ_COLUMNS, where)


def normalised_vectors(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """``(vectors, valid)`` of a fixed-size-list vector column: one L2-normalised row per entry (a null or zero
    vector is a zero row, ``valid`` False)."""
    col = column.combine_chunks()
    dim = col.type.list_size
    # ``values`` keeps the slots of null entries (``flatten`` would drop them and shift every later row)
    flat = col.values[col.offset * dim:(col.offset + len(col)) * dim]
    vectors = flat.to_numpy(zero_copy_only=False).astype(np.float32, copy=True).reshape(len(col), dim)
    vectors[col.is_null().to_numpy(zero_copy_only=False)] = 0.0
    norms = np.linalg.norm(vectors, axis=1)
    valid = norms > 0
    vectors[valid] /= norms[valid, None]
    return vectors, valid


class WorkingSet:
    """One tenant's traces at one (immutable) traces version, as numpy arrays sorted by row id.

    Always loaded (one scan): row ids, ``occurred_at``, ``archived``, ``merged_into IS NOT NULL`` — enough for the
    as-of visibility mask — plus the L2-normalised embeddings when the tenant is searched exactly. Loaded on first
    use: ``time_start``/``time_end`` (queries naming a time). Re-ranking inputs (strength, stability, sources) are
    read for the few surviving candidates only. A tenant's rows are scattered over a time-ordered table, so every
    column read costs one page read per stretch of rows: the cold path reads as few columns as it can.
    """

    BIG = np.iinfo(np.int64).max
    SMALL = np.iinfo(np.int64).min
    BASE = ["occurred_at", "archived", "merged_into"]
    TIME = ["time_start", "time_end"]

    def __init__(self, table: pa.Table) -> None:
        order = np.argsort(table["_rowid"].to_numpy(), kind="stable")
        self.rowid = table["_rowid"].to_numpy()[order]
        self.occurred = micros_array(table["occurred_at"])[order]
        self.archived = pc.fill_null(table["archived"], False).to_numpy(zero_copy_only=False)[order]
        self.merged = pc.is_valid(table["merged_into"]).to_numpy(zero_copy_only=False)[order]
        self.time_start: np.ndarray | None = None
        self.time_end: np.ndarray | None = None
        #: Stream of each row as a code into ``stream_names`` (-1: none); loaded for context windows only.
        self.stream: np.ndarray | None = None
        self.stream_names: dict[str, int] = {}
        self.embeddings: np.ndarray | None = None
        #: Tenant-local BM25 postings (tenants of at most ``local_text_max_rows`` traces), built on first use.
        self.lexical: LexicalIndex | None = None
        self.has_vector = np.zeros(len(self.rowid), dtype=bool)
        if "embedding" in table.column_names:
            self.set_embeddings(table["embedding"], order)
        self.lock = threading.Lock()

    def set_embeddings(self, column: pa.ChunkedArray, order: np.ndarray) -> None:
        """Embeddings in row-id order, L2-normalised (null or zero vectors stay zero, ``has_vector`` False)."""
        vectors, valid = normalised_vectors(column)
        self.embeddings, self.has_vector = vectors[order], valid[order]

    def set_times(self, table: pa.Table) -> None:
        order = np.argsort(table["_rowid"].to_numpy(), kind="stable")
        if not np.array_equal(table["_rowid"].to_numpy()[order], self.rowid):
            raise QueryError("time columns do not match the tenant's working set")
        self.time_start = micros_array(table["time_start"], fill=self.BIG)[order]
        self.time_end = micros_array(table["time_end"], fill=self.SMALL)[order]

    def set_streams(self, table: pa.Table) -> None:
        order = np.argsort(table["_rowid"].to_numpy(), kind="stable")
        if not np.array_equal(table["_rowid"].to_numpy()[order], self.rowid):
            raise QueryError("stream column does not match the tenant's working set")
        encoded = table["stream"].combine_chunks().dictionary_encode()
        self.stream_names = {name: i for i, name in enumerate(encoded.dictionary.to_pylist())}
        self.stream = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32)[order]

    def __len__(self) -> int:
        return len(self.rowid)

    @property
    def nbytes(self) -> int:
        n = self.rowid.nbytes * 2 + self.archived.nbytes * 2
        for extra in (self.time_start, self.time_end, self.stream, self.embeddings, self.lexical):
            n += extra.nbytes if extra is not None else 0
        return n

    def visible(self, as_of: datetime | None, include_archived: bool) -> np.ndarray:
        mask = np.ones(len(self), dtype=bool) if include_archived else ~(self.archived | self.merged)
        if as_of is not None:
            mask &= self.occurred <= dt_micros(as_of)
        return mask

    def lookup(self, rowids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(inside, pos)``: whether each row id belongs to this set, and its index where it does (0 otherwise)."""
        if not len(self):
            return np.zeros(len(rowids), dtype=bool), np.zeros(len(rowids), dtype=np.int64)
        pos = np.clip(np.searchsorted(self.rowid, rowids), 0, len(self) - 1)
        inside = self.rowid[pos] == rowids
        return inside, np.where(inside, pos, 0)

    def positions(self, rowids: np.ndarray) -> np.ndarray:
        """Index of each row id in this set (row ids come from the same dataset version)."""
        pos = np.searchsorted(self.rowid, rowids)
        pos = np.clip(pos, 0, max(len(self) - 1, 0))
        if len(self) and not np.array_equal(self.rowid[pos], rowids):
            raise QueryError("row ids out of the tenant's working set")
        return pos

class WorkingSets:
    """LRU cache of working sets, keyed by (traces version, tenant). Thread-safe."""

    def __init__(self, config: SearchConfig) -> None:
        self.config = config
        self._sets: OrderedDict[tuple[int, str], WorkingSet] = OrderedDict()
        self._counts: dict[tuple[int, str], int] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, snap: Snapshot, tenant: str, dim: int = 0) -> WorkingSet:
        """The tenant's working set (cached per traces version). Tenants searched exactly (see
        :meth:`flat`) get their embeddings in the same scan."""
        key = (snap.traces.version, tenant)
        with self._lock:
            ws = self._sets.get(key)
            if ws is not None:
                self._sets.move_to_end(key)
                return ws
        tenant_only = f"tenant = {quote(tenant)}"
        columns = list(WorkingSet.BASE)
        if dim and self.flat(snap, self.tenant_count(snap, tenant), dim):
            columns.append("embedding")
        ws = WorkingSet(snap.traces.to_table(filter=tenant_only, columns=columns, with_row_id=True))
        self._remember(key, ws)
        return ws

    def flat(self, snap: Snapshot, rows: int, dim: int) -> bool:
        """Exact vector search for a tenant of ``rows`` traces (else the IVF_PQ index)?"""
        return not snap.has_index("traces", "embedding") or rows * dim * 4 <= self.config.flat_search_max_bytes

    def _remember(self, key: tuple[int, str], ws: WorkingSet) -> None:
        with self._lock:
            old = self._sets.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            self._sets[key] = ws
            self._bytes += ws.nbytes
            while self._bytes > self.config.cache_bytes and len(self._sets) > 1:
                _, dropped = self._sets.popitem(last=False)
                self._bytes -= dropped.nbytes

    def times(self, snap: Snapshot, tenant: str, ws: WorkingSet) -> WorkingSet:
        with ws.lock:
            if ws.time_start is None:
                ws.set_times(snap.traces.to_table(filter=f"tenant = {quote(tenant)}", columns=WorkingSet.TIME,
                                                  with_row_id=True))
                self._remember((snap.traces.version, tenant), ws)
        return ws

    def streams(self, snap: Snapshot, tenant: str, ws: WorkingSet) -> WorkingSet:
        with ws.lock:
            if ws.stream is None:
                ws.set_streams(snap.traces.to_table(filter=f"tenant = {quote(tenant)}", columns=["stream"],
                                                    with_row_id=True))
                self._remember((snap.traces.version, tenant), ws)
        return ws

    @staticmethod
    def build_lexical(snap: Snapshot, tenant: str) -> LexicalIndex:
        """The tenant's BM25 postings, documents in row-id order (the working set's order): needs no working set,
        so a cold search builds it while the working set loads."""
        table = snap.traces.to_table(filter=f"tenant = {quote(tenant)}", columns=["actor", "text"], with_row_id=True)
        order = np.argsort(table["_rowid"].to_numpy(), kind="stable")
        docs = pc.binary_join_element_wise(pc.fill_null(table["actor"], ""), pc.fill_null(table["text"], ""), " ")
        return LexicalIndex(docs.combine_chunks().take(pa.array(order)))

    def lexical(self, snap: Snapshot, tenant: str, ws: WorkingSet, built: Future | None) -> LexicalIndex:
        with ws.lock:
            if ws.lexical is None:
                index = built.result() if built is not None else self.build_lexical(snap, tenant)
                if len(index.length) != len(ws):
                    raise QueryError("text column does not match the tenant's working set")
                ws.lexical = index
                self._remember((snap.traces.version, tenant), ws)
            return ws.lexical

    def embeddings(self, snap: Snapshot, tenant: str, ws: WorkingSet) -> np.ndarray:
        with ws.lock:
            if ws.embeddings is None:
                table = snap.traces.to_table(filter=f"tenant = {quote(tenant)}", columns=["embedding"],
                                             with_row_id=True)
                ws.set_embeddings(table["embedding"], np.argsort(table["_rowid"].to_numpy(), kind="stable"))
                self._remember((snap.traces.version, tenant), ws)
            return ws.embeddings

    def cached(self, snap: Snapshot, tenant: str) -> WorkingSet | None:
        """The tenant's working set if it is already loaded (never loads it)."""
        with self._lock:
            return self._sets.get((snap.traces.version, tenant))

    def tenant_count(self, snap: Snapshot, tenant: str) -> int:
        """Number of the tenant's traces in this version (index lookup, cached)."""
        key = (snap.traces.version, tenant)
        with self._lock:
            if key in self._counts:
                return self._counts[key]
        count = snap.traces.count_rows(filter=f"tenant = {quote(tenant)}")
        with self._lock:
            if len(self._counts) > 100_000:
                self._counts.clear()
            self._counts[key] = count
        return count

    def total_rows(self, snap: Snapshot) -> int:
        """Rows of the traces table in this version (cached)."""
        key = (snap.traces.version, "")
        with self._lock:
            if key not in self._counts:
                self._counts[key] = snap.traces.count_rows()
            return self._counts[key]
