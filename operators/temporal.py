"""Resolve English time expressions in a text against an anchor time (the event's ``occurred_at``).

``resolve_time_expressions(text, anchor)`` returns one :class:`TimeSpan` per recognised expression, in text
order, each a half-open UTC interval ``[start, end)``. Rules (all calendar arithmetic in UTC, weeks start on
Monday):

- ``today`` / ``yesterday`` / ``tomorrow`` / ``the day before yesterday`` / ``the day after tomorrow``: that day.
- ``last night`` = [yesterday 18:00, today 06:00); ``tonight`` = [18:00, 24:00); ``this morning`` = [06, 12),
  ``afternoon`` = [12, 18), ``evening`` = [18, 24), ``night`` = [18, next day 06); also after ``yesterday``,
  ``today`` and ``tomorrow``.
- ``last|this|next week|month|year|weekend``: calendar units (``last week`` = the previous Monday-Sunday week;
  a weekend is Saturday-Sunday of the same Monday-based week). ``the week|month|year before last``: two back.
  ``past|coming N days|weeks...``: rolling windows ending (starting) with today.
- ``N days|weeks|months|years ago`` / ``in N ...`` / ``N ... from now``: the day, calendar week, month or year
  containing anchor -/+ N units. N is digits, ``one``..``twelve``, ``a``/``an`` (1), ``a couple of`` (2),
  ``a few``/``several`` (3).
- weekdays: ``last Friday`` = the most recent Friday strictly before the anchor day; ``next Friday`` = the first
  Friday strictly after it; ``this Friday`` = the Friday of the anchor's week. A bare weekday (``on Friday``)
  is the most recent such day on or before the anchor day, unless the sentence has a future cue (will, 'll,
  going to, gonna, plan, upcoming, soon, tomorrow, ...), then the first one on or after it (see ``_FUTURE``).
- dates: ISO ``2023-05-08`` (also ``/`` or ``.``), ``8 May``, ``8th of May``, ``May 8``, ``May 8th, 2023``,
  ``8 May 2023``, ``May 2023``, ``in May`` / ``last May`` / ``early|mid|late May`` (bare month names need a
  preceding word, and ``may`` must be capitalised), ``in 2022`` (a year needs a preceding preposition).
  A date without a year takes the most recent such date on/before the anchor day, or the next on/after it when
  the sentence has a future cue.
- seasons (northern hemisphere): ``last|this|next summer``, ``in (the) winter``...; winter is Dec-Feb.
- ``earlier this week|month|year`` = [unit start, end of anchor day); ``later this ...`` = [next day, unit end).
- vague: ``recently`` / ``lately`` = the 30 days up to the anchor day, ``the other day`` = the 7 days before it;
  granularity ``"vague"`` so callers can prefer precise spans.

Overlapping matches: the longest wins (``8 May 2023`` over ``May 2023``). Unparseable or out-of-range dates are
skipped, never raised. Deterministic: a pure function of ``(text, anchor)``.
"""

from __future__ import annotations

import bisect
import re
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Callable, Optional

from tracelake.operators.calendar_spans import add_months as _add_months, at as _dt, day_span as _day
from tracelake.operators.calendar_spans import month_span as _month, unit_span as _unit_span, year_span as _year
from tracelake.operators.lexicon import MONTHS, NUMBER_WORDS, WEEKDAYS
from tracelake.timeutil import parse_time

__all__ = ["TimeSpan", "resolve_time_expressions", "span_keyword"]

UTC = timezone.utc


@dataclass(frozen=True)
class TimeSpan:
    """A resolved expression: ``[start, end)`` in UTC. ``char_start``/``char_end`` locate ``expr`` in the text."""

    expr: str
    start: datetime
    end: datetime
    granularity: str  # day | part_of_day | week | weekend | month | season | year | range | vague
    char_start: int = field(default=0, compare=False)
    char_end: int = field(default=0, compare=False)


def span_keyword(span: TimeSpan) -> str:
    """A text keyword for the span: ``2023``, ``2023-05`` or ``2023-05-07`` (the start day) by granularity."""
    if span.granularity == "year":
        return f"{span.start.year:04d}"
    if span.granularity == "month":
        return f"{span.start.year:04d}-{span.start.month:02d}"
    return span.start.date().isoformat()


# ------------------------------------------------------------------------------------------------------ patterns
_NUM = (
    r"(?P<n>\d{1,3}|a\s+couple\s+of|a\s+couple|couple\s+of|a\s+few|few|several|an|a|one|two|three|four|five|six"
    r"|seven|eight|nine|ten|eleven|twelve)"
)
_UNIT = r"(?P<unit>day|week|fortnight|month|year)s?"
_MONTH_ANY = r"(?P<mon>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")"
_MONTH_FULL = r"(?P<mon>january|february|march|april|may|june|july|august|september|october|november|december|sept)"
_WD = r"(?P<wd>" + "|".join(WEEKDAYS) + r")"
_ORD = r"(?:st|nd|rd|th)?"
_NOT_DIGIT_NEXT = r"(?![\s,]*(?:the\s+)?\d)"

_FUTURE = re.compile(
    r"\b(?:will|won't|shall|going\s+to|gonna|plan|plans|planning|planned\s+to|upcoming|coming\s+up|soon"
    r"|tomorrow|looking\s+forward|can't\s+wait|hope\s+to|hoping\s+to|intend|intends|scheduled)\b|['’]ll\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?\n]")


def _parse_n(text: str) -> int | None:
    key = " ".join(text.lower().split())
    if key.isdigit():
        return int(key)
    return NUMBER_WORDS.get(key)


Resolved = Optional[tuple[datetime, datetime, str]]


class _Context:
    """Per-call state: the anchor day and lazily computed sentence bounds for future cues."""

    def __init__(self, text: str, anchor: datetime) -> None:
        self.text = text
        self.anchor = anchor
        self.day = anchor.date()
        self._ends: list[int] | None = None

    def future(self, pos: int) -> bool:
        if self._ends is None:
            self._ends = [m.start() for m in _SENTENCE_END.finditer(self.text)]
        i = bisect.bisect_left(self._ends, pos)
        lo = self._ends[i - 1] + 1 if i > 0 else 0
        hi = self._ends[i] if i < len(self._ends) else len(self.text)
        return _FUTURE.search(self.text, lo, hi) is not None


def _pick_date(ctx: _Context, month: int, day: int, year: int | None, pos: int) -> date | None:
    """The day ``month``/``day`` in ``year``, or (no year) the nearest past one, or future one on a future cue."""
    if year is not None:
        try:
            return date(year, month, day)
        except ValueError:
            return None
    future = ctx.future(pos)
    options: list[date] = []
    for y in range(ctx.day.year - 4, ctx.day.year + 5):
        try:
            options.append(date(y, month, day))
        except ValueError:
            continue
    if future:
        later = [d for d in options if d >= ctx.day]
        return later[0] if later else None
    earlier = [d for d in options if d <= ctx.day]
    return earlier[-1] if earlier else None


def _h_iso(m: re.Match[str], ctx: _Context) -> Resolved:
    try:
        d = date(int(m["y"]), int(m["m"]), int(m["d"]))
    except ValueError:
        return None
    return (*_day(d), "day")


def _h_day_month(m: re.Match[str], ctx: _Context) -> Resolved:
    month = MONTHS[m["mon"].lower()]
    if m["mon"].lower() == "may" and m["mon"] != "May" and not m["y"]:
        return None
    d = _pick_date(ctx, month, int(m["d"]), int(m["y"]) if m["y"] else None, m.start())
    return (*_day(d), "day") if d else None


def _h_month_year(m: re.Match[str], ctx: _Context) -> Resolved:
    return (*_month(int(m["y"]), MONTHS[m["mon"].lower()]), "month")


def _h_bare_month(m: re.Match[str], ctx: _Context) -> Resolved:
    if m["mon"].lower() == "may" and m["mon"] != "May":
        return None
    month = MONTHS[m["mon"].lower()]
    pre = m["pre"].lower().rstrip("-")
    cur = (ctx.day.year, ctx.day.month)
    if pre == "last":
        year = ctx.day.year if month < ctx.day.month else ctx.day.year - 1
    elif pre == "next":
        year = ctx.day.year if month > ctx.day.month else ctx.day.year + 1
    elif pre == "this":
        year = ctx.day.year
    elif ctx.future(m.start()):
        year = ctx.day.year if (ctx.day.year, month) >= cur else ctx.day.year + 1
    else:
        year = ctx.day.year if (ctx.day.year, month) <= cur else ctx.day.year - 1
    start, end = _month(year, month)
    part = (m["part"] or "").lower().rstrip("-")
    if part == "early":
        end = start + timedelta(days=10)
    elif part == "mid":
        start, end = start + timedelta(days=10), start + timedelta(days=20)
    elif part == "late":
        start = start + timedelta(days=20)
    return start, end, "month"


def _h_year(m: re.Match[str], ctx: _Context) -> Resolved:
    return (*_year(int(m["y"])), "year")


_REL_DAYS = {"yesterday": -1, "today": 0, "tomorrow": 1}
_PARTS = {"morning": (6, 12), "afternoon": (12, 18), "evening": (18, 24), "night": (18, 30)}


def _h_rel_day(m: re.Match[str], ctx: _Context) -> Resolved:
    word = " ".join(m.group().lower().split())
    offset = {"the day before yesterday": -2, "the day after tomorrow": 2}.get(word)
    if offset is None:
        offset = _REL_DAYS[word]
    return (*_day(ctx.day + timedelta(days=offset)), "day")


def _h_part_of_day(m: re.Match[str], ctx: _Context) -> Resolved:
    rel = (m["rel"] or "").lower()
    part = (m["part"] or "").lower()
    if m["special"]:
        special = " ".join(m["special"].lower().split())
        rel, part = ("yesterday", "night") if special == "last night" else ("today", "night")
        if special == "tonight":
            return _dt(ctx.day, 18), _dt(ctx.day + timedelta(days=1)), "part_of_day"
    d = ctx.day + timedelta(days=_REL_DAYS.get(rel, 0))
    lo, hi = _PARTS[part]
    return _dt(d, lo), _dt(d, hi), "part_of_day"


def _h_rel_unit(m: re.Match[str], ctx: _Context) -> Resolved:
    rel = m["rel"].lower()
    unit = m["unit"].lower()
    k = {"last": -1, "previous": -1, "this": 0, "current": 0, "next": 1, "coming": 1, "following": 1}.get(rel)
    if rel == "past":
        days = {"week": 7, "weekend": 7, "month": 30, "year": 365}[unit]
        return _dt(ctx.day - timedelta(days=days)), _dt(ctx.day + timedelta(days=1)), "range"
    if k is None:
        return None
    return _unit_span(unit, ctx.day, k)


def _h_before_last(m: re.Match[str], ctx: _Context) -> Resolved:
    return _unit_span(m["unit"].lower(), ctx.day, -2)


def _shift(unit: str, n: int, ref: date, sign: int) -> Resolved:
    if n > 999:
        return None
    try:
        if unit == "day":
            return _unit_span("day", ref, sign * n)
        if unit in ("week", "fortnight"):
            return _unit_span("week", ref, sign * n * (2 if unit == "fortnight" else 1))
        if unit == "month":
            return _unit_span("month", ref, sign * n)
        return _unit_span("year", ref, sign * n)
    except (OverflowError, ValueError):
        return None


def _h_ago(m: re.Match[str], ctx: _Context) -> Resolved:
    n = _parse_n(m["n"])
    return _shift(m["unit"].lower(), n, ctx.day, -1) if n is not None else None


def _h_in(m: re.Match[str], ctx: _Context) -> Resolved:
    n = _parse_n(m["n"])
    return _shift(m["unit"].lower(), n, ctx.day, 1) if n is not None else None


def _h_rolling(m: re.Match[str], ctx: _Context) -> Resolved:
    n = _parse_n(m["n"])
    if n is None or n > 999:
        return None
    unit = m["unit"].lower()
    try:
        if unit in ("day", "week", "fortnight"):
            days = n * {"day": 1, "week": 7, "fortnight": 14}[unit]
            back, fwd = timedelta(days=days), timedelta(days=days)
            if m["rel"].lower() in ("next", "coming", "following"):
                return _dt(ctx.day + timedelta(days=1)), _dt(ctx.day + timedelta(days=1) + fwd), "range"
            return _dt(ctx.day - back), _dt(ctx.day + timedelta(days=1)), "range"
        months = n * (12 if unit == "year" else 1)
        if m["rel"].lower() in ("next", "coming", "following"):
            y, mo = _add_months(ctx.day.year, ctx.day.month, months)
            end_day = min(ctx.day.day, monthrange(y, mo)[1])
            return _dt(ctx.day + timedelta(days=1)), _dt(date(y, mo, end_day) + timedelta(days=1)), "range"
        y, mo = _add_months(ctx.day.year, ctx.day.month, -months)
        start_day = min(ctx.day.day, monthrange(y, mo)[1])
        return _dt(date(y, mo, start_day)), _dt(ctx.day + timedelta(days=1)), "range"
    except (OverflowError, ValueError):
        return None


def _h_weekday(m: re.Match[str], ctx: _Context) -> Resolved:
    target = WEEKDAYS[m["wd"].lower()]
    rel = (m["rel"] or "").lower()
    today = ctx.day
    back = (today.weekday() - target) % 7
    ahead = (target - today.weekday()) % 7
    if rel in ("last", "past", "previous"):
        d = today - timedelta(days=back or 7)
    elif rel in ("next", "coming"):
        d = today + timedelta(days=ahead or 7)
    elif rel == "this":
        d = today - timedelta(days=today.weekday()) + timedelta(days=target)
    elif ctx.future(m.start()):
        d = today + timedelta(days=ahead)
    else:
        d = today - timedelta(days=back)
    return (*_day(d), "day")


def _h_earlier_later(m: re.Match[str], ctx: _Context) -> Resolved:
    start, end, _ = _unit_span(m["unit"].lower(), ctx.day, 0)
    tomorrow = _dt(ctx.day + timedelta(days=1))
    if m["which"].lower() == "earlier":
        return start, tomorrow, "range"
    if tomorrow >= end:
        return None
    return tomorrow, end, "range"


_SEASON_START = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}


def _h_season(m: re.Match[str], ctx: _Context) -> Resolved:
    first = _SEASON_START[m["season"].lower()]
    rel = (m["rel"] or "").lower()
    instances = []
    for y in range(ctx.day.year - 2, ctx.day.year + 2):
        start = _dt(date(y, first, 1))
        ey, em = _add_months(y, first, 3)
        instances.append((start, _dt(date(ey, em, 1))))
    now = _dt(ctx.day)
    containing = [s for s in instances if s[0] <= now < s[1]]
    if rel == "last" or rel == "past":
        chosen = [s for s in instances if s[1] <= now][-1]
    elif rel in ("next", "coming"):
        chosen = [s for s in instances if s[0] > now][0]
    elif rel == "this":
        if containing:
            chosen = containing[0]
        else:
            same_year = [s for s in instances if s[0].year == ctx.day.year]
            chosen = same_year[0]
    elif ctx.future(m.start()):
        chosen = containing[0] if containing else [s for s in instances if s[0] > now][0]
    else:
        chosen = [s for s in instances if s[0] <= now][-1]
    return chosen[0], chosen[1], "season"


def _h_vague(m: re.Match[str], ctx: _Context) -> Resolved:
    word = " ".join(m.group().lower().split())
    if word == "the other day":
        return _dt(ctx.day - timedelta(days=7)), _dt(ctx.day), "vague"
    return _dt(ctx.day - timedelta(days=30)), _dt(ctx.day + timedelta(days=1)), "vague"


_I = re.IGNORECASE
_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str], _Context], Resolved]]] = [
    (re.compile(r"\b(?P<y>\d{4})([-/.])(?P<m>\d{1,2})\2(?P<d>\d{1,2})\b"), _h_iso),
    (
        re.compile(
            r"\b(?:the\s+)?(?P<d>\d{1,2})" + _ORD + r"(?:\s+of)?\s+" + _MONTH_ANY + r"\b\.?(?:,?\s+(?P<y>\d{4})\b)?", _I
        ),
        _h_day_month,
    ),
    (
        re.compile(r"\b" + _MONTH_ANY + r"\.?\s+(?:the\s+)?(?P<d>\d{1,2})" + _ORD + r"\b(?:,?\s+(?P<y>\d{4})\b)?", _I),
        _h_day_month,
    ),
    (re.compile(r"\b" + _MONTH_ANY + r"\.?,?\s+(?:of\s+)?(?P<y>\d{4})\b", _I), _h_month_year),
    (
        re.compile(
            r"\b(?P<pre>in|during|since|until|till|by|through|throughout|of|last|next|this|(?P<part>early|mid-?|late))"
            r"(?:\s+|(?<=-))(?:(?:in|of)\s+)?" + _MONTH_FULL + r"\b" + _NOT_DIGIT_NEXT,
            _I,
        ),
        _h_bare_month,
    ),
    (
        re.compile(
            r"\b(?:in|during|since|until|till|by|of|year|back\s+in|early|late|mid-?)\s+(?P<y>(?:19|20)\d{2})\b(?![-/.]\d)",
            _I,
        ),
        _h_year,
    ),
    (re.compile(r"\b(?:the\s+day\s+before\s+yesterday|the\s+day\s+after\s+tomorrow|yesterday|today|tomorrow)\b", _I), _h_rel_day),
    (
        re.compile(
            r"\b(?:(?P<special>last\s+night|tonight)|(?P<rel>yesterday|today|tomorrow|this)\s+(?P<part>morning|afternoon|evening|night))\b",
            _I,
        ),
        _h_part_of_day,
    ),
    (
        re.compile(
            r"\b(?:the\s+)?(?P<rel>last|this|next|past|coming|previous|current|following)\s+(?P<unit>weekend|week|month|year)\b",
            _I,
        ),
        _h_rel_unit,
    ),
    (re.compile(r"\bthe\s+(?P<unit>weekend|week|month|year)\s+before\s+last\b", _I), _h_before_last),
    (re.compile(r"\b" + _NUM + r"\s+" + _UNIT + r"\s+ago\b", _I), _h_ago),
    (re.compile(r"\bin\s+" + _NUM + r"\s+" + _UNIT + r"(?:['’]s?)?(?:\s+time)?\b", _I), _h_in),
    (re.compile(r"\b" + _NUM + r"\s+" + _UNIT + r"\s+from\s+now\b", _I), _h_in),
    (
        re.compile(
            r"\b(?:the\s+)?(?P<rel>past|last|previous|next|coming|following)\s+" + _NUM + r"\s+" + _UNIT + r"\b", _I
        ),
        _h_rolling,
    ),
    (re.compile(r"\b(?:(?P<rel>last|next|this|coming|past|previous|on)\s+)?" + _WD + r"(?!s\b)\b", _I), _h_weekday),
    (re.compile(r"\b(?P<which>earlier|later)\s+this\s+(?P<unit>week|month|year)\b", _I), _h_earlier_later),
    (
        re.compile(
            r"\b(?:(?P<rel>last|this|next|past|coming)|in\s+(?:the\s+)?|during\s+(?:the\s+)?|over\s+the)\s*"
            r"(?P<season>spring|summer|fall|autumn|winter)\b",
            _I,
        ),
        _h_season,
    ),
    (re.compile(r"\b(?:recently|lately|the\s+other\s+day)\b", _I), _h_vague),
]


def resolve_time_expressions(text: str, anchor: datetime) -> list[TimeSpan]:
    """All time expressions of ``text`` resolved against ``anchor`` (aware; converted to UTC), in text order.

    Raises :class:`~tracelake.errors.ValidationError` for a naive ``anchor``; never raises on odd text.
    """
    if not text:
        return []
    anchor_utc = parse_time(anchor, name="anchor")
    assert anchor_utc is not None
    ctx = _Context(text, anchor_utc)
    found: list[tuple[int, int, datetime, datetime, str]] = []
    for pattern, handler in _PATTERNS:
        for m in pattern.finditer(text):
            try:
                resolved = handler(m, ctx)
            except (ValueError, OverflowError, IndexError):
                resolved = None
            if resolved is not None:
                found.append((m.start(), m.end(), *resolved))
    found.sort(key=lambda f: (-(f[1] - f[0]), f[0]))
    occupied = bytearray(len(text))
    chosen: list[tuple[int, int, datetime, datetime, str]] = []
    for f in found:
        if occupied.find(1, f[0], f[1]) != -1:
            continue
        occupied[f[0] : f[1]] = b"\x01" * (f[1] - f[0])
        chosen.append(f)
    chosen.sort(key=lambda f: f[0])
    return [TimeSpan(text[s:e], start, end, gran, s, e) for s, e, start, end, gran in chosen]

