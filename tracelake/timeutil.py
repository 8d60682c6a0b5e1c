"""Time values: one parser for every public time argument, and the vectorised event-time parser.

All times inside tracelake are UTC ``timestamp[us, tz=UTC]`` (Arrow) or aware ``datetime`` (Python).
Accepted inputs: aware ``datetime``, ISO-8601 strings with an offset (``2023-05-08T13:56:00Z``), and epoch
milliseconds (int, or a string of digits). A naive ``datetime`` or an ISO string without offset is rejected:
guessing a time zone would silently shift event time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracelake.errors import ValidationError

__all__ = ["TS", "EPOCH", "TimeLike", "parse_time", "to_micros", "dt_micros", "from_micros", "micros_array",
           "micros_list", "datetimes", "table_rows", "now_utc", "parse_time_array", "iso"]

TS = pa.timestamp("us", tz="UTC")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
TimeLike = Union[datetime, str, int, float]


def now_utc() -> datetime:
    """The current wall-clock time, aware, UTC."""
    return datetime.now(timezone.utc)


def parse_time(value: TimeLike | None, *, name: str = "time") -> datetime | None:
    """Parse a public time argument into an aware UTC datetime (``None`` stays ``None``)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValidationError(f"{name} must be timezone-aware", value=str(value))
        return value.astimezone(timezone.utc)
    if isinstance(value, bool):
        raise ValidationError(f"{name} must be a time, got a boolean", value=value)
    if isinstance(value, (int, float)):
        return _from_epoch_ms(value, name)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return _from_epoch_ms(int(text), name)
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValidationError(f"{name} is not an ISO-8601 time or epoch milliseconds", value=value) from None
        if parsed.tzinfo is None:
            raise ValidationError(f"{name} needs a UTC offset (e.g. 'Z' or '+02:00')", value=value)
        return parsed.astimezone(timezone.utc)
    raise ValidationError(f"{name} must be a datetime, ISO-8601 string or epoch milliseconds", value=repr(value))


def _from_epoch_ms(ms: int | float, name: str) -> datetime:
    try:
        return datetime.fromtimestamp(ms / 1000.0, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise ValidationError(f"{name} is out of range (epoch milliseconds of years 1-9999)", value=ms) from None


def to_micros(value: TimeLike | None, *, name: str = "time") -> int | None:
    """Epoch microseconds of a public time argument."""
    dt = parse_time(value, name=name)
    if dt is None:
        return None
    return (dt - EPOCH) // timedelta(microseconds=1)


def dt_micros(value: datetime) -> int:
    """Epoch microseconds of an aware datetime (hot paths; a naive one is rejected, never guessed)."""
    if value.tzinfo is None:
        raise ValidationError("time must be timezone-aware", value=str(value))
    return (value - EPOCH) // timedelta(microseconds=1)


def from_micros(us: int) -> datetime:
    """Epoch microseconds -> aware UTC datetime."""
    return EPOCH + timedelta(microseconds=int(us))


def _as_ts(col: Any) -> Any:
    typ = col.type
    if pa.types.is_timestamp(typ):
        return pc.cast(pc.assume_timezone(col, "UTC") if typ.tz is None else col, TS)
    raise ValidationError("expected a timestamp column", type=str(typ))


def micros_array(col: pa.Array | pa.ChunkedArray, fill: int = 0) -> np.ndarray:
    """A timestamp column (naive ones taken as UTC) as an ``int64`` numpy array of epoch µs, nulls -> ``fill``."""
    ints = pc.cast(_as_ts(col), pa.int64())
    return np.asarray(pc.fill_null(ints, fill).to_numpy(zero_copy_only=False), dtype=np.int64)


def micros_list(col: pa.Array | pa.ChunkedArray) -> list[int | None]:
    """A timestamp column as a list of epoch µs (``None`` for nulls)."""
    return pc.cast(_as_ts(col), pa.int64()).to_pylist()


def datetimes(col: pa.Array | pa.ChunkedArray) -> list[datetime | None]:
    """A timestamp column (naive ones taken as UTC) as aware UTC datetimes, ``None`` for nulls: cast to epoch µs
    at once, then one addition per value (pyarrow's own ``to_pylist`` builds each value's zone, ~10x slower)."""
    return [None if us is None else EPOCH + timedelta(microseconds=us) for us in micros_list(col)]


def table_rows(table: pa.Table) -> list[dict[str, Any]]:
    """``table.to_pylist()``, with the timestamp columns (and lists of timestamps) converted by
    :func:`datetimes`: the same rows (aware UTC datetimes), for hot paths that read a few hundred rows."""
    columns: list[list[Any]] = []
    for field, col in zip(table.schema, table.columns):
        typ = field.type
        if pa.types.is_timestamp(typ):
            columns.append(datetimes(col))
        elif pa.types.is_list(typ) and pa.types.is_timestamp(typ.value_type):
            flat = iter(datetimes(pc.list_flatten(col)))
            columns.append([None if n is None else [next(flat) for _ in range(n)]
                            for n in pc.list_value_length(col).to_pylist()])
        else:
            columns.append(col.to_pylist())
    names = table.column_names
    return [dict(zip(names, values)) for values in zip(*columns)] if columns else []


def iso(value: datetime | None) -> str | None:
    """ISO-8601 with ``Z`` for UTC, the form tracelake prints."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def parse_time_array(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Vectorised event-time parsing.

    ``values`` may be timestamps (naive ones are taken as UTC), integers (epoch ms), or strings (ISO-8601
    with offset, or epoch-ms digits). Returns ``(timestamps, ok)`` where ``timestamps`` is ``TS`` with nulls
    where parsing failed and ``ok`` is a boolean mask. Only rows that fail the fast cast are parsed one by one.
    """
    typ = values.type
    if pa.types.is_timestamp(typ):
        if typ.tz is None:
            values = pc.assume_timezone(values, "UTC")
        ts = pc.cast(values, TS)
        return ts, pc.is_valid(ts)
    if pa.types.is_integer(typ):
        ts = pc.cast(pc.multiply(pc.cast(values, pa.int64()), 1000), pa.int64()).cast(TS)
        return ts, pc.is_valid(ts)
    if pa.types.is_floating(typ):
        return parse_time_array(pc.cast(pc.floor(values), pa.int64()))
    if not (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
        return pa.nulls(len(values), TS), pa.array([False] * len(values))
    values = pc.cast(values, pa.string())
    digits = pc.match_substring_regex(values, r"^-?\d+$")
    try:
        if not pc.any(digits).as_py():
            ts = pc.cast(values, TS)
            return ts, pc.is_valid(ts)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    out: list[int | None] = []
    for v in values.to_pylist():
        try:
            out.append(to_micros(v) if v is not None else None)
        except (ValidationError, ValueError, OverflowError, OSError):
            out.append(None)
    ts = pa.array(out, pa.int64()).cast(TS)
    return ts, pc.is_valid(ts)
