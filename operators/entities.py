"""Entity mentions: capitalised name spans, typed by small general gazetteers and context, plus the speaker.

Contract of :func:`extract_mentions`:

- A name is a run of capitalised words (connectors ``of/de/van/von/der/la/du/&`` allowed inside, e.g. "Bank of
  America"), possessive ``'s`` stripped, titles (``Dr.``, ``Mr``...) dropped but marking a person.
- Never names: stop capitals (I, The, A, pronouns, interjections), weekdays and month names (those belong to
  :mod:`~tracelake.operators.temporal`), all-caps shouting of common words.
- A single capitalised word at a sentence start is kept only when it looks like a name: it is in a gazetteer
  (first names, places, organisations), it also appears capitalised mid-sentence in the same text, or it is
  followed by a naming context ("is my", "said", "works", "and I"...).
- ``I / me / my / mine / myself`` resolve to ``speaker`` (kind ``person``) when a speaker is given.
- kind is ``person | place | org | thing`` by gazetteer, suffix (``University``, ``Inc``, ``City``, ``Street``...),
  title, and nearby verbs ("moved to X" -> place, "works at X" -> org, "my friend X" -> person).

Mentions come back in text order; offsets index the input text. Pure and deterministic.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from tracelake.operators.lexicon import (
    FIRST_NAMES,
    MULTIWORD_PLACES,
    ORG_SUFFIXES,
    ORGS,
    PLACE_SUFFIXES,
    PLACES,
    STOP_CAPITALS,
    STOPWORDS,
    TITLES,
)
from tracelake.operators.text import sentence_spans

__all__ = ["Mention", "extract_mentions", "normalize_name", "is_addressee"]


@dataclass(frozen=True)
class Mention:
    """One mention: surface ``name`` (canonical at this stage), ``kind``, and its ``[start, end)`` offsets."""

    name: str
    kind: str  # person | place | org | thing
    start: int
    end: int


_TOKEN = re.compile(r"[^\W\d_][\w'’\-]*")
_CALL_WORDS = (r"hi|hey|hello|hiya|yo|thanks|thank\s+you|thx|bye|goodbye|see\s+you|dear|congrats|congratulations|"
               r"welcome|good\s+(?:morning|night|evening|afternoon|luck)|morning|cheers|sorry|wow|aww|oh|yes|yeah|no|"
               r"ok|okay|sure|great|awesome|love\s+you|miss\s+you|take\s+care")
_CALLED_AFTER = re.compile(rf"(?i)(?:^|[\s\"'(])(?:{_CALL_WORDS})[\s,!]*$")
_SENTENCE_EDGE = re.compile(r"(?:^|[.!?]\s+)[\"'(]*$")
_POSSESSIVE = re.compile(r"['’]s?$")
_CONNECTORS = frozenset({"of", "de", "da", "del", "van", "von", "der", "den", "la", "le", "du", "y"})
_SELF = re.compile(r"(?<![\w'’])(?:I(?![\w])|i(?=\s|['’](?:m|ve|d|ll)\b)|(?i:me|my|mine|myself)(?![\w'’]))")
_EXTRA_PLACE_SUFFIXES = frozenset({"bridge", "tower", "center", "centre", "hall", "square", "airport", "station"})
_PLACE_PREFIXES = frozenset({"mount", "mt", "lake", "port", "fort", "saint", "st", "san", "santa", "los", "las"})
_REL_WORDS = (
    r"friend|best\s+friend|sister|brother|mom|mum|mother|dad|father|wife|husband|partner|boyfriend|girlfriend|son"
    r"|daughter|cousin|aunt|uncle|grandma|grandmother|grandpa|grandfather|boss|colleague|coworker|co-worker"
    r"|roommate|neighbou?r|fianc[ée]e?|niece|nephew|teacher|coach|mentor|therapist|manager|buddy|pal"
)
_PERSON_BEFORE = re.compile(
    r"(?:\bmy\s+(?:" + _REL_WORDS + r")|\bnamed|\bcalled|\bwith|\bmet|\btold|\basked|\btexted|\bthanks?|\bdear"
    r"|\bhi|\bhey)\s*,?\s*$",
    re.IGNORECASE,
)
_ORG_BEFORE = re.compile(
    r"(?:\bwork(?:s|ed|ing)?\s+(?:at|for)|\bjoin(?:ed|ing)?|\bemployed\s+(?:at|by)|\bjob\s+at|\binterview(?:ed)?\s+(?:at|with)"
    r"|\boffer\s+from|\bhired\s+by)\s+$",
    re.IGNORECASE,
)
_PLACE_BEFORE = re.compile(
    r"(?:\blive[sd]?\s+in|\bliving\s+in|\bmov(?:ed|e|ing)\s+(?:back\s+)?to|\bfrom|\bvisit(?:ed|ing)?|\btrip\s+to"
    r"|\btravel(?:l?ed|l?ing)?\s+to|\bflew\s+to|\bborn\s+in|\bgrew\s+up\s+in|\bin)\s+$",
    re.IGNORECASE,
)
_PERSON_AFTER = re.compile(
    r"^(?:['’]s)?\s*(?:,\s*)?(?:said|says|told|asked|and\s+I\b|is\s+my|was\s+my|texted|called|thinks|wants)\b", re.IGNORECASE
)
_NAME_CONTEXT_AFTER = re.compile(
    r"^(?:['’]s)?\s+(?:is\s+my|was\s+my|and\s+I\b|works?|worked|lives?|lived|moved|said|says|told|asked|called|texted"
    r"|invited|came|went|got|has|had)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=65_536)
def normalize_name(name: str) -> str:
    """Matching key of a name: accents stripped, casefolded, possessive and punctuation removed, single-spaced.
    Pure, so cached: readers and merges ask for the same few names thousands of times per run."""
    text = unicodedata.normalize("NFKD", name or "")
    if not text.isascii():  # combining marks are never ASCII
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.casefold().strip()
    text = re.sub(r"['’]s\b", "", text)
    text = re.sub(r"[^\w\s]|_", " ", text)
    return " ".join(text.split())


def _strip_possessive(word: str) -> str:
    return _POSSESSIVE.sub("", word) if word.endswith(("'s", "’s", "'", "’")) and len(word) > 2 else word


def _is_capital(word: str) -> bool:
    if not word[0].isupper():
        return False
    bare = _strip_possessive(word)
    if bare in STOP_CAPITALS or bare.capitalize() in STOP_CAPITALS and bare.isupper():
        return False
    if bare.isupper() and len(bare) > 1 and (bare.lower() in STOPWORDS or len(bare) > 6):
        return False
    return True


def _kind(name: str, tokens: list[str], before: str, after: str, titled: bool) -> str:
    norm = normalize_name(name)
    words = norm.split()
    if not words:
        return "thing"
    if titled:
        return "person"
    if norm in MULTIWORD_PLACES or (len(words) == 1 and norm in PLACES):
        return "place"
    if norm in ORGS or words[-1] in ORG_SUFFIXES or (len(words) > 1 and words[0] in ORG_SUFFIXES):
        return "org"
    if words[-1] in PLACE_SUFFIXES or words[-1] in _EXTRA_PLACE_SUFFIXES or (len(words) > 1 and words[0] in _PLACE_PREFIXES):
        return "place"
    bare = _strip_possessive(tokens[0])
    if len(tokens) == 1 and bare.isupper() and 2 <= len(bare) <= 5:
        return "org"
    if words[0] in FIRST_NAMES or _PERSON_BEFORE.search(before) or _PERSON_AFTER.search(after):
        return "person"
    if _ORG_BEFORE.search(before):
        return "org"
    if _PLACE_BEFORE.search(before):
        return "place"
    if len(words) == 2:
        return "person"
    return "thing"


def _known(word: str) -> bool:
    norm = normalize_name(word)
    return norm in FIRST_NAMES or norm in PLACES or norm in ORGS


def is_addressee(text: str, m: Mention) -> bool:
    """Whether mention ``m`` of ``text`` addresses someone (a vocative: "Thanks, Caroline!", "Hey Mel, ...",
    "..., Jon." or "Sarah, look at this") rather than talking about them. The name must end its clause
    (followed by ``, ! ? . ; :`` or the end) and follow a greeting/thanks word, a comma, or start its sentence
    (then it must be followed by a comma or ``!``)."""
    if m.start >= len(text) or m.end > len(text) or text[m.start:m.end] != m.name:
        return False  # the speaker behind "I/me", or offsets that do not point at the name
    after = text[m.end:m.end + 3]
    if not re.match(r"\s*(?:[,!?.;:]|$)", after):
        return False
    before = text[max(0, m.start - 40):m.start]
    if _CALLED_AFTER.search(before):
        return True
    if re.search(r",\s*$", before):  # "..., Jon." but not a list of names ("John, Mary, and Bob")
        return not re.search(r"(?:^|\s)[A-Z][\w'’\-]*,\s*$", before)
    if _SENTENCE_EDGE.search(before) and re.match(r"\s*!", after):
        return True
    return bool(_SENTENCE_EDGE.search(before)) and bool(re.match(r",\s+[a-z]", text[m.end:m.end + 4]))


def extract_mentions(text: str, speaker: str | None) -> list[Mention]:
    """Entity mentions of ``text`` in order; first-person pronouns become ``speaker`` when it is given."""
    if not text:
        return []
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    starts = {s for s, _ in sentence_spans(text)}
    sentence_first: set[int] = set()
    for i, (s, _, _) in enumerate(tokens):
        j = s
        while j not in starts and j > 0 and text[j - 1] in "\"'“‘([*-–— \t":
            j -= 1
        if j in starts or j == 0:
            sentence_first.add(i)
    caps_mid = {_strip_possessive(w) for i, (_, _, w) in enumerate(tokens) if i not in sentence_first and _is_capital(w)}

    mentions: list[Mention] = []
    i = 0
    n = len(tokens)
    while i < n:
        s, e, w = tokens[i]
        titled = False
        if _strip_possessive(w).rstrip(".") in TITLES and i + 1 < n and tokens[i + 1][2][0].isupper():
            gap = text[e : tokens[i + 1][0]]
            if gap.strip() in ("", "."):
                titled = True
                i += 1
                s, e, w = tokens[i]
        if not _is_capital(w):
            i += 1
            continue
        run = [i]
        j = i + 1
        while j < n and not tokens[run[-1]][2].endswith(("'s", "’s")):
            gap = text[tokens[run[-1]][1] : tokens[j][0]]
            word = tokens[j][2]
            if gap in (" ", "  ") and _is_capital(word):
                run.append(j)
                j += 1
                continue
            if (
                gap == " "
                and (word in _CONNECTORS)
                and j + 1 < n
                and text[tokens[j][1] : tokens[j + 1][0]] == " "
                and _is_capital(tokens[j + 1][2])
            ):
                run.extend([j, j + 1])
                j += 2
                continue
            if gap == " & " and _is_capital(word):
                run.append(j)
                j += 1
                continue
            break
        first = run[0]
        if first in sentence_first and not titled:
            after = text[tokens[run[-1]][1] : tokens[run[-1]][1] + 40]
            head = _strip_possessive(tokens[first][2])
            keep = _known(head) or head in caps_mid or bool(_NAME_CONTEXT_AFTER.search(after))
            if not keep:
                run = run[1:]
                while run and tokens[run[0]][2] in _CONNECTORS:
                    run = run[1:]
        i = j
        if not run:
            continue
        start, end = tokens[run[0]][0], tokens[run[-1]][1]
        surface = text[start:end]
        stripped = _strip_possessive(surface)
        end -= len(surface) - len(stripped)
        if not normalize_name(stripped):
            continue
        words = [_strip_possessive(tokens[k][2]) for k in run]
        kind = _kind(stripped, words, text[max(0, start - 40) : start], text[end : end + 40], titled)
        mentions.append(Mention(stripped, kind, start, end))

    if speaker:
        for m in _SELF.finditer(text):
            mentions.append(Mention(speaker, "person", m.start(), m.end()))
    mentions.sort(key=lambda m: (m.start, m.end))
    return mentions
