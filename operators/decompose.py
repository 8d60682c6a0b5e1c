"""Decompose events into traces, entity mentions and fact candidates (one pass, no I/O).

Contract of :func:`decompose`:

- Input: an events table with at least ``tenant``, ``event_id``, ``occurred_at`` (``stream``, ``actor``, ``text``,
  ``attrs`` optional). Rows are processed in ``(tenant, occurred_at, event_id)`` order and deduplicated on
  ``(tenant, event_id)`` (first kept), so the output does not depend on the input row order. Rows with a null
  tenant, event_id or occurred_at are skipped. An event's content is its text, or its ``attrs`` JSON text when
  the text is null or blank; an event with neither yields nothing.
- ``traces`` (schema ``traces_schema(embedder.dim)``): per event, one ``episodic`` trace of the whole text (unit
  index 0), plus one ``episodic`` trace per unit (index 1..n) when the text has two or more units (sentences;
  fragments under 3 words merged into a neighbour; none over 60 words). Facts get no trace of their own (they
  live in the facts table; no extra embedding per fact). ``speech_act``: of the unit's sentences (``statement``
  when any is one, else the first: ``question`` | ``request`` | ``greeting``); index 0 likewise over the whole
  text. ``entities``: surface names mentioned in the trace's span (speaker
  included for I/me/my); ``time_start``/``time_end``: earliest start / latest end of the precise time
  expressions in the span (vague ones such as "recently" only when nothing precise is there); ``keywords``: the
  resolved dates (``2023-05-07``, ``2023-05``, ``2023``) first, then the speaker's (``actor``) name words, then
  content words, at most 16. Lifecycle columns as documented in ``docs/operators.md``. Vectors: two calls for the
  whole table, ``embed`` over the whole-text trace of each event *without* units and ``embed_spans`` over every
  unit trace as a span of its event's text (:func:`~tracelake.operators.embedders.embed_spans`); the whole-text
  trace of an event with units gets the normalised mean of its units' vectors (one text fewer per such event, no
  recall lost on LoCoMo: ``docs/benchmarks.md``). Episodic traces with an actor are embedded as
  ``"{actor}: {text}"`` (``text`` is stored as is).
- ``mentions``: one row per mention (``MENTIONS`` schema); ``kin``: the kinship relation a fact of the event
  gives the name ("my brother Kofi" -> ``brother``), ``namesake``: the name word when the text sets this mention
  against another bearer of it ("not dispatch Sam" -> ``sam``), else null (evidence for entity resolution).
- ``clauses``: the distinct texts of the clause pieces the read path quotes and compares with a question
  (:func:`~tracelake.operators.clause_pieces.quoted_clauses`, in trace order), only with ``quote_clauses``
  (else empty); not embedded here — the pipeline embeds them into the lake's vector cache when
  ``Settings.clause_vectors`` is on.
- ``facts``: one row per fact candidate (``FACT_CANDIDATES`` schema) read by the ``decomposer``
  (:class:`~tracelake.operators.extract.Decomposer`, default the parse-based engine); ``valid_from`` is the start
  of the precise time expression nearest to the fact's object in the same sentence ("I moved to Berlin last
  year"), else the event time; ``polarity`` / ``modality`` as the decomposer read them.

Bounded work per event: only the first :data:`MAX_ANALYSED_CHARS` characters of an event are analysed (parsed,
split into units, searched for mentions and times), and at most :data:`MAX_UNITS` unit traces are made. The event
is never dropped: its whole-text trace keeps the full text and records in ``analysed_chars`` how much of it was
analysed (null when all of it was).

Ids: ``trace_id = blake2b(tenant, event_id, kind, index)``. Deterministic: same input, same bytes.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from tracelake.operators._columns import column, micros, require, ts_array
from tracelake.operators.clause_pieces import quoted_clauses
from tracelake.ids import trace_id
from tracelake.operators.embedders import Embedder, embed_spans
from tracelake.operators.entities import Mention, extract_mentions, is_addressee, normalize_name
from tracelake.operators.extract import Decomposer, EventText, Fact, ParseDecomposer, Reading
from tracelake.operators.predicates import is_kin
from tracelake.operators.temporal import TimeSpan, resolve_time_expressions, span_keyword
from tracelake.operators.text import clean_text, keywords, sentence_spans, split_units
from tracelake.schemas import traces_schema
from tracelake.timeutil import TS, dt_micros, from_micros

__all__ = ["Decomposition", "decompose", "reader_texts", "MENTIONS", "FACT_CANDIDATES", "event_content"]

#: Characters of an event that are analysed (an INTERFACE event may hold 1 MiB: parsing it all is minutes).
MAX_ANALYSED_CHARS = 20_000
#: Unit traces made per event at most (a 10,000-sentence event keeps its first units).
MAX_UNITS = 200

MENTIONS = pa.schema(
    [
        pa.field("tenant", pa.string(), nullable=False),
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("occurred_at", TS, nullable=False),
        pa.field("kin", pa.string()),
        pa.field("namesake", pa.string()),
    ]
)

FACT_CANDIDATES = pa.schema(
    [
        pa.field("tenant", pa.string(), nullable=False),
        pa.field("subject", pa.string(), nullable=False),
        pa.field("predicate", pa.string(), nullable=False),
        pa.field("object", pa.string(), nullable=False),
        pa.field("object_type", pa.string(), nullable=False),
        pa.field("value_num", pa.float64()),
        pa.field("value_time", TS),
        pa.field("statement", pa.string()),
        pa.field("stream", pa.string()),
        pa.field("actor", pa.string()),
        pa.field("occurred_at", TS, nullable=False),
        pa.field("valid_from", TS, nullable=False),
        pa.field("source_event_id", pa.string(), nullable=False),
        pa.field("polarity", pa.string()),
        pa.field("modality", pa.string()),
    ]
)


@dataclass(frozen=True)
class Decomposition:
    """The outputs of :func:`decompose`: three tables, and ``clauses``, the distinct clause texts of the traces
    that the read path compares with a question
    (:func:`~tracelake.operators.clause_pieces.quoted_clauses`), for the pipeline to embed into the lake's vector
    cache."""

    traces: pa.Table
    mentions: pa.Table
    facts: pa.Table
    clauses: tuple[str, ...] = ()


def event_content(text: str | None, attrs: str | None) -> str:
    """The text an event contributes: its text, else its attrs JSON text, cleaned; ``""`` when neither."""
    if text is not None and text.strip():
        return clean_text(text).strip()
    if attrs is not None and attrs.strip():
        return clean_text(attrs).strip()
    return ""


def _pinned(attrs: str | None) -> bool:
    if not attrs:
        return False
    try:
        value = json.loads(attrs)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and value.get("pinned") is True


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _time_window(spans: list[TimeSpan]) -> tuple[int | None, int | None, list[str]]:
    """``(time_start, time_end, date keywords)`` of the spans, preferring precise over vague ones."""
    precise = [s for s in spans if s.granularity != "vague"]
    use = precise or spans
    if not use:
        return None, None, []
    start = min(dt_micros(s.start) for s in use)
    end = max(dt_micros(s.end) for s in use)
    return start, end, _dedupe([span_keyword(s) for s in precise])


class _Builder:
    """Accumulates trace, mention and fact rows as column lists."""

    def __init__(self) -> None:
        self.traces: dict[str, list[Any]] = {k: [] for k in _TRACE_COLS}
        self.mentions: dict[str, list[Any]] = {f.name: [] for f in MENTIONS}
        self.facts: dict[str, list[Any]] = {f.name: [] for f in FACT_CANDIDATES}

    def trace(self, ev: dict[str, Any], kind: str, index: int, text: str, entities: list[str], spans: list[TimeSpan],
              act: str, analysed: int | None = None) -> None:
        start, end, date_kw = _time_window(spans)
        t = self.traces
        t["speech_act"].append(act)
        t["analysed_chars"].append(analysed)
        t["tenant"].append(ev["tenant"])
        t["trace_id"].append(trace_id(ev["tenant"], ev["event_id"], kind, index))
        t["kind"].append(kind)
        t["stream"].append(ev["stream"])
        t["actor"].append(ev["actor"])
        t["text"].append(text)
        t["time_start"].append(start)
        t["time_end"].append(end)
        t["entities"].append(_dedupe(entities))
        # The speaker is part of what is searchable: their name joins the keywords of what they said.
        speaker = keywords(ev["actor"]) if ev["actor"] else []
        t["keywords"].append(keywords(text[:MAX_ANALYSED_CHARS], extra=date_kw + speaker))
        t["event_index"].append(ev["_row"])
        t["unit_index"].append(index)


_TRACE_COLS = ("tenant", "trace_id", "kind", "stream", "actor", "text", "time_start", "time_end", "entities", "keywords",
               "event_index", "speech_act", "analysed_chars", "unit_index")


def _nearest_span(fact: Fact, spans: list[TimeSpan], bounds: tuple[int, int]) -> TimeSpan | None:
    lo, hi = bounds
    best: tuple[int, int] | None = None
    chosen = None
    for span in spans:
        if span.granularity == "vague" or span.char_start < lo or span.char_end > hi:
            continue
        distance = max(0, span.char_start - fact.end, fact.start - span.char_end)
        key = (distance, span.char_start)
        if best is None or key < best:
            best, chosen = key, span
    return chosen


def _act(acts: list[tuple[int, int, str]], lo: int, hi: int) -> str:
    """Speech act of ``[lo, hi)``: ``statement`` when any sentence inside is one, else the first sentence's."""
    inside = [a for s, e, a in acts if s < hi and e > lo]
    if not inside:
        return "statement"
    return "statement" if "statement" in inside else inside[0]


def _decompose_event(ev: dict[str, Any], reading: Reading, b: _Builder) -> None:
    content: str = ev["analysed"]
    actor: str | None = ev["actor"]
    anchor = from_micros(ev["occurred_at"])
    mentions = extract_mentions(content, actor)
    spans = resolve_time_expressions(content, anchor)
    units = split_units(content)[:MAX_UNITS]
    sentences = sentence_spans(content)
    sentence_starts = [s for s, _ in sentences]

    mention_starts = [m.start for m in mentions]  # both lists come sorted by offset
    span_starts = [s.char_start for s in spans]
    # People addressed by name ("Thanks, Caroline!") are not what the trace is about: kept out of its entities
    # (the mention rows still record them).
    called = [is_addressee(content, m) for m in mentions]

    def within(lo: int, hi: int) -> tuple[list[str], list[TimeSpan]]:
        a, z = bisect.bisect_left(mention_starts, lo), bisect.bisect_left(mention_starts, hi)
        names = [m.name for m, c in zip(mentions[a:z], called[a:z]) if not c]
        a, z = bisect.bisect_left(span_starts, lo), bisect.bisect_left(span_starts, hi)
        return names, spans[a:z]

    names, in_spans = within(0, len(content))
    b.trace(ev, "episodic", 0, ev["content"], names, in_spans, _act(reading.acts, 0, len(content)),
            analysed=len(content) if len(content) < len(ev["content"]) else None)
    if len(units) >= 2:
        for i, (lo, hi) in enumerate(units, start=1):
            names, in_spans = within(lo, hi)
            b.trace(ev, "episodic", i, content[lo:hi], names, in_spans, _act(reading.acts, lo, hi))

    kin = {normalize_name(f.object): f.predicate for f in reading.facts
           if is_kin(f.predicate) and f.polarity == "positive"}
    for m in mentions:
        shared = next((w for lo, hi, w in reading.namesakes if lo < m.end and m.start < hi), None)
        _mention_row(b, ev, m, kin.get(normalize_name(m.name)), shared)

    for fact in reading.facts:
        k = max(0, bisect.bisect_right(sentence_starts, fact.start) - 1)
        bounds = sentences[k] if sentences else (0, len(content))
        a, z = bisect.bisect_left(span_starts, bounds[0]), bisect.bisect_left(span_starts, bounds[1])
        span = _nearest_span(fact, spans[a:z], bounds)
        f = b.facts
        f["tenant"].append(ev["tenant"])
        f["subject"].append(fact.subject)
        f["predicate"].append(fact.predicate)
        f["object"].append(fact.object)
        f["object_type"].append(fact.object_type)
        f["value_num"].append(fact.value_num)
        f["value_time"].append(dt_micros(span.start) if span is not None and fact.object_type == "time" else None)
        f["statement"].append(fact.statement)
        f["stream"].append(ev["stream"])
        f["actor"].append(actor)
        f["occurred_at"].append(ev["occurred_at"])
        f["valid_from"].append(dt_micros(span.start) if span is not None else ev["occurred_at"])
        f["source_event_id"].append(ev["event_id"])
        f["polarity"].append(fact.polarity)
        f["modality"].append(fact.modality)


def _mention_row(b: _Builder, ev: dict[str, Any], m: Mention, kin: str | None, namesake: str | None) -> None:
    r = b.mentions
    r["kin"].append(kin)
    r["namesake"].append(namesake)
    r["tenant"].append(ev["tenant"])
    r["event_id"].append(ev["event_id"])
    r["name"].append(m.name)
    r["kind"].append(m.kind)
    r["occurred_at"].append(ev["occurred_at"])


def _events(events: pa.Table) -> list[dict[str, Any]]:
    require(events, ["tenant", "event_id", "occurred_at"], "events")
    tenants = column(events, "tenant")
    ids = column(events, "event_id")
    times = micros(events, "occurred_at")
    streams = column(events, "stream")
    actors = column(events, "actor")
    texts = column(events, "text")
    attrs = column(events, "attrs")
    order = sorted(
        (i for i in range(events.num_rows) if tenants[i] is not None and ids[i] is not None and times[i] is not None),
        key=lambda i: (tenants[i], times[i], ids[i], texts[i] or "", attrs[i] or "", i),
    )
    seen: set[tuple[str, str]] = set()
    out: list[dict[str, Any]] = []
    for i in order:
        key = (tenants[i], ids[i])
        if key in seen:
            continue
        seen.add(key)
        content = event_content(texts[i], attrs[i])
        if not content:
            continue
        out.append(
            {
                "_row": len(out), "tenant": tenants[i], "event_id": ids[i], "occurred_at": times[i],
                "stream": streams[i], "actor": actors[i], "content": content, "pinned": _pinned(attrs[i]),
                "analysed": content[:MAX_ANALYSED_CHARS],
            }
        )
    return out


def _event_text(ev: dict[str, Any]) -> EventText:
    return EventText((ev["tenant"], ev["stream"] or ""), ev["actor"], ev["analysed"])


def reader_texts(events: pa.Table) -> list[EventText]:
    """What :func:`decompose` hands its decomposer for ``events``, in the same order (to read them apart)."""
    return [_event_text(ev) for ev in _events(events)]


def _trace_vectors(texts: list[str], actors: list[str | None], events: list[int], units: list[int],
                   embedder: Embedder) -> np.ndarray:
    """One vector per trace (``events``: each trace's event row; ``units``: its unit index, 0 = whole text).

    What a speaker said is read as ``"{actor}: {text}"``. An event without units embeds its whole text; the units
    of an event are its whole text's spans (:func:`~tracelake.operators.embedders.embed_spans`, one call for the
    table: read in one pass over the whole text where the embedder can, else each unit as ``"{actor}: {unit}"``),
    and its whole-text trace gets the normalised mean of its units' vectors.
    """
    n = len(texts)
    out = np.zeros((n, embedder.dim), dtype=np.float32)
    if not n:
        return out
    ev = np.asarray(events, dtype=np.int64)
    unit = np.asarray(units) >= 1
    has_units = np.zeros(int(ev.max()) + 1, dtype=bool)
    has_units[ev[unit]] = True
    pooled = ~unit & has_units[ev]
    leads = [len(a) + 2 if a else 0 for a in actors]
    attributed = [f"{a}: {x}" if a else x for a, x in zip(actors, texts)]
    alone = np.flatnonzero(~unit & ~has_units[ev])
    out[alone] = np.asarray(embedder.embed([attributed[i] for i in alone]), dtype=np.float32).reshape(-1, embedder.dim)
    # Each unit's span in its event's whole text (an event's units follow its whole-text trace, in text order).
    wholes = np.flatnonzero(pooled)
    slot = {int(e): k for k, e in enumerate(ev[wholes])}
    spans: list[list[tuple[int, int]]] = [[] for _ in wholes]
    for i in np.flatnonzero(unit):
        k = slot[int(ev[i])]
        after = spans[k][-1][1] if spans[k] else leads[wholes[k]]
        lo = attributed[wholes[k]].find(texts[i], after)
        spans[k].append((lo, lo + len(texts[i])))
    if len(wholes):
        out[unit] = embed_spans(embedder, [attributed[i] for i in wholes], spans, [leads[i] for i in wholes])
    sums = np.zeros((len(has_units), embedder.dim), dtype=np.float64)
    np.add.at(sums, ev[unit], out[unit])
    mean = sums[ev[pooled]]
    out[pooled] = mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
    return out


def _embedding_column(vectors: np.ndarray, dim: int) -> pa.Array:
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1), pa.float32())
    return pa.FixedSizeListArray.from_arrays(flat, dim)


def decompose(events: pa.Table, *, embedder: Embedder, now: datetime, stability_days: float,
              decomposer: Decomposer | None = None, quote_clauses: bool = False) -> Decomposition:
    """Traces, mentions and fact candidates of ``events`` (see the module docstring for the contract)."""
    now_us = dt_micros(now)
    evs = _events(events)
    reader = decomposer if decomposer is not None else ParseDecomposer()
    readings = reader.read([_event_text(ev) for ev in evs])
    b = _Builder()
    for ev, reading in zip(evs, readings):
        _decompose_event(ev, reading, b)

    t = b.traces
    n = len(t["trace_id"])
    idx = t["event_index"]
    occurred = [evs[i]["occurred_at"] for i in idx]
    # What a speaker said is embedded as "{actor}: {text}" (the stored text stays as is): a question about a person
    # then lands near their own words, not only near turns that address them by name. Every unit keeps its own
    # vector (sharing the event's vector with its units cost 0.135 R@10 turns on LoCoMo), the whole turn pools its
    # units' (docs/benchmarks.md, "Embed what retrieval needs"). Repeated texts are embedded once by the
    # pipeline's cached embedder.
    vectors = _trace_vectors(t["text"], t["actor"], idx, t["unit_index"], embedder)
    schema = traces_schema(embedder.dim)
    columns: dict[str, pa.Array] = {
        "tenant": pa.array(t["tenant"], pa.string()),
        "trace_id": pa.array(t["trace_id"], pa.string()),
        "kind": pa.array(t["kind"], pa.string()),
        "stream": pa.array(t["stream"], pa.string()),
        "actor": pa.array(t["actor"], pa.string()),
        "text": pa.array(t["text"], pa.string()),
        "occurred_at": ts_array(occurred),
        "last_source_at": ts_array(occurred),
        "valid_from": ts_array(occurred),
        "valid_to": ts_array([None] * n),
        "time_start": ts_array(t["time_start"]),
        "time_end": ts_array(t["time_end"]),
        "entities": pa.array(t["entities"], pa.list_(pa.string())),
        "keywords": pa.array(t["keywords"], pa.list_(pa.string())),
        "embedding": _embedding_column(vectors, embedder.dim),
        "source_event_ids": pa.array([[evs[i]["event_id"]] for i in idx], pa.list_(pa.string())),
        "source_times": pa.array([[evs[i]["occurred_at"]] for i in idx], pa.list_(pa.int64())).cast(pa.list_(TS)),
        "merged_from": pa.array([[] for _ in range(n)], pa.list_(pa.string())),
        "merged_into": pa.array([None] * n, pa.string()),
        "stability": pa.array([float(stability_days)] * n, pa.float64()),
        "last_reinforced_at": ts_array(occurred),
        "reinforcement_count": pa.array([1] * n, pa.int32()),
        "strength": pa.array([1.0] * n, pa.float64()),
        "pinned": pa.array([evs[i]["pinned"] for i in idx], pa.bool_()),
        "archived": pa.array([False] * n, pa.bool_()),
        "recorded_at": ts_array([now_us] * n),
        "updated_at": ts_array([now_us] * n),
        "speech_act": pa.array(t["speech_act"], pa.string()),
        "analysed_chars": pa.array(t["analysed_chars"], pa.int32()),
    }
    traces = pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)

    m = b.mentions
    mentions = pa.Table.from_arrays(
        [
            pa.array(m["tenant"], pa.string()),
            pa.array(m["event_id"], pa.string()),
            pa.array(m["name"], pa.string()),
            pa.array(m["kind"], pa.string()),
            ts_array(m["occurred_at"]),
            pa.array(m["kin"], pa.string()),
            pa.array(m["namesake"], pa.string()),
        ],
        schema=MENTIONS,
    )
    f = b.facts
    facts = pa.Table.from_arrays(
        [
            ts_array(f[field.name]) if field.type == TS else pa.array(f[field.name], field.type)
            for field in FACT_CANDIDATES
        ],
        schema=FACT_CANDIDATES,
    )
    return Decomposition(traces=traces, mentions=mentions, facts=facts,
                         clauses=tuple(quoted_clauses(t["text"], t["event_index"], t["unit_index"]))
                         if quote_clauses else ())
