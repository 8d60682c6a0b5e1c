"""The blocking half of an ingest request (runs in a worker thread): parse the body, check tenants, ingest.

Kept free of HTTP framework types. Raises :class:`ServiceError` for whole-request failures (bad JSON, wrong
shape, too many events, an event over the size limit, another tenant); everything else wrong with *one* item
becomes that item's ``rejected`` result (the ingest pipeline's own validation), kept in the lake's
``rejects`` table with the same line number the client sees.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

from tracelake.errors import TracelakeError
from tracelake.schemas import TENANT_PATTERN
from tracelake.results import IngestResult

from .keys import ApiKey

__all__ = ["ServiceError", "Parsed", "parse_batch", "parse_one", "check_tenants", "run_ingest", "batch_body",
           "JSON", "NDJSON"]

JSON = "application/json"
#: Media types accepted as newline-delimited JSON (one event per line).
NDJSON = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
                    "application/jsonlines", "application/json-lines"})
_TENANT = re.compile(TENANT_PATTERN)


class ServiceError(TracelakeError):
    """A whole request failed: rendered as ``{"error": ..., "detail": ...}`` with ``status``."""

    def __init__(self, status: int, error: str, detail: Any = None, *, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        self.status, self.error, self.detail = status, error, detail
        self.headers = headers or {}
        self.extra = extra
        super().__init__(f"{status} {error}: {detail}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_service_error, (self.status, self.error, self.detail, self.headers, self.extra))

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "detail": self.detail, **self.extra}


def _rebuild_service_error(status: int, error: str, detail: Any, headers: dict[str, str],
                           extra: dict[str, Any]) -> ServiceError:
    return ServiceError(status, error, detail, headers=headers, **extra)


@dataclass
class Parsed:
    """A request body ready to ingest: ``data`` goes to ``lake.ingest`` as is; ``records`` are the parsed
    objects (for the tenant check). JSON arrays are a list (items indexed from 0); NDJSON stays a byte
    stream, so the pipeline numbers its lines from 1 and rejects a broken line itself, as for a JSONL file."""

    data: Any
    records: list[Any] = field(default_factory=list)


def _loads(body: bytes) -> Any:
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise ServiceError(400, "invalid JSON", f"body is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ServiceError(400, "invalid JSON", f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None


def _size(record: Any) -> int:
    return len(json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str).encode())


def _too_large(where: str, size: int, limit: int) -> ServiceError:
    return ServiceError(413, "event too large", f"{where} is {size} bytes of JSON; the limit for one event is "
                        f"{limit} bytes", limit=limit)


def parse_one(body: bytes) -> Parsed:
    """``POST /v1/events``: exactly one JSON object (its size was checked as the body's)."""
    value = _loads(body)
    if not isinstance(value, dict):
        kind = "an array (send arrays to /v1/events:batch)" if isinstance(value, list) else type(value).__name__
        raise ServiceError(422, "invalid event", f"expected one JSON object, got {kind}")
    return Parsed([value], [value])


def parse_batch(body: bytes, media: str, *, max_events: int, max_event_bytes: int) -> Parsed:
    """``POST /v1/events:batch``: a JSON array or NDJSON. Too many events, or one over the event size limit,
    fail the whole request (413); everything else wrong with an item is that item's rejection."""
    if media == JSON:
        items = _loads(body)
        if not isinstance(items, list):
            raise ServiceError(422, "invalid batch",
                               f"expected a JSON array of events, got a JSON {type(items).__name__}")
        _check_count(len(items), max_events)
        if len(body) > max_event_bytes:  # otherwise no item can be over the limit
            for i, item in enumerate(items):
                if (size := _size(item)) > max_event_bytes:
                    raise _too_large(f"item {i}", size, max_event_bytes)
        return Parsed(items, items)
    records = []
    count = 0
    for lineno, raw in enumerate(body.split(b"\n"), start=1):
        if not raw.strip():
            continue
        count += 1
        if len(raw) > max_event_bytes:
            raise _too_large(f"line {lineno}", len(raw), max_event_bytes)
        try:
            records.append(json.loads(raw))
        except ValueError:  # the pipeline rejects this line with its reason
            pass
    _check_count(count, max_events)
    return Parsed(io.BytesIO(body), records)


def _check_count(n: int, limit: int) -> None:
    if n > limit:
        raise ServiceError(413, "too many events", f"{n} events in one batch; the limit is {limit}", limit=limit)


def check_tenants(records: list[Any], key: ApiKey) -> None:
    """403 if any record names a (well-formed) tenant the key may not write. Malformed names are left to
    per-item validation; records without a tenant take the key's default tenant (or are rejected)."""
    if key.all_tenants:
        return
    allowed = set(key.tenants)
    for record in records:
        tenant = record.get("tenant") if isinstance(record, dict) else None
        if isinstance(tenant, str) and tenant not in allowed and _TENANT.match(tenant):
            raise ServiceError(403, "forbidden", f"this API key may not write tenant {tenant!r}",
                               key_id=key.key_id)


def run_ingest(lake: Any, parsed: Parsed, key: ApiKey) -> IngestResult:
    """Ingest durably (returns once every accepted event is committed), as the key's source."""
    return lake.ingest(parsed.data, tenant=key.default_tenant, source=f"http:{key.key_id}")


def batch_body(result: IngestResult, *, columns: bool = False) -> dict[str, Any]:
    """The JSON body of a batch response (a superset of :meth:`IngestResult.to_dict`).

    Per-item outcomes are ``items`` (a list of objects), or with ``columns`` one list per field under ``acks``
    (``line``, ``event_id``, ``status``, ``field``, ``reason``): the same content, ~3x cheaper to encode and
    decode (what the Python client asks for).
    """
    acks = result.acks
    names = ("line", "event_id", "status", "field", "reason")
    cols = {n: acks.column(n).to_pylist() for n in names}
    rejected = [{"line": line, "field": f, "reason": r}
                for line, st, f, r in zip(cols["line"], cols["status"], cols["field"], cols["reason"])
                if st == "rejected"] if result.rejected else []
    out: dict[str, Any] = {"accepted": result.accepted, "duplicates": result.duplicates, "rejected": rejected}
    if columns:
        out["acks"] = cols
    else:
        out["items"] = [dict(zip(names, row)) for row in zip(*cols.values())]
    return out
