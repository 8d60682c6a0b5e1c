"""Ebbinghaus-style forgetting: ``strength = exp(-days_since_last_reinforcement / stability_days)``.

- :func:`retention` is vectorised over Arrow or numpy columns. Time before ``last_reinforced_at`` counts as
  zero days (strength 1.0), so strength is monotone non-increasing in ``now``. A non-positive or NaN stability
  gives 1.0 at zero elapsed time and 0.0 after.
- :func:`apply_decay` recomputes ``strength`` and sets ``archived = (archived or strength < threshold) and not
  pinned``. Pinned rows keep strength 1.0 and are never archived. Decay never un-archives a row: only
  reinforcement (:func:`reinforce`, or a new source merged into it) does. It touches no other column (no
  ``updated_at`` bump) and is a pure function of ``(table, now)``.
- :func:`reinforce` raises stability on retrieval: masked rows get ``stability *= growth``,
  ``last_reinforced_at = max(last_reinforced_at, now)``, strength 1.0, un-archived and, when the table has one,
  ``updated_at = now``. ``reinforcement_count`` (the number of distinct sources) is left alone.

Works on any table with ``stability``, ``last_reinforced_at``, ``strength``, ``pinned``, ``archived`` columns
(traces and facts alike); column types and order are preserved.
"""

from __future__ import annotations

from datetime import datetime
from typing import Sequence, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracelake.errors import ValidationError
from tracelake import forgetting
from tracelake.operators._columns import require
from tracelake.timeutil import dt_micros, micros_array

__all__ = ["retention", "apply_decay", "reinforce"]

ArrayLike = Union[pa.Array, pa.ChunkedArray, np.ndarray, Sequence[float], float]


def _floats(values: ArrayLike) -> np.ndarray:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return np.asarray(pc.fill_null(pc.cast(values, pa.float64()), np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)
    return np.asarray(values, dtype=np.float64)


def _micros(values: pa.Array | pa.ChunkedArray | np.ndarray | datetime | Sequence[datetime]) -> np.ndarray:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return micros_array(values)
    if isinstance(values, datetime):
        return np.asarray([dt_micros(values)], dtype=np.int64)
    arr = np.asarray(values)
    if np.issubdtype(arr.dtype, np.datetime64):
        return arr.astype("datetime64[us]").astype(np.int64)
    return np.asarray([dt_micros(v) for v in values], dtype=np.int64)


def retention(stability_days: ArrayLike, last_reinforced_at: pa.Array | pa.ChunkedArray | np.ndarray | datetime, now: datetime) -> np.ndarray:
    """The forgetting curve (:func:`tracelake.forgetting.retention`) at ``now`` per row, as float64."""
    stability = np.atleast_1d(_floats(stability_days))
    return forgetting.retention(dt_micros(now) - _micros(last_reinforced_at), stability)


def _set(table: pa.Table, name: str, values: np.ndarray | pa.Array) -> pa.Table:
    idx = table.schema.get_field_index(name)
    fld = table.schema.field(name)
    arr = values if isinstance(values, pa.Array) else pa.array(values)
    return table.set_column(idx, fld, arr.cast(fld.type))


def _bools(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(pc.fill_null(table.column(name), False).to_numpy(zero_copy_only=False), dtype=bool)


def apply_decay(table: pa.Table, now: datetime, archive_threshold: float) -> pa.Table:
    """``table`` with ``strength`` recomputed as of ``now`` and ``archived`` updated (see module docstring)."""
    require(table, ["stability", "last_reinforced_at", "strength", "pinned", "archived"], "decay input")
    if table.num_rows == 0:
        return table
    strength = retention(table.column("stability"), table.column("last_reinforced_at"), now)
    pinned = _bools(table, "pinned")
    strength = np.where(pinned, 1.0, strength)
    archived = (_bools(table, "archived") | (strength < archive_threshold)) & ~pinned
    table = _set(table, "strength", strength)
    return _set(table, "archived", archived)


def reinforce(table: pa.Table, mask: pa.Array | pa.ChunkedArray | np.ndarray | Sequence[bool], now: datetime, growth: float) -> pa.Table:
    """Reinforce the rows selected by ``mask`` at ``now`` (retrieval): stability grows by ``growth``."""
    require(table, ["stability", "last_reinforced_at", "strength", "archived"], "reinforce input")
    if isinstance(mask, (pa.Array, pa.ChunkedArray)):
        sel = np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)
    else:
        sel = np.asarray(mask, dtype=bool)
    if sel.shape != (table.num_rows,):
        raise ValidationError("reinforce mask length differs from the table's row count", mask=sel.size, rows=table.num_rows)
    if not sel.any():
        return table
    now_us = dt_micros(now)
    stability = _floats(table.column("stability"))
    table = _set(table, "stability", np.where(sel, stability * growth, stability))
    last = micros_array(table.column("last_reinforced_at"))
    new_last = np.where(sel, np.maximum(last, now_us), last)
    table = _set(table, "last_reinforced_at", pa.array(new_last, pa.int64()).cast(table.schema.field("last_reinforced_at").type))
    table = _set(table, "strength", np.where(sel, 1.0, _floats(table.column("strength"))))
    table = _set(table, "archived", np.where(sel, False, _bools(table, "archived")))
    if "updated_at" in table.column_names:
        upd = micros_array(table.column("updated_at"))
        table = _set(table, "updated_at", pa.array(np.where(sel, now_us, upd), pa.int64()).cast(table.schema.field("updated_at").type))
    return table
