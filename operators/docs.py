"""Cached views of a parsed spaCy ``Doc`` for the readers on top of the parse (same values, computed once).

Contract:

- :func:`doc_text` is ``doc.text``: spaCy rebuilds that string from every token on each read, so a reader that
  slices it per fact paid a pass over the whole document each time; here it is built once per ``Doc``.
- :func:`token_range` is the token indices ``i`` with ``lo <= doc[i].idx < hi`` (character offsets), in order:
  the same tokens as ``[t for t in doc if lo <= t.idx < hi]``, found by bisection over the tokens' start offsets
  (increasing in a ``Doc``), which are read once per ``Doc``.
- Both cache their value in ``doc.user_data`` under string keys of this module (spaCy's own extension data uses
  tuple keys). The caller must not change the ``Doc``'s tokens afterwards (no reader does: annotations may change,
  text and token boundaries do not).
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Doc

__all__ = ["doc_text", "token_range"]

_TEXT = "tracelake.text"
_STARTS = "tracelake.token_starts"


def doc_text(doc: "Doc") -> str:
    """``doc.text``, built once per ``Doc``."""
    text = doc.user_data.get(_TEXT)
    if text is None:
        text = doc.user_data[_TEXT] = doc.text
    return text


def token_range(doc: "Doc", lo: int, hi: int) -> range:
    """Indices of the tokens of ``doc`` that start at a character offset in ``[lo, hi)``, in order."""
    starts = doc.user_data.get(_STARTS)
    if starts is None:
        starts = doc.user_data[_STARTS] = [t.idx for t in doc]
    return range(bisect.bisect_left(starts, lo), bisect.bisect_left(starts, hi))
