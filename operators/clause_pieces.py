"""Clause pieces of a text: the units the read path quotes as evidence, and the texts it compares with a question.

A text is split into *pieces* (clauses: a sentence, or the part of it between clause punctuation and the
conjunctions that open a clause); pieces under ``min_piece`` words join a neighbour, pieces over ``max_piece`` words
are cut where a phrase starts (``smart_cut``), into parts of about equal size. Whitespace-split words only: the
pieces' words joined are the text's words, in order. Deterministic and pure, so the write path
(:mod:`tracelake.pipelines.decomposition` embeds each piece of a stored trace) and the read path
(:mod:`tracelake.query.evidence`) cut a text the same way and the piece's :func:`piece_text` keys its vector.
"""

from __future__ import annotations

import math
import re

__all__ = ["clause_pieces", "piece_text", "quoted_clauses", "MIN_PIECE", "MAX_PIECE", "QUOTED_UNITS", "VECTOR_PIECES"]

#: Fewest words of a piece (shorter ones join a neighbour) and most words (longer ones are cut).
MIN_PIECE = 3
MAX_PIECE = 12
#: Sentence units of a turn the read path quotes (``query/context.turn_units``).
QUOTED_UNITS = 16
#: Pieces of a turn, in order, that are compared with a question by their own vector (a 20 kB text is not
#: embedded clause by clause; its later pieces are scored on words alone).
VECTOR_PIECES = 64

_CLAUSE_END = re.compile(r"[.!?;:,)]+[\"'”’]*$")
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)]*$")
_CLAUSE_START = frozenset({"but", "so", "because", "and", "although", "though", "while", "which", "anyway",
                           "then", "when", "since", "until", "unless", "if", "whereas", "cause", "cuz"})
_CUT_BEFORE = frozenset({"before", "after", "to", "for", "with", "at", "in", "on", "from", "about", "into", "like",
                         "i", "i'm", "i've", "i'd", "she", "he", "we", "they", "it's", "that", "who", "where",
                         "what", "or", "not", "no", "just", "because", "which", "when", "than"})
_NO_CUT_BEFORE = frozenset({"up", "down", "out", "off", "away", "back", "over", "through", "apart", "along", "of"})
_NO_CUT_AFTER = frozenset({"a", "an", "the", "my", "his", "her", "their", "our", "your", "its", "of", "to", "very",
                           "this", "that", "these", "those", "some", "no", "not", "and", "or", "in", "at", "on",
                           "for", "with", "from", "by", "as", "into", "about", "before", "after", "because",
                           "when", "if", "than", "like"})


def _cut_cost(ws: list[str], j: int) -> float:
    """How bad a cut before ``ws[j]`` is: 0 after clause punctuation, 1 where a phrase starts, 6 inside one."""
    prev, word = ws[j - 1].lower(), ws[j].lower().strip(".,!?;:\"'()")
    if _CLAUSE_END.search(prev) or prev.endswith(("-", "—")):
        return 0.0
    if word in _NO_CUT_BEFORE or prev.strip("\"'(") in _NO_CUT_AFTER:
        return 6.0
    return 1.0 if word in _CUT_BEFORE else 3.0


def _split_long(ws: list[str], cap: int, smart: bool = False, least: int = 3) -> list[list[str]]:
    if len(ws) <= cap:
        return [ws]
    n = math.ceil(len(ws) / cap)
    size = math.ceil(len(ws) / n)
    if not smart:
        return [ws[i:i + size] for i in range(0, len(ws), size)]
    # The n parts of at most ``cap`` words (at least ``least``) with the cheapest cuts, balanced sizes breaking
    # ties: best[k][j] = cost of cutting ws[:j] into k parts.
    length, even = len(ws), len(ws) / n
    best: list[dict[int, tuple[float, int]]] = [{0: (0.0, -1)}]
    for k in range(1, n + 1):
        row: dict[int, tuple[float, int]] = {}
        ends = [length] if k == n else range(least, length)
        for j in ends:
            cands = [(c + (_cut_cost(ws, j) if j < length else 0.0) + 0.3 * abs((j - i) - even), i)
                     for i, (c, _) in best[k - 1].items() if least <= j - i <= cap]
            if cands:
                row[j] = min(cands)
        best.append(row)
    if length not in best[n]:
        return [ws[i:i + size] for i in range(0, len(ws), size)]
    cuts, j = [], length
    for k in range(n, 0, -1):
        i = best[k][j][1]
        cuts.append((i, j))
        j = i
    return [ws[i:j] for i, j in reversed(cuts)]


def clause_pieces(text: str, min_piece: int = MIN_PIECE, max_piece: int = MAX_PIECE,
                  smart_cut: bool = True) -> list[list[str]]:
    """The clauses of ``text`` as word lists, in order; their words joined are the text's words."""
    raw: list[list[str]] = [[]]
    for w in text.split():
        if raw[-1] and (w.lower().strip(",") in _CLAUSE_START or w.startswith(("(", "-", "—"))):
            raw.append([])
        raw[-1].append(w)
        if _CLAUSE_END.search(w) or w in {"-", "—"}:
            raw.append([])
    raw = [p for p in raw if p]
    merged: list[list[str]] = []
    for p in raw:
        ends_sentence = bool(merged) and _SENTENCE_END.search(merged[-1][-1]) is not None
        if merged and (len(merged[-1]) < min_piece or len(p) < min_piece and not ends_sentence) \
                and len(merged[-1]) + len(p) <= max_piece:
            merged[-1] = merged[-1] + p
        else:
            merged.append(p)
    return [q for p in merged for q in _split_long(p, max_piece, smart_cut, min_piece)]


def piece_text(words: list[str]) -> str:
    """The text of a piece (its words joined by one space): what is embedded for it, on both paths."""
    return " ".join(words)


def quoted_clauses(texts: list[str], events: list[int], units: list[int]) -> list[str]:
    """The distinct :func:`piece_text` of the pieces the read path scores for each event, in order: the pieces of
    an event's sentence units ``1 ..`` :data:`QUOTED_UNITS` when it has units, else of its whole text (unit 0),
    at most :data:`VECTOR_PIECES` per event. ``texts[i]`` is trace ``i``'s stored text, ``events[i]`` its event,
    ``units[i]`` its unit index."""
    has_units = {e for e, u in zip(events, units) if u >= 1}
    out: dict[str, None] = {}
    taken: dict[int, int] = {}
    for text, e, u in zip(texts, events, units):
        if (u == 0) == (e in has_units) or u > QUOTED_UNITS:
            continue
        for ws in clause_pieces(text or ""):
            if taken.get(e, 0) >= VECTOR_PIECES:
                break
            taken[e] = taken.get(e, 0) + 1
            out[piece_text(ws)] = None
    return list(out)
