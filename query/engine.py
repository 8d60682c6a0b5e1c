"""The query room's entry point: :class:`QueryEngine`, one per :class:`tracelake.api.Lake`.

Every method takes a required ``tenant`` and optional times (aware ``datetime``, ISO-8601 with offset, or epoch
milliseconds), reads the consolidated tables at their published versions (:mod:`.snapshot`) and never writes.
"""

from __future__ import annotations

import threading
from functools import partial
from datetime import datetime
from typing import Any, Callable

import numpy as np
import pyarrow as pa

from tracelake.errors import ConfigError, ValidationError
from tracelake.results import Bundle, Context, Hit, word_count
from tracelake.settings import Settings
from tracelake.storage import LakeStore
from tracelake.timeutil import TimeLike, now_utc, parse_time

from .clause_vectors import ClauseVectors
from .context import (ContextConfig, bridge_names, event_names, event_statements, pack, select_facts, turn_units,
                      visible_facts)
from .evidence import select_evidence
from .question import question_stems
from .entities import EntityDirectory
from .facts import fact_history, read_facts
from .reconstruct import ReconstructConfig, build_bundle, within_budget
from .retrieval import Retriever, SearchConfig, SearchTrace
from .snapshot import PublishedVersions, Snapshot, SnapshotSource, check_tenant
from .supersession import Supersession, TenantFacts, question_mode
from .traces import timeline

__all__ = ["QueryEngine"]

#: Embedder aliases by output dimension, used when the configured embedder does not match the lake.
_ALIAS_BY_DIM = {384: "minilm", 64: "static", 256: "hash"}


class QueryEngine:
    """Search, context, reconstruct, timeline and facts over one lake. Thread-safe; cheap per call.

    ``embedder`` (an object with ``dim`` and ``embed(texts) -> array``) replaces the lake's query embedder —
    it must match the lake's embedding dimension; ``search_config``, ``reconstruct_config`` and
    ``context_config`` replace the defaults (benchmarks and ablations use these through
    :meth:`tracelake.api.Lake.query_engine`)."""

    def __init__(self, store: LakeStore, settings: Settings, *, search_config: SearchConfig | None = None,
                 reconstruct_config: ReconstructConfig | None = None, context_config: ContextConfig | None = None,
                 embedder: Any = None, clock: Callable[[], datetime] = now_utc,
                 published: PublishedVersions | None = None) -> None:
        self.store = store
        self.settings = settings
        self.snapshots = SnapshotSource(store, published)
        self.directory = EntityDirectory()
        self.retriever = Retriever(search_config)
        self.reconstruct_config = reconstruct_config or ReconstructConfig()
        self.context_config = context_config or ContextConfig()
        self.facts_cache = TenantFacts()
        self.clock = clock
        self._embedder: Any = embedder
        self._clause_vectors: ClauseVectors | None = None
        self._lock = threading.Lock()

    # -- helpers ---------------------------------------------------------------------------------------------
    def embedder(self) -> Any:
        """The embedder for query vectors: the configured one, or the registered alias of the lake's dimension."""
        with self._lock:
            if self._embedder is None:
                from tracelake.embedding import get_embedder

                dim = self.store.embedding_dim()
                device = self.settings.embed_device
                emb = get_embedder(self.settings.embedder, device)
                if emb.dim != dim:
                    alias = _ALIAS_BY_DIM.get(dim)
                    if alias is None:
                        raise ConfigError("no embedder matches the lake's embedding dimension", dim=dim,
                                          configured=self.settings.embedder, hint="set TRACELAKE_EMBEDDER")
                    emb = get_embedder(alias, device)
                self._embedder = emb
            return self._embedder

    def clause_vectors(self) -> ClauseVectors:
        """The clause vectors of this lake for the query embedder (cache first, then the embedder)."""
        emb = self.embedder()
        with self._lock:
            if self._clause_vectors is None or self._clause_vectors.embedder is not emb:
                self._clause_vectors = ClauseVectors(self.store, emb)
            return self._clause_vectors

    def _query_vector(self, text: str) -> np.ndarray | None:
        if not text.strip():
            return None
        return self.embedder().embed([text])[0]

    @staticmethod
    def _k(k: int) -> int:
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 1000:
            raise ValidationError("k must be an integer between 1 and 1000", k=k)
        return k

    def _idf(self, snap: Snapshot, tenant: str, question: str, as_of: datetime | None) -> dict[str, float] | None:
        """IDF of the question's stems over the tenant's traces visible at ``as_of`` (its local BM25 index), or
        ``None`` when the tenant has none loaded (large tenants: the evidence step weighs by its candidates)."""
        ws = self.retriever.cached_working_set(snap, tenant)
        if ws is None or ws.lexical is None:
            return None
        return ws.lexical.idf(question_stems(question), ws.visible(as_of, include_archived=False))

    def _supersession(self, snap: Snapshot, tenant: str, question: str, as_of: datetime | None,
                      known_at: datetime | None, now: datetime) -> Supersession | None:
        """The supersession penalties for one query (``None`` when both factors are switched off)."""
        cfg = self.retriever.config
        if cfg.superseded_penalty == 1.0 and cfg.question_penalty == 1.0 and cfg.current_fact_boost == 1.0:
            return None
        return Supersession.build(self.facts_cache.get(snap, tenant), question, as_of=as_of or now,
                                  known_at=known_at or now, superseded_penalty=cfg.superseded_penalty,
                                  question_penalty=cfg.question_penalty, current_boost=cfg.current_fact_boost)

    # -- API --------------------------------------------------------------------------------------------------
    def search(self, query: str, tenant: str, as_of: TimeLike | None = None, k: int = 10, *,
               include_archived: bool = False, explain: SearchTrace | None = None,
               context_turns: int = 0, known_at: TimeLike | None = None) -> list[Hit]:
        tenant = check_tenant(tenant)
        t = parse_time(as_of, name="as_of")
        kt = parse_time(known_at, name="known_at")
        k = self._k(k)
        if isinstance(context_turns, bool) or not isinstance(context_turns, int) or not 0 <= context_turns <= 50:
            raise ValidationError("context_turns must be an integer between 0 and 50", context_turns=context_turns)
        snap = self.snapshots.current()
        ents = partial(self.directory.tenant, snap.entities, tenant)
        now = self.clock()
        return self.retriever.search(snap, ents, tenant, query or "", query_vector=self._query_vector(query or ""),
                                     as_of=t, now=now, k=k, include_archived=include_archived,
                                     explain=explain, context_turns=context_turns,
                                     supersession=self._supersession(snap, tenant, query or "", t, kt, now))

    def context(self, question: str, tenant: str, as_of: TimeLike | None = None, *,
                known_at: TimeLike | None = None, budget_words: int = 120) -> Context:
        """The best context for ``question`` as of ``as_of`` (as known at ``known_at``), never over
        ``budget_words`` words: matching facts (with validity and what they superseded) first, then evidence
        turns (see :mod:`.context`). An unknown tenant, or an ``as_of`` before any event, gives an empty context."""
        if not isinstance(question, str) or not question.strip():
            raise ValidationError("question is required (a non-empty string)")
        cfg = self.context_config
        if isinstance(budget_words, bool) or not isinstance(budget_words, int) or not \
                1 <= budget_words <= cfg.max_budget:
            raise ValidationError(f"budget_words must be an integer between 1 and {cfg.max_budget}",
                                  budget_words=budget_words)
        tenant = check_tenant(tenant)
        t = parse_time(as_of, name="as_of")
        kt = parse_time(known_at, name="known_at")
        now = self.clock()
        snap = self.snapshots.current()
        ents = self.directory.tenant(snap.entities, tenant)
        info = SearchTrace(with_lists=False)
        sup = self._supersession(snap, tenant, question, t, kt, now)
        q_vector = self._query_vector(question)
        rows = visible_facts(self.facts_cache.get(snap, tenant), as_of=t or now, known_at=kt or now)
        # "where does Ana's sister live": the sister's name (a current fact) is looked for too (search and clauses)
        reach = " ".join([question, *bridge_names(rows, question, mentioned=[])])
        hits = self.retriever.search(snap, ents, tenant, reach, query_vector=q_vector,
                                     as_of=t, now=now, k=cfg.hits, explain=info, supersession=sup)
        mode = sup.mode if sup is not None else question_mode(question)
        facts = select_facts(rows, question, mentioned=info.entities, mode=mode,
                             hit_events=[h.source_event_ids for h in hits], cfg=cfg)
        lead = pack([f for f in facts if f.score >= cfg.fact_lead_score], budget_words)
        rest = [f for f in facts if f.score < cfg.fact_lead_score]
        left = budget_words - sum(word_count(f.text) for f in lead)
        evidence = select_evidence(hits, turn_units(snap.traces, tenant, hits, t), reach, left,
                                   self._idf(snap, tenant, reach, t), q_vector, cfg.evidence,
                                   present=mode == "present", names=event_names(rows, hits),
                                   statements=event_statements(rows, hits, question, mentioned=info.entities),
                                   clause_vectors=self.clause_vectors())
        items = [*lead, *evidence]
        items += pack(rest, budget_words - sum(word_count(i.text) for i in items))
        return Context(question=question, tenant=tenant, as_of=t, known_at=kt, budget_words=budget_words,
                       mode=mode, items=tuple(items))

    def reconstruct(self, question: str, tenant: str, as_of: TimeLike | None = None, *, k: int = 12,
                    known_at: TimeLike | None = None, include_archived: bool = False,
                    budget_words: int | None = None) -> Bundle:
        """A situation-level bundle (:mod:`.reconstruct`), ranked with the supersession signal; with
        ``budget_words`` its texts are cut to at most that many words (:func:`.reconstruct.within_budget`)."""
        tenant = check_tenant(tenant)
        t = parse_time(as_of, name="as_of")
        kt = parse_time(known_at, name="known_at")
        k = self._k(k)
        if budget_words is not None and (isinstance(budget_words, bool) or not isinstance(budget_words, int)
                                         or not 1 <= budget_words <= self.context_config.max_budget):
            raise ValidationError(f"budget_words must be an integer between 1 and {self.context_config.max_budget}",
                                  budget_words=budget_words)
        snap = self.snapshots.current()
        ents = self.directory.tenant(snap.entities, tenant)
        info = SearchTrace(with_lists=False)
        now = self.clock()
        hits = self.retriever.search(snap, ents, tenant, question or "",
                                     query_vector=self._query_vector(question or ""), as_of=t, now=now, k=k,
                                     include_archived=include_archived, explain=info,
                                     supersession=self._supersession(snap, tenant, question or "", t, kt, now))

        def window(lo: datetime, hi: datetime) -> pa.Table:
            return self.retriever.window_rows(snap, tenant, lo, hi, t, include_archived)

        bundle = build_bundle(snap, ents, tenant, question or "", hits, info, as_of=t, now=now, known_at=kt,
                              include_archived=include_archived, config=self.reconstruct_config, window=window,
                              ws=self.retriever.cached_working_set(snap, tenant))
        return within_budget(bundle, budget_words) if budget_words is not None else bundle

    def resolve_entity(self, entity: str, tenant: str, as_of: TimeLike | None = None) -> list[str]:
        """Canonical names ``entity`` refers to in ``tenant`` (``[entity]`` when the entities table has none)."""
        tenant = check_tenant(tenant)
        t = parse_time(as_of, name="as_of")
        snap = self.snapshots.current()
        return self.directory.tenant(snap.entities, tenant).canonical(entity, t) or [entity]

    def timeline(self, entity: str, tenant: str, start: TimeLike | None = None, end: TimeLike | None = None, *,
                 as_of: TimeLike | None = None, include_archived: bool = False, limit: int | None = None) -> pa.Table:
        tenant = check_tenant(tenant)
        if not entity or not str(entity).strip():
            raise ValidationError("entity is required")
        lo, hi = parse_time(start, name="start"), parse_time(end, name="end")
        t = parse_time(as_of, name="as_of")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ValidationError("limit must be a positive integer", limit=limit)
        snap = self.snapshots.current()
        ents = self.directory.tenant(snap.entities, tenant)
        names = ents.canonical(entity, t) or [entity]
        return timeline(snap.traces, tenant, names, start=lo, end=hi, as_of=t, include_archived=include_archived,
                        limit=limit, entities=ents, ws=self.retriever.cached_working_set(snap, tenant))

    def facts(self, tenant: str, subject: str | None = None, as_of: TimeLike | None = None,
              known_at: TimeLike | None = None, *, predicate: str | None = None,
              include_archived: bool = False, history: bool = False) -> pa.Table:
        tenant = check_tenant(tenant)
        now = self.clock()
        t = parse_time(as_of, name="as_of") or now
        kt = parse_time(known_at, name="known_at") or now
        snap = self.snapshots.current()
        subjects = None
        if subject:
            subjects = sorted(set(self.directory.tenant(snap.entities, tenant).canonical(subject, t)) | {subject})
        if history:
            rows = fact_history(snap.facts, tenant, subjects, as_of=t, known_at=kt, include_archived=include_archived)
            return pa.Table.from_pylist([r for r in rows if not predicate or r["predicate"] == predicate])
        return read_facts(snap.facts, tenant, as_of=t, known_at=kt, subjects=subjects, predicate=predicate,
                          include_archived=include_archived)
