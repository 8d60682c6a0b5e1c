"""A hand-written story in two tenants whose people share names ("Caroline" lives in both).

Tenant ``t1`` — Caroline's city changes twice (the second change is stated late, retroactively):

- 2023-01-10 (event ``c1``) "I live in Boston"        -> fact ``city-boston``  valid from 01-10
- 2023-03-15 (event ``c2``) "I moved to Denver"       -> ``city-denver`` valid from 03-15; Boston closed 03-15
- 2023-06-20 (event ``c3``) "I moved to Seattle on June 1" -> ``city-seattle`` valid from 06-01; Denver closed
  06-01, but only *invalidated* (learned) on 06-20

Consolidation recorded each change the next day (transaction time): the superseded row version is retracted and
a closed version recorded. Traces: one per event, plus Melanie's painting story (two events merged into one
trace later, ``m1`` + ``m3``), an archived trace and a converged (``merged_into``) trace.

Tenant ``t2`` — a different Caroline who lives in Lisbon and paints too (bleed canary).
"""

from __future__ import annotations

from typing import Any

from tests.query.builders import build, entity, fact, trace, ts

T1, T2 = "t1", "t2"
R1, R2, R3 = "2023-01-11T00:00:00Z", "2023-03-16T00:00:00Z", "2023-06-21T00:00:00Z"

#: event_id -> event time, for leakage checks.
EVENT_TIMES: dict[str, Any] = {}


def _t(tenant: str, tid: str, text: str, at: str, **kw: Any) -> dict[str, Any]:
    row = trace(tenant, tid, text, at, **kw)
    for e, when in zip(row["source_event_ids"], row["source_times"]):
        EVENT_TIMES[e] = when
    return row


def traces() -> list[dict[str, Any]]:
    return [
        _t(T1, "tr-c1", "Caroline said she lives in Boston near the harbor", "2023-01-10T09:00:00Z",
           sources=[("c1", "2023-01-10T09:00:00Z")], entities=["Caroline", "Boston"]),
        _t(T1, "tr-c2", "Caroline moved to Denver for a new job at a bakery", "2023-03-15T18:00:00Z",
           sources=[("c2", "2023-03-15T18:00:00Z")], entities=["Caroline", "Denver"]),
        _t(T1, "tr-c3", "Caroline told us she moved to Seattle on June 1", "2023-06-20T12:00:00Z",
           sources=[("c3", "2023-06-20T12:00:00Z")], entities=["Caroline", "Seattle"],
           time_start="2023-06-01T00:00:00Z", time_end="2023-06-02T00:00:00Z"),
        # Melanie painted a sunrise (m1); later events reinforced the same trace (m3 after the others).
        _t(T1, "tr-m1", "Melanie painted a sunrise over the lake", "2023-05-08T13:56:00Z", stream="paint",
           actor="Melanie", entities=["Melanie"],
           sources=[("m1", "2023-05-08T13:56:00Z"), ("m3", "2023-07-02T10:00:00Z")]),
        _t(T1, "tr-m2", "Melanie went camping with her kids in the mountains", "2023-05-27T10:00:00Z",
           stream="paint", actor="Melanie", entities=["Melanie"], sources=[("m2", "2023-05-27T10:00:00Z")]),
        # converged into tr-m1 (its source m3 is listed there): excluded from default reads
        _t(T1, "tr-m3", "Melanie painted the sunrise again", "2023-07-02T10:00:00Z", stream="paint",
           actor="Melanie", entities=["Melanie"], sources=[("m3", "2023-07-02T10:00:00Z")], merged_into="tr-m1"),
        _t(T1, "tr-old", "Caroline once mentioned a forgotten painting of a boat", "2022-12-01T10:00:00Z",
           sources=[("o1", "2022-12-01T10:00:00Z")], entities=["Caroline"], archived=True, strength=0.01),
        _t(T2, "tr-x1", "Caroline lives in Lisbon and paints a sunrise every weekend", "2023-02-01T10:00:00Z",
           sources=[("x1", "2023-02-01T10:00:00Z")], entities=["Caroline", "Lisbon"]),
        _t(T2, "tr-x2", "Caroline moved to Denver as well", "2023-04-01T10:00:00Z",
           sources=[("x2", "2023-04-01T10:00:00Z")], entities=["Caroline", "Denver"]),
    ]


def entities() -> list[dict[str, Any]]:
    return [
        entity(T1, "Caroline", "2023-01-10T09:00:00Z", aliases=["Caro", "Caroline Smith"]),
        entity(T1, "Melanie", "2023-05-08T13:56:00Z", aliases=["Mel"]),
        entity(T1, "Seattle", "2023-06-20T12:00:00Z", kind="place"),
        entity(T1, "Denver", "2023-03-15T18:00:00Z", kind="place"),
        entity(T2, "Caroline", "2023-02-01T10:00:00Z", aliases=["Caro"]),
    ]


def facts() -> list[dict[str, Any]]:
    city = "lives_in"
    return [
        # Boston: v1 open (recorded R1, retracted R2), v2 closed by the Denver statement (recorded R2)
        fact(T1, "city-boston", "Caroline", city, "Boston", "2023-01-10T09:00:00Z", recorded_at=R1,
             retracted_at=R2, row_id="boston-v1", sources=[("c1", "2023-01-10T09:00:00Z")]),
        fact(T1, "city-boston", "Caroline", city, "Boston", "2023-01-10T09:00:00Z", recorded_at=R2,
             valid_to="2023-03-15T18:00:00Z", invalidated_at="2023-03-15T18:00:00Z", superseded_by="city-denver",
             row_id="boston-v2", sources=[("c1", "2023-01-10T09:00:00Z")]),
        # Denver: v1 open (recorded R2, retracted R3), v2 closed retroactively at 06-01 by the 06-20 statement
        fact(T1, "city-denver", "Caroline", city, "Denver", "2023-03-15T18:00:00Z", recorded_at=R2,
             retracted_at=R3, row_id="denver-v1", sources=[("c2", "2023-03-15T18:00:00Z")]),
        fact(T1, "city-denver", "Caroline", city, "Denver", "2023-03-15T18:00:00Z", recorded_at=R3,
             valid_to="2023-06-01T00:00:00Z", invalidated_at="2023-06-20T12:00:00Z", superseded_by="city-seattle",
             row_id="denver-v2", sources=[("c2", "2023-03-15T18:00:00Z")]),
        fact(T1, "city-seattle", "Caroline", city, "Seattle", "2023-06-20T12:00:00Z", recorded_at=R3,
             valid_from="2023-06-01T00:00:00Z", row_id="seattle-v1", sources=[("c3", "2023-06-20T12:00:00Z")]),
        # Melanie's hobby, reinforced later by m3 (source trimmed before 07-02)
        fact(T1, "hobby-mel", "Melanie", "hobby", "painting", "2023-05-08T13:56:00Z", recorded_at="2023-05-09T00:00:00Z",
             row_id="mel-v1", sources=[("m1", "2023-05-08T13:56:00Z"), ("m3", "2023-07-02T10:00:00Z")]),
        fact(T2, "city-lisbon", "Caroline", city, "Lisbon", "2023-02-01T10:00:00Z", recorded_at="2023-02-02T00:00:00Z",
             row_id="lisbon-v1", sources=[("x1", "2023-02-01T10:00:00Z")]),
    ]


def build_story(lake: Any) -> dict[str, int]:
    return build(lake, traces=traces(), entities=entities(), facts=facts())


__all__ = ["T1", "T2", "EVENT_TIMES", "build_story", "ts"]
