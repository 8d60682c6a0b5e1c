"""Bitemporal fact convergence: restatements reinforce, newer single values supersede, nothing is edited.

Contract of :func:`merge_facts` (per tenant, per canonical ``(subject, predicate)``):

- A row version is never edited. Any change to a fact is: retract its current row version (``retract_row_ids``,
  to be closed with ``retracted_at = now``) and insert a new version with the same ``fact_id`` and a new
  ``row_id = blake2b(fact_id, content, recorded_at)``. New facts get
  ``fact_id = blake2b(tenant, subject, predicate, normalised object, valid_from)``.
- Candidates are applied in event-time order (``occurred_at``, then ``valid_from``, source id, object), whatever
  their input order.
- Restatement (same canonical subject, predicate and normalised object): the fact's sources are unioned
  (``source_times`` parallel, sorted by time), ``reinforcement_count`` = distinct sources, ``stability`` is
  multiplied by ``stability_growth`` per new source, ``last_reinforced_at`` = latest source time,
  ``occurred_at`` = earliest source time, ``valid_from`` = the earliest stated ``valid_from``; strength back to
  1.0 and un-archived. A source already present changes nothing (idempotent re-merge).
- Single-valued predicates (:func:`~tracelake.operators.predicates.is_single_valued`) form a timeline of values
  ordered by assertion time (``occurred_at``). A candidate restates the value asserted at or just before it, or
  the value asserted just after it (a late, earlier statement of the same value); otherwise it is a new value.
  Each value is closed by the next one: ``valid_to`` = the next value's ``valid_from`` (never before its own),
  ``invalidated_at`` = the next statement's ``occurred_at``, ``superseded_by`` = the next ``fact_id``. So a
  value changing twice in one batch gives three facts chained in order, and a late candidate older than the
  current value is inserted already closed. Values asserted at the same instant are co-valid.
- Multi-valued predicates never close each other, except by correction: a ``corrected`` value closes the latest
  earlier value of its group (``superseded_by`` = the correction).
- Polarity and modality (columns ``polarity`` / ``modality``; null reads as positive / asserted): only positive
  ``asserted``/``corrected`` candidates are *values*. A negative or ``ended`` candidate is an *end marker*: it
  closes the matching open value (same normalised object) at its ``valid_from`` (``invalidated_at`` = its
  ``occurred_at``) — "I no longer work at Acme", "left Acme", "moved from Lisbon", "she's not from Graz". Plans
  and hypotheticals close nothing. Markers and plans are stored with an empty valid interval (``valid_to =
  valid_from``): recorded, never asserted as the state at any time; restatements reinforce them like values.

Subjects (and ``entity`` objects) are mapped through ``canonical`` ((tenant, normalised name) -> canonical
name); a current row whose subject's canonical name changed gets a new version too.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from tracelake.operators._columns import column, micros, require, ts_array
from tracelake.timeutil import dt_micros
from tracelake.ids import stable_id
from tracelake.operators.entities import normalize_name
from tracelake.operators.predicates import is_single_valued
from tracelake.schemas import FACTS

__all__ = ["FactMerge", "merge_facts"]


@dataclass(frozen=True)
class FactMerge:
    """``inserts``: new FACTS row versions; ``retract_row_ids``: current row versions to close."""

    inserts: pa.Table
    retract_row_ids: list[str]


_STATE = (
    "subject", "object", "valid_from", "valid_to", "invalidated_at", "superseded_by", "source_event_ids",
    "source_times", "reinforcement_count", "stability", "last_reinforced_at", "occurred_at", "strength", "pinned",
    "archived", "polarity", "modality",
)


@dataclass
class _Fact:
    tenant: str
    fact_id: str
    subject: str
    predicate: str
    object: str
    obj_key: str
    object_type: str
    value_num: float | None
    value_time: int | None
    statement: str | None
    stream: str | None
    actor: str | None
    occurred_at: int
    valid_from: int
    valid_to: int | None
    invalidated_at: int | None
    superseded_by: str | None
    sources: dict[str, int]
    reinforcement_count: int
    stability: float
    last_reinforced_at: int
    strength: float
    pinned: bool
    archived: bool
    recorded_at: int
    polarity: str | None = None
    modality: str | None = None
    row_id: str | None = None  # the current row version, None for a new fact
    original: tuple[Any, ...] | None = field(default=None, repr=False)

    def state(self) -> tuple[Any, ...]:
        ids, times = self.source_lists()
        values = dict(self.__dict__, source_event_ids=ids, source_times=times)
        return tuple(values[k] for k in _STATE)

    def source_lists(self) -> tuple[list[str], list[int]]:
        items = sorted(self.sources.items(), key=lambda kv: (kv[1], kv[0]))
        return [k for k, _ in items], [v for _, v in items]


def _obj_key(obj: str, object_type: str, value_num: float | None) -> str:
    if object_type in ("money", "number") and value_num is not None:
        return repr(float(value_num))
    return normalize_name(obj) or obj.strip().casefold()


def _role(polarity: str | None, modality: str | None) -> str:
    """``value`` (current-state material), ``marker`` (ends a value) or ``plan`` (closes nothing)."""
    if modality in ("plan", "hypothetical"):
        return "plan"
    if polarity == "negative" or modality == "ended":
        return "marker"
    return "value"


class _Canon:
    def __init__(self, canonical: dict[tuple[str, str], str]) -> None:
        self.canonical = canonical

    def __call__(self, tenant: str, name: str) -> str:
        return self.canonical.get((tenant, normalize_name(name)), name)


def _load_current(current: pa.Table | None, tenants: set[str], canon: _Canon) -> dict[tuple[str, str, str], list[_Fact]]:
    groups: dict[tuple[str, str, str], list[_Fact]] = defaultdict(list)
    if current is None or current.num_rows == 0:
        return groups
    require(current, ["tenant", "fact_id", "row_id", "subject", "predicate", "object"], "facts")
    c = {f.name: (micros(current, f.name) if pa.types.is_timestamp(f.type) else column(current, f.name)) for f in FACTS}
    latest: dict[str, int] = {}
    for i in range(current.num_rows):
        if c["tenant"][i] not in tenants or c["retracted_at"][i] is not None:
            continue
        fid = c["fact_id"][i]
        if fid in latest and (c["recorded_at"][latest[fid]] or 0) >= (c["recorded_at"][i] or 0):
            continue
        latest[fid] = i
    for fid in sorted(latest):
        i = latest[fid]
        tenant = c["tenant"][i]
        otype = c["object_type"][i] or "text"
        obj = c["object"][i]
        subject = canon(tenant, c["subject"][i])
        if otype == "entity":
            obj = canon(tenant, obj)
        ids = c["source_event_ids"][i] or []
        times = c["source_times"][i] or []
        sources = {eid: _us(t) for eid, t in zip(ids, times)}
        f = _Fact(
            tenant=tenant, fact_id=fid, subject=subject, predicate=c["predicate"][i], object=obj,
            obj_key=_obj_key(obj, otype, c["value_num"][i]), object_type=otype, value_num=c["value_num"][i],
            value_time=c["value_time"][i], statement=c["statement"][i], stream=c["stream"][i], actor=c["actor"][i],
            occurred_at=c["occurred_at"][i], valid_from=c["valid_from"][i], valid_to=c["valid_to"][i],
            invalidated_at=c["invalidated_at"][i], superseded_by=c["superseded_by"][i], sources=sources,
            reinforcement_count=int(c["reinforcement_count"][i] or len(sources)), stability=float(c["stability"][i]),
            last_reinforced_at=c["last_reinforced_at"][i], strength=float(c["strength"][i]),
            pinned=bool(c["pinned"][i]), archived=bool(c["archived"][i]), recorded_at=c["recorded_at"][i],
            polarity=c["polarity"][i], modality=c["modality"][i], row_id=c["row_id"][i],
        )
        # the original state is the stored one: a subject renamed by ``canonical`` yields a new version
        f.original = _raw_state(c, i)
        groups[(tenant, normalize_name(subject), f.predicate)].append(f)
    return groups


def _us(value: Any) -> int:
    if isinstance(value, datetime):
        return dt_micros(value)
    return int(value)


def _raw_state(c: dict[str, list[Any]], i: int) -> tuple[Any, ...]:
    ids = list(c["source_event_ids"][i] or [])
    times = [_us(t) for t in (c["source_times"][i] or [])]
    items = sorted(zip(ids, times), key=lambda kv: (kv[1], kv[0]))
    values = {k: c[k][i] for k in _STATE if k in c}
    values["source_event_ids"] = [k for k, _ in items]
    values["source_times"] = [v for _, v in items]
    values["stability"] = float(values["stability"])
    values["strength"] = float(values["strength"])
    values["pinned"] = bool(values["pinned"])
    values["archived"] = bool(values["archived"])
    return tuple(values[k] for k in _STATE)


@dataclass(frozen=True)
class _Candidate:
    tenant: str
    subject: str
    predicate: str
    object: str
    obj_key: str
    object_type: str
    value_num: float | None
    value_time: int | None
    statement: str | None
    stream: str | None
    actor: str | None
    occurred_at: int
    valid_from: int
    source_event_id: str
    pinned: bool
    polarity: str | None = None
    modality: str | None = None

    @property
    def role(self) -> str:
        return _role(self.polarity, self.modality)


def _load_candidates(candidates: pa.Table, canon: _Canon) -> list[_Candidate]:
    require(candidates, ["tenant", "subject", "predicate", "object", "occurred_at", "source_event_id"], "fact candidates")
    c = {
        name: column(candidates, name)
        for name in ("tenant", "subject", "predicate", "object", "object_type", "value_num", "statement", "stream", "actor",
                     "source_event_id", "pinned", "polarity", "modality")
    }
    occurred, valid_from, value_time = micros(candidates, "occurred_at"), micros(candidates, "valid_from"), micros(candidates, "value_time")
    out: list[_Candidate] = []
    for i in range(candidates.num_rows):
        tenant, subject, predicate, obj = c["tenant"][i], c["subject"][i], c["predicate"][i], c["object"][i]
        if not tenant or not subject or not predicate or obj is None or occurred[i] is None or not c["source_event_id"][i]:
            continue
        otype = c["object_type"][i] or "text"
        subject = canon(tenant, subject)
        if otype == "entity":
            obj = canon(tenant, obj)
        out.append(
            _Candidate(
                tenant=tenant, subject=subject, predicate=predicate, object=obj,
                obj_key=_obj_key(obj, otype, c["value_num"][i]), object_type=otype, value_num=c["value_num"][i],
                value_time=value_time[i], statement=c["statement"][i], stream=c["stream"][i], actor=c["actor"][i],
                occurred_at=occurred[i], valid_from=valid_from[i] if valid_from[i] is not None else occurred[i],
                source_event_id=c["source_event_id"][i], pinned=bool(c["pinned"][i]),
                polarity=c["polarity"][i], modality=c["modality"][i],
            )
        )
    out.sort(key=lambda x: (x.tenant, normalize_name(x.subject), x.predicate, x.occurred_at, x.valid_from, x.source_event_id, x.obj_key, x.statement or ""))
    return out


def _reinforce(f: _Fact, c: _Candidate, growth: float) -> None:
    if c.source_event_id in f.sources:
        return
    f.sources[c.source_event_id] = c.occurred_at
    f.reinforcement_count = len(f.sources)
    f.stability *= growth
    f.last_reinforced_at = max(f.last_reinforced_at, c.occurred_at)
    f.occurred_at = min(f.sources.values())
    f.valid_from = min(f.valid_from, c.valid_from)
    f.strength = 1.0
    f.archived = False
    f.pinned = f.pinned or c.pinned


def _new_fact(c: _Candidate, group: list[_Fact], now_us: int, stability: float) -> _Fact:
    role = c.role
    fid = stable_id(c.tenant, normalize_name(c.subject), c.predicate, c.obj_key, c.valid_from,
                    *(() if role == "value" else (role,)))
    if any(f.fact_id == fid for f in group):
        fid = stable_id(fid, c.occurred_at, c.source_event_id)
    return _Fact(
        tenant=c.tenant, fact_id=fid, subject=c.subject, predicate=c.predicate, object=c.object, obj_key=c.obj_key,
        object_type=c.object_type, value_num=c.value_num, value_time=c.value_time, statement=c.statement,
        stream=c.stream, actor=c.actor, occurred_at=c.occurred_at, valid_from=c.valid_from, valid_to=None,
        invalidated_at=None, superseded_by=None, sources={c.source_event_id: c.occurred_at}, reinforcement_count=1,
        stability=stability, last_reinforced_at=c.occurred_at, strength=1.0, pinned=c.pinned, archived=False,
        recorded_at=now_us, polarity=c.polarity, modality=c.modality,
    )


def _apply_single(group: list[_Fact], c: _Candidate, now_us: int, growth: float, stability: float) -> None:
    before = [f for f in group if f.occurred_at <= c.occurred_at]
    after = [f for f in group if f.occurred_at > c.occurred_at]
    prev_t = max((f.occurred_at for f in before), default=None)
    next_t = min((f.occurred_at for f in after), default=None)
    prev = sorted((f for f in before if f.occurred_at == prev_t), key=lambda f: f.fact_id)
    nxt = sorted((f for f in after if f.occurred_at == next_t), key=lambda f: f.fact_id)
    for f in prev + nxt:
        if f.obj_key == c.obj_key:
            _reinforce(f, c, growth)
            return
    group.append(_new_fact(c, group, now_us, stability))


def _apply_multi(group: list[_Fact], c: _Candidate, now_us: int, growth: float, stability: float) -> None:
    same = [f for f in group if f.obj_key == c.obj_key]
    if same:
        same.sort(key=lambda f: (f.valid_to is None, f.occurred_at, f.fact_id))
        _reinforce(same[-1], c, growth)
        return
    group.append(_new_fact(c, group, now_us, stability))


def _close_timeline(group: list[_Fact]) -> None:
    """Recompute valid_to / invalidated_at / superseded_by of a single-valued group from its timeline."""
    times = sorted({f.occurred_at for f in group})
    segments = [sorted((f for f in group if f.occurred_at == t), key=lambda f: (f.valid_from, f.fact_id)) for t in times]
    for k, segment in enumerate(segments):
        nxt = segments[k + 1] if k + 1 < len(segments) else None
        for f in segment:
            if nxt is None:
                f.valid_to = f.invalidated_at = f.superseded_by = None
            else:
                f.valid_to = max(nxt[0].valid_from, f.valid_from)
                f.invalidated_at = nxt[0].occurred_at
                f.superseded_by = nxt[0].fact_id


def _close_group(group: list[_Fact], single: bool) -> None:
    """Recompute every closing of a touched group from its rows: timeline, corrections, end markers."""
    values = [f for f in group if _role(f.polarity, f.modality) == "value"]
    if single:
        _close_timeline(values)
    else:
        for f in values:
            f.valid_to = f.invalidated_at = f.superseded_by = None
        for v in sorted(values, key=lambda f: (f.occurred_at, f.fact_id)):
            if v.modality != "corrected":
                continue
            earlier = [u for u in values if u.occurred_at < v.occurred_at and u.obj_key != v.obj_key
                       and (u.valid_to is None or u.valid_to > v.valid_from)]
            if earlier:
                u = max(earlier, key=lambda f: (f.occurred_at, f.fact_id))
                u.valid_to, u.invalidated_at, u.superseded_by = max(v.valid_from, u.valid_from), v.occurred_at, v.fact_id
    for m in sorted((f for f in group if _role(f.polarity, f.modality) != "value"), key=lambda f: (f.occurred_at, f.fact_id)):
        m.valid_to, m.invalidated_at, m.superseded_by = m.valid_from, None, None
        if _role(m.polarity, m.modality) != "marker":
            continue
        for f in values:
            if f.obj_key == m.obj_key and f.occurred_at <= m.occurred_at and (f.valid_to is None or f.valid_to > m.valid_from):
                f.valid_to, f.invalidated_at, f.superseded_by = max(m.valid_from, f.valid_from), m.occurred_at, None


def _content(f: _Fact) -> str:
    ids, times = f.source_lists()
    return json.dumps(
        [f.tenant, f.fact_id, f.subject, f.predicate, f.object, f.object_type, f.value_num, f.value_time, f.statement,
         f.stream, f.actor, f.occurred_at, f.valid_from, f.valid_to, f.invalidated_at, f.superseded_by, ids, times,
         f.reinforcement_count, repr(f.stability), f.last_reinforced_at, repr(f.strength), f.pinned, f.archived,
         f.polarity, f.modality],
        ensure_ascii=False,
    )


def merge_facts(
    current: pa.Table,
    candidates: pa.Table,
    canonical: dict[tuple[str, str], str],
    now: datetime,
    stability_growth: float,
    *,
    initial_stability: float = 30.0,
) -> FactMerge:
    """Merge fact ``candidates`` into the ``current`` (non-retracted) FACTS rows; see the module docstring.

    ``candidates`` has the ``FACT_CANDIDATES`` columns of :mod:`~tracelake.operators.decompose` (an optional
    boolean ``pinned`` column is honoured). New facts start with ``initial_stability`` days.
    """
    now_us = dt_micros(now)
    canon = _Canon(canonical or {})
    cands = _load_candidates(candidates, canon)
    tenants = {c.tenant for c in cands}
    groups = _load_current(current, tenants, canon)
    touched: set[tuple[str, str, str]] = set()
    for c in cands:
        key = (c.tenant, normalize_name(c.subject), c.predicate)
        touched.add(key)
        group = groups[key]
        role = c.role
        same_role = [f for f in group if _role(f.polarity, f.modality) == role]
        before = len(same_role)
        if role == "value" and is_single_valued(c.predicate):
            _apply_single(same_role, c, now_us, stability_growth, initial_stability)
        else:
            _apply_multi(same_role, c, now_us, stability_growth, initial_stability)
        group.extend(same_role[before:])
    inserts: list[_Fact] = []
    retract: list[str] = []
    for key in sorted(groups):
        group = groups[key]
        if key in touched:
            _close_group(group, is_single_valued(key[2]))
        for f in sorted(group, key=lambda f: (f.occurred_at, f.fact_id)):
            if f.row_id is None:
                inserts.append(f)
            elif f.state() != f.original:
                retract.append(f.row_id)
                inserts.append(f)
    return FactMerge(_to_table(inserts, now_us), sorted(retract))


def _to_table(facts: list[_Fact], now_us: int) -> pa.Table:
    rows: dict[str, list[Any]] = {f.name: [] for f in FACTS}
    for f in facts:
        ids, times = f.source_lists()
        values = {
            "tenant": f.tenant, "fact_id": f.fact_id, "row_id": stable_id(f.fact_id, _content(f), now_us),
            "subject": f.subject, "predicate": f.predicate, "object": f.object, "object_type": f.object_type,
            "value_num": f.value_num, "value_time": f.value_time, "statement": f.statement, "stream": f.stream,
            "actor": f.actor, "occurred_at": f.occurred_at, "valid_from": f.valid_from, "valid_to": f.valid_to,
            "invalidated_at": f.invalidated_at, "superseded_by": f.superseded_by, "source_event_ids": ids,
            "source_times": times, "reinforcement_count": f.reinforcement_count, "stability": f.stability,
            "last_reinforced_at": f.last_reinforced_at, "strength": f.strength, "pinned": f.pinned,
            "archived": f.archived, "recorded_at": now_us, "retracted_at": None,
            "polarity": f.polarity, "modality": f.modality,
        }
        for k, v in values.items():
            rows[k].append(v)
    arrays = []
    for fld in FACTS:
        if pa.types.is_timestamp(fld.type):
            arrays.append(ts_array(rows[fld.name]))
        elif fld.name == "source_times":
            arrays.append(pa.array(rows[fld.name], pa.list_(pa.int64())).cast(fld.type))
        else:
            arrays.append(pa.array(rows[fld.name], fld.type))
    return pa.Table.from_arrays(arrays, schema=FACTS)
