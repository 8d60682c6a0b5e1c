"""Bitemporal facts and as-of reads on the hand-written story (tests/query/story.py)."""

from __future__ import annotations

import pytest

from tests.query.story import EVENT_TIMES, T1, ts
from tracelake.errors import ValidationError


def _city(lake, as_of, known_at=None) -> list[tuple[str, object, object]]:
    rows = lake.facts(T1, "Caroline", as_of=as_of, known_at=known_at, predicate="lives_in").to_pylist()
    return [(r["object"], r["valid_to"], r["superseded_by"]) for r in rows]


@pytest.mark.parametrize("as_of, expected", [
    ("2023-01-05T00:00:00Z", []),                                   # before anything was said
    ("2023-02-01T00:00:00Z", [("Boston", None, None)]),             # the closing (03-15) is not known yet
    ("2023-04-01T00:00:00Z", [("Denver", None, None)]),
    ("2023-06-10T00:00:00Z", [("Denver", None, None)]),             # Seattle (from 06-01) only said on 06-20
    ("2023-07-01T00:00:00Z", [("Seattle", None, None)]),
])
def test_fact_changing_twice_at_five_moments(story_lake, as_of, expected) -> None:
    assert _city(story_lake, as_of) == expected


def test_now_and_history(story_lake) -> None:
    assert _city(story_lake, None) == [("Seattle", None, None)]
    bundle = story_lake.reconstruct("where does Caroline live?", T1, as_of="2023-07-01T00:00:00Z")
    current = [f for f in bundle.facts if f["predicate"] == "lives_in"]
    assert [f["object"] for f in current] == ["Seattle"]
    history = [(h["object"], h["status"], h["valid_to"]) for h in current[0]["history"]]
    assert history == [("Boston", "superseded", ts("2023-03-15T18:00:00Z")),
                       ("Denver", "superseded", ts("2023-06-01T00:00:00Z"))]
    # at 06-10 Denver is current and its history holds Boston only
    bundle = story_lake.reconstruct("where does Caroline live?", T1, as_of="2023-06-10T00:00:00Z")
    current = [f for f in bundle.facts if f["predicate"] == "lives_in"]
    assert [f["object"] for f in current] == ["Denver"]
    assert [h["object"] for h in current[0]["history"]] == ["Boston"]


@pytest.mark.parametrize("known_at, expected", [
    ("2022-06-01T00:00:00Z", []),                                    # the lake knew nothing yet
    ("2023-03-01T00:00:00Z", ["Boston"]),                            # the move was not consolidated yet
    ("2023-03-17T00:00:00Z", ["Denver"]),
    (None, ["Denver"]),
])
def test_known_at(story_lake, known_at, expected) -> None:
    assert [c for c, _, _ in _city(story_lake, "2023-04-01T00:00:00Z", known_at)] == expected


def test_known_at_sees_retroactive_closing_only_once_recorded(story_lake) -> None:
    # valid at 06-10, asked on 07-01: as known on 06-21 (after R3) Denver's row is closed at 06-01 but the
    # closing happened (event time) after 06-10 -> still current at 06-10
    assert [c for c, _, _ in _city(story_lake, "2023-06-10T00:00:00Z", "2023-06-21T00:00:00Z")] == ["Denver"]
    # after the statement: Denver shows its closing, Seattle current
    rows = story_lake.facts(T1, "Caro", as_of="2023-06-25T00:00:00Z").to_pylist()
    assert [r["object"] for r in rows] == ["Seattle"]


def test_fact_sources_trimmed(story_lake) -> None:
    rows = story_lake.facts(T1, "Mel", as_of="2023-06-01T00:00:00Z").to_pylist()
    assert [r["source_event_ids"] for r in rows] == [["m1"]]
    rows = story_lake.facts(T1, "Melanie", as_of="2023-08-01T00:00:00Z").to_pylist()
    assert [r["source_event_ids"] for r in rows] == [["m1", "m3"]]


def test_timeline_order_aliases_and_window(story_lake) -> None:
    tl = story_lake.timeline("caroline smith", T1)
    assert tl["trace_id"].to_pylist() == ["tr-c1", "tr-c2", "tr-c3"]  # archived tr-old left out
    occurred = tl["occurred_at"].to_pylist()
    assert occurred == sorted(occurred)
    window = story_lake.timeline("Caro", T1, start="2023-03-15T18:00:00Z", end=1687262400000)  # 06-20T12:00Z ms
    assert window["trace_id"].to_pylist() == ["tr-c2"]  # start inclusive, end exclusive
    assert story_lake.timeline("Caroline", T1, as_of="2023-03-15T18:00:00Z")["trace_id"].to_pylist() == \
        ["tr-c1", "tr-c2"]  # as_of inclusive
    with_archived = story_lake.timeline("Caroline", T1, include_archived=True)["trace_id"].to_pylist()
    assert with_archived[0] == "tr-old"
    assert story_lake.timeline("Caroline", T1, limit=2)["trace_id"].to_pylist() == ["tr-c1", "tr-c2"]


def test_timeline_trims_sources_of_later_merges(story_lake) -> None:
    before = story_lake.timeline("Mel", T1, as_of="2023-06-01T00:00:00Z").to_pylist()
    assert [(r["trace_id"], r["source_event_ids"]) for r in before] == [("tr-m1", ["m1"]), ("tr-m2", ["m2"])]
    assert before[0]["last_source_at"] == ts("2023-05-08T13:56:00Z")
    after = story_lake.timeline("Mel", T1).to_pylist()
    assert [(r["trace_id"], r["source_event_ids"]) for r in after] == [("tr-m1", ["m1", "m3"]), ("tr-m2", ["m2"])]
    for row in before:
        assert all(EVENT_TIMES[e] <= ts("2023-06-01T00:00:00Z") for e in row["source_event_ids"])


def test_entity_first_seen_after_as_of_does_not_resolve(story_lake) -> None:
    # "Seattle" was first seen 06-20: as of 06-10 the name is unknown, so no canonical resolution leaks
    assert story_lake._query.resolve_entity("Seattle", T1, as_of="2023-06-10T00:00:00Z") == ["Seattle"]
    assert story_lake.timeline("Seattle", T1, as_of="2023-06-10T00:00:00Z").num_rows == 0


def test_time_arguments(story_lake) -> None:
    from datetime import datetime, timezone

    a = _city(story_lake, datetime(2023, 4, 1, tzinfo=timezone.utc))
    b = _city(story_lake, 1680307200000)  # 2023-04-01T00:00Z in epoch ms
    c = _city(story_lake, "2023-04-01T02:00:00+02:00")
    assert a == b == c == [("Denver", None, None)]
    with pytest.raises(ValidationError):
        story_lake.facts(T1, as_of="2023-04-01T00:00:00")  # no offset
    with pytest.raises(ValidationError):
        story_lake.facts(T1, as_of=datetime(2023, 4, 1))  # naive
