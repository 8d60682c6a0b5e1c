"""Result types shared by every room and the HTTP client: what the lake returns.

:class:`IngestResult` (with :data:`ACK_SCHEMA`, one row per record), :class:`Hit` (one ranked trace),
:class:`Episode` and :class:`Bundle` (a reconstruction). They live on the ground floor so the thin HTTP client
(``tracelake.client``) needs neither Lance nor the query room. Frozen dataclasses with ``to_dict()``: JSON-ready
dicts whose times are ISO-8601 strings in UTC with a ``Z`` suffix (the form ``tracelake ... --json`` prints).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from tracelake.timeutil import iso

__all__ = ["ACK_SCHEMA", "IngestResult", "Hit", "Episode", "Bundle", "Context", "ContextItem", "jsonable", "word_count"]

#: Per-record outcome of an ingest: status is accepted | duplicate | rejected.
ACK_SCHEMA = pa.schema(
    [("line", pa.int64()), ("event_id", pa.string()), ("status", pa.string()), ("field", pa.string()),
     ("reason", pa.string())]
)


@dataclass
class IngestResult:
    """What one ingest call did. ``rejected`` lists ``(line, reason)``; ``acks`` has one row per record."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    acks: pa.Table = field(default_factory=ACK_SCHEMA.empty_table)

    def to_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates,
                "rejected": [{"line": line, "reason": reason} for line, reason in self.rejected]}


def jsonable(value: Any) -> Any:
    """``value`` with datetimes as ISO-8601 ``Z`` strings, tuples as lists, NaN as ``None`` (recursively)."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


@dataclass(frozen=True)
class Hit:
    """One trace returned by :meth:`tracelake.api.Lake.search`, best first.

    ``score`` is the fused, re-ranked relevance (higher is better; comparable within one result list only).
    ``source_event_ids`` are the events the trace was derived from — with ``as_of=T`` only those that occurred
    at or before ``T``. ``matched`` names the retrieval signals that found the trace
    (``vector``, ``text``, ``entity``, ``time``). A search returns at most one hit per source event.
    """

    trace_id: str
    score: float
    text: str
    kind: str
    tenant: str
    stream: str | None
    occurred_at: datetime
    valid_from: datetime | None
    valid_to: datetime | None
    source_event_ids: tuple[str, ...]
    actor: str | None = None
    entities: tuple[str, ...] = ()
    time_start: datetime | None = None
    time_end: datetime | None = None
    last_source_at: datetime | None = None
    strength: float | None = None
    matched: tuple[str, ...] = ()
    #: With ``search(..., context_turns=N)``: texts of up to N neighbouring events of the same stream on each
    #: side (time order, all occurred at or before ``as_of``) and their event ids. Not part of
    #: ``source_event_ids``: the context is shown, not cited.
    context: tuple[str, ...] = ()
    context_event_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (ISO ``Z`` times, lists for tuples)."""
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class Episode:
    """Hits of one stream that lie close together in time, in time order.

    ``context`` holds the stream's other traces inside ``[start - margin, end + margin]`` (same as-of rules),
    so the situation reads as a whole; each is a timeline row dict.
    """

    stream: str | None
    start: datetime
    end: datetime
    score: float
    hits: tuple[Hit, ...]
    context: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "start": iso(self.start),
            "end": iso(self.end),
            "score": self.score,
            "hits": [h.to_dict() for h in self.hits],
            "context": jsonable(list(self.context)),
        }


@dataclass(frozen=True)
class Bundle:
    """A situation-level answer to a question (:meth:`tracelake.api.Lake.reconstruct`).

    - ``episodes``: the best traces grouped by stream and time, best episode first;
    - ``entities``: canonical names of the entities involved (from the question and the hits);
    - ``facts``: facts about those entities valid at ``as_of`` (``status == "current"``), each with a
      ``history`` list of the assertions about the same subject and predicate known at ``as_of``
      (superseded ones included), oldest first;
    - ``timeline``: the involved entities' traces in time order (inside the question's time window if it
      names one);
    - ``time_spans``: the time expressions found in the question, resolved relative to ``as_of``.

    Every trace, fact and timeline row carries ``source_event_ids``.
    """

    question: str
    tenant: str
    as_of: datetime | None
    hits: tuple[Hit, ...]
    episodes: tuple[Episode, ...]
    entities: tuple[str, ...]
    facts: tuple[dict[str, Any], ...]
    timeline: tuple[dict[str, Any], ...]
    time_spans: tuple[dict[str, Any], ...] = field(default=())

    def source_event_ids(self) -> list[str]:
        """Every evidence id cited anywhere in the bundle, sorted, without duplicates."""
        ids: set[str] = set()
        for h in self.hits:
            ids.update(h.source_event_ids)
        for ep in self.episodes:
            for row in ep.context:
                ids.update(row.get("source_event_ids") or ())
        for row in self.timeline:
            ids.update(row.get("source_event_ids") or ())
        for fact in self.facts:
            ids.update(fact.get("source_event_ids") or ())
            for old in fact.get("history") or ():
                ids.update(old.get("source_event_ids") or ())
        return sorted(ids)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "tenant": self.tenant,
            "as_of": iso(self.as_of),
            "time_spans": jsonable(list(self.time_spans)),
            "entities": list(self.entities),
            "episodes": [e.to_dict() for e in self.episodes],
            "facts": jsonable(list(self.facts)),
            "timeline": jsonable(list(self.timeline)),
            "hits": [h.to_dict() for h in self.hits],
        }


def word_count(text: str | None) -> int:
    """Words of a text as every budget counts them: runs of non-whitespace."""
    return len((text or "").split())


@dataclass(frozen=True)
class ContextItem:
    """One line of a :class:`Context`: a ``fact`` (a statement with its validity and what it superseded) or
    ``evidence`` (the clauses of one turn that best answer the question, non-adjacent ones joined by ``…``). ``valid_from``/``valid_to``: the fact's
    validity (evidence: the turn's own, usually none); ``occurred_at``: when it was said; ``ref``: the
    evidence's ``trace_id`` or the fact's ``fact_id``."""

    kind: str
    text: str
    source_event_ids: tuple[str, ...]
    score: float
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    occurred_at: datetime | None = None
    ref: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class Context:
    """The best context for ``question`` as of ``as_of`` (as known at ``known_at``), never over ``budget_words``
    words (:func:`word_count`): ``text`` is the items' texts, one per line, best first — ready for a prompt.
    ``mode``: ``present`` (current state first) or ``past`` (the question asks about history or change)."""

    question: str
    tenant: str
    as_of: datetime | None
    known_at: datetime | None
    budget_words: int
    mode: str
    items: tuple[ContextItem, ...]

    @property
    def text(self) -> str:
        return "\n".join(item.text for item in self.items)

    @property
    def words(self) -> int:
        return word_count(self.text)

    def source_event_ids(self) -> list[str]:
        """Every evidence id cited by the items, sorted, without duplicates."""
        return sorted({e for item in self.items for e in item.source_event_ids})

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "tenant": self.tenant, "as_of": iso(self.as_of),
                "known_at": iso(self.known_at), "budget_words": self.budget_words, "mode": self.mode,
                "words": self.words, "text": self.text, "items": [i.to_dict() for i in self.items]}
