"""Search's pool: the reply to a turn that asks (``query/dialogue.py``); the speaker and the time a question
names (``query/focus.py``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from tracelake.operators.temporal import resolve_time_expressions
from tracelake.query.focus import named_speakers, speaker_focus, speakers_in_focus, time_focus
from tracelake.query.question import asks_something
from tracelake.query.search_config import SearchConfig
from tracelake.results import Hit

from .builders import build, trace


def _dialogue(qlake, *, second_actor: str = "Bo") -> None:
    """Ann asks about instruments; the reply (no word of the query in it) comes from ``second_actor``."""
    turns = [("Ann", "morning! the rain finally stopped"), (second_actor, "yes, finally, I walked the dog"),
             ("Ann", "nice. do you play any instruments?"), (second_actor, "yes, the clarinet, since I was ten"),
             ("Ann", "cool, I tried the drums once"), (second_actor, "the drums are loud"),
             ("Ann", "an instruments shop opened near me"), (second_actor, "lunch was pasta today")]
    rows = [trace("t", f"c{i}", text, f"2023-03-01T10:{i:02d}:00Z", stream="s1", actor=actor,
                  sources=[(f"e{i}", f"2023-03-01T10:{i:02d}:00Z")]) for i, (actor, text) in enumerate(turns)]
    build(qlake, traces=rows)


def _rank(hits: list[Hit], event: str) -> int | None:
    return next((i for i, h in enumerate(hits) if h.source_event_ids[0] == event), None)


def test_asks_something() -> None:
    assert asks_something("Loved it! Do you play too?")
    assert asks_something("Really? I never knew.")
    assert not asks_something("I play the clarinet.")
    assert not asks_something("")
    assert not asks_something(None)


def test_the_reply_to_a_turn_that_asks_is_a_candidate(qlake) -> None:
    _dialogue(qlake)
    query = "which instruments are played"
    on = qlake.search(query, "t", k=3)
    assert _rank(on, "e3") is not None  # shares no query word: found as the reply to e2
    reply = on[_rank(on, "e3")]
    assert "reply" in reply.matched and reply.actor == "Bo"
    off = qlake.query_engine(search_config=replace(SearchConfig(), reply_credit=0.0)).search(query, "t", k=3)
    assert _rank(off, "e3") is None or _rank(off, "e3") > _rank(on, "e3")


def test_no_reply_within_one_speakers_stream(qlake) -> None:
    _dialogue(qlake, second_actor="Ann")  # one teller: the next turn is no reply
    hits = qlake.search("which instruments are played", "t", k=8)
    assert all("reply" not in h.matched for h in hits)


def test_a_reply_after_as_of_is_never_returned(qlake) -> None:
    _dialogue(qlake)
    hits = qlake.search("which instruments are played", "t", as_of="2023-03-01T10:02:30Z", k=8)
    assert {h.source_event_ids[0] for h in hits} <= {"e0", "e1", "e2"}


def _hit(event: str, score: float, actor: str | None, day: int = 1,
         mentions: tuple[datetime, datetime] | None = None) -> Hit:
    return Hit(trace_id=f"t-{event}", score=score, text=event, kind="episodic", tenant="a", stream="s",
               occurred_at=datetime(2023, 3, day, 12, tzinfo=timezone.utc), valid_from=None, valid_to=None,
               source_event_ids=(event,), actor=actor, time_start=mentions[0] if mentions else None,
               time_end=mentions[1] if mentions else None)


def test_speaker_focus_favours_the_speaker_asked_about() -> None:
    hits = [_hit("a", 1.0, "Maria"), _hit("b", 0.9, "John"), _hit("c", 0.5, None)]
    out = speaker_focus(hits, "What did John's volunteering involve?", 0.6)
    assert [h.source_event_ids[0] for h in out] == ["b", "a", "c"]
    assert out[1].score == 0.6 and out[2].score == 0.5  # no actor: unchanged
    assert speaker_focus(hits, "What did they both do?", 0.6) == hits  # nobody named
    assert speaker_focus(hits, "What have John and Maria both done?", 0.6) == hits  # every speaker named
    assert speaker_focus(hits, "What did John do?", 1.0) == hits  # off


def test_named_speakers_are_whole_names_of_the_question() -> None:
    actors = ["Maria", "John", None, "Jo"]
    assert named_speakers(actors, "What did John's volunteering involve?") == {"John"}
    assert speakers_in_focus(actors, "What did John's volunteering involve?") == [False, True, True, False]
    assert speakers_in_focus(actors, "What did they do?") == [True, True, True, True]


def test_time_focus_favours_the_window_asked_about() -> None:
    anchor = datetime(2023, 4, 1, tzinfo=timezone.utc)
    day = resolve_time_expressions("what did Bo play on 9 March 2023?", anchor)
    assert [s.granularity for s in day] == ["day"]
    mention = (datetime(2023, 3, 9, tzinfo=timezone.utc), datetime(2023, 3, 10, tzinfo=timezone.utc))
    hits = [_hit("a", 1.0, "Bo", day=20), _hit("b", 0.8, "Bo", day=9), _hit("c", 0.7, "Bo", day=12, mentions=mention)]
    out = time_focus(hits, day, 0.5)
    assert [h.source_event_ids[0] for h in out] == ["b", "c", "a"]  # occurred in it, mentions it, neither
    assert out[2].score == 0.5
    assert time_focus(hits, resolve_time_expressions("what did Bo play on 1 January 2020?", anchor), 0.5) == hits
    assert time_focus(hits, resolve_time_expressions("what did Bo play recently?", anchor), 0.5) == hits  # vague
    assert time_focus(hits, day, 1.0) == hits  # off
