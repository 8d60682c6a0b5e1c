"""Situation-level reconstruction: hits -> episodes, the entities involved, their facts with history, a timeline.

Steps (all as of ``T``, all scoped to one tenant):

1. hybrid search (:mod:`.retrieval`) for the question, ``k`` hits;
2. episodes: hits grouped by stream, split where consecutive hits are more than ``episode_gap`` apart; each
   episode gets the stream's neighbouring traces within ``context_margin`` as ``context``; best episode first
   (score: best hit + a quarter of the others);
3. entities: those named in the question, then those of the hits weighted by hit score;
4. facts about those entities valid at ``T`` with the history of each (subject, predicate);
5. timeline: the top entities' traces inside the question's time window (if it names one), else the latest
   ``timeline_limit`` before ``T``;
6. with a word budget (:func:`within_budget`): the bundle's texts cut to the budget.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Callable

import pyarrow as pa
import pyarrow.compute as pc

from tracelake.results import Bundle, Episode, Hit, word_count

from .facts import fact_history, read_facts
from .retrieval import SearchTrace
from .snapshot import Snapshot
from .traces import TIMELINE_COLUMNS, as_of_rows, timeline

__all__ = ["ReconstructConfig", "build_bundle", "within_budget"]


@dataclass(frozen=True)
class ReconstructConfig:
    episode_gap: timedelta = timedelta(hours=6)
    context_margin: timedelta = timedelta(minutes=30)
    context_limit: int = 12
    max_episodes: int = 6
    max_entities: int = 6
    timeline_entities: int = 3
    timeline_limit: int = 30


def group_episodes(hits: list[Hit], gap: timedelta) -> list[tuple[str | None, list[Hit]]]:
    by_stream: dict[str | None, list[Hit]] = {}
    for h in hits:
        by_stream.setdefault(h.stream, []).append(h)
    groups: list[tuple[str | None, list[Hit]]] = []
    for stream, items in by_stream.items():
        items.sort(key=lambda h: (h.occurred_at, h.trace_id))
        current = [items[0]]
        for h in items[1:]:
            if h.occurred_at - current[-1].occurred_at > gap:
                groups.append((stream, current))
                current = [h]
            else:
                current.append(h)
        groups.append((stream, current))
    return groups


def _episode_score(items: list[Hit]) -> float:
    scores = sorted((h.score for h in items), reverse=True)
    return scores[0] + 0.25 * sum(scores[1:])


def build_bundle(snap: Snapshot, ents: Any, tenant: str, question: str, hits: list[Hit], info: SearchTrace, *,
                 as_of: datetime | None, now: datetime, known_at: datetime | None, include_archived: bool,
                 config: ReconstructConfig, window: Callable[[datetime, datetime], pa.Table],
                 ws: Any = None) -> Bundle:
    """Assemble the bundle; ``window(lo, hi)`` returns the tenant's visible ``READ_COLUMNS`` rows with
    ``lo <= occurred_at <= hi`` (episode context)."""
    cfg = config
    t = as_of or now
    groups = group_episodes(hits, cfg.episode_gap)
    groups.sort(key=lambda g: (-_episode_score(g[1]), g[1][0].occurred_at, g[1][0].trace_id))
    episodes = []
    for stream, items in groups[:cfg.max_episodes]:
        start, end = items[0].occurred_at, items[-1].occurred_at
        context: list[dict[str, Any]] = []
        if stream is not None:
            rows = window(start - cfg.context_margin, end + cfg.context_margin)
            rows = rows.filter(pc.equal(rows["stream"], stream)) if rows.num_rows else rows
            got = {h.trace_id for h in items}
            rows_list = [r for r in as_of_rows(rows, as_of, ents) if r["trace_id"] not in got]
            rows_list.sort(key=lambda r: (abs((r["occurred_at"] - start).total_seconds()), r["trace_id"]))
            context = sorted(rows_list[:cfg.context_limit], key=lambda r: (r["occurred_at"], r["trace_id"]))
            context = [{c: r.get(c) for c in TIMELINE_COLUMNS} for r in context]
        episodes.append(Episode(stream, start, end, _episode_score(items), tuple(items), tuple(context)))

    weight: dict[str, float] = {}
    for name in info.entities:
        weight[name] = float("inf")
    for h in hits:
        for name in h.entities:
            if weight.get(name) != float("inf"):
                weight[name] = weight.get(name, 0.0) + h.score
    entities = [n for n, _ in sorted(weight.items(), key=lambda kv: (-kv[1], kv[0]))][:cfg.max_entities]

    facts: list[dict[str, Any]] = []
    if entities:
        k = known_at or now
        current = read_facts(snap.facts, tenant, as_of=t, known_at=k, subjects=entities,
                             include_archived=include_archived).to_pylist()
        history = fact_history(snap.facts, tenant, entities, as_of=t, known_at=k, include_archived=include_archived)
        by_key: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in history:
            by_key.setdefault((row["subject"], row["predicate"]), []).append(row)
        for row in current:
            row["status"] = "current"
            row["history"] = [h for h in by_key.get((row["subject"], row["predicate"]), [])
                              if h["row_id"] != row["row_id"]]
            facts.append(row)

    span = None
    if info.spans:
        span = (min(s.start for s in info.spans), max(s.end for s in info.spans))
    seen: dict[str, dict[str, Any]] = {}
    for name in entities[:cfg.timeline_entities]:
        rows = timeline(snap.traces, tenant, [name], start=span[0] if span else None,
                        end=span[1] if span else None, as_of=as_of, include_archived=include_archived,
                        limit=cfg.timeline_limit, latest=span is None, entities=ents, ws=ws)
        for r in rows.to_pylist():
            seen.setdefault(r["trace_id"], {c: r.get(c) for c in TIMELINE_COLUMNS})
    tl = sorted(seen.values(), key=lambda r: (r["occurred_at"], r["trace_id"]))
    if len(tl) > cfg.timeline_limit:
        tl = tl[:cfg.timeline_limit] if span else tl[-cfg.timeline_limit:]

    spans = tuple({"expr": s.expr, "start": s.start, "end": s.end, "granularity": s.granularity}
                  for s in info.spans)
    return Bundle(question=question, tenant=tenant, as_of=as_of, hits=tuple(hits), episodes=tuple(episodes),
                  entities=tuple(entities), facts=tuple(facts), timeline=tuple(tl), time_spans=spans)


def within_budget(bundle: Bundle, budget: int) -> Bundle:
    """``bundle`` cut to at most ``budget`` words of text (:func:`tracelake.results.word_count`), filled greedily
    in order of value: hits (best first), facts (their statements, then their history), episode context, the
    timeline. A trace's text counts once however often it appears; episodes keep only their kept hits."""
    left = budget
    counted: set[str] = set()

    def take(key: str, text: str | None) -> bool:
        nonlocal left
        if key in counted:
            return True
        n = word_count(text)
        if n > left:
            return False
        left -= n
        counted.add(key)
        return True

    def fact_text(row: dict[str, Any]) -> str:
        return row.get("statement") or f"{row.get('subject')} {row.get('predicate')} {row.get('object')}"

    hits = tuple(h for h in bundle.hits if take(h.trace_id, h.text))
    kept = {h.trace_id for h in hits}
    facts = []
    for row in bundle.facts:
        if take(f"fact:{row.get('row_id')}", fact_text(row)):
            history = [h for h in row.get("history") or () if take(f"fact:{h.get('row_id')}", fact_text(h))]
            facts.append({**row, "history": history})
    episodes = []
    for ep in bundle.episodes:
        ep_hits = tuple(h for h in ep.hits if h.trace_id in kept)
        if ep_hits:
            context = tuple(r for r in ep.context if take(r["trace_id"], r.get("text")))
            episodes.append(replace(ep, hits=ep_hits, context=context))
    timeline_rows = tuple(r for r in bundle.timeline if take(r["trace_id"], r.get("text")))
    return replace(bundle, hits=hits, facts=tuple(facts), episodes=tuple(episodes), timeline=timeline_rows)
