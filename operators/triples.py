"""The candidate fact of the parse engine before reference resolution (:class:`Triple`), shared by the modules
that read triples off a sentence (:mod:`~tracelake.operators.clauses`, :mod:`~tracelake.operators.nominals`,
:mod:`~tracelake.operators.leftovers`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Token

__all__ = ["Triple"]


@dataclass(frozen=True)
class Triple:
    """A candidate fact before reference resolution.

    ``subject``: the subject token (``None`` for the speaker); ``owner``: for possessive relations, the token
    that owns the relation ("my" -> the speaker). ``frame``: verb frame or relation noun. ``obj_start/obj_end``:
    character offsets of the object phrase in ``doc.text``; ``obj_head`` its head token (``None`` for a literal).
    ``thing``: the subject is a thing named by its noun phrase ("a flat on Harbour Row, 1,500 a month" -> flat).
    ``whole``: the object is a verb's whole complement, beside the pieces of it that are triples of their own
    (:func:`~tracelake.operators.clauses.clause_triples`).
    """

    subject: "Token | None"
    frame: str
    obj_start: int
    obj_end: int
    obj_head: "Token | None"
    polarity: str
    modality: str
    valence: float | None = None
    owner: "Token | None" = None
    relation: bool = False
    place_ref: bool = False
    pronoun_ref: bool = False
    thing: bool = False
    whole: bool = False
