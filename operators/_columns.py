"""Small Arrow helpers shared by the operators: column access, time columns as epoch microseconds."""

from __future__ import annotations

from typing import Any, Sequence

import pyarrow as pa

from tracelake.errors import ValidationError
from tracelake.timeutil import TS, micros_list

__all__ = ["require", "column", "micros", "ts_array", "empty_like_schema"]


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


def micros(table: pa.Table, name: str) -> list[int | None]:
    """A timestamp column as epoch microseconds (``None`` for nulls or an absent column)."""
    if name not in table.column_names:
        return [None] * table.num_rows
    return micros_list(table.column(name))


def ts_array(values: Sequence[int | None]) -> pa.Array:
    """Epoch microseconds -> ``timestamp[us, tz=UTC]``."""
    return pa.array(values, pa.int64()).cast(TS)


def empty_like_schema(schema: pa.Schema) -> pa.Table:
    """An empty table of ``schema``."""
    return schema.empty_table()
