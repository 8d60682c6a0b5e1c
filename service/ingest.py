"""The blocking half of an ingest request (runs in a worker thread): parse the body, check tenants, ingest.

Kept free of HTTP framework types so it can be tested and reasoned about on its own. Raises
:class:`ServiceError` for whole-request failures (bad JSON, wrong shape, another tenant); everything that is
wrong with *one* item becomes that item's ``rejected`` result, and is kept in the lake's ``rejects`` table.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

from tracelake import schemas
from tracelake.operators.validate import TENANT_PATTERN
from tracelake.pipelines.ingest import ACK_SCHEMA, IngestResult
from tracelake.timeutil import TS

from .keys import ApiKey

__all__ = ["ServiceError", "Parsed", "parse_batch", "parse_one", "check_tenants", "run_ingest", "batch_body",
           "JSON", "NDJSON"]

JSON = "application/json"
#: Media types accepted as newline-delimited JSON (one event per line).
NDJSON = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
                    "application/jsonlines", "application/json-lines"})
_TENANT = re.compile(TENANT_PATTERN)


class ServiceError(Exception):
    """A whole request failed: rendered as ``{"error": ..., "detail": ...}`` with ``status``."""

    def __init__(self, status: int, error: str, detail: Any = None, *, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(f"{status} {error}: {detail}")
        self.status, self.error, self.detail = status, error, detail
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "detail": self.detail, **self.extra}


@dataclass
class Parsed:
    """Items of a request body: ``records`` (to ingest) with their ``lines``, plus items refused already."""

    records: list[Any] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    #: (line, field, reason, raw, tenant) of items that cannot even be ingested (bad JSON line, over-size).
    bad: list[tuple[int, str | None, str, str, str | None]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.records) + len(self.bad)


def _loads(body: bytes) -> Any:
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise ServiceError(400, "invalid JSON", f"body is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ServiceError(400, "invalid JSON", f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None


def _size(record: Any) -> int:
    return len(json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str).encode())


def _oversize_reason(size: int, limit: int) -> str:
    return f"event is {size} bytes of JSON, over the {limit}-byte limit"


def parse_one(body: bytes) -> dict[str, Any]:
    """``POST /v1/events``: exactly one JSON object."""
    value = _loads(body)
    if not isinstance(value, dict):
        kind = "an array (send arrays to /v1/events:batch)" if isinstance(value, list) else type(value).__name__
        raise ServiceError(422, "invalid event", f"expected one JSON object, got {kind}")
    return value


def parse_batch(body: bytes, media: str, *, max_events: int, max_event_bytes: int) -> Parsed:
    """``POST /v1/events:batch``: a JSON array (items indexed from 0) or NDJSON (lines numbered from 1)."""
    out = Parsed()
    if media == JSON:
        items = _loads(body)
        if not isinstance(items, list):
            raise ServiceError(422, "invalid batch",
                               f"expected a JSON array of events, got a JSON {type(items).__name__}")
        _check_count(len(items), max_events)
        check_sizes = len(body) > max_event_bytes  # no item can be larger than the whole body
        for i, item in enumerate(items):
            if check_sizes and (size := _size(item)) > max_event_bytes:
                out.bad.append((i, None, _oversize_reason(size, max_event_bytes), "", _tenant_of(item)))
                continue
            out.records.append(item)
            out.lines.append(i)
        return out
    lines = body.split(b"\n")
    _check_count(sum(1 for raw in lines if raw.strip()), max_events)
    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        if len(raw) > max_event_bytes:
            out.bad.append((lineno, None, _oversize_reason(len(raw), max_event_bytes), "", None))
            continue
        try:
            out.records.append(json.loads(raw))
        except UnicodeDecodeError as exc:
            out.bad.append((lineno, None, f"line is not valid UTF-8 ({exc.reason} at byte {exc.start})", "", None))
            continue
        except json.JSONDecodeError as exc:
            out.bad.append((lineno, None, f"invalid JSON: {exc.msg} at column {exc.colno}",
                            raw[:4096].decode("utf-8", "replace"), None))
            continue
        out.lines.append(lineno)
    return out


def _check_count(n: int, limit: int) -> None:
    if n > limit:
        raise ServiceError(413, "too many events", f"{n} events in one batch; the limit is {limit}", limit=limit)


def _tenant_of(record: Any) -> str | None:
    tenant = record.get("tenant") if isinstance(record, dict) else None
    return tenant if isinstance(tenant, str) else None


def check_tenants(records: list[Any], key: ApiKey) -> None:
    """403 if any record names a (well-formed) tenant the key may not write. Malformed names are left to
    per-item validation; records without a tenant take the key's default tenant (or are rejected)."""
    if key.all_tenants:
        return
    allowed = set(key.tenants)
    for record in records:
        tenant = _tenant_of(record)
        if tenant is not None and tenant not in allowed and _TENANT.match(tenant):
            raise ServiceError(403, "forbidden", f"this API key may not write tenant {tenant!r}",
                               key_id=key.key_id)


def run_ingest(lake: Any, parsed: Parsed, key: ApiKey) -> IngestResult:
    """Ingest ``parsed`` durably; returns the result with lines as the client numbered them."""
    source = f"http:{key.key_id}"
    default_tenant = key.default_tenant
    if parsed.bad:
        _keep_rejects(lake, parsed.bad, source, default_tenant)
    result = lake.ingest(parsed.records, tenant=default_tenant, source=source) if parsed.records else IngestResult()
    acks = result.acks
    identity = len(parsed.lines) == len(parsed.records) and (not parsed.lines or parsed.lines[-1] == len(parsed.lines) - 1)
    if parsed.records and not identity:  # positions in `records` -> the client's line numbers
        lines = pa.array(parsed.lines, pa.int64())
        acks = acks.set_column(0, "line", lines.take(acks["line"]))
    if parsed.bad:
        n = len(parsed.bad)
        extra = pa.table({
            "line": [b[0] for b in parsed.bad], "event_id": pa.nulls(n, pa.string()),
            "status": ["rejected"] * n, "field": pa.array([b[1] for b in parsed.bad], pa.string()),
            "reason": [b[2] for b in parsed.bad],
        }, schema=ACK_SCHEMA)
        acks = pa.concat_tables([acks, extra])
    acks = acks.sort_by([("line", "ascending")])
    rejected = [(r["line"], r["reason"]) for r in acks.to_pylist() if r["status"] == "rejected"]
    return IngestResult(accepted=result.accepted, duplicates=result.duplicates, rejected=rejected, acks=acks)


def _keep_rejects(lake: Any, bad: list[tuple[int, str | None, str, str, str | None]], source: str,
                  default_tenant: str | None) -> None:
    """Items refused before ingestion are still recorded in the ``rejects`` table (nothing is dropped silently)."""
    n = len(bad)
    now = datetime.now(timezone.utc)
    rows = pa.table({
        "tenant": pa.array([b[4] or default_tenant for b in bad], pa.string()),
        "source": pa.array([source] * n, pa.string()), "line": pa.array([b[0] for b in bad], pa.int64()),
        "field": pa.array([b[1] for b in bad], pa.string()), "reason": pa.array([b[2] for b in bad], pa.string()),
        "raw": pa.array([b[3] for b in bad], pa.string()), "recorded_at": pa.array([now] * n, TS),
        "batch_id": pa.array([uuid.uuid4().hex] * n, pa.string()),
    }, schema=schemas.REJECTS)
    lake.store.append("rejects", rows)


def batch_body(result: IngestResult) -> dict[str, Any]:
    """The JSON body of a batch response (a superset of :meth:`IngestResult.to_dict`)."""
    items = result.acks.to_pylist()
    return {
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "rejected": [{"line": r["line"], "field": r["field"], "reason": r["reason"]}
                     for r in items if r["status"] == "rejected"],
        "items": items,
    }
