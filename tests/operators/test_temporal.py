from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tracelake.errors import ValidationError
from tracelake.operators.temporal import TimeSpan, resolve_time_expressions, span_keyword

from tests.operators.conftest import ANCHOR, ts

# (text, expected expr, start, end, granularity) against ANCHOR = Monday 2023-05-08T13:56Z
CASES = [
    ("I went there yesterday.", "yesterday", ts(2023, 5, 7), ts(2023, 5, 8), "day"),
    ("today was long", "today", ts(2023, 5, 8), ts(2023, 5, 9), "day"),
    ("see you tomorrow", "tomorrow", ts(2023, 5, 9), ts(2023, 5, 10), "day"),
    ("the day before yesterday we hiked", "the day before yesterday", ts(2023, 5, 6), ts(2023, 5, 7), "day"),
    ("See you next Friday!", "next Friday", ts(2023, 5, 12), ts(2023, 5, 13), "day"),
    ("It was last Tuesday.", "last Tuesday", ts(2023, 5, 2), ts(2023, 5, 3), "day"),
    ("last Monday", "last Monday", ts(2023, 5, 1), ts(2023, 5, 2), "day"),
    ("I went on Friday", "on Friday", ts(2023, 5, 5), ts(2023, 5, 6), "day"),
    ("I will go on Friday", "on Friday", ts(2023, 5, 12), ts(2023, 5, 13), "day"),
    ("That was two weeks ago", "two weeks ago", ts(2023, 4, 24), ts(2023, 5, 1), "week"),
    ("3 days ago", "3 days ago", ts(2023, 5, 5), ts(2023, 5, 6), "day"),
    ("a few days ago", "a few days ago", ts(2023, 5, 5), ts(2023, 5, 6), "day"),
    ("a couple of months ago", "a couple of months ago", ts(2023, 3, 1), ts(2023, 4, 1), "month"),
    ("two years ago", "two years ago", ts(2021, 1, 1), ts(2022, 1, 1), "year"),
    ("in 3 days", "in 3 days", ts(2023, 5, 11), ts(2023, 5, 12), "day"),
    ("in a couple of weeks", "in a couple of weeks", ts(2023, 5, 22), ts(2023, 5, 29), "week"),
    ("in two months", "in two months", ts(2023, 7, 1), ts(2023, 8, 1), "month"),
    ("We met on 8 May", "8 May", ts(2023, 5, 8), ts(2023, 5, 9), "day"),
    ("We met on May 3", "May 3", ts(2023, 5, 3), ts(2023, 5, 4), "day"),
    ("the 4th of July", "the 4th of July", ts(2022, 7, 4), ts(2022, 7, 5), "day"),
    ("I will fly on the 4th of July", "the 4th of July", ts(2023, 7, 4), ts(2023, 7, 5), "day"),
    ("born 8 May 2001", "8 May 2001", ts(2001, 5, 8), ts(2001, 5, 9), "day"),
    ("on May 8th, 2022", "May 8th, 2022", ts(2022, 5, 8), ts(2022, 5, 9), "day"),
    ("back in May 2021", "May 2021", ts(2021, 5, 1), ts(2021, 6, 1), "month"),
    ("in 2022 I was in Rome", "in 2022", ts(2022, 1, 1), ts(2023, 1, 1), "year"),
    ("on 2023-05-01", "2023-05-01", ts(2023, 5, 1), ts(2023, 5, 2), "day"),
    ("Last year I moved.", "Last year", ts(2022, 1, 1), ts(2023, 1, 1), "year"),
    ("this year", "this year", ts(2023, 1, 1), ts(2024, 1, 1), "year"),
    ("next year", "next year", ts(2024, 1, 1), ts(2025, 1, 1), "year"),
    ("last month", "last month", ts(2023, 4, 1), ts(2023, 5, 1), "month"),
    ("next month", "next month", ts(2023, 6, 1), ts(2023, 7, 1), "month"),
    ("last week", "last week", ts(2023, 5, 1), ts(2023, 5, 8), "week"),
    ("this week", "this week", ts(2023, 5, 8), ts(2023, 5, 15), "week"),
    ("next week", "next week", ts(2023, 5, 15), ts(2023, 5, 22), "week"),
    ("last weekend", "last weekend", ts(2023, 5, 6), ts(2023, 5, 8), "weekend"),
    ("this weekend", "this weekend", ts(2023, 5, 13), ts(2023, 5, 15), "weekend"),
    ("next weekend", "next weekend", ts(2023, 5, 20), ts(2023, 5, 22), "weekend"),
    ("earlier this month", "earlier this month", ts(2023, 5, 1), ts(2023, 5, 9), "range"),
    ("last night", "last night", ts(2023, 5, 7, 18), ts(2023, 5, 8, 6), "part_of_day"),
    ("this morning", "this morning", ts(2023, 5, 8, 6), ts(2023, 5, 8, 12), "part_of_day"),
    ("in May", "in May", ts(2023, 5, 1), ts(2023, 6, 1), "month"),
    ("last May", "last May", ts(2022, 5, 1), ts(2022, 6, 1), "month"),
    ("last summer", "last summer", ts(2022, 6, 1), ts(2022, 9, 1), "season"),
    ("the past two weeks", "the past two weeks", ts(2023, 4, 24), ts(2023, 5, 9), "range"),
    ("recently", "recently", ts(2023, 4, 8), ts(2023, 5, 9), "vague"),
]


@pytest.mark.parametrize("text,expr,start,end,gran", CASES, ids=[c[0] for c in CASES])
def test_expressions(text: str, expr: str, start: datetime, end: datetime, gran: str) -> None:
    spans = resolve_time_expressions(text, ANCHOR)
    assert spans == [TimeSpan(expr, start, end, gran)]
    assert text[spans[0].char_start : spans[0].char_end] == expr


def test_several_in_order_longest_wins() -> None:
    spans = resolve_time_expressions("On 8 May 2023, then May 2023, and in 2022.", ANCHOR)
    assert [s.expr for s in spans] == ["8 May 2023", "May 2023", "in 2022"]


@pytest.mark.parametrize("text", ["I may 8 go", "Fridays are great", "we march on", "I'll fall asleep", "Room 2023", ""])
def test_no_false_positives(text: str) -> None:
    assert resolve_time_expressions(text, ANCHOR) == []


def test_invalid_dates_skipped() -> None:
    assert resolve_time_expressions("on 31 February and 2023-13-45", ANCHOR) == []


def test_anchor_offset_converted_and_naive_rejected() -> None:
    plus2 = ANCHOR.astimezone(timezone(timedelta(hours=2)))
    assert resolve_time_expressions("yesterday", plus2) == resolve_time_expressions("yesterday", ANCHOR)
    with pytest.raises(ValidationError):
        resolve_time_expressions("yesterday", datetime(2023, 5, 8))


def test_results_are_utc_half_open() -> None:
    for text, *_ in CASES:
        for s in resolve_time_expressions(text, ANCHOR):
            assert s.start.tzinfo is not None and s.start.utcoffset() == timedelta(0)
            assert s.start < s.end


def test_span_keyword() -> None:
    y, m, d = (resolve_time_expressions(t, ANCHOR)[0] for t in ("last year", "last month", "yesterday"))
    assert (span_keyword(y), span_keyword(m), span_keyword(d)) == ("2022", "2023-04", "2023-05-07")
