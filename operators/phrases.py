"""Noun phrases and time phrases of a parsed sentence: what an object of a fact may be (no regex rules).

Contract:

- :func:`phrase_bounds`: the character span of the noun phrase headed by a token: the head with its modifiers,
  numbers with units, money and names, without relative clauses, appositions, coordinated phrases, leading
  determiners or trailing punctuation, at most :data:`MAX_OBJECT_TOKENS` tokens; a hyphen or slash inside a word
  ("Okonkwo-Lay", "L5-S1") stays; ``None`` for a bare pronoun or filler.
- :func:`is_time`: the token is part of a time expression (DATE/TIME entity or a time noun); :func:`time_object`:
  the span of a time phrase that says something of its own ("on the 12th of august", "for 6 weeks", "three
  times a day"), ``None`` for one that only dates its clause relative to the moment of speaking ("last week",
  "two days ago").
- :func:`name_of` (an apposed or compound proper noun naming a common noun: "my cousin Ines"), :func:`possessor`
  ("my", "Ruth's"), :func:`coordinated` (a noun and the nouns coordinated with it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from tracelake.operators.docs import token_range
from tracelake.operators.predicates import pet_noun

if TYPE_CHECKING:
    from spacy.tokens import Token

__all__ = ["phrase_bounds", "is_time", "time_object", "name_of", "called_name", "possessor", "coordinated", "MAX_OBJECT_TOKENS",
           "TIME_LABELS"]

MAX_OBJECT_TOKENS = 10
TIME_LABELS = frozenset({"DATE", "TIME"})
_TIME_NOUNS = frozenset(
    "day days week weeks month months year years morning afternoon evening night tonight today tomorrow yesterday "
    "weekend weekends moment minute minutes hour hours while time times ago sec second seconds lately".split()
)
#: Words of time phrases that only date a clause relative to the moment of speaking.
_DEICTIC = frozenset("last next this that the these those past other same few couple of a an today tonight tomorrow "
                     "yesterday now then day days week weeks weekend month months year years morning afternoon evening "
                     "night time while moment recently lately earlier later soon once".split())
_DROP_LEAD = frozenset("a an the this that these those some any such".split())
_BAD_OBJECT = frozenset(
    "it that this them him her you me us something anything nothing everything one lot bit stuff thing things what "
    "which who there here myself yourself himself herself themselves ourselves itself whatever so no yes".split()
)
#: Chat words that are no part of a phrase ("Bolletje lol", "up to 22 btw"), nor a phrase on their own.
_CHAT = frozenset("lol lmao haha hahaha ngl tbh btw omg idk imo fr xx".split())
_PHRASE_CUT = frozenset({"relcl", "acl", "advcl", "punct", "cc", "conj", "appos", "parataxis", "ccomp", "mark", "intj"})


def is_time(tok: "Token") -> bool:
    return tok.ent_type_ in TIME_LABELS or tok.lemma_.lower() in _TIME_NOUNS


def time_object(tok: "Token") -> tuple[int, int] | None:
    """The span of a time phrase that says something of its own ("on the 12th of august", "tuesdays 6-9", "for 6
    weeks", "three times a day"), or ``None`` for one that only dates the clause ("last week", "two days ago")."""
    span = phrase_bounds(tok)
    if span is None:
        return None
    words = [tok.doc[i].lower_ for i in token_range(tok.doc, span[0], span[1]) if not tok.doc[i].is_punct]
    if "ago" in words or all(w in _DEICTIC for w in words):
        return None
    return span


def _joiner(tok: "Token") -> bool:
    """A hyphen or slash inside a word ("Okonkwo-Lay", "L5-S1"): part of the phrase, not a cut."""
    return tok.text in ("-", "/", "&") and not tok.whitespace_ and tok.i > 0 and not tok.doc[tok.i - 1].whitespace_


def phrase_bounds(head: "Token") -> tuple[int, int] | None:
    """Character span of the noun phrase headed by ``head`` (see the module contract), or ``None``."""
    toks = [head]
    stack = [c for c in head.children if c.dep_ not in _PHRASE_CUT or _joiner(c)]
    while stack:
        t = stack.pop()
        toks.append(t)
        stack.extend(c for c in t.children if c.dep_ not in _PHRASE_CUT or _joiner(c))
    toks.sort(key=lambda t: t.i)
    # keep the contiguous run around the head
    idx = [t.i for t in toks]
    pos = idx.index(head.i)
    lo = hi = pos
    while lo > 0 and idx[lo - 1] == idx[lo] - 1:
        lo -= 1
    while hi < len(idx) - 1 and idx[hi + 1] == idx[hi] + 1:
        hi += 1
    run = toks[lo:hi + 1]
    while run and (run[0].lower_ in _DROP_LEAD or run[0].is_punct or run[0].lower_ in ("like", "just", "about") or
                   (run[0].lower_ == "so" and run[0].head.pos_ not in ("ADJ", "ADV"))) \
            and run[0] != head:
        run = run[1:]
    while run and (run[-1].is_punct or run[-1].dep_ in ("case", "cc") or run[-1].lower_ in _CHAT) and \
            run[-1] != head:
        run = run[:-1]
    if len(run) > MAX_OBJECT_TOKENS:  # keep the head and what is closest to it
        start = max(0, min(run.index(head) - 3, len(run) - MAX_OBJECT_TOKENS))
        run = run[start:start + MAX_OBJECT_TOKENS]
    if not run:
        return None
    if len(run) == 1 and (head.lower_ in _BAD_OBJECT or head.lower_ in _CHAT or
                          head.pos_ in ("PRON", "DET", "PUNCT", "SYM", "INTJ")):
        return None
    lo, hi = run[0].idx, run[-1].idx + len(run[-1].text)
    if head.pos_ == "PROPN" and head.ent_type_ in ("ORG", "FAC", "WORK_OF_ART"):  # "Halberd & Wren", "Crumb & Co"
        ent = next((e for e in head.doc.ents if e.start <= head.i < e.end), None)
        words = [t for t in ent if t.lower_ not in _DROP_LEAD] if ent is not None else []
        if words and len(ent) <= MAX_OBJECT_TOKENS:
            lo, hi = min(lo, words[0].idx), max(hi, words[-1].idx + len(words[-1].text))
    return lo, hi


def coordinated(tok: "Token") -> Iterator["Token"]:
    """``tok`` and its coordinated nouns ("a dog and two cats")."""
    yield tok
    for c in tok.children:
        if c.dep_ == "conj" and c.pos_ in ("NOUN", "PROPN", "NUM"):
            yield from coordinated(c)


def called_name(noun: "Token") -> "Token | None":
    """The name a noun is called by ("a woman called Priya Lanz", "a guy named Colm"); a pet has none here (its
    name is its owner's ``pet_name``)."""
    for c in noun.children:
        if c.dep_ == "acl" and c.tag_ == "VBN" and c.lemma_ in ("call", "name") and not pet_noun(noun.lemma_):
            return next((g for g in c.children if g.dep_ in ("oprd", "attr", "dobj") and g.pos_ == "PROPN"), None)
    return None


def name_of(noun: "Token") -> "Token | None":
    """A proper-noun apposition or compound naming ``noun`` ("my cousin Ines", "this guy Omar Shah"; also when the
    parser made the name a second subject: "my young lad Rory is 13")."""
    for c in noun.children:
        if c.dep_ == "appos" and c.pos_ == "PROPN":
            return c
    after = noun.doc[noun.i + 1] if noun.i + 1 < len(noun.doc) else None
    while after is not None and after.dep_ == "compound" and after.pos_ == "PROPN" and after.head.i > after.i:
        after = after.head
    if noun.pos_ == "NOUN" and after is not None and after.pos_ == "PROPN" and after.dep_ == noun.dep_ and \
            noun.dep_ in ("nsubj", "nsubjpass") and after.head == noun.head:
        return after
    if noun.pos_ == "NOUN":
        for c in noun.children:
            if c.dep_ == "appos" and c.pos_ == "NOUN":
                named = name_of(c)
                if named is not None:
                    return named
    if noun.pos_ == "PROPN" and noun.head.pos_ == "NOUN" and noun.dep_ in ("compound",):
        return None
    return None


def possessor(noun: "Token") -> "Token | None":
    for c in noun.children:
        if c.dep_ == "poss":
            return c
    return None
