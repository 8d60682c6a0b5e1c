"""Hybrid retrieval: vector + full text + entities + time, fused by weighted reciprocal rank, re-ranked by
strength and recency. Everything is scoped to one tenant and, with ``as_of=T``, to traces that occurred at or
before ``T`` (the filter is applied *before* ranking: Lance prefilter).

Signals (each yields up to ``SearchConfig.candidates`` trace ids, best first, ties broken by ``trace_id``):

- ``vector``: cosine nearest neighbours of the query embedding. Exact (flat) search over the tenant's rows when
  the tenant holds at most ``flat_search_max_rows`` traces or no vector index exists; otherwise the IVF_PQ
  index with prefilter, ``nprobes`` partitions and a ``refine_factor`` re-rank on full vectors. Rows added
  after the last index build are searched exactly by Lance.
- ``text``: BM25 from Lance's full-text (INVERTED) index on ``text`` when it exists; otherwise a BM25 over the
  traces' ``keywords`` lists (``array_has_any`` prefilter; idf over the tenant's visible traces).
- ``entity``: names in the query resolved to canonical entities (names and aliases of the tenant's entities
  table, see :mod:`.entities`) -> traces whose ``entities`` contain them; more matched entities first, then
  closeness to the query's time window (or to ``as_of``).
- ``time``: time expressions in the query resolved relative to ``as_of`` (or now) with
  :func:`tracelake.operators.temporal.resolve_time_expressions`; traces whose ``[time_start, time_end)`` or
  ``occurred_at`` fall in a window; explicit mentions first, then closeness to the window's middle.

Fusion: ``rrf = Σ_signal weight / (rrf_k + rank)``; ``score = rrf × (1 + strength_weight × strength_at_T +
recency_weight × 0.5^(age_days / recency_half_life_days))``. Sorted by ``(-score, trace_id)``: the same lake
and query always give the same list.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import lance
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracelake.operators.temporal import TimeSpan, resolve_time_expressions
from tracelake.operators.text import keywords

from .entities import TenantEntities
from .results import Hit
from .snapshot import Snapshot, quote, str_list, ts_literal
from .traces import READ_COLUMNS, as_of_rows, trace_filter

__all__ = ["SearchConfig", "Retriever", "SearchTrace"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class SearchConfig:
    """Knobs of :class:`Retriever` (defaults tuned on the LoCoMo-style test stories and the benchmark)."""

    candidates: int = 50
    #: Small on purpose: the lists are short (``candidates``), and a flat 1/(60 + rank) would let the
    #: strength/recency boosts, not relevance, order the top hits.
    rrf_k: int = 10
    weights: dict[str, float] = field(default_factory=lambda: {"vector": 1.0, "text": 1.0, "entity": 0.8,
                                                               "time": 0.8})
    strength_weight: float = 0.1
    recency_weight: float = 0.05
    recency_half_life_days: float = 30.0
    flat_search_max_rows: int = 50_000
    nprobes: int = 24
    refine_factor: int = 3
    #: Full-text search filters on the tenant only (and drops invisible rows itself) when at least this
    #: fraction of the tenant's traces is visible at ``as_of``.
    post_filter_fraction: float = 0.6
    #: Memory for cached tenant working sets (row ids, times, embeddings of flat-searched tenants).
    cache_bytes: int = 512 << 20


@dataclass
class SearchTrace:
    """What one search did (for ``explain`` and tests): per-signal ranked ids and the plan chosen."""

    lists: dict[str, list[str]] = field(default_factory=dict)
    plan: dict[str, str] = field(default_factory=dict)
    entities: list[str] = field(default_factory=list)
    spans: list[TimeSpan] = field(default_factory=list)


class WorkingSet:
    """One tenant's traces at one (immutable) traces version: row ids and the columns the as-of filter and the
    time signal need, as numpy arrays sorted by row id; the embeddings too, loaded on first use.

    With it the as-of visibility test is a numpy mask, and Lance is only asked for index lookups (full text,
    entity labels) and for the rows finally returned.
    """

    BIG = np.iinfo(np.int64).max
    SMALL = np.iinfo(np.int64).min

    def __init__(self, table: pa.Table) -> None:
        order = np.argsort(table["_rowid"].to_numpy(), kind="stable")
        self.rowid = table["_rowid"].to_numpy()[order]
        self.occurred = _micros(table["occurred_at"])[order]
        self.last_source = _micros(table["last_source_at"])[order]
        self.archived = table["archived"].to_numpy(zero_copy_only=False)[order]
        self.merged = pc.is_valid(table["merged_into"]).to_numpy(zero_copy_only=False)[order]
        self.time_start = _micros(table["time_start"], fill=self.BIG)[order]
        self.time_end = _micros(table["time_end"], fill=self.SMALL)[order]
        self.embeddings: np.ndarray | None = None
        self.has_vector = np.zeros(len(self.rowid), dtype=bool)
        self.lock = threading.Lock()

    COLUMNS = ["occurred_at", "last_source_at", "archived", "merged_into", "time_start", "time_end"]

    def __len__(self) -> int:
        return len(self.rowid)

    @property
    def nbytes(self) -> int:
        base = self.rowid.nbytes * 6 + self.archived.nbytes * 2
        return base + (self.embeddings.nbytes if self.embeddings is not None else 0)

    def visible(self, as_of: datetime | None, include_archived: bool) -> np.ndarray:
        mask = np.ones(len(self), dtype=bool) if include_archived else ~(self.archived | self.merged)
        if as_of is not None:
            mask &= self.occurred <= _us(as_of)
        return mask

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
        self._sets: OrderedDict[tuple[int, str], WorkingSet] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    # -- working sets ----------------------------------------------------------------------------------------
    def working_set(self, snap: Snapshot, tenant: str) -> WorkingSet:
        key = (snap.traces.version, tenant)
        with self._lock:
            ws = self._sets.get(key)
            if ws is not None:
                self._sets.move_to_end(key)
                return ws
        table = snap.traces.to_table(filter=f"tenant = {quote(tenant)}", columns=WorkingSet.COLUMNS,
                                     with_row_id=True)
        ws = WorkingSet(table)
        self._remember(key, ws)
        return ws

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

    def _embeddings(self, snap: Snapshot, tenant: str, ws: WorkingSet) -> np.ndarray:
        with ws.lock:
            if ws.embeddings is None:
                table = snap.traces.to_table(filter=f"tenant = {quote(tenant)}", columns=["embedding"],
                                             with_row_id=True)
                order = np.argsort(table["_rowid"].to_numpy(), kind="stable")
                col = table["embedding"].combine_chunks()
                dim = col.type.list_size
                flat = col.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
                vectors = flat.reshape(len(col), dim)[order]
                missing = col.is_null().to_numpy(zero_copy_only=False)[order]
                vectors[missing] = 0.0
                norms = np.linalg.norm(vectors, axis=1)
                ws.has_vector = norms > 0
                vectors[ws.has_vector] /= norms[ws.has_vector, None]
                ws.embeddings = vectors
                self._remember((snap.traces.version, tenant), ws)
            return ws.embeddings

    # -- public -----------------------------------------------------------------------------------------
    def search(self, snap: Snapshot, ents: TenantEntities, tenant: str, query: str, *, query_vector: np.ndarray | None,
               as_of: datetime | None, now: datetime, k: int, include_archived: bool = False,
               explain: SearchTrace | None = None) -> list[Hit]:
        cfg = self.config
        info = explain if explain is not None else SearchTrace()
        anchor = as_of or now
        spans = resolve_time_expressions(query, anchor)
        info.spans = spans
        names = ents.mentioned(query, as_of)
        info.entities = names
        ws = self.working_set(snap, tenant)
        visible = ws.visible(as_of, include_archived)
        n_visible = int(visible.sum())
        if n_visible == 0:
            return []
        where = trace_filter(tenant, as_of, include_archived)
        n = max(cfg.candidates, k)
        lists: dict[str, np.ndarray] = {}  # signal -> working-set positions, best first
        if query_vector is not None and float(np.linalg.norm(query_vector)) > 0:
            lists["vector"] = self._vector(snap, tenant, ws, visible, where, query_vector, n, info)
        terms = keywords(query, limit=32)
        if terms:
            lists["text"] = self._text(snap, tenant, ws, visible, n_visible, where, terms, n, info)
        if names:
            lists["entity"] = self._entity(snap, tenant, ws, visible, names, spans, anchor, n)
        if spans:
            lists["time"] = self._time(ws, visible, spans, n)
        fused: dict[int, float] = {}
        matched: dict[int, list[str]] = {}
        for signal, positions in lists.items():
            w = cfg.weights.get(signal, 1.0)
            for rank, p in enumerate(positions.tolist()):
                fused[p] = fused.get(p, 0.0) + w / (cfg.rrf_k + rank + 1)
                matched.setdefault(p, []).append(signal)
        if not fused:
            return []
        # Re-ranking multiplies by at most ``max_boost``: candidates whose fused score cannot reach the k-th best
        # even boosted are dropped before their rows are read (exact: the result is the same).
        max_boost = 1.0 + cfg.strength_weight + cfg.recency_weight
        ranked = sorted(fused.values(), reverse=True)
        floor = ranked[min(k, len(ranked)) - 1] / max_boost
        positions = np.array(sorted(p for p, f in fused.items() if f >= floor), dtype=np.int64)
        rows = self._fetch(snap.traces, where, ws.rowid[positions])
        by_rowid = {int(ws.rowid[p]): p for p in positions.tolist()}
        if explain is not None:  # name every candidate of every signal (a small extra read)
            every = np.array(sorted(fused), dtype=np.int64)
            names_of = self._fetch(snap.traces, where, ws.rowid[every], ["trace_id"])["trace_id"].to_pylist()
            tid = dict(zip(every.tolist(), names_of))
            info.lists = {s: [tid[p] for p in pos.tolist()] for s, pos in lists.items()}
        hits = []
        for rowid, row in zip(rows["_rowid"].to_pylist(), as_of_rows(rows.drop_columns(["_rowid"]), as_of, ents)):
            p = by_rowid[rowid]
            age_days = max(0.0, (anchor - row["last_source_at"]).total_seconds() / 86400.0)
            recency = 0.5 ** (age_days / cfg.recency_half_life_days)
            boost = 1.0 + cfg.strength_weight * min(1.0, max(0.0, row["strength"])) + cfg.recency_weight * recency
            hits.append(_hit(row, fused[p] * boost, tuple(matched[p])))
        hits.sort(key=lambda h: (-h.score, h.trace_id))
        return hits[:k]

    # -- signals --------------------------------------------------------------------------------------------
    def tenant_rows(self, snap: Snapshot, tenant: str) -> int:
        return len(self.working_set(snap, tenant))

    def _vector(self, snap: Snapshot, tenant: str, ws: WorkingSet, visible: np.ndarray, where: str,
                qv: np.ndarray, n: int, info: SearchTrace) -> np.ndarray:
        cfg = self.config
        q = np.asarray(qv, dtype=np.float32)
        if not snap.has_index("traces", "embedding") or len(ws) <= cfg.flat_search_max_rows:
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
        nearest: dict[str, Any] = {"column": "embedding", "q": q, "k": n, "metric": "cosine",
                                   "nprobes": cfg.nprobes, "refine_factor": cfg.refine_factor}
        table = snap.traces.to_table(columns=["_distance"], filter=where, prefilter=True, nearest=nearest,
                                     with_row_id=True, disable_scoring_autoprojection=True)
        dist = table["_distance"].to_numpy(zero_copy_only=False)
        pos = ws.positions(table["_rowid"].to_numpy())
        ok = ~np.isnan(dist) & visible[pos]
        pos, dist = pos[ok], dist[ok]
        return pos[np.lexsort((ws.rowid[pos], dist))][:n]

    def _text(self, snap: Snapshot, tenant: str, ws: WorkingSet, visible: np.ndarray, n_visible: int, where: str,
              terms: list[str], n: int, info: SearchTrace) -> np.ndarray:
        tenant_only = f"tenant = {quote(tenant)}"
        if snap.has_index("traces", "text"):
            # Mostly-visible tenants: filter on the tenant only (an index lookup) and drop invisible rows here;
            # otherwise let Lance evaluate the whole as-of filter before ranking.
            narrow = n_visible >= self.config.post_filter_fraction * len(ws)
            info.plan["text"] = "fts"
            table = snap.traces.to_table(columns=["_score"], filter=tenant_only if narrow else where, prefilter=True,
                                         full_text_query=" ".join(terms), limit=3 * n if narrow else n,
                                         with_row_id=True, disable_scoring_autoprojection=True)
            score = table["_score"].to_numpy(zero_copy_only=False)
            pos = ws.positions(table["_rowid"].to_numpy())
            ok = visible[pos]
            pos, score = pos[ok], score[ok]
            return pos[np.lexsort((ws.rowid[pos], -score))][:n]
        info.plan["text"] = "keywords_bm25"
        table = snap.traces.to_table(columns=["keywords"], with_row_id=True,
                                     filter=f"{tenant_only} AND array_has_any(keywords, [{str_list(terms)}])")
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
        uniq, inverse, df = np.unique(words, return_inverse=True, return_counts=True)
        idf = np.log(1.0 + (n_visible - df + 0.5) / (df + 0.5))
        scores = np.bincount(parents, weights=idf[inverse], minlength=table.num_rows)
        rows = np.flatnonzero(scores > 0)
        order = np.lexsort((ws.rowid[pos[rows]], -scores[rows]))
        return pos[rows[order[:n]]]

    def _entity(self, snap: Snapshot, tenant: str, ws: WorkingSet, visible: np.ndarray, names: list[str],
                spans: list[TimeSpan], anchor: datetime, n: int) -> np.ndarray:
        # one index-only lookup per name (LABEL_LIST + tenant index; no column is read)
        found = [ws.positions(snap.traces.to_table(
            columns=[], with_row_id=True,
            filter=f"tenant = {quote(tenant)} AND array_has_any(entities, [{quote(name)}])")["_rowid"].to_numpy())
            for name in names]
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
        """Rows of the candidates by row id (one positioned read), with ``_rowid``, in the given order."""
        ids = rowids.tolist()
        columns = columns or READ_COLUMNS
        try:
            table = traces._take_rows(ids, columns=columns)  # noqa: SLF001 - stable in pylance 0.38-14
            return table.append_column("_rowid", pa.array(ids, pa.uint64()))
        except (AttributeError, TypeError):  # pragma: no cover - a pylance without _take_rows
            table = traces.to_table(columns=columns, with_row_id=True,
                                    filter=f"{where} AND _rowid IN ({', '.join(map(str, ids))})")
            return table.take(pc.sort_indices(table, [("_rowid", "ascending")]))


def _us(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def _micros(column: pa.ChunkedArray, fill: int | None = None) -> np.ndarray:
    ints = pc.cast(column, pa.int64())
    if fill is not None:
        ints = pc.fill_null(ints, fill)
    return ints.to_numpy(zero_copy_only=False).astype(np.int64)


def _hit(row: dict[str, Any], score: float, matched: tuple[str, ...]) -> Hit:
    return Hit(
        trace_id=row["trace_id"], score=float(score), text=row["text"], kind=row["kind"], tenant=row["tenant"],
        stream=row.get("stream"), occurred_at=row["occurred_at"], valid_from=row.get("valid_from"),
        valid_to=row.get("valid_to"), source_event_ids=tuple(row.get("source_event_ids") or ()),
        actor=row.get("actor"), entities=tuple(row.get("entities") or ()), time_start=row.get("time_start"),
        time_end=row.get("time_end"), last_source_at=row.get("last_source_at"), strength=row.get("strength"),
        matched=matched,
    )
