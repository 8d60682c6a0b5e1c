"""The supersession signal: what the lake knows about which statements still hold, applied to ranking.

A question about the present ("where does Maya live", "who is her manager") is answered by what is valid at
``as_of``: a turn more of whose facts were superseded (or ended) before ``as_of`` than still hold is history, so
its score is multiplied by ``SearchConfig.superseded_penalty``. A question about the past or about change ("before", "used
to", "first", "when did", "what changed", past-tense auxiliaries) keeps history at full weight — it is the
answer. Question turns ("what was the dentist's name?") ask for an answer rather than give one: they are
multiplied by ``question_penalty`` in both modes. For a present-tense question, the evidence of facts valid at
``as_of`` that are about what it asks (its predicate words, its subject) is multiplied by ``current_boost``,
and when some facts are about what it asks, only those decide what is superseded;
:func:`.fusion.max_boost` includes that factor, so the exact pruning of :mod:`.retrieval` still holds.

Facts are read once per (facts version, tenant) and cached (:class:`TenantFacts`); each query derives its sets
with vectorised Arrow masks under the bitemporal rule of :func:`.facts.fact_mask` (valid at ``as_of`` as known
at ``known_at``; nothing stated after ``as_of`` counts). Negated and planned facts (``polarity``/``modality``
columns, when the lake has them) never count as current state.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracelake.operators.entities import normalize_name

from .facts import FACT_COLUMNS, fact_mask
from .lexical import stems
from .question import asks, is_question, matches_question, question_mode
from .snapshot import Snapshot, quote

__all__ = ["TenantFacts", "Supersession", "asserted_mask", "matching_mask"]

def asserted_mask(table: pa.Table) -> np.ndarray:
    """Rows that assert a state: ``polarity`` not negative and ``modality`` asserted or corrected (not a plan, a
    hypothetical or an ended state); ``True`` where the columns are absent (lakes before schema v2)."""
    keep = np.ones(table.num_rows, dtype=bool)
    if "polarity" in table.column_names:
        pol = pc.fill_null(pc.utf8_lower(pc.cast(table["polarity"], pa.string())), "")
        keep &= ~pc.is_in(pol, value_set=pa.array(["neg", "negative", "negated", "false"])).to_numpy(
            zero_copy_only=False)
    if "neg" in table.column_names:
        keep &= ~pc.fill_null(table["neg"], False).to_numpy(zero_copy_only=False)
    if "modality" in table.column_names:
        mod = pc.fill_null(pc.utf8_lower(pc.cast(table["modality"], pa.string())), "")
        keep &= pc.is_in(mod, value_set=pa.array(["", "asserted", "corrected"])).to_numpy(
            zero_copy_only=False)
    return keep


class TenantFacts:
    """Every facts row of the tenants queried, per facts version (small: facts are a fraction of traces). LRU."""

    def __init__(self, max_tenants: int = 256) -> None:
        self._tables: OrderedDict[tuple[int, str], pa.Table] = OrderedDict()
        self._max = max_tenants
        self._lock = threading.Lock()

    def get(self, snap: Snapshot, tenant: str) -> pa.Table:
        """The tenant's facts rows (the ``FACTS`` columns the lake has, plus ``polarity``/``modality``/``neg``)."""
        key = (snap.facts.version, tenant)
        with self._lock:
            table = self._tables.get(key)
            if table is not None:
                self._tables.move_to_end(key)
                return table
        names = set(snap.facts.schema.names)
        columns = [c for c in FACT_COLUMNS if c in names] + [c for c in ("polarity", "modality", "neg")
                                                             if c in names and c not in FACT_COLUMNS]
        table = snap.facts.to_table(filter=f"tenant = {quote(tenant)}", columns=columns)
        with self._lock:
            self._tables[key] = table
            while len(self._tables) > self._max:
                self._tables.popitem(last=False)
        return table


@dataclass(frozen=True)
class Supersession:
    """The score factors of one query: ``mode`` (``present``/``past``); ``superseded``, the events more of whose
    facts were closed before ``as_of`` than still hold; ``current``, the events stating facts valid at ``as_of``
    about what the question asks (:func:`.question.matches_question`) — both only for present-tense questions."""

    mode: str
    superseded: frozenset[str]
    current: frozenset[str]
    superseded_penalty: float
    question_penalty: float
    current_boost: float

    @classmethod
    def build(cls, facts: pa.Table, question: str, *, as_of: datetime, known_at: datetime,
              superseded_penalty: float, question_penalty: float, current_boost: float) -> "Supersession":
        """From the tenant's facts rows (the bitemporal rule of :func:`.facts.fact_mask`)."""
        mode = question_mode(question)
        old: set[str] = set()
        boosted: set[str] = set()
        if mode == "present" and facts.num_rows:
            stated = fact_mask(facts, as_of=as_of, known_at=known_at, valid=False)
            valid = fact_mask(facts, as_of=as_of, known_at=known_at, valid=True)
            closed = stated & ~valid & (pc.fill_null(pc.less_equal(
                facts["valid_from"], pa.scalar(as_of, facts.schema.field("valid_from").type)), False)
                .to_numpy(zero_copy_only=False))
            current = valid & asserted_mask(facts)
            about = matching_mask(facts, question)
            if about[closed | current].any():  # judge by the facts about what is asked
                closed, current = closed & about, current & about
            # an event is history when more of its facts were closed than still hold, current state otherwise
            n_closed, n_current = _event_counts(facts, closed), _event_counts(facts, current)
            old = {e for e, n in n_closed.items() if n > n_current.get(e, 0)}
            if current_boost > 1.0 and about[current].any():
                boosted = {e for e, n in n_current.items() if n >= n_closed.get(e, 0)}
        return cls(mode, frozenset(old), frozenset(boosted), superseded_penalty, question_penalty, current_boost)

    def penalty(self, row: dict[str, Any]) -> float:
        """The factor for one trace row (``source_event_ids`` as of ``as_of``; ``speech_act`` when present):
        at most ``current_boost``, usually at most 1."""
        factor = 1.0
        if is_question(row.get("text"), row.get("speech_act")):
            factor *= self.question_penalty
        ids = row.get("source_event_ids") or ()
        if self.superseded and ids and all(e in self.superseded for e in ids):
            factor *= self.superseded_penalty
        elif self.current and any(e in self.current for e in ids):
            factor *= self.current_boost
        return factor

    def penalties(self, rows: list[dict[str, Any]]) -> list[float]:
        return [self.penalty(r) for r in rows]


def matching_mask(facts: pa.Table, question: str) -> np.ndarray:
    """Rows of ``facts`` about what the question asks (:func:`.question.matches_question`), decided once per
    distinct (subject, predicate) pair."""
    q_stems = stems(question)
    q_norm = f" {normalize_name(question)} "
    want_pred = asks(question)[0]
    pairs = pc.binary_join_element_wise(facts["subject"], facts["predicate"], "\x1f").combine_chunks()
    encoded = pairs.dictionary_encode()
    keys = [k.split("\x1f", 1) for k in encoded.dictionary.to_pylist()]
    subjects = {normalize_name(k[0]) for k in keys}
    named = {n for n in subjects if f" {n} " in q_norm}
    hit = np.array([matches_question(k[0], k[1], q_stems, q_norm, named, want_pred) for k in keys], dtype=bool)
    return hit[encoded.indices.to_numpy(zero_copy_only=False)] if len(hit) else np.zeros(facts.num_rows, bool)


def _event_counts(facts: pa.Table, mask: np.ndarray) -> dict[str, int]:
    """Evidence event -> number of the masked facts it states."""
    if not mask.any():
        return {}
    ids = pc.list_flatten(pc.filter(facts["source_event_ids"], pa.array(mask)))
    counts = pc.value_counts(ids)
    return dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist()))
