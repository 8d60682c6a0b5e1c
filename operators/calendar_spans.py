"""Calendar spans in UTC (weeks start on Monday): the arithmetic behind :mod:`.temporal`'s time expressions."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

__all__ = ["at", "add_months", "month_span", "year_span", "week_span", "weekend_span", "day_span", "unit_span"]

UTC = timezone.utc


def at(d: date, hour: int = 0) -> datetime:
    """``hour`` o'clock UTC on ``d``."""
    return datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(hours=hour)


def add_months(year: int, month: int, k: int) -> tuple[int, int]:
    idx = year * 12 + (month - 1) + k
    return idx // 12, idx % 12 + 1


def month_span(year: int, month: int) -> tuple[datetime, datetime]:
    ny, nm = add_months(year, month, 1)
    return at(date(year, month, 1)), at(date(ny, nm, 1))


def year_span(year: int) -> tuple[datetime, datetime]:
    return at(date(year, 1, 1)), at(date(year + 1, 1, 1))


def week_span(d: date) -> tuple[datetime, datetime]:
    monday = d - timedelta(days=d.weekday())
    return at(monday), at(monday + timedelta(days=7))


def weekend_span(d: date) -> tuple[datetime, datetime]:
    saturday = d - timedelta(days=d.weekday()) + timedelta(days=5)
    return at(saturday), at(saturday + timedelta(days=2))


def day_span(d: date) -> tuple[datetime, datetime]:
    return at(d), at(d + timedelta(days=1))


def unit_span(unit: str, ref: date, k: int) -> tuple[datetime, datetime, str]:
    """The calendar ``unit`` containing ``ref`` shifted by ``k`` units."""
    if unit == "day":
        return (*day_span(ref + timedelta(days=k)), "day")
    if unit in ("week", "fortnight"):
        return (*week_span(ref + timedelta(days=7 * k)), "week")
    if unit == "weekend":
        return (*weekend_span(ref + timedelta(days=7 * k)), "weekend")
    if unit == "month":
        y, mo = add_months(ref.year, ref.month, k)
        return (*month_span(y, mo), "month")
    return (*year_span(ref.year + k), "year")
