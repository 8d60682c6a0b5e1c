"""LoCoMo evidence-recall benchmark: does ``lake.search`` return the dialogue turns that answer a question?

Run (from the repo root)::

    .venv/bin/python benchmarks/locomo.py                                   # 10 conversations, minilm
    .venv/bin/python benchmarks/locomo.py --conversations 1 --embedder hash # quick
    .venv/bin/python benchmarks/locomo.py --ablation                        # + signal ablation

Writes JSON (``--out``, default ``benchmarks/results/locomo.json``) and prints a markdown report. The data is
*not* in the repository: LoCoMo (github.com/snap-research/locomo, ``data/locomo10.json``) is CC BY-NC 4.0;
``--data`` defaults to ``../shared/data/locomo/locomo10.json`` relative to the repo root. See docs/locomo.md.

What is done
------------
1. **Convert**: one event per dialogue turn. ``tenant`` = ``sample_id``, ``stream`` = ``session_N``, ``actor`` =
   speaker, ``event_id`` = ``dia_id``, ``occurred_at`` = the session's ``date_time`` (UTC) + 30 s × turn index.
   A turn with a photo gets `` [shares a photo: <blip_caption>]`` appended to its text; caption and url in attrs.
2. **Ingest** through ``tracelake.connect(tmpdir, embedder=...)`` / ``lake.ingest``; **consolidate** in two
   runs: ``steps=["decompose", "merge"]``, then ``steps=["decay", "reindex"]``; recall is measured after each.
3. **Questions** of categories 1-4 (1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop; 5 adversarial is
   skipped). Evidence strings are normalised (split on ``;``/``,``/spaces, ``D:11:26`` -> ``D11:26``, leading
   zeros dropped) and ids that do not exist in the conversation are dropped; a question left without
   evidence is skipped (counted).
4. **Search** ``lake.search(question, tenant, as_of=end, k, context_turns=2)`` with ``end`` = last turn + 1 min.
   A hit *contains* an evidence turn when its ``source_event_ids`` or its context window
   (``context_event_ids``: returned text) include the ``dia_id``. Metrics per question, averaged overall and
   per category: evidence recall@1/5/10/25, all-evidence hit@10, session recall@5/10, MRR (first hit
   containing any evidence, within k), tokens returned at k=10 (regex ``\\w+|[^\\w\\s]`` over the hit texts
   and windows). The same lists without windows are reported as "hits only".
5. **BM25 baseline** in the same run: one document per turn (text + caption), lower-cased ``\\w+`` tokens
   minus a 98-word stopword list, k1=1.2, b=0.75, per conversation. Reports carry tracelake/BM25 ratios.
   Variants (stopwords kept, ``Speaker:`` prefixed, previous turn as context) estimate lexical mechanisms.
6. **Time checks**: (a) ``as_of`` = 1 min after the last turn of the latest evidence session: recall@10 there;
   (b) ``as_of`` = 1 s before the earliest evidence session starts: every hit must have ``occurred_at <=
   as_of`` and only sources that occurred at or before ``as_of`` (violations counted; must be 0).
7. **Coverage**: fraction of evidence ``dia_id``s in the ``source_event_ids`` of some default-visible trace
   (``archived = false AND merged_into IS NULL``), after each consolidation run.
8. **reconstruct** (``lake.reconstruct``-equivalent, k=10): recall and tokens of the bundle. **Misses**: every
   evidence turn outside the top 10 tagged with generic features; what fills the top-10 slots.
9. **Ablation** (``--ablation``): searches again with one mechanism switched off per row (:data:`ABLATION`,
   :class:`tracelake.query.search_config.SearchConfig` overrides) through a
   :class:`tracelake.query.engine.QueryEngine` built with ``search_config=`` over the same store. Every pass but
   the headline one shares batch-computed query vectors (a subclass overrides ``QueryEngine.embedder``); the
   headline pass is the public ``lake.search`` and the run checks that both give identical lists.

Experiments: ``--text-format speaker|context`` ingests ``"Speaker: text"`` (optionally preceded by the previous
turn of the session) to measure speaker-attributed / context-carrying traces; ``--details PATH`` writes
per-question JSONL (LoCoMo text: keep it out of the repository).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from locomo_turns import TURN_BUDGETS, fusion_rankings, turn_recall, turn_table

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = "../shared/data/locomo/locomo10.json"
SOURCE_NOTE = ("LoCoMo is not part of this repository. Get data/locomo10.json from "
               "https://github.com/snap-research/locomo (license CC BY-NC 4.0, non-commercial) and pass "
               "--data PATH (default: ../shared/data/locomo/locomo10.json relative to the repo root).")
CATEGORIES = {1: "multi_hop", 2: "temporal", 3: "open_domain", 4: "single_hop"}
TURN_OFFSET = timedelta(seconds=30)
RECALL_KS = (1, 5, 10, 25)
TOKEN_RE = re.compile(r"\w+|[^\w\s]")
WORD_RE = re.compile(r"\w+")
BM25_K1, BM25_B = 1.2, 0.75
#: Token budget of the budget-normalised recall (the goal's limit for k=10).
BUDGET = 2000
GOALS = {  # metric -> (target, direction)
    "evidence_recall@10": (0.80, ">="),
    "multi_hop_recall@10": (0.60, ">="),
    "session_recall@10": (0.95, ">="),
    "tokens@10": (2000, "<="),
    "future_leakage_violations": (0, "<="),
}
#: Ablation: each row switches one mechanism off through ``SearchConfig`` overrides (``weights`` entries are
#: merged into the default weights); same lake, same query vectors.
ABLATION: dict[str, dict[str, Any]] = {
    "- stream diversity (stream_decay 1)": {"stream_decay": 1.0},
    "- tenant-local BM25 (Lance full-text index)": {"local_text_max_rows": 0},
    "- short-passage BM25 parameters (k1 1.2, b 0.75)": {"bm25_k1": 1.2, "bm25_b": 0.75},
    "- fact weight (facts 1.0)": {"kind_weights": {}},
    "- vector signal": {"weights": {"vector": 0.0}},
    "- text signal": {"weights": {"text": 0.0}},
    "- entity signal": {"weights": {"entity": 0.0}},
    "- time signal": {"weights": {"time": 0.0}},
    "- strength/recency boost": {"strength_weight": 0.0, "recency_weight": 0.0},
}


# -- data ---------------------------------------------------------------------------------------------------
def parse_session_time(text: str) -> datetime:
    """``"1:56 pm on 8 May, 2023"`` -> aware UTC datetime."""
    return datetime.strptime(" ".join(text.split()), "%I:%M %p on %d %B, %Y").replace(tzinfo=timezone.utc)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class Turn:
    dia_id: str
    session: str
    speaker: str
    text: str  # as ingested (caption appended)
    at: datetime
    image: bool
    attrs: dict[str, Any] | None = None


@dataclass
class Question:
    qid: str
    tenant: str
    category: int
    text: str
    evidence: list[str]
    raw_evidence: list[str]

    @property
    def cat(self) -> str:
        return CATEGORIES[self.category]


@dataclass
class Conversation:
    tenant: str
    speakers: list[str]
    turns: dict[str, Turn]  # dia_id -> turn, in conversation order
    sessions: dict[str, tuple[datetime, datetime]]  # session -> (first turn, last turn)
    questions: list[Question] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    normalisation: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._order = list(self.turns)
        self._pos = {d: i for i, d in enumerate(self._order)}

    def position(self, dia_id: str) -> int:
        return self._pos[dia_id]

    def window(self, ids: Iterable[str], w: int) -> list[str]:
        """``ids`` plus the ``w`` turns before and after each in the same session, in conversation order."""
        out: set[str] = set()
        for d in ids:
            if d not in self._pos:
                continue
            i = self._pos[d]
            for j in range(max(0, i - w), min(len(self._order), i + w + 1)):
                if self.turns[self._order[j]].session == self.turns[d].session:
                    out.add(self._order[j])
        return sorted(out, key=self._pos.__getitem__)

    @property
    def end(self) -> datetime:
        return max(last for _, last in self.sessions.values()) + timedelta(minutes=1)

    def events(self, text_format: str = "plain") -> list[dict[str, Any]]:
        out = []
        prev: Turn | None = None
        for t in self.turns.values():
            text = t.text
            if text_format in ("speaker", "context"):
                text = f"{t.speaker}: {t.text}"
            if text_format == "context" and prev is not None and prev.session == t.session:
                text = f"(after {prev.speaker}: {prev.text})\n{text}"
            prev = t
            ev = {"tenant": self.tenant, "stream": t.session, "actor": t.speaker, "event_id": t.dia_id,
                  "occurred_at": iso(t.at), "text": text, "kind": "message"}
            if t.attrs:
                ev["attrs"] = t.attrs
            out.append(ev)
        return out


def _norm_id(token: str) -> str:
    """``D:11:26`` -> ``D11:26``; ``D30:05`` -> ``D30:5``."""
    m = re.fullmatch(r"D:?(\d+):(\d+)", token.strip())
    return f"D{int(m.group(1))}:{int(m.group(2))}" if m else token.strip()


def convert(sample: dict[str, Any]) -> Conversation:
    conv = sample["conversation"]
    tenant = sample["sample_id"]
    numbers = sorted(int(k.split("_")[1]) for k in conv if re.fullmatch(r"session_\d+", k))
    turns: dict[str, Turn] = {}
    sessions: dict[str, tuple[datetime, datetime]] = {}
    for n in numbers:
        session = f"session_{n}"
        start = parse_session_time(conv[f"{session}_date_time"])
        for i, raw in enumerate(conv[session]):
            text = raw.get("text") or ""
            caption = raw.get("blip_caption")
            image = bool(caption or raw.get("img_url"))
            if caption:
                text = f"{text} [shares a photo: {caption}]".strip()
            attrs = None
            if image:
                urls = raw.get("img_url") or []
                attrs = {"blip_caption": caption, "img_url": urls[0] if len(urls) == 1 else urls}
            turn = Turn(raw["dia_id"], session, raw["speaker"], text, start + i * TURN_OFFSET, image, attrs)
            turns[turn.dia_id] = turn
        sessions[session] = (start, start + (len(conv[session]) - 1) * TURN_OFFSET)
    c = Conversation(tenant, [conv["speaker_a"], conv["speaker_b"]], turns, sessions)
    for i, qa in enumerate(sample["qa"]):
        cat = qa.get("category")
        if cat not in CATEGORIES:
            c.skipped["adversarial" if cat == 5 else f"category_{cat}"] += 1
            continue
        ids: list[str] = []
        for raw in qa.get("evidence") or []:
            parts = [p for p in re.split(r"[;,\s]+", str(raw)) if p]
            if len(parts) > 1:
                c.normalisation["split"] += 1
            for p in parts:
                q = _norm_id(p)
                if q != p:
                    c.normalisation["reformatted"] += 1
                if q not in turns:
                    c.normalisation["dropped_unknown_id"] += 1
                elif q not in ids:
                    ids.append(q)
        if not ids:
            c.skipped["no_evidence"] += 1
            continue
        c.questions.append(Question(f"{tenant}#{i}", tenant, cat, qa["question"], ids, list(qa.get("evidence") or [])))
    return c


def load(path: Path, limit: int | None) -> list[Conversation]:
    samples = json.loads(path.read_text())
    if limit:
        samples = samples[:limit]
    return [convert(s) for s in samples]


def tokens(text: str) -> int:
    return len(TOKEN_RE.findall(text or ""))


# -- metrics ------------------------------------------------------------------------------------------------
@dataclass
class Ranked:
    """One result list reduced to what the metrics need."""

    sources: list[tuple[str, ...]]
    texts: list[str]
    kinds: list[str] = field(default_factory=list)
    occurred: list[datetime] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    matched: list[tuple[str, ...]] = field(default_factory=list)
    streams: list[str] = field(default_factory=list)
    #: The hits' own sources and texts, without their context window (``sources``/``texts`` include it).
    own_sources: list[tuple[str, ...]] = field(default_factory=list)
    own_texts: list[str] = field(default_factory=list)

    def take(self, idx: Sequence[int], texts: Sequence[str] | None = None,
             sources: Sequence[tuple[str, ...]] | None = None) -> Ranked:
        def pick(values: list[Any]) -> list[Any]:
            return [values[i] for i in idx] if values else []

        return Ranked(list(sources) if sources is not None else pick(self.sources),
                      list(texts) if texts is not None else pick(self.texts), pick(self.kinds),
                      pick(self.occurred), pick(self.ids), pick(self.matched), pick(self.streams),
                      pick(self.own_sources), pick(self.own_texts))

    def without_context(self) -> Ranked:
        """The same hits with only their own sources and texts (no context window)."""
        return Ranked(list(self.own_sources or self.sources), list(self.own_texts or self.texts), list(self.kinds),
                      list(self.occurred), list(self.ids), list(self.matched), list(self.streams))


def question_metrics(q: Question, r: Ranked, conv: Conversation, k_max: int) -> dict[str, float]:
    ev = set(q.evidence)
    ev_sessions = {conv.turns[e].session for e in ev}
    out: dict[str, float] = {}
    seen: set[str] = set()
    first = None
    cum: list[set[str]] = []
    for i, src in enumerate(r.sources[:k_max]):
        seen |= set(src)
        cum.append(set(seen))
        if first is None and ev & set(src):
            first = i + 1
    for k in RECALL_KS:
        got = cum[min(k, len(cum)) - 1] if cum else set()
        out[f"recall@{k}"] = len(ev & got) / len(ev)
    top10 = cum[min(10, len(cum)) - 1] if cum else set()
    top5 = cum[min(5, len(cum)) - 1] if cum else set()
    out["all_hit@10"] = float(ev <= top10)
    for k, got in ((5, top5), (10, top10)):
        sess = {conv.turns[s].session for s in got if s in conv.turns}
        out[f"session_recall@{k}"] = len(ev_sessions & sess) / len(ev_sessions)
    out["mrr"] = 1.0 / first if first else 0.0
    out["tokens@10"] = float(sum(tokens(t) for t in r.texts[:10]))
    # Recall within a token budget: hits taken in rank order (up to k) while their texts fit in BUDGET.
    used, got = 0, set()
    for src, text in zip(r.sources[:k_max], r.texts[:k_max]):
        used += tokens(text)
        if used > BUDGET:
            break
        got |= set(src)
    out[f"recall@{BUDGET}tok"] = len(ev & got) / len(ev)
    out["hits@10"] = float(min(10, len(r.sources)))
    return out


METRIC_ORDER = ["recall@1", "recall@5", "recall@10", "recall@25", "all_hit@10", "session_recall@5",
                "session_recall@10", "mrr", "tokens@10", f"recall@{BUDGET}tok"]


def aggregate(rows: list[tuple[Question, dict[str, float]]]) -> dict[str, Any]:
    def mean(items: list[dict[str, float]]) -> dict[str, float]:
        keys = items[0].keys() if items else []
        return {k: round(sum(m[k] for m in items) / len(items), 4) for k in keys}

    out: dict[str, Any] = {"overall": {"questions": len(rows), **mean([m for _, m in rows])}, "by_category": {}}
    for cat, name in CATEGORIES.items():
        sub = [m for q, m in rows if q.category == cat]
        if sub:
            out["by_category"][name] = {"questions": len(sub), **mean(sub)}
    return out


# -- BM25 ---------------------------------------------------------------------------------------------------
class BM25:
    """Okapi BM25 over one conversation's turns (one document per turn, caption included); lower-cased ``\\w+``
    tokens minus :data:`_STOP` (a 98-word English stopword list) unless ``stopwords=False``;
    ``idf = ln(1 + (N - df + 0.5) / (df + 0.5))``."""

    def __init__(self, docs: Sequence[str], k1: float = BM25_K1, b: float = BM25_B, stopwords: bool = True) -> None:
        self.k1, self.b = k1, b
        self.stop = _STOP if stopwords else frozenset()
        self.tf = [Counter(self._tokens(d)) for d in docs]
        self.len = [sum(c.values()) for c in self.tf]
        self.avg = sum(self.len) / max(len(docs), 1)
        df: Counter = Counter()
        for c in self.tf:
            df.update(c.keys())
        n = len(docs)
        self.idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in df.items()}

    def _tokens(self, text: str) -> list[str]:
        return [w for w in WORD_RE.findall(text.lower()) if w not in self.stop]

    def rank(self, query: str, k: int) -> list[int]:
        terms = [w for w in self._tokens(query) if w in self.idf]
        scores = []
        for i, c in enumerate(self.tf):
            s = 0.0
            norm = self.k1 * (1 - self.b + self.b * self.len[i] / self.avg)
            for w in terms:
                f = c.get(w)
                if f:
                    s += self.idf[w] * f * (self.k1 + 1) / (f + norm)
            scores.append(s)
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        return [i for i in order[:k] if scores[i] > 0]


# -- tracelake ----------------------------------------------------------------------------------------------
def _ranked(hits: Iterable[Any]) -> Ranked:
    """A result list; each hit's context window (``context_turns``) counts as returned: its event ids join the
    hit's sources and its texts the hit's text (tokens counted over both)."""
    hits = list(hits)
    own = [tuple(h.source_event_ids) for h in hits]
    own_texts = [h.text for h in hits]
    sources = [tuple(dict.fromkeys((*h.source_event_ids, *h.context_event_ids))) for h in hits]
    texts = ["\n".join([h.text, *h.context]) if h.context else h.text for h in hits]
    return Ranked(sources, texts, [h.kind for h in hits], [h.occurred_at for h in hits], [h.trace_id for h in hits],
                  [tuple(h.matched) for h in hits], [h.stream for h in hits], own, own_texts)


def coverage(lake: Any, convs: list[Conversation]) -> dict[str, Any]:
    """Evidence ids (and all turns) present in the sources of default-visible traces."""
    table = lake.sql("SELECT tenant, source_event_ids FROM traces WHERE archived = false AND merged_into IS NULL")
    covered: dict[str, set[str]] = defaultdict(set)
    for tenant, ids in zip(table["tenant"].to_pylist(), table["source_event_ids"].to_pylist()):
        covered[tenant].update(ids or ())
    ev_total = ev_hit = turns_total = turns_hit = 0
    for c in convs:
        ev = {e for q in c.questions for e in q.evidence}
        ev_total += len(ev)
        ev_hit += len(ev & covered[c.tenant])
        turns_total += len(c.turns)
        turns_hit += len(set(c.turns) & covered[c.tenant])
    counts = lake.sql("SELECT kind, archived, merged_into IS NOT NULL AS merged, count(*) AS n FROM traces "
                      "GROUP BY ALL ORDER BY ALL").to_pylist()
    return {"evidence_coverage": round(ev_hit / max(ev_total, 1), 4), "evidence_ids": ev_total,
            "evidence_ids_covered": ev_hit, "turn_coverage": round(turns_hit / max(turns_total, 1), 4),
            "traces": counts}


def run_searches(search: Callable[[Question, datetime], Ranked], convs: list[Conversation],
                 as_of: Callable[[Conversation, Question], datetime], k: int,
                 progress: str = "") -> tuple[dict[str, Ranked], float]:
    t0 = time.perf_counter()
    out: dict[str, Ranked] = {}
    total = sum(len(c.questions) for c in convs)
    done = 0
    for c in convs:
        for q in c.questions:
            out[q.qid] = search(q, as_of(c, q))
            done += 1
            if progress and done % 250 == 0:
                _log(f"  {progress}: {done}/{total} ({time.perf_counter() - t0:.0f} s)")
    return out, time.perf_counter() - t0


def evaluate(convs: list[Conversation], results: dict[str, Ranked], k: int) -> dict[str, Any]:
    rows = [(q, question_metrics(q, results[q.qid], c, k)) for c in convs for q in c.questions]
    agg = aggregate(rows)
    return agg


def evidence_session_bounds(c: Conversation, q: Question) -> tuple[datetime, datetime]:
    """(start of the earliest evidence session, last turn of the latest evidence session)."""
    sessions = {c.turns[e].session for e in q.evidence}
    return min(c.sessions[s][0] for s in sessions), max(c.sessions[s][1] for s in sessions)


def leakage(convs: list[Conversation], results: dict[str, Ranked],
            as_of: Callable[[Conversation, Question], datetime]) -> dict[str, Any]:
    hits = violations = late_hits = late_sources = unknown = 0
    evidence_found = 0
    for c in convs:
        for q in c.questions:
            t = as_of(c, q)
            r = results[q.qid]
            for src, when in zip(r.sources, r.occurred):
                hits += 1
                late = when > t
                late_src = [s for s in src if s in c.turns and c.turns[s].at > t]
                unknown += sum(1 for s in src if s not in c.turns)
                late_hits += late
                late_sources += len(late_src)
                if late or late_src:
                    violations += 1
                evidence_found += len(set(q.evidence) & set(src))
    return {"questions": sum(len(c.questions) for c in convs), "hits": hits, "violations": violations,
            "hits_occurred_after_as_of": late_hits, "source_ids_after_as_of": late_sources,
            "unknown_source_ids": unknown, "evidence_ids_returned": evidence_found}


# -- analysis of the result lists -------------------------------------------------------------------------------
def redundancy(convs: list[Conversation], results: dict[str, Ranked]) -> dict[str, Any]:
    """How much of the top 10 repeats sources already returned higher up, and what kinds of traces come back."""
    redundant = total = 0
    kinds: Counter = Counter()
    kinds_ev: Counter = Counter()
    signals: Counter = Counter()
    signals_ev: Counter = Counter()
    per_hit_tokens = []
    for c in convs:
        for q in c.questions:
            r = results[q.qid]
            ev = set(q.evidence)
            seen: set[str] = set()
            for i, src in enumerate(r.sources[:10]):
                total += 1
                if src and set(src) <= seen:
                    redundant += 1
                seen |= set(src)
                kind = r.kinds[i] + ("/multi-source" if len(src) > 1 else "")
                combo = "+".join(sorted(r.matched[i])) if r.matched else "?"
                kinds[kind] += 1
                signals[combo] += 1
                if ev & set(src):
                    kinds_ev[kind] += 1
                    signals_ev[combo] += 1
                per_hit_tokens.append(tokens(r.texts[i]))
    per_hit_tokens.sort()
    return {"hits@10": total, "redundant_hits@10": redundant,
            "redundant_fraction": round(redundant / max(total, 1), 4), "kinds@10": dict(kinds),
            "kinds@10_of_hits_with_evidence": dict(kinds_ev), "signals@10": dict(signals.most_common()),
            "signals@10_of_hits_with_evidence": dict(signals_ev.most_common()),
            "tokens_per_hit_median": per_hit_tokens[len(per_hit_tokens) // 2] if per_hit_tokens else 0}


def miss_breakdown(convs: list[Conversation], results: dict[str, Ranked], bm25: dict[str, Ranked],
                   k: int) -> dict[str, Any]:
    """Why evidence is missed at k=10: each evidence turn outside the top 10 gets generic tags (one turn can
    carry several); plus what occupies the top-10 slots."""
    tags: Counter = Counter()
    slots: Counter = Counter()
    for c in convs:
        names = {sp.lower() for sp in c.speakers}
        for q in c.questions:
            r = results[q.qid]
            rank: dict[str, int] = {}
            for i, src in enumerate(r.sources[:k]):
                for s in src:
                    rank.setdefault(s, i + 1)
            top = {s for src in r.sources[:10] for s in src if s in c.turns}
            top_sessions = {c.turns[s].session for s in top}
            asked = [sp for sp in c.speakers if re.search(rf"\b{re.escape(sp)}\b", q.text)]
            for i, src in enumerate(r.sources[:10]):
                slots["hits"] += 1
                said_by = {c.turns[s].speaker for s in src if s in c.turns}
                if r.kinds and r.kinds[i] == "fact":
                    slots["fact traces"] += 1
                if any(re.search(rf"\b{re.escape(n)}\b", r.texts[i]) and n not in said_by for n in asked):
                    slots["names the asked-about speaker but said by the other (addressee/vocative)"] += 1
                if src and set(src) <= {s for p in r.sources[:i] for s in p}:
                    slots["repeats sources of a higher hit"] += 1
                if set(q.evidence) & set(src):
                    slots["contains evidence"] += 1
            bm_top = {s for src in bm25[q.qid].sources[:10] for s in src}
            multi_session = len({c.turns[e].session for e in q.evidence}) > 1
            q_words = _content(q.text) - names
            for e in q.evidence:
                if rank.get(e, k + 1) <= 10:
                    continue
                turn = c.turns[e]
                body = re.sub(r"\s*\[shares a photo:.*\]$", "", turn.text)
                caption = (turn.attrs or {}).get("blip_caption") or ""
                feats = {
                    f"category {q.cat}": True,
                    "rank 11-k (ranking)": e in rank,
                    "adjacent (±1 turn) to a top-10 hit": any(s in top for s in c.window([e], 1)),
                    "within ±2 turns of a top-10 hit": any(s in top for s in c.window([e], 2)),
                    "its session has no top-10 hit": turn.session not in top_sessions,
                    "multi-session question": multi_session,
                    "no content word shared with the question (paraphrase/inference)": not (q_words & _content(turn.text)),
                    "only its photo caption shares words with the question": bool(
                        caption and (q_words & _content(caption)) and not (q_words & _content(body))),
                    "short turn (<20 words) with a pronoun/deictic": bool(
                        len(WORD_RE.findall(body)) < 20
                        and re.search(r"\b(it|that|this|they|them|there|he|she|those|these)\b", body, re.IGNORECASE)),
                    "'when' question": bool(re.match(r"\s*when\b", q.text, re.IGNORECASE)),
                    "said by a speaker the question does not name": bool(asked) and turn.speaker not in asked,
                    "BM25 has it in its top 10": e in bm_top,
                }
                tags["missed evidence turns"] += 1
                for name, on in feats.items():
                    if on:
                        tags[name] += 1
    total = sum(len(q.evidence) for c in convs for q in c.questions)
    missed = tags["missed evidence turns"] or 1
    return {"evidence_turns": total,
            "missed@10": {n: {"count": v, "share": round(v / missed, 3)} for n, v in tags.most_common()},
            "top10_slots": {n: {"count": v, "share": round(v / max(slots["hits"], 1), 3)}
                            for n, v in slots.most_common()}}


#: English stopwords (98) dropped by the BM25 baseline and the miss analysis.
_STOP = frozenset((  # noqa: SIM905 - a paragraph reads better than 98 literals
    "a an the i you he she it we they me him her us them my your his its our their is are was were be "
    "been being do does did have has had what when where who whom which why how that this these those of "
    "in on at to for from with by about as into like through after over between out against during "
    "without before under around among and or but if so than too very can will just not no yes there here "
    "any some all would could should may might must shall also"
).split())


def _content(text: str) -> set[str]:
    return {w for w in WORD_RE.findall(text.lower()) if w not in _STOP and len(w) > 2}


# -- report -------------------------------------------------------------------------------------------------
def ratios(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    def one(x: dict[str, float], y: dict[str, float]) -> dict[str, float | None]:
        return {m: (round(x[m] / y[m], 3) if y.get(m) else None) for m in METRIC_ORDER if m in x}

    return {"overall": one(a["overall"], b["overall"]),
            "by_category": {c: one(a["by_category"][c], b["by_category"][c]) for c in a["by_category"]
                            if c in b["by_category"]}}


def goals(final: dict[str, Any], leak: dict[str, Any]) -> dict[str, Any]:
    values = {
        "evidence_recall@10": final["overall"]["recall@10"],
        "multi_hop_recall@10": final["by_category"].get("multi_hop", {}).get("recall@10"),
        "session_recall@10": final["overall"]["session_recall@10"],
        "tokens@10": final["overall"]["tokens@10"],
        "future_leakage_violations": leak["violations"],
    }
    out = {}
    for name, (target, op) in GOALS.items():
        v = values[name]
        met = None if v is None else (v >= target if op == ">=" else v <= target)
        out[name] = {"target": f"{op} {target}", "value": v, "met": met}
    return out


def _category_recall(agg: dict[str, Any]) -> str:
    """recall@10 per category as markdown cells, in :data:`CATEGORIES` order ("-" for a missing one)."""
    bc = agg["by_category"]
    return " | ".join(f"{bc[c]['recall@10']:.3f}" if c in bc else "-" for c in CATEGORIES.values())


def markdown(res: dict[str, Any]) -> str:
    lines: list[str] = []
    cols = METRIC_ORDER
    head = "| system | slice | n | " + " | ".join(cols) + " |"
    lines += [(f"LoCoMo evidence recall — {res['data']['conversations']} conversations, "
               f"{res['data']['questions']} questions (cat. 1-4), embedder `{res['config']['embedder']}`, "
               f"k={res['config']['k']}"), "", head, "|" + "---|" * (len(cols) + 3)]

    def row(system: str, agg: dict[str, Any]) -> None:
        for name, m in [("overall", agg["overall"]), *agg["by_category"].items()]:
            vals = [f"{m[c]:.0f}" if c == "tokens@10" else f"{m[c]:.3f}" for c in cols]
            lines.append(f"| {system} | {name} | {m['questions']} | " + " | ".join(vals) + " |")

    row("tracelake", res["tracelake"])
    row("BM25 (turns)", res["bm25"])
    lines.append("")
    lines.append("| ratio tracelake / BM25 | slice | " + " | ".join(cols) + " |")
    lines.append("|---|---|" + "---|" * len(cols))
    for name, m in [("overall", res["ratios"]["overall"]), *res["ratios"]["by_category"].items()]:
        lines.append(f"| | {name} | " + " | ".join("-" if m.get(c) is None else f"{m[c]:.2f}" for c in cols) + " |")
    lines.append("")
    st = res["stages"]
    lines.append("| stage | recall@10 | recall@25 | session_recall@10 | evidence coverage |")
    lines.append("|---|---|---|---|---|")
    for name in ("after_decompose_merge", "after_decay_reindex"):
        s = st[name]
        lines.append(f"| {name} | {s['overall']['recall@10']:.3f} | {s['overall']['recall@25']:.3f} | "
                     f"{s['overall']['session_recall@10']:.3f} | {s['coverage']['evidence_coverage']:.4f} |")
    tc = res["time_checks"]
    lines += ["", (f"Time check (a) as_of just after the latest evidence session: recall@10 = "
                   f"{tc['after_evidence']['overall']['recall@10']:.3f} (end of conversation: "
                   f"{res['tracelake']['overall']['recall@10']:.3f})."),
              (f"Time check (b) as_of just before the earliest evidence session: {tc['before_evidence']['hits']} "
               f"hits, **{tc['before_evidence']['violations']} violations**."), ""]
    lines.append(f"Search consistency (lake.search vs batch-embedded engine): "
                 f"{res['search_consistency']['identical_lists']}/{res['search_consistency']['questions']} "
                 f"identical result lists.")
    lines.append("")
    bv = res.get("baseline_variants", {})
    if bv:
        lines.append("| BM25 variant | recall@10 | multi_hop | temporal | open_domain | single_hop | session_recall@5 | "
                     "tokens@10 |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for name, a in bv.items():
            o = a["overall"]
            lines.append(f"| {name} | {o['recall@10']:.3f} | {_category_recall(a)} | {o['session_recall@5']:.3f} | "
                         f"{o['tokens@10']:.0f} |")
        lines.append("")
    rc = res.get("reconstruct")
    if rc:
        o = rc["overall"]
        lines.append(f"reconstruct(k={rc['k']}): evidence recall of hits + episode context "
                     f"{o['recall_hits+episodes']:.3f} ({o['tokens_hits+episodes']:.0f} tokens); whole bundle "
                     f"(+ facts, timeline) {o['recall_bundle']:.3f} ({o['tokens_bundle']:.0f} tokens).")
        lines.append("")
    ho = res.get("hits_only")
    if ho:
        o = ho["overall"]
        lines.append(f"Hits only (context windows not counted, what context_turns=0 returns): recall@10 "
                     f"{o['recall@10']:.3f}, multi_hop {ho['by_category'].get('multi_hop', {}).get('recall@10', 0):.3f}, "
                     f"session_recall@10 {o['session_recall@10']:.3f}, mrr {o['mrr']:.3f}, tokens@10 "
                     f"{o['tokens@10']:.0f}.")
        lines.append("")
    if res.get("ablation"):
        lines.append("| ablation (mechanism off) | recall@10 | multi_hop | temporal | open_domain | single_hop | "
                     "session_recall@10 | mrr | tokens@10 |")
        lines.append("|---|---|---|---|---|---|---|---|---|")
        for name, a in res["ablation"].items():
            o = a["overall"]
            lines.append(f"| {name} | {o['recall@10']:.3f} | {_category_recall(a)} | {o['session_recall@10']:.3f} | "
                         f"{o['mrr']:.3f} | {o['tokens@10']:.0f} |")
        lines.append("")
    ms = res.get("misses")
    if ms:
        lines.append(f"| missed evidence at k=10 ({ms['evidence_turns']} evidence turns) | turns | share |")
        lines.append("|---|---|---|")
        for name, v in ms["missed@10"].items():
            lines.append(f"| {name} | {v['count']} | {v['share']:.0%} |")
        lines.append("")
        lines.append("| what fills the top-10 slots | hits | share |")
        lines.append("|---|---|---|")
        for name, v in ms["top10_slots"].items():
            lines.append(f"| {name} | {v['count']} | {v['share']:.0%} |")
        lines.append("")
    lines.append("| goal | target | value | met |")
    lines.append("|---|---|---|---|")
    for name, g in res["goals"].items():
        lines.append(f"| {name} | {g['target']} | {g['value']} | {'yes' if g['met'] else 'no'} |")
    lines.append("")
    lines.append("| phase | seconds |")
    lines.append("|---|---|")
    for name, s in res["timings_s"].items():
        lines.append(f"| {name} | {s:.1f} |")
    return "\n".join(lines)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- main ---------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=DEFAULT_DATA, help="locomo10.json (relative paths: to the repo root)")
    ap.add_argument("--embedder", default="minilm", help="minilm | static | hash")
    ap.add_argument("--conversations", type=int, default=None, help="only the first N conversations")
    ap.add_argument("--out", default="benchmarks/results/locomo.json", help="JSON result (relative: repo root)")
    ap.add_argument("--k", type=int, default=25, help="hits per search (recall@25 needs 25)")
    ap.add_argument("--ablation", action="store_true", help="also search with signal subsets")
    ap.add_argument("--workdir", default=None, help="lake directory (default: a temporary one, removed)")
    ap.add_argument("--details", default=None,
                    help="write per-question JSONL (question, evidence, ranks, top hits) here — it contains "
                         "LoCoMo text: keep it out of the repository")
    ap.add_argument("--ray-cpus", type=int, default=2, help="CPUs of the embedded Ray (default 2)")
    ap.add_argument("--text-format", choices=["plain", "speaker", "context"], default="plain",
                    help="event text: the turn as is (default); experiments: 'Speaker: text' (speaker-attributed "
                         "traces) or that preceded by the previous turn of the session (context-carrying traces)")
    ap.add_argument("--context-turns", type=int, default=2,
                    help="search with context_turns=N; the window's turns count as returned, tokens included")
    ap.add_argument("--no-reconstruct", action="store_true", help="skip the reconstruct() recall pass")
    args = ap.parse_args(argv)

    data = Path(args.data)
    data = data if data.is_absolute() else (ROOT / data)
    if not data.is_file():
        _log(f"error: LoCoMo data not found at {data.resolve()}\n{SOURCE_NOTE}")
        return 2
    out_path = Path(args.out)
    out_path = out_path if out_path.is_absolute() else ROOT / out_path
    k = args.k
    ctx = args.context_turns
    if k < 10:
        ap.error("--k must be at least 10")

    timings: dict[str, float] = {}
    t_all = time.perf_counter()
    t0 = time.perf_counter()
    convs = load(data, args.conversations)
    timings["load_convert"] = time.perf_counter() - t0
    questions = [q for c in convs for q in c.questions]
    _log(f"{len(convs)} conversations, {sum(len(c.turns) for c in convs)} turns, {len(questions)} questions")

    import tracelake

    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="tracelake-locomo-"))
    lake = tracelake.connect(str(workdir / "lake"), embedder=args.embedder, ray_num_cpus=args.ray_cpus)
    try:
        t0 = time.perf_counter()
        events = [e for c in convs for e in c.events(args.text_format)]
        ing = lake.ingest(events)
        timings["ingest"] = time.perf_counter() - t0
        if ing.rejected:
            raise SystemExit(f"rejected events: {ing.rejected[:5]}")
        _log(f"ingested {ing.accepted} events in {timings['ingest']:.1f} s")

        end_of = lambda c, q: c.end
        stages: dict[str, Any] = {}
        reports: dict[str, Any] = {}

        t0 = time.perf_counter()
        rep = lake.consolidate(steps=["decompose", "merge"])
        timings["consolidate_decompose_merge"] = time.perf_counter() - t0
        reports["decompose_merge"] = rep.steps
        _log(f"consolidate decompose+merge: {timings['consolidate_decompose_merge']:.1f} s")

        # Every question embedded once, in batches; the engines below share these vectors.
        t0 = time.perf_counter()
        engines = Engines(lake, [q.text for q in questions])
        timings["query_embedding_batch"] = time.perf_counter() - t0
        default = engines.engine()

        def cached_search(q: Question, as_of: datetime) -> Ranked:
            return _ranked(default.search(q.text, q.tenant, as_of, k, context_turns=ctx))

        res_merge, timings["search_after_merge"] = run_searches(cached_search, convs, end_of, k, "after merge")
        stages["after_decompose_merge"] = {**evaluate(convs, res_merge, k), "coverage": coverage(lake, convs),
                                           "text_signal": "keywords_bm25 (no full-text index yet)"}

        t0 = time.perf_counter()
        rep = lake.consolidate(steps=["decay", "reindex"])
        timings["consolidate_decay_reindex"] = time.perf_counter() - t0
        reports["decay_reindex"] = rep.steps
        _log(f"consolidate decay+reindex: {timings['consolidate_decay_reindex']:.1f} s")

        # The headline numbers: the public API, query embedding included.
        def public_search(q: Question, as_of: datetime) -> Ranked:
            return _ranked(lake.search(q.text, tenant=q.tenant, as_of=as_of, k=k, context_turns=ctx))

        final, timings["search_final_public_api"] = run_searches(public_search, convs, end_of, k, "search")
        stages["after_decay_reindex"] = {**evaluate(convs, final, k), "coverage": coverage(lake, convs),
                                         "text_signal": "Lance full-text (INVERTED) index"}
        final_agg = {key: stages["after_decay_reindex"][key] for key in ("overall", "by_category")}

        # Evidence recall at equal turn budgets: tracelake hits only (k = 50) and with ±2 windows, next to BM25
        # and a MiniLM+BM25 fusion, and search latency of the public API (query embedding included).
        t0 = time.perf_counter()
        turns = turn_budget_pass(lake, engines, convs, ctx)
        timings["turn_budgets"] = time.perf_counter() - t0
        cached_final, _ = run_searches(cached_search, convs, end_of, k)
        same = sum(cached_final[q].ids == final[q].ids for q in final)
        consistency = {"questions": len(final), "identical_lists": same,
                       "note": "lake.search vs the benchmark's engine with batch-embedded queries"}

        # Time checks.
        t0 = time.perf_counter()
        after = lambda c, q: evidence_session_bounds(c, q)[1] + timedelta(minutes=1)
        before = lambda c, q: evidence_session_bounds(c, q)[0] - timedelta(seconds=1)
        res_after, _ = run_searches(cached_search, convs, after, k, "time check (a)")
        res_before, _ = run_searches(cached_search, convs, before, k, "time check (b)")
        time_checks = {"after_evidence": {**evaluate(convs, res_after, k),
                                          "as_of": "last turn of the latest evidence session + 1 min"},
                       "before_evidence": {**leakage(convs, res_before, before),
                                           "as_of": "first turn of the earliest evidence session - 1 s"}}
        timings["time_checks"] = time.perf_counter() - t0

        # BM25 baseline (+ variants that estimate lexical mechanisms, same scorer).
        t0 = time.perf_counter()
        bm25 = bm25_run(convs, k)
        bm25_agg = evaluate(convs, bm25, k)
        baseline_variants = {
            "BM25 turns": {"overall": bm25_agg["overall"], "by_category": bm25_agg["by_category"]},
            "BM25 turns, stopwords kept": evaluate(convs, bm25_run(convs, k, stopwords=False), k),
            "BM25 turns, 'Speaker: ' prefixed": evaluate(convs, bm25_run(convs, k, speaker=True), k),
            "BM25 turns + previous turn as context": evaluate(convs, bm25_run(convs, k, context=1), k),
        }
        timings["bm25"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        recon: dict[str, Any] = {}
        if not args.no_reconstruct:
            recon = reconstruct_recall(default, convs, k=10)
        timings["reconstruct"] = time.perf_counter() - t0

        plain = {q: r.without_context() for q, r in final.items()}
        hits_only = evaluate(convs, plain, k)

        ablation: dict[str, Any] = {}
        if args.ablation:
            t0 = time.perf_counter()
            ablation = run_ablation(engines, convs, k, ctx, cached_final, hits_only)
            timings["ablation"] = time.perf_counter() - t0

        timings["total"] = time.perf_counter() - t_all
        result = {
            "benchmark": "locomo-evidence-recall",
            "data": {"path": str(data.resolve()), "sha256": hashlib.sha256(data.read_bytes()).hexdigest(),
                     "source": "github.com/snap-research/locomo data/locomo10.json (CC BY-NC 4.0)",
                     "conversations": len(convs), "turns": sum(len(c.turns) for c in convs),
                     "image_turns": sum(t.image for c in convs for t in c.turns.values()),
                     "questions": len(questions),
                     "questions_by_category": dict(Counter(q.cat for q in questions)),
                     "skipped": dict(sum((c.skipped for c in convs), Counter())),
                     "evidence_normalisation": dict(sum((c.normalisation for c in convs), Counter()))},
            "config": {"embedder": args.embedder, "k": k, "context_turns": ctx,
                       "turn_offset_s": TURN_OFFSET.total_seconds(),
                       "text_format": args.text_format,
                       "as_of": "last turn of the conversation + 1 min",
                       "tokenizer": r"regex \w+|[^\w\s] over hit texts",
                       "bm25": {"k1": BM25_K1, "b": BM25_B, "tokens": r"lower-cased \w+ minus stopwords",
                                "idf": "ln(1 + (N - df + 0.5) / (df + 0.5))", "documents": "turns (+ caption)"},
                       "ray_cpus": args.ray_cpus},
            "machine": {"platform": platform.platform(), "python": platform.python_version(),
                        "cpus": os.cpu_count(), "load_avg_at_end": os.getloadavg()},
            "turn_budgets": turns,
            "tracelake": final_agg,
            "bm25": bm25_agg,
            "ratios": ratios(final_agg, bm25_agg),
            "by_conversation_recall@10": {
                c.tenant: {"questions": len(c.questions),
                           "tracelake": round(_mean_recall(c, final), 4), "bm25": round(_mean_recall(c, bm25), 4)}
                for c in convs},
            "stages": stages,
            "consolidation_reports": reports,
            "time_checks": time_checks,
            "search_consistency": consistency,
            "redundancy": redundancy(convs, final),
            "misses": miss_breakdown(convs, final, bm25, k),
            "hits_only": {"overall": hits_only["overall"], "by_category": hits_only["by_category"],
                          "note": "the same result lists without their context windows (what context_turns=0 "
                                  "returns)"},
            "baseline_variants": {n: {"overall": v["overall"], "by_category": v["by_category"]}
                                  for n, v in baseline_variants.items()},
            "reconstruct": recon,
            "ablation": ablation,
            "goals": goals(final_agg, time_checks["before_evidence"]),
            "timings_s": {n: round(v, 2) for n, v in timings.items()},
        }
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(result, indent=2, default=str) + "\n")
        if args.details:
            write_details(Path(args.details), convs, final, bm25, k)
        print(markdown(result))
        print("\n".join(["", "Evidence recall at equal turn budgets (distinct turns shown, a hit's own turns first):",
                          "", *turn_table(turns["systems"]), "",
                          f"search latency (public API, k=50): p50 {turns['latency_ms']['p50']:.1f} ms, "
                          f"p95 {turns['latency_ms']['p95']:.1f} ms"]))
        _log(f"wrote {out_path}")
        return 0
    finally:
        lake.close()
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def _mean_recall(c: Conversation, results: dict[str, Ranked], k: int = 10) -> float:
    vals = [question_metrics(q, results[q.qid], c, k)[f"recall@{k}"] for q in c.questions]
    return sum(vals) / max(len(vals), 1)


def bm25_run(convs: list[Conversation], k: int, *, speaker: bool = False, context: int = 0,
             stopwords: bool = True) -> dict[str, Ranked]:
    """BM25 top-``k`` turns per question. ``speaker``: documents are ``"Speaker: text"``; ``context``: each
    document also holds the ``context`` previous turns of its session (the hit still cites only its turn)."""
    out: dict[str, Ranked] = {}
    for c in convs:
        ids = list(c.turns)
        docs = []
        for i in ids:
            parts = [d for d in c.window([i], context) if c.position(d) <= c.position(i)] if context else [i]
            docs.append(" ".join((f"{c.turns[d].speaker}: " if speaker else "") + c.turns[d].text for d in parts))
        index = BM25(docs, stopwords=stopwords)
        for q in c.questions:
            order = index.rank(q.text, k)
            out[q.qid] = Ranked([(ids[i],) for i in order], [c.turns[ids[i]].text for i in order],
                                streams=[c.turns[ids[i]].session for i in order])
    return out


class Engines:
    """Query engines over the lake's store that share batch-computed query vectors (one embedding per
    question for every pass), each with its own :class:`~tracelake.query.search_config.SearchConfig`, built
    through the public hook :meth:`tracelake.api.Lake.query_engine`."""

    def __init__(self, lake: Any, texts: list[str]) -> None:
        import numpy as np

        self.lake = lake
        base = lake.query_engine().embedder()
        uniq = sorted(set(texts))
        vectors = base.embed(uniq) if uniq else np.zeros((0, base.dim), np.float32)
        cache = dict(zip(uniq, vectors))

        class Cached:
            dim = base.dim

            def embed(self, items: list[str]) -> Any:
                missing = [t for t in items if t not in cache]
                if missing:
                    cache.update(zip(missing, base.embed(missing)))
                return np.stack([cache[t] for t in items])

        self.embedder = Cached()

    def engine(self, config: Any = None) -> Any:
        return self.lake.query_engine(search_config=config, embedder=self.embedder)


def turn_budget_pass(lake: Any, engines: Engines, convs: list[Conversation], ctx: int) -> dict[str, Any]:
    """Recall at B = 5, 10, 25, 50 distinct turns (:mod:`locomo_turns`) for tracelake (hits only, k=50; with
    ``ctx`` context turns), BM25 and MiniLM+BM25 fusion; plus the public search's latency percentiles."""
    windowed = engines.engine()
    per: dict[str, list[tuple[Question, dict[str, float]]]] = defaultdict(list)
    latency: list[float] = []
    for c in convs:
        ids = list(c.turns)
        index = BM25([c.turns[i].text for i in ids])
        # the dense side embeds "speaker: text", as the pipeline does (questions name the speaker: "when did
        # Caroline ..."); plain text made the fusion weaker than BM25 alone (R@10 turns 0.40 vs 0.54)
        fused = fusion_rankings([f"{c.turns[i].speaker}: {c.turns[i].text}" for i in ids],
                                [q.text for q in c.questions], engines.embedder.embed, index, k=50)
        for q, order in zip(c.questions, fused):
            t0 = time.perf_counter()
            hits = lake.search(q.text, tenant=q.tenant, as_of=c.end, k=50)
            latency.append((time.perf_counter() - t0) * 1000)
            per["tracelake search (hits)"].append((q, turn_recall(q.evidence, [h.source_event_ids for h in hits])))
            win = windowed.search(q.text, q.tenant, c.end, 50, context_turns=ctx)
            per[f"tracelake search ±{ctx} window"].append(
                (q, turn_recall(q.evidence, [(*h.source_event_ids, *h.context_event_ids) for h in win])))
            per["BM25 (turns)"].append((q, turn_recall(q.evidence, [(ids[i],) for i in index.rank(q.text, 50)])))
            per["MiniLM+BM25 fusion (turns)"].append((q, turn_recall(q.evidence, [(ids[i],) for i in order])))
    lat = sorted(latency)
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else 0.0
    return {"budgets": list(TURN_BUDGETS), "systems": {name: aggregate(rows) for name, rows in per.items()},
            "latency_ms": {"p50": round(pct(0.5), 2), "p95": round(pct(0.95), 2), "searches": len(lat)}}


def reconstruct_recall(engine: Any, convs: list[Conversation], k: int) -> dict[str, Any]:
    """``reconstruct(question, k)`` (hits + episode context + facts + timeline): evidence recall over
    ``Bundle.source_event_ids()`` and the tokens of every text in the bundle."""
    rows = []
    for c in convs:
        for q in c.questions:
            b = engine.reconstruct(q.text, q.tenant, c.end, k=k)
            ids = set(b.source_event_ids())
            texts = [h.text for h in b.hits] + [r.get("text") or "" for e in b.episodes for r in e.context]
            texts += [r.get("text") or "" for r in b.timeline] + [f.get("statement") or "" for f in b.facts]
            hit_ids = {s for h in b.hits for s in h.source_event_ids}
            ep_ids = hit_ids | {s for e in b.episodes for r in e.context for s in r.get("source_event_ids") or ()}
            ev = set(q.evidence)
            rows.append((q, {"recall_bundle": len(ev & ids) / len(ev), "recall_hits+episodes": len(ev & ep_ids) / len(ev),
                             "tokens_bundle": float(sum(tokens(t) for t in texts)),
                             "tokens_hits+episodes": float(sum(tokens(h.text) for h in b.hits) + sum(
                                 tokens(r.get("text") or "") for e in b.episodes for r in e.context))}))
    agg = aggregate(rows)
    return {"k": k, **agg}


def run_ablation(engines: Engines, convs: list[Conversation], k: int, context_turns: int,
                 full: dict[str, Ranked], hits_only: dict[str, Any]) -> dict[str, Any]:
    """Search again with one mechanism switched off per row (:data:`ABLATION`). Same store, same query vectors,
    a QueryEngine built with ``search_config=``; hits with score 0 (found only by a signal weighted 0) are
    dropped. ``full`` (the default configuration's lists) and ``hits_only`` come from the main passes."""
    from dataclasses import replace

    from tracelake.query.search_config import SearchConfig

    default = SearchConfig()
    full_agg = evaluate(convs, full, k)
    out: dict[str, Any] = {"full (default)": {"overall": full_agg["overall"], "by_category": full_agg["by_category"]},
                           "- context window (hits only)": {"overall": hits_only["overall"],
                                                            "by_category": hits_only["by_category"]}}
    for name, change in ABLATION.items():
        change = dict(change)
        if "weights" in change:
            change["weights"] = {**default.weights, **change["weights"]}
        engine = engines.engine(replace(default, **change))

        def search(q: Question, as_of: datetime, engine: Any = engine) -> Ranked:
            return _ranked(h for h in engine.search(q.text, q.tenant, as_of, k, context_turns=context_turns)
                           if h.score > 0)

        res, secs = run_searches(search, convs, lambda c, q: c.end, k, f"ablation {name}")
        agg = evaluate(convs, res, k)
        out[name] = {"change": change, "overall": agg["overall"], "by_category": agg["by_category"],
                     "search_s": round(secs, 2)}
        _log(f"ablation {name}: recall@10 {agg['overall']['recall@10']:.3f} ({secs:.0f} s)")
    return out


def write_details(path: Path, convs: list[Conversation], final: dict[str, Ranked], bm25: dict[str, Ranked],
                  k: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        for c in convs:
            for q in c.questions:
                r = final[q.qid]
                rank: dict[str, int] = {}
                for i, src in enumerate(r.sources):
                    for s in src:
                        rank.setdefault(s, i + 1)
                bm_rank = {src[0]: i + 1 for i, src in enumerate(bm25[q.qid].sources)}
                f.write(json.dumps({
                    "qid": q.qid, "category": q.cat, "question": q.text, "evidence": q.evidence,
                    "raw_evidence": q.raw_evidence,
                    "evidence_turns": [{"id": e, "session": c.turns[e].session, "speaker": c.turns[e].speaker,
                                        "text": c.turns[e].text, "image": c.turns[e].image,
                                        "rank": rank.get(e), "bm25_rank": bm_rank.get(e)} for e in q.evidence],
                    "hits": [{"sources": list(src), "kind": r.kinds[i], "text": r.texts[i]}
                             for i, src in enumerate(r.sources[:k])],
                    "speakers": c.speakers,
                }) + "\n")


if __name__ == "__main__":
    sys.exit(main())
