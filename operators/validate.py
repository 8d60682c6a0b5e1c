"""validate: raw event records (Arrow) -> (events ready to commit, rejects). Pure and vectorised.

Input columns (any may be missing): ``tenant occurred_at text event_id stream actor kind attrs`` plus
``_line`` (the record's line number or row index, carried into rejects). ``occurred_at`` may be ISO-8601
strings with offset, epoch-millisecond integers/digit strings, or timestamps. ``attrs`` is JSON text.

Each rejected row gets the *first* failing check as its reason. Accepted rows get defaults filled
(``stream="default"``, ``kind="message"``) and an ``event_id`` derived from their content when absent,
so the same record always gets the same id (see :func:`derive_event_ids`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from tracelake import schemas
from tracelake.schemas import MAX_ID_CHARS, MAX_NAME_CHARS, TENANT_PATTERN
from tracelake.timeutil import TS, parse_time_array

__all__ = ["RAW_FIELDS", "validate_events", "derive_event_ids"]

RAW_FIELDS = ("tenant", "occurred_at", "text", "event_id", "stream", "actor", "kind", "attrs")


def _col(raw: pa.Table, name: str) -> pa.Array:
    if name not in raw.column_names:
        return pa.nulls(raw.num_rows, pa.string())
    chunked = raw.column(name)
    col = chunked.chunk(0) if chunked.num_chunks == 1 else chunked.combine_chunks()  # one chunk: no copy
    if name != "occurred_at" and not pa.types.is_string(col.type):
        if pa.types.is_large_string(col.type) or pa.types.is_null(col.type):
            col = col.cast(pa.string())
    return col


def derive_event_ids(tenant: pa.Array, stream: pa.Array, occurred_at: pa.Array, actor: pa.Array,
                     kind: pa.Array, text: pa.Array, attrs: pa.Array) -> pa.Array:
    """Deterministic ids: blake2b-128 of the canonical JSON of (tenant, stream, occurred_at µs, actor, kind,
    text, attrs). The same content always yields the same id, whatever input format it came in."""
    micros = pc.cast(occurred_at, pa.int64()).to_pylist()
    cols = [c.to_pylist() for c in (tenant, stream, actor, kind, text, attrs)]
    out = []
    for t, s, a, k, x, at, us in zip(*cols, micros):
        key = json.dumps([t, s, us, a, k, x, at], ensure_ascii=False, separators=(",", ":"))
        out.append("ev-" + hashlib.blake2b(key.encode(), digest_size=16).hexdigest())
    return pa.array(out, pa.string())


def validate_events(raw: pa.Table, *, source: str, batch_id: str, now: datetime,
                    max_text_bytes: int) -> tuple[pa.Table, pa.Table]:
    """Split ``raw`` into (valid rows in :data:`schemas.EVENTS` order, without recorded_at/batch_id
    filled, plus ``_line``) and rejects (:data:`schemas.REJECTS`)."""
    n = raw.num_rows
    lines = raw.column("_line").combine_chunks() if "_line" in raw.column_names else pa.array(range(n), pa.int64())
    tenant, text, event_id = _col(raw, "tenant"), _col(raw, "text"), _col(raw, "event_id")
    stream, actor, kind, attrs = _col(raw, "stream"), _col(raw, "actor"), _col(raw, "kind"), _col(raw, "attrs")
    occurred_raw = raw.column("occurred_at").combine_chunks() if "occurred_at" in raw.column_names else None
    if occurred_raw is not None:
        occurred, time_ok = parse_time_array(occurred_raw)
        time_ok = pc.fill_null(time_ok, False)
    else:
        occurred, time_ok = pa.nulls(n, TS), pa.array([False] * n)

    def too_long(col: pa.Array, limit: int) -> pa.Array:
        return pc.fill_null(pc.greater(pc.utf8_length(col), limit), False)

    # (bad mask, field, reason), in priority order: the first failing check names the problem.
    checks: list[tuple[pa.Array, str, str]] = [
        (pc.is_null(tenant), "tenant", "missing required field 'tenant'"),
        (pc.invert(pc.fill_null(pc.match_substring_regex(tenant, TENANT_PATTERN), True)), "tenant",
         "field 'tenant' must match [A-Za-z0-9._:-]{1,128}"),
        (pc.is_null(occurred_raw) if occurred_raw is not None else pa.array([True] * n), "occurred_at",
         "missing required field 'occurred_at'"),
        (pc.invert(time_ok), "occurred_at",
         "field 'occurred_at' is not an ISO-8601 time with offset (e.g. 2023-05-08T13:56:00Z) or epoch milliseconds"),
        (pc.and_(pc.is_null(text), pc.is_null(attrs)), "text", "missing field 'text' (required unless 'attrs' is given)"),
        (pc.fill_null(pc.greater(pc.binary_length(text), max_text_bytes), False), "text",
         f"field 'text' is over the {max_text_bytes}-byte limit"),
        (pc.fill_null(pc.equal(event_id, ""), False), "event_id", "field 'event_id' is empty"),
        (too_long(event_id, MAX_ID_CHARS), "event_id", f"field 'event_id' is longer than {MAX_ID_CHARS} characters"),
        (too_long(stream, MAX_NAME_CHARS), "stream", f"field 'stream' is longer than {MAX_NAME_CHARS} characters"),
        (too_long(actor, MAX_NAME_CHARS), "actor", f"field 'actor' is longer than {MAX_NAME_CHARS} characters"),
        (too_long(kind, MAX_NAME_CHARS), "kind", f"field 'kind' is longer than {MAX_NAME_CHARS} characters"),
    ]
    checks = [(pc.fill_null(bad, True) if bad.null_count else bad, fname, why) for bad, fname, why in checks]
    rejected = pc.fill_null(functools.reduce(pc.or_, (bad for bad, _, _ in checks)), True) if n else pa.array([], pa.bool_())
    # Reasons are worked out for the rejected rows only (the common chunk has none: no string copies).
    bad_rows = pc.indices_nonzero(rejected)
    k = len(bad_rows)
    reason, field = pa.nulls(k, pa.string()), pa.nulls(k, pa.string())
    for bad, fname, why in reversed(checks):
        if k:
            bad = pc.take(bad, bad_rows)
            reason = pc.if_else(bad, pa.scalar(why), reason)
            field = pc.if_else(bad, pa.scalar(fname), field)

    rejects = pa.table(
        {
            "tenant": pc.take(tenant, bad_rows),
            "source": pa.array([source] * k, pa.string()),
            "line": pc.take(lines, bad_rows),
            "field": field,
            "reason": reason,
            "raw": _raw_json(raw, rejected),
            "recorded_at": pa.array([now] * k, TS),
            "batch_id": pa.array([batch_id] * k, pa.string()),
        },
        schema=schemas.REJECTS,
    )

    if k:
        ok = pc.invert(rejected)
        tenant, stream, actor, kind, text, attrs, event_id, occurred, lines = (
            pc.filter(c, ok) for c in (tenant, stream, actor, kind, text, attrs, event_id, occurred, lines)
        )
    stream = pc.fill_null(stream, "default") if stream.null_count else stream
    kind = pc.fill_null(kind, "message") if kind.null_count else kind
    missing = pc.is_null(event_id)
    if pc.any(missing).as_py():
        idx = pc.indices_nonzero(missing)
        derived = derive_event_ids(*(pc.take(c, idx) for c in (tenant, stream, occurred, actor, kind, text, attrs)))
        event_id = pc.replace_with_mask(event_id, missing, derived)
    m = len(tenant)
    events = pa.table(
        {
            "tenant": tenant,
            "event_id": event_id,
            "stream": stream,
            "actor": actor,
            "kind": kind,
            "text": text,
            "attrs": attrs,
            "occurred_at": occurred,
            "recorded_at": pa.nulls(m, TS),
            "batch_id": pa.nulls(m, pa.string()),
            "_line": lines,
        }
    )
    return events, rejects


def _raw_json(raw: pa.Table, mask: pa.Array) -> pa.Array:
    """The rejected records as JSON text (≤ 4 KiB each), for the rejects table."""
    if not pc.any(mask).as_py():
        return pa.array([], pa.string())
    rows = raw.filter(mask).drop_columns([c for c in ("_line",) if c in raw.column_names]).to_pylist()
    return pa.array([json.dumps(r, default=str, ensure_ascii=False)[:4096] for r in rows], pa.string())
