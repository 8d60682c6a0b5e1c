"""Names the text sets against another bearer of the same name ("not dispatch Sam", "different Deepa").

Contract: :func:`namesakes` returns, for one parsed sentence, ``(start, end, word)`` per proper noun that the
dependency tree marks as one of two people sharing a first name; ``start``/``end`` are character offsets in the
doc plus ``offset``, ``word`` is the shared name word, lower-cased. Entity resolution keeps a shared name word
apart from any full name (:mod:`~tracelake.operators.merge_entities`, rule 3). A proper noun counts when

1. a contrasting modifier is its own dependent: ``different``/``other``/``another``/``real`` ("the other Noor",
   "the real Kofi");
2. it is a counted plural ("two Kofis": a number dependent, the word minus its plural ``s`` is the name);
3. a naming verb ("called", "named") with ``also``/``too`` governs it ("their dev lead is also called Noor");
4. it is negated (a ``neg`` dependent, or ``not`` one or two words before it) and its word names another
   proper noun of the same sentence ("my friend Sam ..., not dispatch Sam");
5. a negated pointer ``one`` is apposed to it ("home Noor obviously, not the Brightwater one").

Only closed-class words and dependency labels; deterministic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from spacy.tokens import Span, Token

__all__ = ["namesakes"]

_CONTRASTING = frozenset({"different", "other", "another", "real"})
_ALSO = frozenset({"also", "too"})
_NAMING = frozenset({"call", "name"})
_COUNTS = frozenset({"two", "both", "three", "2", "3"})


def _negated(tok: "Token") -> bool:
    if any(c.dep_ == "neg" for c in tok.children):
        return True
    return any(k >= tok.sent.start and tok.doc[k].lower_ == "not" for k in (tok.i - 1, tok.i - 2))


def _shared_word(tok: "Token", words: dict[str, int]) -> str | None:
    word = tok.lower_
    kids = list(tok.children)
    if any(c.lower_ in _CONTRASTING and c.dep_ in ("amod", "det") for c in kids):
        return word
    if len(word) > 2 and word.endswith("s") and any(c.dep_ == "nummod" and c.lower_ in _COUNTS for c in kids):
        return word[:-1]
    verbs = [tok.head] + [c for c in kids if c.dep_ == "amod"]  # "is also called Noor", "also-called Deepa"
    if any(v.lemma_.lower() in _NAMING and any(c.lower_ in _ALSO for c in v.children) for v in verbs):
        return word
    if _negated(tok) and words.get(word, 0) >= 2:
        return word
    if any(c.lower_ == "one" and c.dep_ in ("appos", "conj") and _negated(c) for c in kids):
        return word
    return None


def namesakes(sent: "Span", offset: int = 0) -> list[tuple[int, int, str]]:
    """``(start, end, shared word)`` of each proper noun in ``sent`` set against a namesake (module contract)."""
    names = [t for t in sent if t.pos_ == "PROPN" and t.text[:1].isalpha()]
    words: dict[str, int] = {}
    for t in names:
        words[t.lower_] = words.get(t.lower_, 0) + 1
    out: list[tuple[int, int, str]] = []
    for t in names:
        word = _shared_word(t, words)
        if word:
            out.append((offset + t.idx, offset + t.idx + len(t.text), word))
    return out
