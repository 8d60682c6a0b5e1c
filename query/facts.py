"""Bitemporal facts: valid at ``as_of`` (valid time), as the lake knew them at ``known_at`` (transaction time).

A facts row is one *version* of an assertion. For ``as_of = T`` and ``known_at = K``:

- **valid at T**: ``occurred_at <= T AND valid_from <= T AND (valid_to IS NULL OR valid_to > T OR
  invalidated_at > T)`` — a fact closed by a statement made after ``T`` was still open at ``T``;
- **known at K**: ``recorded_at <= K AND (retracted_at IS NULL OR retracted_at > K)``.

Rows come back with what was not yet known at ``T`` hidden: when ``invalidated_at > T`` the closing
(``valid_to``, ``invalidated_at``, ``superseded_by``) is nulled, and ``source_event_ids``/``source_times`` are
trimmed to sources that occurred at or before ``T``. Both filters run inside Lance (tenant and subject hit
their indexes); "as of" is served from ``valid_from``/``valid_to``, never by scanning the history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracelake import schemas
from tracelake.storage.reading import Dataset, take_rows

from .snapshot import quote, str_list, ts_literal

__all__ = ["FACT_COLUMNS", "facts_filter", "fact_mask", "read_facts", "fact_history", "fact_status", "mask_as_of"]

FACT_COLUMNS = schemas.FACTS.names


def facts_filter(tenant: str, *, as_of: datetime, known_at: datetime, subjects: list[str] | None,
                 predicate: str | None = None, include_archived: bool = False, valid: bool = True) -> str:
    """Lance-SQL filter of facts rows valid at ``as_of`` (when ``valid``) and known at ``known_at``."""
    parts = [f"tenant = {quote(tenant)}"]
    if subjects:
        parts.append(f"subject IN ({str_list(subjects)})")
    if predicate:
        parts.append(f"predicate = {quote(predicate)}")
    t = ts_literal(as_of)
    parts.append(f"occurred_at <= {t}")
    if valid:
        parts.append(f"valid_from <= {t}")
        parts.append(f"(valid_to IS NULL OR valid_to > {t} OR invalidated_at > {t})")
    k = ts_literal(known_at)
    parts.append(f"recorded_at <= {k} AND (retracted_at IS NULL OR retracted_at > {k})")
    if not include_archived:
        parts.append("archived = false")
    return " AND ".join(parts)


def mask_as_of(rows: list[dict[str, Any]], as_of: datetime) -> list[dict[str, Any]]:
    """Hide what was learned after ``as_of`` (see the module docstring). Mutates and returns ``rows``."""
    for row in rows:
        inv = row.get("invalidated_at")
        if inv is not None and inv > as_of:
            row["valid_to"] = row["invalidated_at"] = row["superseded_by"] = None
        ids = row.get("source_event_ids") or []
        times = row.get("source_times") or []
        if len(ids) == len(times):
            keep = [i for i, t in enumerate(times) if t is not None and t <= as_of]
            if len(keep) != len(ids):
                row["source_event_ids"] = [ids[i] for i in keep]
                row["source_times"] = [times[i] for i in keep]
        elif row.get("occurred_at") is not None and row["occurred_at"] > as_of:
            row["source_event_ids"], row["source_times"] = [], []
    return rows


def _needs_mask(table: pa.Table, as_of: datetime) -> bool:
    t = pa.scalar(as_of, table.schema.field("occurred_at").type)
    late_close = pc.any(pc.greater(table["invalidated_at"], t)).as_py()
    late_source = pc.any(pc.greater(pc.list_flatten(table["source_times"]), t)).as_py()
    return bool(late_close or late_source)


def _sorted(table: pa.Table) -> pa.Table:
    if not table.num_rows:
        return table
    keys = [("subject", "ascending"), ("predicate", "ascending"), ("valid_from", "ascending"),
            ("occurred_at", "ascending"), ("fact_id", "ascending"), ("row_id", "ascending")]
    return table.take(pc.sort_indices(table, keys))


#: Columns the valid-time / transaction-time test needs (read first, for the subject's rows only).
_TEST_COLUMNS = ["predicate", "occurred_at", "valid_from", "valid_to", "invalidated_at", "recorded_at",
                 "retracted_at", "archived"]


def fact_mask(table: pa.Table, *, as_of: datetime, known_at: datetime, valid: bool = True,
              predicate: str | None = None, include_archived: bool = False) -> np.ndarray:
    """The rule of :func:`facts_filter` evaluated in Arrow over ``table`` (it needs ``_TEST_COLUMNS``): a boolean
    numpy mask of the rows stated by ``as_of`` (valid at it when ``valid``) as known at ``known_at``."""
    t = pa.scalar(as_of, table.schema.field("occurred_at").type)
    k = pa.scalar(known_at, table.schema.field("recorded_at").type)
    keep = pc.and_(pc.less_equal(table["occurred_at"], t), pc.less_equal(table["recorded_at"], k))
    keep = pc.and_(keep, pc.or_(pc.is_null(table["retracted_at"]),
                                pc.fill_null(pc.greater(table["retracted_at"], k), False)))
    if valid:
        keep = pc.and_(keep, pc.less_equal(table["valid_from"], t))
        open_at = pc.or_(pc.is_null(table["valid_to"]), pc.fill_null(pc.greater(table["valid_to"], t), False))
        open_at = pc.or_(open_at, pc.fill_null(pc.greater(table["invalidated_at"], t), False))
        keep = pc.and_(keep, open_at)
    if predicate:
        keep = pc.and_(keep, pc.equal(table["predicate"], predicate))
    if not include_archived:
        keep = pc.and_(keep, pc.invert(pc.fill_null(table["archived"], False)))
    return pc.fill_null(keep, False).to_numpy(zero_copy_only=False)


def _select(facts: Dataset, tenant: str, *, as_of: datetime, known_at: datetime,
            subjects: list[str] | None, predicate: str | None, include_archived: bool, valid: bool) -> pa.Table:
    """The matching rows (``FACT_COLUMNS``), sorted.

    With ``subjects`` the rows are found through the tenant and subject indexes (an index-only lookup), their
    time columns are read and tested here, and only the survivors are read in full: a subject's history is a
    few dozen rows spread over the table, and every column of every row read is one random page access.
    Without subjects, Lance evaluates the whole filter in one scan of the tenant's rows.
    """
    where = facts_filter(tenant, as_of=as_of, known_at=known_at, subjects=subjects, predicate=predicate,
                         include_archived=include_archived, valid=valid)
    if not subjects:
        return _sorted(facts.to_table(filter=where, columns=FACT_COLUMNS))

    rowids = facts.to_table(columns=[], with_row_id=True,
                            filter=f"tenant = {quote(tenant)} AND subject IN ({str_list(subjects)})")["_rowid"]
    rowids = np.unique(rowids.to_numpy()).tolist()
    test = take_rows(facts, rowids, _TEST_COLUMNS, where)
    mask = fact_mask(test, as_of=as_of, known_at=known_at, valid=valid, predicate=predicate,
                     include_archived=include_archived)
    return _sorted(take_rows(facts, [r for r, m in zip(rowids, mask) if m], FACT_COLUMNS, where))


def read_facts(facts: Dataset, tenant: str, *, as_of: datetime, known_at: datetime,
               subjects: list[str] | None, predicate: str | None = None,
               include_archived: bool = False) -> pa.Table:
    """Facts valid at ``as_of`` as known at ``known_at`` (callers pass now for "now"). Schema: ``FACTS``."""
    table = _select(facts, tenant, as_of=as_of, known_at=known_at, subjects=subjects, predicate=predicate,
                    include_archived=include_archived, valid=True)
    if not table.num_rows or not _needs_mask(table, as_of):
        return table
    rows = mask_as_of(table.to_pylist(), as_of)
    return pa.Table.from_pylist(rows, schema=table.schema)


def fact_history(facts: Dataset, tenant: str, subjects: list[str] | None, *, as_of: datetime,
                 known_at: datetime, include_archived: bool = False) -> list[dict[str, Any]]:
    """Every assertion about ``subjects`` (``None``: every subject of the tenant) stated at or before ``as_of``
    (as known at ``known_at``), masked, each with ``status``: ``current`` (valid at ``as_of``),
    ``superseded``/``ended`` (closed before it) or ``future`` (valid only after it)."""
    if subjects is not None and not subjects:
        return []
    table = _select(facts, tenant, as_of=as_of, known_at=known_at, subjects=subjects, predicate=None,
                    include_archived=include_archived, valid=False)
    rows = mask_as_of(table.to_pylist(), as_of)
    for row in rows:
        row["status"] = fact_status(row, as_of)
    return rows


def fact_status(row: dict[str, Any], as_of: datetime) -> str:
    if row["valid_from"] > as_of:
        return "future"
    vt = row.get("valid_to")
    if vt is None or vt > as_of:
        return "current"
    return "superseded" if row.get("superseded_by") else "ended"
