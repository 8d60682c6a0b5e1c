"""Text primitives shared by the operators: sentence/unit splitting, keywords, text normalisation.

All functions are pure and regex-based. Offsets are Python ``str`` indices into the input text.
"""

from __future__ import annotations

import re
import unicodedata

from tracelake.operators.lexicon import STOPWORDS

__all__ = ["sentence_spans", "split_units", "keywords", "normalize_text", "clean_text"]

# A sentence ends at . ! ? … (plus closing quotes/brackets) followed by whitespace, or at a line break.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|\n")
_WORD = re.compile(r"\S+")
_ABBREV = frozenset(
    "mr mrs ms dr prof st vs etc e.g i.e jr sr inc ltd co no approx dept est fig gen gov lt mt sgt u.s u.k a.m p.m".split()
)
_TOKEN = re.compile(r"[^\W_](?:[\w'’\-]*[^\W_])?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
_NORM_DROP = re.compile(r"[^\w\s]|_")
_SPACES = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """NFC-normalise, then replace control and zero-width characters by spaces; operators work on this form."""
    text = unicodedata.normalize("NFC", text)
    return _CONTROL.sub(" ", text)


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the '.' at ``dot`` ends an abbreviation or an initial (``Dr.``, ``J.``, ``e.g.``)."""
    start = dot
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    token = text[start:dot].lower().lstrip("(\"'")
    if not token:
        return False
    if token in _ABBREV:
        return True
    return len(token) == 1 and token.isalpha()


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence, whitespace-trimmed, in order; empty text gives ``[]``."""
    spans: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    for m in _BOUNDARY.finditer(text):
        end = m.end()
        if m.group() != "\n":
            if m.group()[0] == "." and len(m.group().rstrip("\"'”’)]")) == 1 and _is_abbreviation(text, m.start()):
                continue
            nxt = m.end()
            while nxt < n and text[nxt] in " \t\r":
                nxt += 1
            if nxt < n and text[nxt].islower():
                continue
        spans.append((start, end))
        start = end
    spans.append((start, n))
    out: list[tuple[int, int]] = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def _word_count(text: str, span: tuple[int, int]) -> int:
    return len(_WORD.findall(text, span[0], span[1]))


def _chunk_long(text: str, span: tuple[int, int], max_words: int) -> list[tuple[int, int]]:
    """Cut a span of more than ``max_words`` words, preferring cuts after , ; : in each window's last third."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(text, span[0], span[1])]
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        j = min(i + max_words, len(words))
        if j < len(words):
            for k in range(j - 1, i + (2 * max_words) // 3 - 1, -1):
                if text[words[k][1] - 1] in ",;:":
                    j = k + 1
                    break
        out.append((words[i][0], words[j - 1][1]))
        i = j
    return out


def split_units(text: str, *, max_words: int = 60, min_words: int = 3) -> list[tuple[int, int]]:
    """Episodic units: sentences, fragments under ``min_words`` merged into a neighbour, none over ``max_words``.

    A short fragment joins the previous unit (the next one when it comes first), unless the join would pass
    ``max_words``. Returns ``(start, end)`` offsets into ``text``.
    """
    merged: list[tuple[int, int]] = []
    pending: tuple[int, int] | None = None  # a leading short fragment waiting for the next unit
    for span in sentence_spans(text):
        wc = _word_count(text, span)
        if pending is not None:
            span = (pending[0], span[1])
            wc = _word_count(text, span)
            pending = None
        if wc < min_words:
            if merged and _word_count(text, (merged[-1][0], span[1])) <= max_words:
                merged[-1] = (merged[-1][0], span[1])
                continue
            if not merged:
                pending = span
                continue
        merged.append(span)
    if pending is not None:
        merged.append(pending)
    out: list[tuple[int, int]] = []
    for span in merged:
        if _word_count(text, span) > max_words:
            out.extend(_chunk_long(text, span, max_words))
        else:
            out.append(span)
    return out


def keywords(text: str, *, limit: int = 16, extra: list[str] | None = None) -> list[str]:
    """Lower-cased content words minus stopwords, possessive ``'s`` stripped, deduplicated in order.

    ``extra`` keywords (e.g. resolved dates) come first. At most ``limit`` are returned.
    """
    out: list[str] = []
    seen: set[str] = set()
    for word in extra or ():
        if word not in seen:
            seen.add(word)
            out.append(word)
    for m in _TOKEN.finditer(text):
        word = m.group().casefold().replace("’", "'")
        if word.endswith("'s"):
            word = word[:-2]
        if len(word) < 2 or word in STOPWORDS or word in seen:
            continue
        seen.add(word)
        out.append(word)
        if len(out) >= limit:
            break
    return out[:limit]


def normalize_text(text: str) -> str:
    """Casefolded, accent-stripped, punctuation-free, single-spaced form of ``text`` (for exact matching)."""
    text = unicodedata.normalize("NFKD", text)
    if not text.isascii():  # combining marks are never ASCII (the per-character pass was the merge's hot spot)
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = _NORM_DROP.sub(" ", text.casefold())
    return _SPACES.sub(" ", text).strip()
