"""``lake.context``: the best context for a question as the lake knew it, within a word budget.

Steps (all as of ``T`` and known at ``K``, one tenant, nothing stated after ``T`` used):

1. **mode** (:func:`.supersession.question_mode`): ``present`` — current state first — or ``past`` — the
   question asks about history or change, so superseded states are the answer.
2. **facts**: the tenant's facts stated by ``T`` (:class:`.supersession.TenantFacts`, the bitemporal rule of
   :func:`.facts.fact_mask`), grouped into chains by ``superseded_by``. The head of a chain is the fact valid at
   ``T`` (negated or planned facts never are); in ``past`` mode a chain closed before ``T`` also counts. Each
   head is scored against the question: its subject named (entities incl. the teller), predicate words, object
   words, what the question word asks for (``where`` → places, ``who`` → people, ``how much`` → amounts, ``when``
   → times, ``feel`` → feelings), whether its evidence is among the search hits, and a compact object (a long
   clause-like object scores less); a question that names a topic beyond whom and what ("how does Bea feel
   *about Tamsin moving away*") demotes facts that hold none of it unless their evidence is a top hit. A head
   that matches on at
   least ``fact_min_score`` is rendered as a short statement with its validity and what it superseded:
   ``"Ines works at the clinic (since 2024-03-04; before: the pharmacy)"``.
3. **bridges** (:func:`bridge_names`): short names the question reaches through a current fact ("Ana's sister"
   -> Marisol) join the search query and the words the evidence clauses are scored on.
4. **evidence** (:mod:`.evidence`): the clauses of the turns of the best hits of
   :meth:`.retrieval.Retriever.search` (with the supersession penalty), read as their sentence units with their
   stored vectors (:func:`turn_units`), chosen clause by clause within the words the leading facts leave; each
   turn is also credited with the subjects of the facts read from it (:func:`event_names`: its resolved
   pronouns).
5. **packing**: facts scoring at least ``fact_lead_score`` first, then the evidence, then the other facts while
   words remain; the text never exceeds ``budget_words`` (:func:`tracelake.results.word_count`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracelake.ids import WHOLE_EVENT, trace_id
from tracelake.operators.clause_pieces import QUOTED_UNITS
from tracelake.operators.entities import normalize_name
from tracelake.results import ContextItem, Hit, word_count
from tracelake.storage.reading import Dataset

from .evidence import EvidenceConfig, Unit
from .facts import fact_mask, fact_status, mask_as_of
from .lexical import stems
from .question import asks, predicate_stems, question_stems, without_time_markers
from .snapshot import str_list
from .supersession import asserted_mask
from .traces import trace_filter
from .working_set import normalised_vectors

__all__ = ["ContextConfig", "visible_facts", "bridge_names", "event_names", "event_statements", "select_facts",
           "turn_units", "pack"]


@dataclass(frozen=True)
class ContextConfig:
    """Knobs of :func:`tracelake.query.engine.QueryEngine.context`."""

    #: Evidence candidates asked from search.
    hits: int = 32
    #: At most this many fact statements per context.
    max_facts: int = 3
    #: A fact enters only when it matches the question on about two counts (e.g. subject and predicate).
    fact_min_score: float = 2.0
    #: Score lost per word of a fact's object beyond three.
    long_object_penalty: float = 0.2
    #: Facts scoring at least this go before all evidence; the others after it, while words remain.
    fact_lead_score: float = 3.0
    #: A fact whose evidence is among this many best hits is on topic whatever its words.
    fact_top_hits: int = 3
    #: Score lost by a fact that holds none of the question's other words and whose evidence ranks lower.
    off_topic_penalty: float = 1.0
    #: Largest accepted ``budget_words``.
    max_budget: int = 5000
    #: Previous values shown after ``before:``.
    history_values: int = 2
    #: How evidence clauses are chosen (:mod:`.evidence`).
    evidence: EvidenceConfig = EvidenceConfig()


_PREPOSITIONS = frozenset({"in", "at", "to", "from", "with", "on", "for", "of", "by", "as"})


def _day(value: datetime | None) -> str:
    return value.date().isoformat() if value is not None else "?"


def _phrase(subject: str, predicate: str, obj: str) -> str:
    """``works_at`` -> "Ines works at X"; ``manager`` -> "Ines's manager: X" (verb-like vs noun predicates)."""
    words = predicate.replace("_", " ").split()
    verb = bool(words) and (words[-1] in _PREPOSITIONS or words[0].endswith(("s", "ed")) and len(words) > 1
                            or words[0] in {"has", "is", "was", "feels", "likes", "owns", "plans"})
    return f"{subject} {' '.join(words)} {obj}" if verb else f"{subject}'s {' '.join(words)}: {obj}"


def _render(head: dict[str, Any], before: list[str], status: str) -> str:
    obj, statement = str(head["object"]), head.get("statement") or ""
    core = (_phrase(head["subject"], head["predicate"], obj)
            if not statement or obj.lower() in statement.lower() else f"{head['subject']}: {statement.strip()}")
    when = f"since {_day(head['valid_from'])}" if status == "current" else \
        f"{_day(head['valid_from'])} to {_day(head.get('valid_to'))}"
    prev = f"; before: {', '.join(before)}" if before else ""
    return f"{core} ({when}{prev})"


#: The fact columns the context reads (rows of only these: the Python rows are the costly part in a big tenant).
VISIBLE_COLUMNS = ("fact_id", "subject", "predicate", "object", "object_type", "statement", "occurred_at",
                   "valid_from", "valid_to", "invalidated_at", "superseded_by", "source_event_ids", "source_times")


def visible_facts(facts: pa.Table, *, as_of: datetime, known_at: datetime) -> list[dict[str, Any]]:
    """The asserted facts stated by ``as_of`` as known at ``known_at`` (none valid from after ``as_of``), as rows
    of :data:`VISIBLE_COLUMNS` with their ``status`` at ``as_of`` (``current`` | ``superseded`` | ...)."""
    if not facts.num_rows:
        return []
    stated = fact_mask(facts, as_of=as_of, known_at=known_at, valid=False)
    not_future = np.asarray(pc.fill_null(pc.less_equal(
        facts["valid_from"], pa.scalar(as_of, facts.schema.field("valid_from").type)), False))
    keep = stated & not_future & asserted_mask(facts)
    if not keep.any():
        return []
    visible = facts.filter(pa.array(keep))
    rows = mask_as_of(visible.select([c for c in VISIBLE_COLUMNS if c in visible.column_names]).to_pylist(), as_of)
    for row in rows:
        row["status"] = fact_status(row, as_of)
    return rows


def bridge_names(rows: list[dict[str, Any]], question: str, *, mentioned: list[str], max_words: int = 3) -> list[str]:
    """Names the question reaches through a current fact: "where does Ana's *sister* live" names Ana's sister,
    and the fact ``Ana sister Marisol`` makes Marisol a word to look for in the evidence. A fact bridges when its
    subject is named in the question (or is one of ``mentioned``), its predicate words are question words, and
    its object is a short name (capitalised, at most ``max_words`` words, not already in the question)."""
    q_stems = question_stems(question)
    q_names = {normalize_name(n) for n in mentioned}
    q_norm = f" {normalize_name(question)} "
    out: list[str] = []
    for r in rows:
        obj = str(r["object"]).strip()
        if r["status"] != "current" or not obj[:1].isupper() or len(obj.split()) > max_words:
            continue
        subject = normalize_name(r["subject"])
        if not (subject in q_names or f" {subject} " in q_norm) or f" {normalize_name(obj)} " in q_norm:
            continue
        if predicate_stems(r["predicate"]) & q_stems and obj not in out:
            out.append(obj)
    return out


def _rows_by_hit_event(rows: list[dict[str, Any]], hits: list[Hit]) -> dict[str, list[dict[str, Any]]]:
    """The ``rows`` read from each hit's event (its first source event), keyed by event id, in ``rows`` order."""
    wanted = {h.source_event_ids[0] for h in hits if h.source_event_ids}
    by_event: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        for e in wanted.intersection(r.get("source_event_ids") or ()):
            by_event.setdefault(e, []).append(r)
    return by_event


def _of_hit(by_event: dict[str, list[dict[str, Any]]], hit: Hit) -> list[dict[str, Any]]:
    return by_event.get(hit.source_event_ids[0], []) if hit.source_event_ids else []


def event_names(rows: list[dict[str, Any]], hits: list[Hit]) -> list[str]:
    """For each hit, the subjects of the :func:`visible_facts` rows read from its event, space-joined: who or
    what the turn is about once its pronouns are resolved ("he grew up in Marrow Falls" -> "Ezra Lindqvist")."""
    by_event = _rows_by_hit_event(rows, hits)
    return [" ".join(dict.fromkeys(r["subject"] for r in _of_hit(by_event, h))) for h in hits]


def event_statements(rows: list[dict[str, Any]], hits: list[Hit], question: str, *,
                     mentioned: list[str]) -> list[list[frozenset[str]]]:
    """For each hit, the object stems of the :func:`visible_facts` rows read from its event that answer what is
    asked about someone the question names: the fact's subject is named in the question (or is one of
    ``mentioned``) and its predicate words are question words, or its predicate or object type is what the
    question word asks for. The clause holding such an object is where the turn says it — "she's a vet nurse"
    once the decomposition resolved "she" to Helen, "honestly just relieved" for how Kwame felt."""
    q_stems = question_stems(question)
    q_names = {normalize_name(n) for n in mentioned}
    q_norm = f" {normalize_name(question)} "
    want_pred, want_types, _, _ = asks(question)

    def answers(r: dict[str, Any]) -> bool:
        subject, pred = normalize_name(r["subject"]), predicate_stems(r["predicate"])
        return (subject in q_names or f" {subject} " in q_norm) and \
            bool(pred & q_stems or pred & want_pred or r.get("object_type") in want_types)

    by_event = _rows_by_hit_event(rows, hits)
    return [[obj for r in _of_hit(by_event, h) if answers(r) and (obj := frozenset(stems(str(r["object"]))))]
            for h in hits]


def select_facts(rows: list[dict[str, Any]], question: str, *, mentioned: list[str], mode: str,
                 hit_events: list[tuple[str, ...]], cfg: ContextConfig) -> list[ContextItem]:
    """Fact items for the question from :func:`visible_facts` rows, best first (at most ``max_facts``, each
    scoring ``>= fact_min_score``). ``hit_events``: each search hit's source events, best hit first.

    A question that says more than whom and what it asks about ("how did Bea feel *about Tamsin moving away*")
    wants a fact about that too: a fact that holds none of those words and whose evidence is not among the
    ``fact_top_hits`` best hits loses ``off_topic_penalty`` (the speaker's other feelings are not the answer)."""
    if not rows:
        return []
    by_id = {r["fact_id"]: r for r in rows}
    previous: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        nxt = r.get("superseded_by")
        if nxt and nxt in by_id and r["status"] == "superseded":
            previous.setdefault(nxt, []).append(r)
    q_stems = question_stems(question)
    q_names = {normalize_name(n) for n in mentioned}
    q_norm = f" {normalize_name(question)} "
    want_pred, want_types, _, _ = asks(question)
    hit_set = {e for events in hit_events for e in events}
    top_set = {e for events in hit_events[:cfg.fact_top_hits] for e in events}
    topic = question_stems(without_time_markers(question))  # "these days" / "now" pin a time, not a topic
    scored: list[tuple[float, str, dict[str, Any]]] = []
    for r in rows:
        if r["status"] != "current" and not (mode == "past" and r.get("superseded_by") is None):
            continue  # heads only: valid at T, or (past questions) the last of a chain that ended before T
        subject = normalize_name(r["subject"])
        pred = predicate_stems(r["predicate"])
        obj = stems(str(r["object"]))
        if not (pred & q_stems or pred & want_pred):
            continue  # not about what is asked
        score = 1.0 if subject in q_names or f" {subject} " in q_norm else 0.0
        score += 1.0 if pred & q_stems else 0.0
        score += 0.5 if (pred & want_pred) or r.get("object_type") in want_types else 0.0
        score += 0.5 if (obj - pred) & q_stems else 0.0  # the object's own words, not an echo of the predicate
        events = set(r.get("source_event_ids") or ())
        score += 0.5 if events & hit_set else 0.0
        statement = stems(r.get("statement") or "")
        extra = topic - pred - want_pred - stems(r["subject"])
        if extra and not extra & (obj | statement) and not events & top_set:
            score -= cfg.off_topic_penalty
        score += 0.5 * len(statement & q_stems) / max(1, len(q_stems))
        # an answer is a compact phrase ("Munich", "Omar Shah"); a long clause-like object is a weaker one
        score -= cfg.long_object_penalty * max(0, len(str(r["object"]).split()) - 3)
        if score >= cfg.fact_min_score:
            scored.append((score, r["fact_id"], r))
    scored.sort(key=lambda s: (-s[0], -s[2]["valid_from"].timestamp(), s[1]))
    items: list[ContextItem] = []
    shown: set[str] = set()
    for score, fid, head in scored[:cfg.max_facts]:
        chain, cur = [], head
        while cur["fact_id"] in previous and len(chain) < cfg.history_values:
            cur = max(previous[cur["fact_id"]], key=lambda r: r["valid_from"])
            chain.append(str(cur["object"]))
        before = [v for v in chain if v not in shown]
        shown.update(before)
        ids = tuple(dict.fromkeys([*(head.get("source_event_ids") or ()),
                                   *(e for p in previous.get(fid, ()) for e in p.get("source_event_ids") or ())]))
        items.append(ContextItem("fact", _render(head, before, head["status"]), ids, round(score, 4),
                                 head["valid_from"], head.get("valid_to"), head.get("occurred_at"), fid))
    return items


def turn_units(traces: Dataset, tenant: str, hits: list[Hit], as_of: datetime | None,
               max_units: int = QUOTED_UNITS) -> list[list[Unit]]:
    """For each hit, its whole turn as :class:`~.evidence.Unit` rows (text, vector, speech act), in order: the
    sentence units of the hit's event (traces ``trace_id(tenant, event, "episodic", i)``, ``i >= 1``) when it has
    them, else the whole-event trace — read whether or not they converged or faded (their text is still that
    event's words); one read (the ``trace_id`` index). Vectors are L2-normalised (``None`` when the trace has
    none); a hit whose traces are gone keeps its own text (speech act unknown)."""
    ids: dict[str, tuple[int, int]] = {}
    for n, h in enumerate(hits):
        if h.source_event_ids:
            for i in range(max_units + 1):
                ids[trace_id(tenant, h.source_event_ids[0], WHOLE_EVENT[0], i)] = (n, i)
    found: dict[tuple[int, int], Unit] = {}
    if ids:
        rows = traces.to_table(columns=["trace_id", "text", "embedding", "speech_act"],
                               filter=f"{trace_filter(tenant, as_of, include_archived=True)} AND "
                                      f"trace_id IN ({str_list(sorted(ids))})")
        vectors, valid = normalised_vectors(rows["embedding"])
        acts = rows["speech_act"].to_pylist()
        for i, (t, text) in enumerate(zip(rows["trace_id"].to_pylist(), rows["text"].to_pylist())):
            found[ids[t]] = Unit(text or "", vectors[i] if valid[i] else None, acts[i])
    out = []
    for n, h in enumerate(hits):
        units = [found[(n, i)] for i in range(1, max_units + 1) if (n, i) in found]
        out.append(units or [found.get((n, 0), Unit(h.text or "", None))])
    return out


def pack(items: list[ContextItem], budget: int) -> list[ContextItem]:
    """Greedy packing in the given order: an item is taken whole when it fits, else skipped; duplicates are
    dropped. Never over ``budget`` words."""
    out: list[ContextItem] = []
    left = budget
    seen: set[str] = set()
    for item in items:
        n = word_count(item.text)
        if item.text in seen or n > left:
            continue
        out.append(item)
        seen.add(item.text)
        left -= n
    return out
