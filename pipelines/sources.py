"""Sources: turn user input (JSONL files/streams, Parquet/Arrow files, Arrow tables, dict iterables) into
raw Arrow chunks for :func:`tracelake.operators.validate.validate_events`.

Every chunk carries ``_line``: the 1-based line number for JSON Lines, the 0-based row/item index for
tables and iterables. Records that cannot even become a row (bad JSON, a non-object, a field of the wrong
JSON type) are returned as *early rejects* ``(line, field, reason, raw)`` next to the chunk.
"""

from __future__ import annotations


import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracelake.errors import ValidationError
from tracelake.operators.validate import RAW_FIELDS

__all__ = ["RawChunk", "EarlyReject", "iter_chunks"]

_STRING_FIELDS = ("tenant", "text", "event_id", "stream", "actor", "kind")
_RAW_SCHEMA = pa.schema([(f, pa.string()) for f in RAW_FIELDS] + [("_line", pa.int64())])


@dataclass(frozen=True)
class EarlyReject:
    line: int
    field: str | None
    reason: str
    raw: str
    tenant: str | None = None


@dataclass
class RawChunk:
    table: pa.Table
    rejects: list[EarlyReject] = field(default_factory=list)


def iter_chunks(
    data: Any, *, chunk_rows: int, default_tenant: str | None = None
) -> Iterator[RawChunk]:
    """Yield raw chunks of at most ``chunk_rows`` rows from any supported input.

    ``data``: a path (``.jsonl``/``.json``/``.ndjson``, ``.parquet``, ``.arrow``/``.feather``/``.ipc``), ``"-"``
    (JSON Lines on stdin), a text/binary file object of JSON Lines, a ``pyarrow.Table`` /
    ``RecordBatchReader``, or an iterable of dicts. ``default_tenant`` fills records lacking a tenant.
    """
    if isinstance(data, (pa.Table, pa.RecordBatch)):
        table = pa.table(data) if isinstance(data, pa.RecordBatch) else data
        yield from _table_chunks(iter(table.to_batches(max_chunksize=chunk_rows)), default_tenant)
    elif isinstance(data, pa.RecordBatchReader):
        yield from _table_chunks(iter(data), default_tenant, rechunk=chunk_rows)
    elif isinstance(data, (str, Path)):
        yield from _path_chunks(str(data), chunk_rows, default_tenant)
    elif hasattr(data, "read"):
        yield from _jsonl_chunks(data, chunk_rows, default_tenant)
    elif isinstance(data, dict):
        yield from _record_chunks(enumerate([data]), chunk_rows, default_tenant)
    elif isinstance(data, Iterable):
        yield from _record_chunks(enumerate(data), chunk_rows, default_tenant)
    else:
        raise ValidationError("cannot ingest this input", type=type(data).__name__)


def _path_chunks(path: str, chunk_rows: int, default_tenant: str | None) -> Iterator[RawChunk]:
    if path == "-":
        yield from _jsonl_chunks(sys.stdin.buffer, chunk_rows, default_tenant)
        return
    p = Path(path)
    if not p.is_file():
        raise ValidationError("input file not found", path=path)
    suffix = p.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        yield from _table_chunks(iter(pq.ParquetFile(p).iter_batches(batch_size=chunk_rows)), default_tenant)
    elif suffix in {".arrow", ".feather", ".ipc"}:
        import pyarrow.feather as feather

        yield from _table_chunks(iter(feather.read_table(p).to_batches(chunk_rows)), default_tenant)
    else:
        with open(p, "rb") as fh:
            yield from _jsonl_chunks(fh, chunk_rows, default_tenant)


def _table_chunks(batches: Iterator[pa.RecordBatch], default_tenant: str | None,
                  rechunk: int | None = None) -> Iterator[RawChunk]:
    offset = 0
    for batch in batches:
        for piece in (batch.to_batches(rechunk) if rechunk and isinstance(batch, pa.Table) else [batch]):
            table = pa.table(piece)
            n = table.num_rows
            table = _normalise_table(table, default_tenant).append_column(
                "_line", pa.array(np.arange(offset, offset + n, dtype=np.int64))
            )
            offset += n
            yield RawChunk(table)


def _normalise_table(table: pa.Table, default_tenant: str | None) -> pa.Table:
    """Keep the known columns; JSON-encode a struct/map ``attrs``; fill the default tenant."""
    cols = {}
    for name in RAW_FIELDS:
        if name not in table.column_names:
            continue
        col = table.column(name)
        if name == "attrs" and not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            col = pa.array([None if v is None else json.dumps(v, default=str) for v in col.to_pylist()], pa.string())
        cols[name] = col
    if default_tenant is not None:
        tenant = cols.get("tenant")
        cols["tenant"] = (
            pa.array([default_tenant] * table.num_rows, pa.string()) if tenant is None
            else pc.fill_null(tenant.cast(pa.string()), default_tenant)
        )
    return pa.table(cols) if cols else pa.table({"tenant": pa.nulls(table.num_rows, pa.string())})


def _jsonl_chunks(fh: IO[Any], chunk_rows: int, default_tenant: str | None) -> Iterator[RawChunk]:
    def records() -> Iterator[tuple[int, Any]]:
        for lineno, line in enumerate(fh, start=1):
            if isinstance(line, bytes):
                try:
                    line = line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield lineno, _BadLine(f"line is not valid UTF-8 ({exc.reason} at byte {exc.start})", "")
                    continue
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line)
            except json.JSONDecodeError as exc:
                yield lineno, _BadLine(f"invalid JSON: {exc.msg} at column {exc.colno}", line)

    yield from _record_chunks(records(), chunk_rows, default_tenant)


@dataclass(frozen=True)
class _BadLine:
    reason: str
    raw: str


def _record_chunks(records: Iterable[tuple[int, Any]], chunk_rows: int,
                   default_tenant: str | None) -> Iterator[RawChunk]:
    cols: dict[str, list[Any]] = {f: [] for f in (*RAW_FIELDS, "_line")}
    rejects: list[EarlyReject] = []
    for line, rec in records:
        early = _check_record(line, rec)
        if early is not None:
            rejects.append(early)
        else:
            _append_record(cols, line, rec, default_tenant)
        if len(cols["_line"]) >= chunk_rows:
            yield RawChunk(pa.table(cols, schema=_RAW_SCHEMA), rejects)
            cols = {f: [] for f in cols}
            rejects = []
    if cols["_line"] or rejects:
        yield RawChunk(pa.table(cols, schema=_RAW_SCHEMA), rejects)


def _check_record(line: int, rec: Any) -> EarlyReject | None:
    if isinstance(rec, _BadLine):
        return EarlyReject(line, None, rec.reason, rec.raw[:4096])
    if not isinstance(rec, dict):
        return EarlyReject(line, None, f"record is a JSON {type(rec).__name__}, not an object", json.dumps(rec)[:4096])
    tenant = rec.get("tenant") if isinstance(rec.get("tenant"), str) else None
    for name in _STRING_FIELDS:
        value = rec.get(name)
        if value is not None and not isinstance(value, str):
            return EarlyReject(line, name, f"field '{name}' must be a string, got {_json_type(value)}",
                               json.dumps(rec, default=str)[:4096], tenant)
    occurred = rec.get("occurred_at")
    if occurred is not None and (isinstance(occurred, bool) or not isinstance(occurred, (str, int, float))):
        return EarlyReject(line, "occurred_at",
                           f"field 'occurred_at' must be an ISO-8601 string or epoch milliseconds, got {_json_type(occurred)}",
                           json.dumps(rec, default=str)[:4096], tenant)
    attrs = rec.get("attrs")
    if attrs is not None and not isinstance(attrs, dict):
        return EarlyReject(line, "attrs", f"field 'attrs' must be a JSON object, got {_json_type(attrs)}",
                           json.dumps(rec, default=str)[:4096], tenant)
    return None


def _append_record(cols: dict[str, list[Any]], line: int, rec: dict[str, Any], default_tenant: str | None) -> None:
    extra = {k: v for k, v in rec.items() if k not in RAW_FIELDS}
    attrs = rec.get("attrs")
    if extra:  # unknown top-level fields are kept, folded into attrs (attrs' own keys win)
        attrs = {**extra, **(attrs or {})}
    occurred = rec.get("occurred_at")
    if isinstance(occurred, (int, float)) and not isinstance(occurred, bool):
        occurred = str(int(occurred))
    cols["tenant"].append(rec.get("tenant") if rec.get("tenant") is not None else default_tenant)
    cols["occurred_at"].append(occurred)
    cols["attrs"].append(None if attrs is None else json.dumps(attrs, ensure_ascii=False, separators=(",", ":")))
    for name in ("text", "event_id", "stream", "actor", "kind"):
        cols[name].append(rec.get(name))
    cols["_line"].append(line)


def _json_type(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array",
            dict: "an object"}.get(type(value), type(value).__name__)


