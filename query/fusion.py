"""Fusion and selection: weighted reciprocal-rank fusion of the signal lists, the re-ranking boost, one hit per
source event, and the diversity-aware pick of the final ``k``.

``rrf = Σ_signal weight / (rrf_k + rank)``; ``score = rrf × boost`` with ``boost = (1 + strength_weight ×
strength_at_T + recency_weight × 0.5^(age_days / recency_half_life_days)) × kind_weight × penalty`` where
``penalty`` comes from the caller (the supersession signal, :mod:`.supersession`; at most
``current_fact_boost``). Because the boost is
bounded by :func:`max_boost`, candidates whose fused score cannot reach the top are dropped unread.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from tracelake.ids import trace_id
from tracelake.results import Hit

from .search_config import SearchConfig

__all__ = ["fuse", "boost", "max_boost", "per_event", "diversify", "make_hit"]


def fuse(lists: dict[str, np.ndarray], cfg: SearchConfig) -> tuple[np.ndarray, np.ndarray, dict[int, list[str]]]:
    """``(candidates, fused scores, signals per candidate)`` — candidates are working-set positions, ordered by
    fused score (best first), ties by position."""
    fused: dict[int, float] = {}
    matched: dict[int, list[str]] = {}
    for signal, positions in lists.items():
        w = cfg.weights.get(signal, 1.0)
        for rank, p in enumerate(positions.tolist()):
            fused[p] = fused.get(p, 0.0) + w / (cfg.rrf_k + rank + 1)
            matched.setdefault(p, []).append(signal)
    cand = np.array(sorted(fused), dtype=np.int64)
    base = np.array([fused[p] for p in cand.tolist()], dtype=np.float64)
    order = np.lexsort((cand, -base)) if len(cand) else np.zeros(0, dtype=np.int64)
    return cand[order], base[order], matched


def max_boost(cfg: SearchConfig) -> float:
    """The largest factor a candidate's fused score can be multiplied by (:func:`boost` × the supersession
    factor, at most ``current_fact_boost``)."""
    return ((1.0 + cfg.strength_weight + cfg.recency_weight) * max([1.0, *cfg.kind_weights.values()])
            * max(1.0, cfg.current_fact_boost))


def boost(row: dict[str, Any], age_days: float, cfg: SearchConfig) -> float:
    """Re-ranking factor of one candidate row (strength already as of ``T``; ``age_days`` from its last source
    at or before ``T`` to ``T``)."""
    b = (1.0 + cfg.strength_weight * min(1.0, max(0.0, float(row["strength"])))
         + cfg.recency_weight * 0.5 ** (age_days / cfg.recency_half_life_days))
    return b * cfg.kind_weights.get(row["kind"], 1.0)


def per_event(hits: list[Hit], tenant: str) -> list[Hit]:
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
        whole_id = trace_id(tenant, ev)
        whole = next((h for h in items if h.trace_id == whole_id), None)
        if whole is not None and whole is not best:
            signals = tuple(dict.fromkeys(s for h in items for s in h.matched))
            best = replace(whole, score=best.score, matched=signals)
        out.append(best)
    out.sort(key=lambda h: (-h.score, h.trace_id))
    return out


def diversify(hits: list[Hit], k: int, stream_decay: float,
               windows: list[tuple[list[tuple[str, str]], list[tuple[str, str]]]] | None) -> list[Hit]:
    """The top ``k`` of ``hits`` (best first), picked greedily: each next hit is the one with the best
    ``score × stream_decay ^ (hits already taken from its stream)`` (that is its returned score, so scores still
    decrease down the list). With ``windows`` (context turns), an event is returned once: a candidate already
    shown — as a hit or in a higher hit's window — is skipped, and a window leaves out events already shown."""
    streams: dict[str, int] = {}
    stream = np.array([-1 if h.stream is None else streams.setdefault(h.stream, len(streams)) for h in hits],
                      dtype=np.int64)
    taken = np.zeros(len(streams) + 1, dtype=np.int64)  # hits taken from each stream
    scores = np.array([h.score for h in hits], dtype=np.float64)
    alive = np.ones(len(hits), dtype=bool)
    by_event: dict[str, list[int]] = {}
    for j, h in enumerate(hits):
        if h.source_event_ids:
            by_event.setdefault(h.source_event_ids[0], []).append(j)
    shown: set[str] = set()
    out: list[Hit] = []
    while len(out) < k and alive.any():
        factor = np.where(stream >= 0, stream_decay ** taken[stream], 1.0)
        adjusted = np.where(alive, scores * factor, -np.inf)
        best = int(np.argmax(adjusted))  # hits are in (-score, trace_id) order: the first of equal scores wins
        best_score = float(adjusted[best])
        alive[best] = False
        h = hits[best]
        if h.stream is not None:
            taken[stream[best]] += 1
        if windows is not None:
            before, after = windows[best]
            near = [(ev, text) for ev, text in before + after if ev not in shown and ev not in h.source_event_ids]
            for ev in (*h.source_event_ids, *(ev for ev, _ in near)):
                shown.add(ev)
                alive[by_event.get(ev, [])] = False
            h = replace(h, context=tuple(t for _, t in near), context_event_ids=tuple(ev for ev, _ in near))
        out.append(replace(h, score=best_score) if best_score != h.score else h)
    return out


def make_hit(row: dict[str, Any], score: float, matched: tuple[str, ...]) -> Hit:
    return Hit(
        trace_id=row["trace_id"], score=float(score), text=row["text"], kind=row["kind"], tenant=row["tenant"],
        stream=row.get("stream"), occurred_at=row["occurred_at"], valid_from=row.get("valid_from"),
        valid_to=row.get("valid_to"), source_event_ids=tuple(row.get("source_event_ids") or ()),
        actor=row.get("actor"), entities=tuple(row.get("entities") or ()), time_start=row.get("time_start"),
        time_end=row.get("time_end"), last_source_at=row.get("last_source_at"), strength=row.get("strength"),
        matched=matched,
    )
