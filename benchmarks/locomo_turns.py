"""Evidence recall at equal *turn* budgets for ``benchmarks/locomo.py``, and the dense+BM25 fusion baseline.

A result list is read as the sequence of distinct turns it returns: each hit's own source turns first, then its
context window (``context_event_ids``), in rank order; recall@B turns is the share of a question's evidence
turns among the first B distinct turns (B = 5, 10, 25, 50). A ±N window therefore costs its turns — it is
never counted as one result — and every system is compared at the same number of turns shown.

Baselines (same run, same questions): BM25 over turns (``locomo.BM25``) and a **MiniLM+BM25 fusion**: cosine
similarity of the question's embedding to every turn's (the lake's query embedder, so the same model as
tracelake's vector signal) fused with the BM25 ranking by reciprocal rank, ``Σ 1 / (60 + rank)`` over the top
100 of each.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

__all__ = ["TURN_BUDGETS", "turn_sequence", "turn_recall", "dense_similarities", "fusion_rankings", "turn_table"]

TURN_BUDGETS = (5, 10, 25, 50)
_RRF_K = 60
_DEPTH = 100


def turn_sequence(sources: Iterable[Sequence[str]]) -> list[str]:
    """The distinct turns of a result list in the order they are shown (each hit: own turns, then window)."""
    out: dict[str, None] = {}
    for src in sources:
        for turn in src:
            out.setdefault(turn, None)
    return list(out)


def turn_recall(evidence: Sequence[str], sources: Iterable[Sequence[str]],
                budgets: Sequence[int] = TURN_BUDGETS) -> dict[str, float]:
    """``{"recall@Bt": share of evidence turns among the first B distinct turns}`` for each budget."""
    ev = set(evidence)
    seq = turn_sequence(sources)
    return {f"recall@{b}t": len(ev & set(seq[:b])) / len(ev) for b in budgets}


def dense_similarities(turn_texts: list[str], questions: list[str], embed: Any) -> np.ndarray:
    """The cosine of every question with every turn (``questions × turns``), ``embed``: texts -> vectors."""
    tv = np.asarray(embed(turn_texts), dtype=np.float32)
    tv /= np.maximum(np.linalg.norm(tv, axis=1, keepdims=True), 1e-12)
    qv = np.asarray(embed(questions), dtype=np.float32)
    qv /= np.maximum(np.linalg.norm(qv, axis=1, keepdims=True), 1e-12)
    return qv @ tv.T


def fusion_rankings(turn_texts: list[str], questions: list[str], embed: Any, bm25: Any,
                    k: int = 50) -> list[list[int]]:
    """For each question, the top-``k`` turn indices of dense cosine ⊕ BM25 (reciprocal-rank fusion)."""
    sims = dense_similarities(turn_texts, questions, embed)
    out = []
    for i, q in enumerate(questions):
        fused: dict[int, float] = {}
        dense = np.argsort(-sims[i], kind="stable")[:_DEPTH]
        for rank, d in enumerate(dense.tolist()):
            fused[d] = fused.get(d, 0.0) + 1.0 / (_RRF_K + rank + 1)
        for rank, d in enumerate(bm25.rank(q, _DEPTH)):
            fused[d] = fused.get(d, 0.0) + 1.0 / (_RRF_K + rank + 1)
        out.append(sorted(fused, key=lambda d: (-fused[d], d))[:k])
    return out


def turn_table(rows: dict[str, dict[str, Any]]) -> list[str]:
    """Markdown rows: system | overall recall@B turns | multi-hop recall@10 turns."""
    lines = ["| system | " + " | ".join(f"R@{b} turns" for b in TURN_BUDGETS) + " | multi-hop R@10 turns |",
             "|---|" + "---|" * (len(TURN_BUDGETS) + 1)]
    for name, agg in rows.items():
        o, mh = agg["overall"], agg["by_category"].get("multi_hop", {})
        lines.append(f"| {name} | " + " | ".join(f"{o[f'recall@{b}t']:.3f}" for b in TURN_BUDGETS)
                     + f" | {mh.get('recall@10t', 0.0):.3f} |")
    return lines
