"""Hybrid retrieval: vector + full text + entities + time, fused by weighted reciprocal rank, re-ranked by
strength, recency and what the lake knows about supersession. Everything is scoped to one tenant and, with
``as_of=T``, to the traces visible at ``T`` (``occurred_at <= T``, not archived, not converged) — applied
*before* ranking.

The parts, one job per module: knobs (:mod:`.search_config`), the tenant's cached working set
(:mod:`.working_set`), the four candidate generators (:mod:`.signals`), fusion / one hit per event / diversity
(:mod:`.fusion`), the supersession and question-turn penalty (:mod:`.supersession`), the reply to a turn that
asks (:mod:`.dialogue`), the speaker and time window a question names (:mod:`.focus`) and context windows
(:mod:`.windows`). This module runs one search: it starts the index lookups in parallel with the working-set
load, asks each signal for its list, fuses them and reads only the rows that can still reach the pool.
Ties break on ``trace_id``: the same lake and query always give the same list.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Callable

import numpy as np
import pyarrow as pa

from tracelake.operators.temporal import resolve_time_expressions
from tracelake.operators.text import keywords
from tracelake.results import Hit
from tracelake.timeutil import dt_micros

from . import signals
from .dialogue import replies, with_replies
from .entities import TenantEntities
from .focus import speaker_focus, time_focus
from .fusion import boost, diversify, fuse, make_hit, max_boost, per_event
from .search_config import SearchConfig, SearchTrace
from .snapshot import Snapshot
from .supersession import Supersession
from .traces import as_of_rows, trace_filter
from .windows import neighbours, window_rows
from .working_set import WorkingSet, WorkingSets, fetch

__all__ = ["SearchConfig", "Retriever", "SearchTrace"]


class Retriever:
    """Runs hybrid searches over one lake. Thread-safe; caches tenants' working sets per traces version."""

    def __init__(self, config: SearchConfig | None = None) -> None:
        self.config = config or SearchConfig()
        self.sets = WorkingSets(self.config)
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="tracelake-search")

    def working_set(self, snap: Snapshot, tenant: str, dim: int = 0) -> WorkingSet:
        """The tenant's working set (loaded and cached on first use)."""
        return self.sets.get(snap, tenant, dim)

    def cached_working_set(self, snap: Snapshot, tenant: str) -> WorkingSet | None:
        """The tenant's working set if it is already loaded (never loads it)."""
        return self.sets.cached(snap, tenant)

    def window_rows(self, snap: Snapshot, tenant: str, lo: datetime, hi: datetime, as_of: datetime | None,
                    include_archived: bool, limit: int = 500) -> pa.Table:
        """The tenant's visible rows with ``lo <= occurred_at <= hi`` (see :func:`.windows.window_rows`)."""
        return window_rows(self.sets, snap, tenant, lo, hi, as_of, include_archived, limit)

    def search(self, snap: Snapshot, ents: TenantEntities | Callable[[], TenantEntities], tenant: str, query: str,
               *, query_vector: np.ndarray | None, as_of: datetime | None, now: datetime, k: int,
               include_archived: bool = False, explain: SearchTrace | None = None,
               context_turns: int = 0, supersession: Supersession | None = None) -> list[Hit]:
        """Hybrid search. ``ents`` may be a loader (called on a worker thread, overlapping the other reads).

        One hit per source event: candidates are collapsed by their first source event (best score kept; the
        event's whole-text trace stands for it when it is a candidate). The ``k`` hits are then picked from the
        best ``diversity_pool × k`` events by :func:`.fusion.diversify` (repeated streams decayed). With
        ``context_turns = N > 0`` each hit carries the text of up to ``N`` neighbouring events of its stream on
        each side (visible at ``as_of``), and no event is returned twice in the list (as a hit or in a window).
        ``supersession`` (optional) multiplies each candidate's score by a penalty in ``(0, 1]``: evidence of
        facts superseded before ``as_of`` for a present-tense question, question turns. Before the pick, the reply
        to a pool event that asks something joins the pool with ``reply_credit ×`` the asker's score (added to its
        own when it is already there, :mod:`.dialogue`); when the question names some pool events' speaker, the
        others' are multiplied by ``other_speaker_factor``, and when it names a window of at most a month, the
        events outside it by ``other_time_factor`` (:mod:`.focus`)."""
        cfg = self.config
        sets = self.sets
        info = explain if explain is not None else SearchTrace()
        anchor = as_of or now
        n = max(cfg.candidates, k)
        pool = self._pool
        # Index lookups that need nothing but the tenant start first and overlap the working-set load.
        f_ents = pool.submit(ents) if callable(ents) else None
        has_vector = query_vector is not None and float(np.linalg.norm(query_vector)) > 0
        f_ws = pool.submit(sets.get, snap, tenant, len(query_vector) if has_vector else 0)
        terms = keywords(query, limit=32)
        local_text = sets.tenant_count(snap, tenant) <= cfg.local_text_max_rows
        f_text = pool.submit(signals.text_lookup, sets, snap, tenant, terms, n) if terms and not local_text else None
        cached = sets.cached(snap, tenant)
        f_lex = (pool.submit(sets.build_lexical, snap, tenant)
                 if local_text and (cached is None or cached.lexical is None) else None)
        spans = resolve_time_expressions(query, anchor)
        info.spans = spans
        tenant_ents = f_ents.result() if f_ents is not None else ents
        names = tenant_ents.mentioned(query, as_of)
        info.entities = names
        f_names = [pool.submit(signals.entity_lookup, snap, tenant, name) for name in names]
        ws = f_ws.result()
        visible = ws.visible(as_of, include_archived)
        n_visible = int(visible.sum())
        where = trace_filter(tenant, as_of, include_archived)
        lists: dict[str, np.ndarray] = {}  # signal -> working-set positions, best first
        if n_visible:
            if has_vector:
                lists["vector"] = signals.vector(sets, snap, tenant, ws, visible, where, query_vector, n, info)
            if local_text:
                info.plan["text"] = "local_bm25"
                lexical = sets.lexical(snap, tenant, ws, f_lex)
                lists["text"] = lexical.search(query, visible, n, ws.rowid, cfg.bm25_k1, cfg.bm25_b)
            elif f_text is not None:
                lists["text"] = signals.text(sets, snap, ws, visible, n_visible, where, terms, n, f_text.result(),
                                             info)
            if names:
                lists["entity"] = signals.entity(ws, visible, [f.result() for f in f_names], spans, anchor, n)
            if spans:
                lists["time"] = signals.time(sets.times(snap, tenant, ws), visible, spans, n)
        else:
            for f in [f_text, *f_names]:
                if f is not None:
                    f.result()
            if f_lex is not None:
                sets.lexical(snap, tenant, ws, f_lex)
        cand, base, matched = fuse(lists, cfg)
        if not len(cand):
            return []
        if explain is not None and explain.with_lists:  # name every candidate of every signal (an extra read)
            names_of = fetch(snap.traces, ws.rowid[cand], ["trace_id"], where)["trace_id"].to_pylist()
            tid = dict(zip(cand.tolist(), names_of))
            info.lists = {s: [tid[p] for p in pos.tolist()] for s, pos in lists.items()}
        # Re-ranking multiplies by at most ``max_boost``: a candidate whose fused score cannot reach the k-th best
        # event even boosted is out (exact), before any of its columns is read. Candidates are read best first in
        # growing batches until k distinct events are certain.
        top_boost = max_boost(cfg)
        anchor_us = dt_micros(anchor)
        hits: list[Hit] = []
        done = 0
        # Diversification picks the k hits from the best ``diversity_pool × k`` events.
        # Replies and focus (:mod:`.dialogue`, :mod:`.focus`) re-rank the same pool, so a reply, or a turn of the
        # speaker or time asked about, can reach the top from below it.
        spread = (cfg.stream_decay < 1.0 or context_turns or cfg.reply_credit > 0 or cfg.other_speaker_factor < 1.0
                  or cfg.other_time_factor < 1.0)
        pool_k = k * max(1, cfg.diversity_pool) if spread else k
        take = min(len(cand), max(pool_k, 1))
        while True:
            floor = base[take - 1] / top_boost
            while take < len(cand) and base[take] >= floor:
                take += 1
            rows = as_of_rows(fetch(snap.traces, ws.rowid[cand[done:take]], where=where), as_of, tenant_ents)
            penalties = supersession.penalties(rows) if supersession is not None else [1.0] * len(rows)
            for p, b, row, pen in zip(cand[done:take].tolist(), base[done:take].tolist(), rows, penalties):
                age_days = max(0.0, (anchor_us - dt_micros(row["last_source_at"])) / 86_400e6)
                hits.append(make_hit(row, b * boost(row, age_days, cfg) * pen, tuple(matched[p])))
            done = take
            top = per_event(hits, tenant)
            if done >= len(cand) or (len(top) >= pool_k and top[pool_k - 1].score > base[done] * top_boost):
                break
            take = min(len(cand), max(done * 2, done + pool_k))
        top = top[:pool_k]
        if cfg.reply_credit > 0:
            top = with_replies(top, replies(sets, snap, tenant, ws, top, as_of, include_archived, tenant_ents,
                                             cfg.reply_credit))
        top = time_focus(speaker_focus(top, query, cfg.other_speaker_factor), spans, cfg.other_time_factor)
        windows = (neighbours(sets, snap, tenant, ws, top, as_of, include_archived, context_turns)
                   if context_turns > 0 and top else None)
        return diversify(top, k, cfg.stream_decay, windows)
