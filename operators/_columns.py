"""Small Arrow helpers shared by the operators: column access, time columns as epoch microseconds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracelake.errors import ValidationError
from tracelake.timeutil import TS

__all__ = ["require", "column", "micros", "micros_np", "ts_array", "to_dt", "dt_micros", "empty_like_schema", "EPOCH"]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def require(table: pa.Table, names: Sequence[str], what: str) -> None:
    """Raise :class:`ValidationError` naming the first column of ``names`` that ``table`` lacks."""
    missing = [n for n in names if n not in table.column_names]
    if missing:
        raise ValidationError(f"{what} is missing required columns", missing=missing)


def column(table: pa.Table, name: str, default: Any = None) -> list[Any]:
    """``table[name]`` as a Python list, or ``[default] * num_rows`` when the column is absent."""
    if name not in table.column_names:
        return [default] * table.num_rows
    return table.column(name).to_pylist()


def _as_ts(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    typ = col.type
    if pa.types.is_timestamp(typ):
        if typ.tz is None:
            col = pc.assume_timezone(col, "UTC")
        return pc.cast(col, TS)
    raise ValidationError("expected a timestamp column", type=str(typ))


def micros(table: pa.Table, name: str) -> list[int | None]:
    """A timestamp column as epoch microseconds (``None`` for nulls or an absent column)."""
    if name not in table.column_names:
        return [None] * table.num_rows
    return pc.cast(_as_ts(table.column(name)), pa.int64()).to_pylist()


def micros_np(col: pa.ChunkedArray | pa.Array, fill: int = 0) -> np.ndarray:
    """A timestamp column as an ``int64`` numpy array of epoch microseconds, nulls filled with ``fill``."""
    ints = pc.cast(_as_ts(col), pa.int64())
    return np.asarray(pc.fill_null(ints, fill).to_numpy(zero_copy_only=False), dtype=np.int64)


def ts_array(values: Sequence[int | None]) -> pa.Array:
    """Epoch microseconds -> ``timestamp[us, tz=UTC]``."""
    return pa.array(values, pa.int64()).cast(TS)


def to_dt(us: int) -> datetime:
    """Epoch microseconds -> aware UTC datetime."""
    return EPOCH + timedelta(microseconds=us)


def dt_micros(value: datetime) -> int:
    """Aware datetime -> epoch microseconds (naive values are rejected)."""
    if value.tzinfo is None:
        raise ValidationError("time must be timezone-aware", value=str(value))
    return (value - EPOCH) // timedelta(microseconds=1)


def empty_like_schema(schema: pa.Schema) -> pa.Table:
    """An empty table of ``schema``."""
    return schema.empty_table()
