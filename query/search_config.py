"""Knobs of hybrid search (:class:`SearchConfig`) and what one search did (:class:`SearchTrace`).

The defaults are tuned on the LoCoMo benchmark and the test stories; ``docs/queries.md`` explains each one and
``docs/locomo.md`` what each mechanism contributes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tracelake.operators.temporal import TimeSpan

__all__ = ["SearchConfig", "SearchTrace"]



@dataclass(frozen=True)
class SearchConfig:
    """Knobs of :class:`Retriever` (defaults tuned on the LoCoMo-style test stories and the benchmark)."""

    #: Traces per candidate generator. 80 with ``stream_decay`` 0.95 (session 16; was 50 and 0.9): LoCoMo R@10
    #: turns 0.745 -> 0.758, the story corpus's context pass unchanged, search p50 ~27 -> ~35 ms.
    candidates: int = 80
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
    #: 1 measured best on LoCoMo alone but cost story context pass (docs/locomo.md).
    stream_decay: float = 0.95
    diversity_pool: int = 3
    #: Tenants with at most this many traces get the text signal from a tenant-local BM25 (:mod:`.lexical`,
    #: statistics over the traces visible at ``as_of``); larger ones from Lance's full-text index.
    local_text_max_rows: int = 50_000
    #: Okapi BM25 parameters of the tenant-local text signal: the Anserini/Pyserini defaults for short passages
    #: (a dialogue turn or a sentence), rather than the k1 = 1.2, b = 0.75 tuned for long documents.
    bm25_k1: float = 0.9
    bm25_b: float = 0.4
    #: Supersession signal (:mod:`.supersession`): score factor of a turn whose facts were all superseded or
    #: ended before ``as_of``, for a question about the present; and of a turn that only asks a question.
    superseded_penalty: float = 0.5
    question_penalty: float = 0.7
    #: ... and of a turn stating a fact valid at ``as_of`` that is about what a present-tense question asks.
    current_fact_boost: float = 1.5
    #: Adjacency pairs (:mod:`.dialogue`): the reply to a candidate that asks something gains this × the
    #: candidate's score (0: off).
    reply_credit: float = 0.7
    #: Focus (:mod:`.focus`): when the question names some candidates' speaker, the other speakers' turns are
    #: multiplied by ``other_speaker_factor``; when it names a window of at most a month, the candidates outside
    #: it by ``other_time_factor`` (1: off).
    other_speaker_factor: float = 0.6
    other_time_factor: float = 0.5
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
