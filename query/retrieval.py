"""Hybrid retrieval: vector + full text + entities + time, fused by weighted reciprocal rank, re-ranked by
strength and recency. Everything is scoped to one tenant and, with ``as_of=T``, to the traces visible at ``T``
(``occurred_at <= T``, not archived, not converged) — applied *before* ranking.

Signals (each yields up to ``SearchConfig.candidates`` traces, best first, ties broken by row id):

- ``vector``: cosine nearest neighbours of the query embedding. Exact over the tenant's visible traces (numpy,
  embeddings cached in the tenant's working set) when they take at most ``flat_search_max_bytes`` or there is no
  vector index; otherwise the IVF_PQ index with Lance prefilter, ``nprobes`` partitions and a ``refine_factor``
  re-rank. Rows added after the last index build are searched exactly by Lance.
- ``text``: BM25. Tenants of at most ``local_text_max_rows`` traces: a tenant-local index (:mod:`.lexical`) whose
  statistics come from the tenant's traces visible at ``as_of`` only (one tenant's ranking never depends on
  another's data). Larger tenants: Lance's full-text (INVERTED) index on ``text`` (and ``actor``, when indexed: a
  multi-match); without one, a BM25 over the traces' ``keywords`` lists (``array_has_any``; idf over the tenant's
  visible traces).
- ``entity``: names in the query resolved to canonical entities (names and aliases of the tenant's entities
  table, see :mod:`.entities`) -> traces whose ``entities`` contain them (LABEL_LIST index); more matched
  entities first, then inside / closest to the query's time window (or to ``as_of``).
- ``time``: time expressions in the query resolved relative to ``as_of`` (or now) with
  :func:`tracelake.operators.temporal.resolve_time_expressions`; traces whose ``[time_start, time_end)`` overlaps
  a window (explicit mentions first) or whose ``occurred_at`` falls in it, closest to the window's middle first.

Fusion: ``rrf = Σ_signal weight / (rrf_k + rank)``; ``score = rrf × (1 + strength_weight × strength_at_T +
recency_weight × 0.5^(age_days / recency_half_life_days)) × kind_weight``; then one hit per source event
(:func:`_per_event`) and a greedy pick of ``k`` among the best ``diversity_pool × k`` events that decays repeated
streams and, with context windows, returns every event once (:func:`_diversify`). Ties break on ``trace_id``: the
same lake and query always give the same list.
How the reads are organised: see :class:`WorkingSet`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import lance
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from lance.query import MultiMatchQuery

from tracelake.operators._hashing import stable_id
from tracelake.operators.temporal import TimeSpan, resolve_time_expressions
from tracelake.operators.text import keywords

from .entities import TenantEntities
from .lexical import LexicalIndex
from .results import Hit
from .snapshot import Snapshot, quote, str_list
from .traces import READ_COLUMNS, as_of_rows, entity_rowids, micros, take_rows, trace_filter

__all__ = ["SearchConfig", "Retriever", "SearchTrace"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: Largest half-window (rows of the tenant, in time order) read around a hit to find its neighbouring events.
_MAX_CONTEXT_SPAN = 16_384


@dataclass(frozen=True)
class SearchConfig:
    """Knobs of :class:`Retriever` (defaults tuned on the LoCoMo-style test stories and the benchmark)."""

    candidates: int = 50
    #: Small on purpose: the lists are short (``candidates``), and a flat 1/(60 + rank) would let the
    #: strength/recency boosts, not relevance, order the top hits.
    rrf_k: int = 10
    #: The entity signal lists every trace naming an entity, ordered by time only (no relevance): a weaker vote.
    weights: dict[str, float] = field(default_factory=lambda: {"vector": 1.0, "text": 1.0, "entity": 0.4,
                                                               "time": 0.8})
    strength_weight: float = 0.1
    recency_weight: float = 0.05
    #: Score multiplier per trace kind (others 1). Derived ``fact`` traces ("Sarah likes X") are short and name
    #: their subject, so they outrank the turns they come from on name-only matches.
    kind_weights: dict[str, float] = field(default_factory=lambda: {"fact": 0.5})
    recency_half_life_days: float = 30.0
    #: Exact (flat) vector search when the tenant's embeddings take at most this many bytes (64-d: 262k
    #: traces, 384-d: 43k); larger tenants use the IVF_PQ index when there is one.
    flat_search_max_bytes: int = 64 << 20
    nprobes: int = 24
    refine_factor: int = 3
    #: Full-text search filters on the tenant only (and drops invisible rows itself) when at least this
    #: fraction of the tenant's traces is visible at ``as_of``.
    post_filter_fraction: float = 0.6
    #: Full-text search skips Lance's tenant prefilter and takes the global top ``3 n / tenant share`` rows when
    #: that is at most this many (tenants holding >= ~0.75 % of the traces): see ``Retriever._text_lookup``.
    global_text_limit: int = 20_000
    #: Diversity: a hit's score is multiplied by this for every higher hit from the same stream (1: off), so one
    #: long session does not fill the list; the k hits are picked from the best ``diversity_pool × k`` events.
    stream_decay: float = 0.9
    diversity_pool: int = 3
    #: Tenants with at most this many traces get the text signal from a tenant-local BM25 (:mod:`.lexical`,
    #: statistics over the traces visible at ``as_of``); larger ones from Lance's full-text index.
    local_text_max_rows: int = 50_000
    #: Okapi BM25 parameters of the tenant-local text signal: the Anserini/Pyserini defaults for short passages
    #: (a dialogue turn or a sentence), rather than the k1 = 1.2, b = 0.75 tuned for long documents.
    bm25_k1: float = 0.9
    bm25_b: float = 0.4
    #: Memory for cached tenant working sets (row ids, times, embeddings of flat-searched tenants).
    cache_bytes: int = 512 << 20


@dataclass
class SearchTrace:
    """What one search did (for ``explain`` and tests): per-signal ranked ids and the plan chosen."""

    lists: dict[str, list[str]] = field(default_factory=dict)  # filled only when ``with_lists``
    plan: dict[str, str] = field(default_factory=dict)
    with_lists: bool = True
    entities: list[str] = field(default_factory=list)
    spans: list[TimeSpan] = field(default_factory=list)


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
        self.occurred = micros(table["occurred_at"])[order]
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
        col = column.combine_chunks()
        dim = col.type.list_size
        flat = col.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
        vectors = flat.reshape(len(col), dim)[order]
        vectors[col.is_null().to_numpy(zero_copy_only=False)[order]] = 0.0
        norms = np.linalg.norm(vectors, axis=1)
        self.has_vector = norms > 0
        vectors[self.has_vector] /= norms[self.has_vector, None]
        self.embeddings = vectors

    def set_times(self, table: pa.Table) -> None:
        order = np.argsort(table["_rowid"].to_numpy(), kind="stable")
        if not np.array_equal(table["_rowid"].to_numpy()[order], self.rowid):
            raise RuntimeError("time columns do not match the tenant's working set")
        self.time_start = micros(table["time_start"], fill=self.BIG)[order]
        self.time_end = micros(table["time_end"], fill=self.SMALL)[order]

    def set_streams(self, table: pa.Table) -> None:
        order = np.argsort(table["_rowid"].to_numpy(), kind="stable")
        if not np.array_equal(table["_rowid"].to_numpy()[order], self.rowid):
            raise RuntimeError("stream column does not match the tenant's working set")
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
            mask &= self.occurred <= _us(as_of)
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
            raise RuntimeError("row ids out of the tenant's working set")
        return pos


class Retriever:
    """Runs hybrid searches over one lake. Thread-safe; caches tenants' working sets per traces version."""

    def __init__(self, config: SearchConfig | None = None) -> None:
        self.config = config or SearchConfig()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="tracelake-search")
        self._sets: OrderedDict[tuple[int, str], WorkingSet] = OrderedDict()
        self._counts: dict[tuple[int, str], int] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    # -- working sets ----------------------------------------------------------------------------------------
    def working_set(self, snap: Snapshot, tenant: str, dim: int = 0) -> WorkingSet:
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

    def _times(self, snap: Snapshot, tenant: str, ws: WorkingSet) -> WorkingSet:
        with ws.lock:
            if ws.time_start is None:
                ws.set_times(snap.traces.to_table(filter=f"tenant = {quote(tenant)}", columns=WorkingSet.TIME,
                                                  with_row_id=True))
                self._remember((snap.traces.version, tenant), ws)
        return ws

    def _streams(self, snap: Snapshot, tenant: str, ws: WorkingSet) -> WorkingSet:
        with ws.lock:
            if ws.stream is None:
                ws.set_streams(snap.traces.to_table(filter=f"tenant = {quote(tenant)}", columns=["stream"],
                                                    with_row_id=True))
                self._remember((snap.traces.version, tenant), ws)
        return ws

    @staticmethod
    def _build_lexical(snap: Snapshot, tenant: str) -> LexicalIndex:
        """The tenant's BM25 postings, documents in row-id order (the working set's order): needs no working set,
        so a cold search builds it while the working set loads."""
        table = snap.traces.to_table(filter=f"tenant = {quote(tenant)}", columns=["actor", "text"], with_row_id=True)
        order = np.argsort(table["_rowid"].to_numpy(), kind="stable")
        docs = pc.binary_join_element_wise(pc.fill_null(table["actor"], ""), pc.fill_null(table["text"], ""), " ")
        return LexicalIndex(docs.combine_chunks().take(pa.array(order)))

    def _lexical(self, snap: Snapshot, tenant: str, ws: WorkingSet, built: Future | None) -> LexicalIndex:
        with ws.lock:
            if ws.lexical is None:
                index = built.result() if built is not None else self._build_lexical(snap, tenant)
                if len(index.length) != len(ws):
                    raise RuntimeError("text column does not match the tenant's working set")
                ws.lexical = index
                self._remember((snap.traces.version, tenant), ws)
            return ws.lexical

    def _embeddings(self, snap: Snapshot, tenant: str, ws: WorkingSet) -> np.ndarray:
        with ws.lock:
            if ws.embeddings is None:
                table = snap.traces.to_table(filter=f"tenant = {quote(tenant)}", columns=["embedding"],
                                             with_row_id=True)
                ws.set_embeddings(table["embedding"], np.argsort(table["_rowid"].to_numpy(), kind="stable"))
                self._remember((snap.traces.version, tenant), ws)
            return ws.embeddings

    # -- public -----------------------------------------------------------------------------------------
    def search(self, snap: Snapshot, ents: TenantEntities | Callable[[], TenantEntities], tenant: str, query: str,
               *, query_vector: np.ndarray | None, as_of: datetime | None, now: datetime, k: int,
               include_archived: bool = False, explain: SearchTrace | None = None,
               context_turns: int = 0) -> list[Hit]:
        """Hybrid search. ``ents`` may be a loader (called on a worker thread, overlapping the other reads).

        One hit per source event: candidates are collapsed by their first source event (best score kept; the
        event's whole-text trace stands for it when it is a candidate). The ``k`` hits are then picked from the
        best ``diversity_pool × k`` events by :func:`_diversify` (repeated streams decayed). With
        ``context_turns = N > 0`` each hit carries the text of up to ``N`` neighbouring events of its stream on each
        side (visible at ``as_of``), and no event is returned twice in the list (as a hit or in a window)."""
        cfg = self.config
        info = explain if explain is not None else SearchTrace()
        anchor = as_of or now
        n = max(cfg.candidates, k)
        pool = self._pool
        # Index lookups that need nothing but the tenant start first and overlap the working-set load.
        f_ents = pool.submit(ents) if callable(ents) else None
        has_vector = query_vector is not None and float(np.linalg.norm(query_vector)) > 0
        f_ws = pool.submit(self.working_set, snap, tenant, len(query_vector) if has_vector else 0)
        terms = keywords(query, limit=32)
        local_text = self.tenant_count(snap, tenant) <= cfg.local_text_max_rows
        f_text = pool.submit(self._text_lookup, snap, tenant, terms, n) if terms and not local_text else None
        cached = self.cached_working_set(snap, tenant)
        f_lex = (pool.submit(self._build_lexical, snap, tenant)
                 if local_text and (cached is None or cached.lexical is None) else None)
        spans = resolve_time_expressions(query, anchor)
        info.spans = spans
        tenant_ents = f_ents.result() if f_ents is not None else ents
        names = tenant_ents.mentioned(query, as_of)
        info.entities = names
        f_names = [pool.submit(self._entity_lookup, snap, tenant, name) for name in names]
        ws = f_ws.result()
        visible = ws.visible(as_of, include_archived)
        n_visible = int(visible.sum())
        where = trace_filter(tenant, as_of, include_archived)
        lists: dict[str, np.ndarray] = {}  # signal -> working-set positions, best first
        if n_visible:
            if has_vector:
                lists["vector"] = self._vector(snap, tenant, ws, visible, where, query_vector, n, info)
            if local_text:
                info.plan["text"] = "local_bm25"
                lexical = self._lexical(snap, tenant, ws, f_lex)
                lists["text"] = lexical.search(query, visible, n, ws.rowid, cfg.bm25_k1, cfg.bm25_b)
            elif f_text is not None:
                lists["text"] = self._text(snap, ws, visible, n_visible, where, terms, n, f_text.result(), info)
            if names:
                lists["entity"] = self._entity(ws, visible, [f.result() for f in f_names], spans, anchor, n)
            if spans:
                lists["time"] = self._time(self._times(snap, tenant, ws), visible, spans, n)
        else:
            for f in [f_text, *f_names]:
                if f is not None:
                    f.result()
            if f_lex is not None:
                self._lexical(snap, tenant, ws, f_lex)
        ents = tenant_ents
        fused: dict[int, float] = {}
        matched: dict[int, list[str]] = {}
        for signal, positions in lists.items():
            w = cfg.weights.get(signal, 1.0)
            for rank, p in enumerate(positions.tolist()):
                fused[p] = fused.get(p, 0.0) + w / (cfg.rrf_k + rank + 1)
                matched.setdefault(p, []).append(signal)
        if not fused:
            return []
        cand = np.array(sorted(fused), dtype=np.int64)
        base = np.array([fused[p] for p in cand.tolist()])
        if explain is not None and explain.with_lists:  # name every candidate of every signal (an extra read)
            names_of = self._fetch(snap.traces, where, ws.rowid[cand], ["trace_id"])["trace_id"].to_pylist()
            tid = dict(zip(cand.tolist(), names_of))
            info.lists = {s: [tid[p] for p in pos.tolist()] for s, pos in lists.items()}
        # Re-ranking multiplies by at most ``max_boost``: a candidate whose fused score cannot reach the k-th best
        # event even boosted is out (exact), before any of its columns is read. Candidates are read best first in
        # growing batches until k distinct events are certain.
        max_boost = (1.0 + cfg.strength_weight + cfg.recency_weight) * max([1.0, *cfg.kind_weights.values()])
        order = np.lexsort((cand, -base))
        cand, base = cand[order], base[order]
        anchor_us = _us(anchor)
        hits: list[Hit] = []
        done = 0
        # Diversification picks the k hits from the best ``diversity_pool × k`` events.
        pool_k = k if cfg.stream_decay >= 1.0 and not context_turns else k * max(1, cfg.diversity_pool)
        take = min(len(cand), max(pool_k, 1))
        while True:
            floor = base[take - 1] / max_boost
            while take < len(cand) and base[take] >= floor:
                take += 1
            rows = as_of_rows(self._fetch(snap.traces, where, ws.rowid[cand[done:take]]), as_of, ents)
            for p, b, row in zip(cand[done:take].tolist(), base[done:take].tolist(), rows):
                age_days = max(0.0, (anchor_us - _us(row["last_source_at"])) / 86_400e6)
                boost = (1.0 + cfg.strength_weight * min(1.0, max(0.0, float(row["strength"])))
                         + cfg.recency_weight * 0.5 ** (age_days / cfg.recency_half_life_days))
                boost *= cfg.kind_weights.get(row["kind"], 1.0)
                hits.append(_hit(row, b * boost, tuple(matched[p])))
            done = take
            top = _per_event(hits, tenant)
            if done >= len(cand) or (len(top) >= pool_k and top[pool_k - 1].score > base[done] * max_boost):
                break
            take = min(len(cand), max(done * 2, done + pool_k))
        top = top[:pool_k]
        windows = (self._neighbours(snap, tenant, ws, top, as_of, include_archived, context_turns)
                   if context_turns > 0 and top else None)
        return _diversify(top, k, cfg.stream_decay, windows)

    def _neighbours(self, snap: Snapshot, tenant: str, ws: WorkingSet, hits: list[Hit], as_of: datetime | None,
                    include_archived: bool, turns: int) -> list[tuple[list[tuple[str, str]], list[tuple[str, str]]]]:
        """For each hit, up to ``turns`` events of its stream just before it and just after it, as
        ``(event_id, text)`` pairs in time order (``([], [])`` for a hit without a stream).

        Neighbours come from the traces visible at ``as_of`` (so every one occurred at or before it; their sources
        are trimmed to ``as_of``); an event's whole-text trace stands for it (else its longest trace). The working
        set's stream codes locate each hit among its stream's visible traces in time order; a stretch of rows
        around it is read (one positioned read for all hits) and widened, inside the stream, for a hit whose
        neighbours it does not cover."""
        ws = self._streams(snap, tenant, ws)
        assert ws.stream is not None
        vis = np.flatnonzero(ws.visible(as_of, include_archived) & (ws.stream >= 0))
        order = vis[np.lexsort((ws.rowid[vis], ws.occurred[vis], ws.stream[vis]))]
        codes, times = ws.stream[order], ws.occurred[order]
        limit = _us(as_of) if as_of is not None else None
        out: list[tuple[list[tuple[str, str]], list[tuple[str, str]]]] = [([], [])] * len(hits)
        todo: dict[int, tuple[int, int, int]] = {}  # hit -> (stream start, stream end, hit position) in ``order``
        for i, h in enumerate(hits):
            code = ws.stream_names.get(h.stream) if h.stream is not None else None
            if code is None or not h.source_event_ids:
                continue
            lo = int(np.searchsorted(codes, code, "left"))
            hi = int(np.searchsorted(codes, code, "right"))
            todo[i] = (lo, hi, lo + int(np.searchsorted(times[lo:hi], _dt_us(h.occurred_at))))
        rows: dict[int, tuple[str, tuple[bool, int], str, int] | None] = {}  # position -> event, rank, text, time
        whole: dict[str, str] = {}  # event -> id of its whole-text trace
        span = 4 * (turns + 1)
        while todo:
            ranges = {i: (max(s_lo, c - span), min(s_hi, c + span + 1)) for i, (s_lo, s_hi, c) in todo.items()}
            new = sorted({p for lo, hi in ranges.values() for p in range(lo, hi)} - rows.keys())
            if new:
                rowids = ws.rowid[order[new]]
                by_row = np.argsort(rowids, kind="stable")
                table = self._fetch(snap.traces, trace_filter(tenant, as_of, include_archived), rowids[by_row],
                                    ["trace_id", "text", "occurred_at", "last_source_at", "source_event_ids",
                                     "source_times"])
                first = pc.list_element(table["source_event_ids"], 0).to_pylist()
                late = (micros(table["last_source_at"]) > limit if limit is not None
                        else np.zeros(table.num_rows, dtype=bool))
                when = micros(table["occurred_at"]).tolist()
                ids, texts = table["trace_id"].to_pylist(), table["text"].to_pylist()
                for j, p in enumerate(np.asarray(new)[by_row].tolist()):
                    ev = first[j]
                    if late[j]:  # absorbed later sources: its event is its first source visible at as_of
                        pairs = zip(table["source_event_ids"][j].as_py() or (), table["source_times"][j].as_py() or ())
                        ev = next((e for e, t in pairs if _dt_us(t) <= limit), None)
                    if ev is None:
                        rows[p] = None
                        continue
                    if ev not in whole:
                        whole[ev] = stable_id(tenant, ev, "episodic", 0)
                    text = texts[j] or ""
                    rows[p] = (ev, (ids[j] == whole[ev], len(text)), text, when[j])
            left = {}
            for i, (lo, hi) in ranges.items():
                s_lo, s_hi, _ = todo[i]
                events: dict[str, tuple[tuple[bool, int], str, int]] = {}
                for row in (rows[p] for p in range(lo, hi)):
                    if row is not None and (row[0] not in events or row[1] > events[row[0]][0]):
                        events[row[0]] = row[1:]
                seq = sorted(events.items(), key=lambda kv: (kv[1][2], kv[0]))
                own = hits[i].source_event_ids[0]
                idx = next((j for j, (ev, _) in enumerate(seq) if ev == own), None)
                enough = idx is not None and (idx >= turns or lo == s_lo) and (len(seq) - 1 - idx >= turns
                                                                              or hi == s_hi)
                if enough or (lo == s_lo and hi == s_hi) or span >= _MAX_CONTEXT_SPAN:
                    if idx is not None:
                        out[i] = ([(ev, e[1]) for ev, e in seq[max(0, idx - turns):idx]],
                                  [(ev, e[1]) for ev, e in seq[idx + 1:idx + 1 + turns]])
                else:
                    left[i] = todo[i]
            todo, span = left, span * 4
        return out

    def window_rows(self, snap: Snapshot, tenant: str, lo: datetime, hi: datetime, as_of: datetime | None,
                    include_archived: bool, limit: int = 500) -> pa.Table:
        """``READ_COLUMNS`` rows of the tenant's traces visible at ``as_of`` with ``lo <= occurred_at <= hi``
        (the first ``limit`` by time), located through the working set: one positioned read."""
        ws = self.working_set(snap, tenant)
        mask = ws.visible(as_of, include_archived) & (ws.occurred >= _us(lo)) & (ws.occurred <= _us(hi))
        pos = np.flatnonzero(mask)
        pos = pos[np.argsort(ws.occurred[pos], kind="stable")][:limit]
        return self._fetch(snap.traces, trace_filter(tenant, as_of, include_archived), np.sort(ws.rowid[pos]))

    # -- signals --------------------------------------------------------------------------------------------
    def _vector(self, snap: Snapshot, tenant: str, ws: WorkingSet, visible: np.ndarray, where: str,
                qv: np.ndarray, n: int, info: SearchTrace) -> np.ndarray:
        cfg = self.config
        q = np.asarray(qv, dtype=np.float32)
        if self.flat(snap, len(ws), len(q)):
            info.plan["vector"] = "flat"
            emb = self._embeddings(snap, tenant, ws)  # rows L2-normalised at load (zero rows stay zero)
            cand = np.flatnonzero(visible & ws.has_vector)
            # einsum, not BLAS: a BLAS thread pool on a loaded 2-core machine is 5-10x slower for one vector
            sims = np.einsum("ij,j->i", emb, q / np.linalg.norm(q))[cand]
            if len(cand) > n:
                cut = np.partition(-sims, n - 1)[n - 1]
                keep = -sims <= cut
                cand, sims = cand[keep], sims[keep]
            order = np.lexsort((ws.rowid[cand], -sims))
            return cand[order[:n]]
        info.plan["vector"] = "ivf_pq"
        # Prefilter on the tenant only (an index lookup; the whole as-of filter over a huge tenant costs ~10x
        # the search) and drop invisible rows here, unless too little of the tenant is visible at as_of.
        narrow = int(visible.sum()) >= cfg.post_filter_fraction * len(ws)
        nearest: dict[str, Any] = {"column": "embedding", "q": q, "k": 3 * n if narrow else n, "metric": "cosine",
                                   "nprobes": cfg.nprobes, "refine_factor": cfg.refine_factor}
        table = snap.traces.to_table(columns=["_distance"], filter=f"tenant = {quote(tenant)}" if narrow else where,
                                     prefilter=True, nearest=nearest, with_row_id=True,
                                     disable_scoring_autoprojection=True)
        dist = table["_distance"].to_numpy(zero_copy_only=False)
        pos = ws.positions(table["_rowid"].to_numpy())
        ok = ~np.isnan(dist) & visible[pos]
        pos, dist = pos[ok], dist[ok]
        return pos[np.lexsort((ws.rowid[pos], dist))][:n]

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

    def _text_lookup(self, snap: Snapshot, tenant: str, terms: list[str], n: int) -> tuple[pa.Table, int | None]:
        """Full-text lookup (BM25 from the INVERTED index), or the keyword rows without one.

        Returns ``(table, limit)``; ``limit`` is set when the lookup was *global* (no prefilter) and tenant rows
        must be picked out of it: for a tenant holding a large share of the table, building Lance's prefilter
        from the tenant index costs far more (35 ms for 540k of 10M rows) than a global top-``limit`` does.
        """
        tenant_only = f"tenant = {quote(tenant)}"
        if not snap.has_index("traces", "text"):
            return snap.traces.to_table(columns=["keywords"], with_row_id=True,
                                        filter=f"{tenant_only} AND array_has_any(keywords, [{str_list(terms)}])"), None
        text = _fts_query(snap, terms)
        share = self.tenant_count(snap, tenant) / max(1, self._total_rows(snap))
        limit = int(3 * n / share) if share > 0 else 0  # ~3n of the tenant's rows expected among them
        if 0 < limit <= self.config.global_text_limit:
            table = snap.traces.to_table(columns=["_score"], full_text_query=text, limit=limit, with_row_id=True,
                                         disable_scoring_autoprojection=True)
            return table, limit
        return snap.traces.to_table(columns=["_score"], filter=tenant_only, prefilter=True, full_text_query=text,
                                    limit=3 * n, with_row_id=True, disable_scoring_autoprojection=True), None

    def _total_rows(self, snap: Snapshot) -> int:
        key = (snap.traces.version, "")
        with self._lock:
            if key not in self._counts:
                self._counts[key] = snap.traces.count_rows()
            return self._counts[key]

    def _text(self, snap: Snapshot, ws: WorkingSet, visible: np.ndarray, n_visible: int, where: str,
              terms: list[str], n: int, lookup: tuple[pa.Table, int | None], info: SearchTrace) -> np.ndarray:
        table, global_limit = lookup
        if snap.has_index("traces", "text"):
            info.plan["text"] = "fts"
            # The lookup stands when most of the tenant is visible at as_of (invisible rows are dropped here) and,
            # for a global lookup, when it found enough of the tenant's rows or all matches; otherwise Lance
            # evaluates the whole as-of filter before ranking.
            score = table["_score"].to_numpy(zero_copy_only=False)
            inside, pos = ws.lookup(table["_rowid"].to_numpy())
            ok = inside & visible[pos]
            pos, score = pos[ok], score[ok]
            complete = global_limit is None or len(pos) >= n or table.num_rows < global_limit
            if n_visible < self.config.post_filter_fraction * len(ws) or not complete:
                info.plan["text"] = "fts_prefiltered"
                table = snap.traces.to_table(columns=["_score"], filter=where, prefilter=True,
                                             full_text_query=_fts_query(snap, terms), limit=n, with_row_id=True,
                                             disable_scoring_autoprojection=True)
                score = table["_score"].to_numpy(zero_copy_only=False)
                pos = ws.positions(table["_rowid"].to_numpy())
                ok = visible[pos]
                pos, score = pos[ok], score[ok]
            return pos[np.lexsort((ws.rowid[pos], -score))][:n]
        info.plan["text"] = "keywords_bm25"
        if not table.num_rows:
            return np.zeros(0, dtype=np.int64)
        pos = ws.positions(table["_rowid"].to_numpy())
        flat = pc.list_flatten(table["keywords"])
        parents = pc.list_parent_indices(table["keywords"]).to_numpy()
        hit = pc.is_in(flat, value_set=pa.array(terms, pa.string())).to_numpy(zero_copy_only=False)
        parents = parents[hit]
        words = np.array(pc.filter(flat, pa.array(hit)).to_pylist(), dtype=object)
        seen = visible[pos[parents]]
        parents, words = parents[seen], words[seen]
        if not len(parents):
            return np.zeros(0, dtype=np.int64)
        _, inverse, df = np.unique(words, return_inverse=True, return_counts=True)
        idf = np.log(1.0 + (n_visible - df + 0.5) / (df + 0.5))
        scores = np.bincount(parents, weights=idf[inverse], minlength=table.num_rows)
        rows = np.flatnonzero(scores > 0)
        order = np.lexsort((ws.rowid[pos[rows]], -scores[rows]))
        return pos[rows[order[:n]]]

    @staticmethod
    def _entity_lookup(snap: Snapshot, tenant: str, name: str) -> np.ndarray:
        """Row ids of the tenant's traces listing ``name``: index-only (LABEL_LIST + tenant), no column read."""
        return entity_rowids(snap.traces, tenant, [name])

    def _entity(self, ws: WorkingSet, visible: np.ndarray, rowids: list[np.ndarray], spans: list[TimeSpan],
                anchor: datetime, n: int) -> np.ndarray:
        found = [ws.positions(r) for r in rowids]
        if not any(len(f) for f in found):
            return np.zeros(0, dtype=np.int64)
        pos, counts = np.unique(np.concatenate(found), return_counts=True)
        ok = visible[pos]
        pos, counts = pos[ok], counts[ok]
        when = ws.occurred[pos]
        if spans:
            lo = np.array([_us(s.start) for s in spans])
            hi = np.array([_us(s.end) for s in spans])
            inside = ((when[:, None] >= lo) & (when[:, None] < hi)).any(axis=1)
            dist = np.abs(when[:, None] - (lo + hi) // 2).min(axis=1)
        else:
            inside = np.zeros(len(pos), dtype=bool)
            dist = np.abs(_us(anchor) - when)
        order = np.lexsort((ws.rowid[pos], dist, ~inside, -counts))
        return pos[order[:n]]

    def _time(self, ws: WorkingSet, visible: np.ndarray, spans: list[TimeSpan], n: int) -> np.ndarray:
        lo = np.array([_us(s.start) for s in spans])[None, :]
        hi = np.array([_us(s.end) for s in spans])[None, :]
        cand = np.flatnonzero(visible)
        when = ws.occurred[cand][:, None]
        ts, te = ws.time_start[cand][:, None], ws.time_end[cand][:, None]
        mentions = ((ts < hi) & (te > lo)).any(axis=1)
        inside = ((when >= lo) & (when < hi)).any(axis=1)
        keep = mentions | inside
        cand, mentions = cand[keep], mentions[keep]
        if not len(cand):
            return cand
        point = np.where(mentions, ws.time_start[cand], ws.occurred[cand])
        dist = np.abs(point[:, None] - (lo + hi) // 2).min(axis=1)
        order = np.lexsort((ws.rowid[cand], dist, ~mentions))
        return cand[order[:n]]

    @staticmethod
    def _fetch(traces: lance.LanceDataset, where: str, rowids: np.ndarray,
               columns: list[str] | None = None) -> pa.Table:
        """Rows of the candidates by row id (one positioned read), in the given order."""
        return take_rows(traces, rowids.tolist(), columns or READ_COLUMNS, where)

    def cached_working_set(self, snap: Snapshot, tenant: str) -> WorkingSet | None:
        """The tenant's working set if it is already loaded (never loads it)."""
        with self._lock:
            return self._sets.get((snap.traces.version, tenant))


def _fts_query(snap: Snapshot, terms: list[str]) -> Any:
    """The full-text query: over ``text`` and, when it has its own INVERTED index, ``actor`` (so a question
    naming a speaker favours what that speaker said, not only the turns that address them by name)."""
    text = " ".join(terms)
    if snap.has_index("traces", "actor"):
        return MultiMatchQuery(text, ["text", "actor"])
    return text


def _per_event(hits: list[Hit], tenant: str) -> list[Hit]:
    """One hit per first source event, best first: the best score of the event's candidates, carried by its
    whole-text trace (unit index 0) when that is a candidate, else by the best-scoring one."""
    groups: dict[str, list[Hit]] = {}
    out: list[Hit] = []
    for h in hits:
        if h.source_event_ids:
            groups.setdefault(h.source_event_ids[0], []).append(h)
        else:
            out.append(h)
    for ev, items in groups.items():
        items.sort(key=lambda h: (-h.score, h.trace_id))
        best = items[0]
        whole_id = stable_id(tenant, ev, "episodic", 0)
        whole = next((h for h in items if h.trace_id == whole_id), None)
        if whole is not None and whole is not best:
            signals = tuple(dict.fromkeys(s for h in items for s in h.matched))
            best = replace(whole, score=best.score, matched=signals)
        out.append(best)
    out.sort(key=lambda h: (-h.score, h.trace_id))
    return out


def _diversify(hits: list[Hit], k: int, stream_decay: float,
               windows: list[tuple[list[tuple[str, str]], list[tuple[str, str]]]] | None) -> list[Hit]:
    """The top ``k`` of ``hits`` (best first), picked greedily: each next hit is the one with the best
    ``score × stream_decay ^ (hits already taken from its stream)`` (that is its returned score, so scores still
    decrease down the list). With ``windows`` (context turns), an event is returned once: a candidate already
    shown — as a hit or in a higher hit's window — is skipped, and a window leaves out events already shown."""
    remaining = list(range(len(hits)))
    per_stream: dict[str, int] = {}
    shown: set[str] = set()
    out: list[Hit] = []
    while remaining and len(out) < k:
        if windows is not None:
            remaining = [j for j in remaining if not hits[j].source_event_ids or hits[j].source_event_ids[0]
                         not in shown]
            if not remaining:
                break
        best, best_score = remaining[0], -1.0
        for j in remaining:  # in (-score, trace_id) order: the first of equal scores wins
            h = hits[j]
            score = h.score * stream_decay ** per_stream.get(h.stream, 0) if h.stream is not None else h.score
            if score > best_score:
                best, best_score = j, score
        remaining.remove(best)
        h = hits[best]
        if h.stream is not None:
            per_stream[h.stream] = per_stream.get(h.stream, 0) + 1
        if windows is not None:
            before, after = windows[best]
            near = [(ev, text) for ev, text in before + after if ev not in shown and ev not in h.source_event_ids]
            shown.update(h.source_event_ids)
            shown.update(ev for ev, _ in near)
            h = replace(h, context=tuple(t for _, t in near), context_event_ids=tuple(ev for ev, _ in near))
        out.append(replace(h, score=best_score) if best_score != h.score else h)
    return out


def _dt_us(value: datetime) -> int:
    return _us(value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc))


def _us(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def _hit(row: dict[str, Any], score: float, matched: tuple[str, ...]) -> Hit:
    return Hit(
        trace_id=row["trace_id"], score=float(score), text=row["text"], kind=row["kind"], tenant=row["tenant"],
        stream=row.get("stream"), occurred_at=row["occurred_at"], valid_from=row.get("valid_from"),
        valid_to=row.get("valid_to"), source_event_ids=tuple(row.get("source_event_ids") or ()),
        actor=row.get("actor"), entities=tuple(row.get("entities") or ()), time_start=row.get("time_start"),
        time_end=row.get("time_end"), last_source_at=row.get("last_source_at"), strength=row.get("strength"),
        matched=matched,
    )
