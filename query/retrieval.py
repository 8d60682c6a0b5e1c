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
    max_entity_rows: int = 100_000
    max_time_rows: int = 5_000


@dataclass
class SearchTrace:
    """What one search did (for ``explain`` and tests): per-signal ranked ids and the plan chosen."""

    lists: dict[str, list[str]] = field(default_factory=dict)
    plan: dict[str, str] = field(default_factory=dict)
    entities: list[str] = field(default_factory=list)
    spans: list[TimeSpan] = field(default_factory=list)


class Retriever:
    """Runs hybrid searches over one lake. Thread-safe; keeps small per-version caches."""

    def __init__(self, config: SearchConfig | None = None) -> None:
        self.config = config or SearchConfig()
        self._counts: dict[tuple[int, str], int] = {}
        self._lock = threading.Lock()

    # -- public -----------------------------------------------------------------------------------------
    def search(self, snap: Snapshot, ents: TenantEntities, tenant: str, query: str, *, query_vector: np.ndarray | None,
               as_of: datetime | None, now: datetime, k: int, include_archived: bool = False,
               explain: SearchTrace | None = None) -> list[Hit]:
        cfg = self.config
        info = explain if explain is not None else SearchTrace()
        where = trace_filter(tenant, as_of, include_archived)
        anchor = as_of or now
        spans = resolve_time_expressions(query, anchor)
        info.spans = spans
        names = ents.mentioned(query, as_of)
        info.entities = names
        n = max(cfg.candidates, k)
        if query_vector is not None and float(np.linalg.norm(query_vector)) > 0:
            info.lists["vector"] = self._vector(snap, tenant, where, query_vector, n, info)
        terms = keywords(query, limit=32)
        if terms:
            info.lists["text"] = self._text(snap, tenant, where, terms, n, info)
        if names:
            info.lists["entity"] = self._entity(snap, where, names, spans, anchor, n)
        if spans:
            info.lists["time"] = self._time(snap, where, spans, n)
        fused: dict[str, float] = {}
        matched: dict[str, list[str]] = {}
        for signal, ids in info.lists.items():
            w = cfg.weights.get(signal, 1.0)
            for rank, tid in enumerate(ids):
                fused[tid] = fused.get(tid, 0.0) + w / (cfg.rrf_k + rank + 1)
                matched.setdefault(tid, []).append(signal)
        if not fused:
            return []
        rows = self._fetch(snap.traces, where, sorted(fused))
        hits = []
        for row in as_of_rows(rows, as_of, ents):
            tid = row["trace_id"]
            age_days = max(0.0, (anchor - row["last_source_at"]).total_seconds() / 86400.0)
            recency = 0.5 ** (age_days / cfg.recency_half_life_days)
            boost = 1.0 + cfg.strength_weight * min(1.0, max(0.0, row["strength"])) + cfg.recency_weight * recency
            hits.append(_hit(row, fused[tid] * boost, tuple(matched[tid])))
        hits.sort(key=lambda h: (-h.score, h.trace_id))
        return hits[:k]

    # -- signals --------------------------------------------------------------------------------------------
    def tenant_rows(self, snap: Snapshot, tenant: str) -> int:
        key = (snap.traces.version, tenant)
        with self._lock:
            if key in self._counts:
                return self._counts[key]
        count = snap.traces.count_rows(filter=f"tenant = {quote(tenant)}")
        with self._lock:
            if len(self._counts) > 4096:
                self._counts.clear()
            self._counts[key] = count
        return count

    def _vector(self, snap: Snapshot, tenant: str, where: str, qv: np.ndarray, n: int, info: SearchTrace) -> list[str]:
        cfg = self.config
        nearest: dict[str, Any] = {"column": "embedding", "q": np.asarray(qv, dtype=np.float32), "k": n,
                                   "metric": "cosine"}
        exact = not snap.has_index("traces", "embedding") or self.tenant_rows(snap, tenant) <= cfg.flat_search_max_rows
        if exact:
            nearest["use_index"] = False
        else:
            nearest.update(nprobes=cfg.nprobes, refine_factor=cfg.refine_factor)
        info.plan["vector"] = "flat" if exact else "ivf_pq"
        table = snap.traces.to_table(columns=["trace_id", "_distance"], filter=where, prefilter=True,
                                     nearest=nearest, disable_scoring_autoprojection=True)
        dist = table["_distance"].to_numpy(zero_copy_only=False)
        ids = table["trace_id"].to_pylist()
        order = sorted((float(d), t) for d, t in zip(dist, ids) if not math.isnan(d))
        return [t for _, t in order[:n]]

    def _text(self, snap: Snapshot, tenant: str, where: str, terms: list[str], n: int, info: SearchTrace) -> list[str]:
        if snap.has_index("traces", "text"):
            info.plan["text"] = "fts"
            table = snap.traces.to_table(columns=["trace_id", "_score"], filter=where, prefilter=True,
                                         full_text_query=" ".join(terms), limit=n,
                                         disable_scoring_autoprojection=True)
            pairs = sorted((-float(s), t) for s, t in zip(table["_score"].to_pylist(), table["trace_id"].to_pylist()))
            return [t for _, t in pairs[:n]]
        info.plan["text"] = "keywords_bm25"
        table = snap.traces.to_table(columns=["trace_id", "keywords"], prefilter=True,
                                     filter=f"{where} AND array_has_any(keywords, [{str_list(terms)}])")
        if not table.num_rows:
            return []
        flat = pc.list_flatten(table["keywords"])
        parents = pc.list_parent_indices(table["keywords"])
        hit = pc.is_in(flat, value_set=pa.array(terms, pa.string()))
        words = pc.filter(flat, hit).to_pylist()
        rows = pc.filter(parents, hit).to_numpy()
        total = max(self.tenant_rows(snap, tenant), table.num_rows)
        df: dict[str, int] = {}
        for w in words:
            df[w] = df.get(w, 0) + 1
        idf = {w: math.log(1.0 + (total - c + 0.5) / (c + 0.5)) for w, c in df.items()}
        scores = np.zeros(table.num_rows)
        for r, w in zip(rows, words):
            scores[r] += idf[w]
        ids = table["trace_id"].to_pylist()
        order = sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))
        return [ids[i] for i in order[:n]]

    def _entity(self, snap: Snapshot, where: str, names: list[str], spans: list[TimeSpan], anchor: datetime,
                n: int) -> list[str]:
        table = snap.traces.to_table(columns=["trace_id", "entities", "occurred_at"], prefilter=True,
                                     filter=f"{where} AND array_has_any(entities, [{str_list(names)}])",
                                     limit=self.config.max_entity_rows)
        if not table.num_rows:
            return []
        flat = pc.list_flatten(table["entities"])
        parents = pc.list_parent_indices(table["entities"])
        hit = pc.is_in(flat, value_set=pa.array(names, pa.string()))
        counts = np.bincount(pc.filter(parents, hit).to_numpy(), minlength=table.num_rows)
        when = _micros(table["occurred_at"])
        if spans:
            lo = np.array([_us(s.start) for s in spans])
            hi = np.array([_us(s.end) for s in spans])
            inside = ((when[:, None] >= lo) & (when[:, None] < hi)).any(axis=1)
            mid = (lo + hi) // 2
            dist = np.abs(when[:, None] - mid).min(axis=1)
        else:
            inside = np.zeros(table.num_rows, dtype=bool)
            dist = np.abs(_us(anchor) - when)
        ids = np.array(table["trace_id"].to_pylist(), dtype=object)
        order = np.lexsort((ids, dist, ~inside, -counts))
        return ids[order[:n]].tolist()

    def _time(self, snap: Snapshot, where: str, spans: list[TimeSpan], n: int) -> list[str]:
        ors = []
        for s in spans:
            a, b = ts_literal(s.start), ts_literal(s.end)
            ors.append(f"(occurred_at >= {a} AND occurred_at < {b})")
            ors.append(f"(time_start < {b} AND time_end > {a})")
        table = snap.traces.to_table(columns=["trace_id", "occurred_at", "time_start", "time_end"], prefilter=True,
                                     filter=f"{where} AND ({' OR '.join(ors)})", limit=self.config.max_time_rows)
        if not table.num_rows:
            return []
        when = _micros(table["occurred_at"])
        ts = _micros(table["time_start"], fill=np.iinfo(np.int64).max)
        te = _micros(table["time_end"], fill=np.iinfo(np.int64).min)
        lo = np.array([_us(s.start) for s in spans])
        hi = np.array([_us(s.end) for s in spans])
        mentions = ((ts[:, None] < hi) & (te[:, None] > lo)).any(axis=1)
        point = np.where(mentions, ts, when)
        dist = np.abs(point[:, None] - (lo + hi) // 2).min(axis=1)
        ids = np.array(table["trace_id"].to_pylist(), dtype=object)
        order = np.lexsort((ids, dist, ~mentions))
        return ids[order[:n]].tolist()

    @staticmethod
    def _fetch(traces: lance.LanceDataset, where: str, ids: list[str]) -> pa.Table:
        return traces.to_table(columns=READ_COLUMNS, filter=f"{where} AND trace_id IN ({str_list(ids)})")


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
