"""What a question asks: its mode (present state or history), what its question word wants, whether a turn
is itself a question, and whether a fact is about what the question asks. General English cues only.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tracelake.operators.entities import normalize_name

from .lexical import stems

__all__ = ["question_mode", "is_question", "asks_something", "asks", "matches_question", "predicate_stems",
           "question_stems", "without_time_markers"]

#: Words that make a question ask about the past or about change (the history is the answer).
_PAST = re.compile(
    r"\b(before|used to|previous(ly)?|former(ly)?|originally|at first|first|earlier|ago|until|no longer|"
    r"change[sd]?|changing|switch(ed)?|history|when did|when was|when were|how long|did|was|were|had|"
    r"last time|back then)\b", re.IGNORECASE)
#: Words that pin a question to the present (they win over a weak past marker such as "was" in a clause).
_PRESENT = re.compile(r"\b(now|currently|current|these days|nowadays|at the moment|still|today|anymore)\b",
                      re.IGNORECASE)
_STRONG_PAST = re.compile(r"\b(before|used to|previous(ly)?|former(ly)?|originally|at first|first|earlier|"
                          r"change[sd]?|history|when did|when was|how long)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*")


def question_mode(question: str) -> str:
    """``"past"`` when the question asks about the past or about change, else ``"present"``.

    A strong past marker ("before", "used to", "first", "when did", "what changed") always means past; a
    present marker ("now", "currently", "still") beats a weak one (a past-tense auxiliary)."""
    if _STRONG_PAST.search(question):
        return "past"
    if _PRESENT.search(question):
        return "present"
    return "past" if _PAST.search(question) else "present"


def without_time_markers(question: str) -> str:
    """The question without the words that pin it to the present or the past ("these days", "before"): what is
    left says what it is about."""
    return _PAST.sub(" ", _PRESENT.sub(" ", question))


def is_question(text: str | None, speech_act: str | None = None) -> bool:
    """Whether a turn only asks: the ``speech_act`` column when the lake has it, else every sentence of the
    text ends in ``?`` (a turn that states something and then asks is a statement)."""
    if speech_act:
        return speech_act.lower() == "question"
    body = (text or "").strip()
    if not body.endswith("?"):
        return False
    ends = [m.group().rstrip("\"')]") for m in _SENTENCE_END.finditer(body)]
    return bool(ends) and all("?" in e for e in ends)


def asks_something(text: str | None) -> bool:
    """Whether a turn asks anything: one of its sentences ends in ``?`` ("Loved it! Do you play too?"). Such a
    turn hands the floor to whoever answers next (:mod:`.dialogue`)."""
    return any("?" in m.group() for m in _SENTENCE_END.finditer(text or ""))


#: What the question word asks for: stems a matching predicate carries, object types that fit.
_ASKS: list[tuple[re.Pattern[str], frozenset[str], frozenset[str]]] = [
    (re.compile(r"\bwhere\b", re.I), frozenset({"live", "move", "work", "from", "studi", "stay", "locat", "born",
                                                "base", "employ"}), frozenset()),
    (re.compile(r"\bwho\b|\bwhose\b", re.I), frozenset(), frozenset({"entity"})),
    (re.compile(r"\bhow (much|many)\b|\b(cost|price|paid|pay|earn|earns|earned|salary|wage|rent|fee|spend|"
                r"spent|owe|owed|budget)\b", re.I), frozenset(),
     frozenset({"money", "number"})),
    (re.compile(r"\bhow (old|long|often|far|big|many times)\b|\bwhat (score|age|percent(age)?|grade|number|size|"
                r"mark)\b", re.I), frozenset(), frozenset({"number"})),
    (re.compile(r"\bwhen\b|\bwhat (day|date|time)\b", re.I), frozenset({"date", "schedul"}), frozenset({"time"})),
    (re.compile(r"\bfeel|\bmood\b", re.I), frozenset({"feel"}), frozenset()),
]


def asks(question: str) -> tuple[frozenset[str], frozenset[str], bool, bool]:
    """``(predicate stems, object types, wants a name, wants a number)`` the question word asks for."""
    pred: set[str] = set()
    types: set[str] = set()
    for pattern, p, t in _ASKS:
        if pattern.search(question):
            pred |= p
            types |= t
    return frozenset(pred), frozenset(types), "entity" in types, bool(types & {"money", "number", "time"})


#: Everyday words and the stem of the canonical predicate they ask about (general English relation nouns).
_SYNONYMS = {
    "girlfriend": "partner", "boyfriend": "partner", "wife": "partner", "husband": "partner", "spous": "partner",
    "fianc": "partner", "fiance": "partner", "fiancé": "partner", "boss": "manag", "supervisor": "manag",
    "job": "titl", "posit": "titl", "role": "titl", "pay": "salari", "earn": "salari", "wage": "salari",
    "home": "live", "flat": "live", "apart": "live", "citi": "live", "town": "live", "employ": "work",
    "compani": "work", "firm": "work", "mood": "feel", "dog": "pet", "cat": "pet", "vet": "doctor",
    "dentist": "doctor", "gp": "doctor", "medicin": "medic", "rent": "rent", "cost": "price",
}


def _with_synonyms(own: set[str]) -> set[str]:
    return own | {_SYNONYMS[w] for w in own if w in _SYNONYMS}


def question_stems(question: str) -> set[str]:
    """The question's stems plus the stems of the canonical predicates its everyday words ask about
    ("girlfriend" -> partner, "boss" -> manager, "which city" -> lives_in)."""
    return _with_synonyms(stems(question))


@lru_cache(maxsize=65536)
def predicate_stems(predicate: str) -> frozenset[str]:
    """Stems of a predicate's words plus the canonical predicates they name, as :func:`question_stems` reads
    a question (``works_at`` -> {"work"}; ``boyfriend`` -> {"boyfriend", "partner"}: "who is Renata's partner"
    is answered by ``Renata boyfriend Ezra``), cached: predicates repeat."""
    return frozenset(_with_synonyms(stems(predicate.replace("_", " "))))


@lru_cache(maxsize=65536)
def _name(subject: str) -> str:
    return normalize_name(subject)


def matches_question(subject: str, predicate: str, q_stems: set[str], q_norm: str, q_names: set[str],
                     want_pred: frozenset[str]) -> bool:
    """Whether a fact is about what the question asks: its predicate words (or what the question word asks
    for) match, and its subject is named in the question (or the question names none of the subjects
    ``q_names`` was drawn from). ``q_norm`` is the normalised question padded with spaces."""
    pred = predicate_stems(predicate)
    if not (pred & q_stems or pred & want_pred):
        return False
    subject = _name(subject)
    return not q_names or subject in q_names or f" {subject} " in q_norm
