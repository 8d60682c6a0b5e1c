"""The service's runtime: state directory, admission control, the per-app :class:`Service` (keys, idempotency,
ingest, reads in worker threads), strict JSON and body reading. Routes live in :mod:`.app`."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Callable

import anyio
from fastapi import Request
from fastapi.responses import Response

from tracelake.errors import AuthError, IngestError, TracelakeError, ValidationError
from tracelake.settings import Settings

from .idempotency import IdempotencyStore, fingerprint
from .ingest import JSON, NDJSON, ServiceError, batch_body, check_tenants, parse_batch, parse_one, run_ingest
from .keys import ApiKey, KeyStore
from .metrics import ServiceMetrics

__all__ = ["Service", "Admission", "service_dir", "dumps", "read_body", "IDEMPOTENCY_KEY"]

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
#: How long a request waits for another request with the same Idempotency-Key to finish before a 409.
_IDEMPOTENCY_WAIT_S = 60.0


def service_dir(settings: Settings, lake_uri: str | None = None) -> Path:
    """Where the service keeps its state (keys, idempotency records): always a local directory."""
    if settings.service_dir:
        return Path(settings.service_dir).expanduser()
    uri = str(lake_uri or settings.data)
    if "://" not in uri:
        return Path(uri).expanduser() / "_service"
    return Path.home() / ".tracelake" / "service" / hashlib.sha1(uri.encode()).hexdigest()[:12]


def dumps(value: Any) -> bytes:
    """Strict JSON: a non-finite float (a pinned fact's infinite stability, ...) becomes ``null``."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    except ValueError:
        return json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class Admission:
    """Bounded admission of ingest calls: ``max_inflight`` run, ``max_queued`` wait, the rest get a 503.

    A request reserves its place *before* its body is read (a refused request costs no body transfer and
    no memory); so at most ``(max_inflight + max_queued) * service_max_body_bytes`` of bodies are held.
    """

    def __init__(self, max_inflight: int, max_queued: int, metrics: ServiceMetrics) -> None:
        self.sem = asyncio.Semaphore(max(1, max_inflight))
        self.max_queued = max(0, max_queued)
        self.waiting = 0
        self.metrics = metrics

    @asynccontextmanager
    async def reserve(self) -> AsyncIterator[Callable[[], Any]]:
        """Reserve a place (503 when none is left); yields ``run()``: an async context that takes a slot."""
        if self.sem.locked() and self.waiting >= self.max_queued:
            self.metrics.saturated.inc()
            raise ServiceError(503, "ingest saturated",
                               "too many ingest requests in flight; retry after the Retry-After delay",
                               headers={"Retry-After": "1"})
        self.waiting += 1
        self.metrics.ingest_queued.inc()
        queued = True

        @asynccontextmanager
        async def run() -> AsyncIterator[None]:
            nonlocal queued
            await self.sem.acquire()
            queued = False
            self.waiting -= 1
            self.metrics.ingest_queued.dec()
            self.metrics.ingest_in_flight.inc()
            try:
                yield
            finally:
                self.metrics.ingest_in_flight.dec()
                self.sem.release()

        try:
            yield run
        finally:
            if queued:
                self.waiting -= 1
                self.metrics.ingest_queued.dec()


class Service:
    """State of one app: the lake, keys, idempotency records, metrics, admission."""

    def __init__(self, lake: Any, settings: Settings, keys: KeyStore, idempotency: IdempotencyStore) -> None:
        self.lake = lake
        self.settings = settings
        self.keys = keys
        self.idempotency = idempotency
        self.metrics = ServiceMetrics()
        self.admission: Admission | None = None
        self.pending: dict[tuple[str, str], asyncio.Event] = {}
        self.consolidating = threading.Lock()

    # -- lifecycle --------------------------------------------------------------------------------------
    def start(self) -> None:
        """Blocking start-up (a worker thread): Ray and the ingest actors up, expired records purged."""
        self.idempotency.purge()
        checks = self.lake.ready(timeout=60)
        if checks["ray"] != "ok":
            raise ServiceError(503, "ingest actors unavailable", checks["ray"])

    def readiness(self) -> tuple[bool, dict[str, str]]:
        checks = self.lake.ready(timeout=5)
        return all(v == "ok" for v in checks.values()), checks

    # -- auth -------------------------------------------------------------------------------------------
    def authenticate(self, secret: str | None) -> ApiKey:
        try:
            return self.keys.authenticate(secret)
        except AuthError as exc:
            missing = exc.context.get("reason") == "missing"
            raise ServiceError(401, "missing API key" if missing else "invalid API key",
                               "send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'" if missing else
                               "the API key is unknown or has been revoked",
                               headers={"WWW-Authenticate": "Bearer"}) from None

    @staticmethod
    def tenant_for(key: ApiKey, tenant: str | None) -> str:
        """The tenant a read is about: the one asked for (403 if not the key's) or the key's only tenant."""
        if tenant is None or tenant == "":
            if key.default_tenant is None:
                raise ServiceError(422, "tenant required",
                                   "this API key has several tenants: pass ?tenant=NAME")
            return key.default_tenant
        if not key.may_access(tenant):
            raise ServiceError(403, "forbidden", f"this API key may not read tenant {tenant!r}", key_id=key.key_id)
        return tenant

    # -- ingest ---------------------------------------------------------------------------------------------
    async def ingest(self, request: Request, key: ApiKey, *, batch: bool, columns: bool = False) -> Response:
        s = self.settings
        media = _media_type(request.headers.get("content-type"))
        allowed = (JSON, *sorted(NDJSON)) if batch else (JSON,)
        if media not in allowed:
            raise ServiceError(415, "unsupported content type",
                               f"got {media or 'no Content-Type'}; send {' or '.join(allowed[:2])}"
                               + ("" if batch else " (one event; arrays and NDJSON go to /v1/events:batch)"))
        idem = request.headers.get("idempotency-key")
        if idem is not None and not IDEMPOTENCY_KEY.match(idem):
            raise ServiceError(400, "invalid Idempotency-Key", "1 to 255 printable ASCII characters, no spaces")
        if self.admission is None:
            self.admission = Admission(s.service_max_inflight, s.service_max_queued, self.metrics)
        async with self.admission.reserve() as run:
            limit = s.service_max_body_bytes if batch else s.service_max_event_bytes
            body = await read_body(request, limit, "request body" if batch else "event")
            fp = fingerprint(f"{request.url.path}?{request.url.query}", media, body) if idem else ""
            if idem:
                replay = await self._claim(key.key_id, idem, fp)
                if replay is not None:
                    return replay
            try:
                async with run():
                    status, payload = await anyio.to_thread.run_sync(self._ingest_job, body, media, key, batch,
                                                                     idem, fp, columns)
            finally:
                if idem:
                    self.pending.pop((key.key_id, idem)).set()
        return Response(payload, status, media_type="application/json")

    async def _claim(self, key_id: str, idem: str, fp: str) -> Response | None:
        """A stored response to replay, or ``None`` once this request owns the key (it must release it)."""
        deadline = time.monotonic() + _IDEMPOTENCY_WAIT_S
        while True:
            stored = self.idempotency.get(key_id, idem)
            if stored is not None:
                if stored.fingerprint != fp:
                    raise ServiceError(422, "Idempotency-Key reused",
                                       "this Idempotency-Key was already used for a different request")
                self.metrics.replays.inc()
                return Response(stored.body, stored.status, media_type="application/json",
                                headers={"Idempotent-Replayed": "true"})
            running = self.pending.get((key_id, idem))
            if running is None:
                self.pending[(key_id, idem)] = asyncio.Event()
                return None
            try:
                await asyncio.wait_for(running.wait(), max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                raise ServiceError(409, "request in progress",
                                   "a request with this Idempotency-Key is still being processed",
                                   headers={"Retry-After": "1"}) from None

    def _ingest_job(self, body: bytes, media: str, key: ApiKey, batch: bool, idem: str | None,
                    fp: str, columns: bool = False) -> tuple[int, bytes]:
        s = self.settings
        parsed = parse_batch(body, media, max_events=s.service_max_batch_events,
                             max_event_bytes=s.service_max_event_bytes) if batch else parse_one(body)
        check_tenants(parsed.records, key)
        try:
            result = run_ingest(self.lake, parsed, key)
        except ServiceError:
            raise
        except IngestError as exc:
            raise ServiceError(503, "ingest unavailable", str(exc), headers={"Retry-After": "1"}) from None
        except TracelakeError as exc:
            raise ServiceError(500, "ingest failed", str(exc)) from None
        self.metrics.count_events(result.accepted, result.duplicates, len(result.rejected))
        if batch:
            status, out = 200, batch_body(result, columns=columns)
        else:
            row = result.acks.to_pylist()[0]
            if row["status"] == "rejected":
                status, out = 422, {"error": "invalid event", "detail": row["reason"], "field": row["field"],
                                    "status": "rejected"}
            else:
                status, out = 200, {"status": row["status"], "event_id": row["event_id"]}
        payload = dumps(out)
        if idem:
            self.idempotency.put(key.key_id, idem, fp, status, payload)
        return status, payload

    # -- reads -------------------------------------------------------------------------------------------------
    async def query(self, fn: Callable[[], Any], what: str = "query") -> Response:
        try:
            value = await anyio.to_thread.run_sync(fn)
        except ServiceError:
            raise
        except ValidationError as exc:
            raise ServiceError(422, f"invalid {what}", str(exc)) from None
        except TracelakeError as exc:
            raise ServiceError(500, f"{what} failed", str(exc)) from None
        return Response(dumps(value), 200, media_type="application/json")


def _media_type(header: str | None) -> str:
    if not header:
        return ""
    media, _, params = header.partition(";")
    charset = re.search(r"charset\s*=\s*\"?([\w-]+)", params, re.IGNORECASE)
    if charset and charset.group(1).lower() not in {"utf-8", "utf8"}:
        return f"{media.strip().lower()}; charset={charset.group(1)}"  # not accepted: bodies are UTF-8
    return media.strip().lower()


async def read_body(request: Request, limit: int, what: str) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise ServiceError(400, "invalid Content-Length", declared) from None
        if size > limit:
            raise ServiceError(413, f"{what} too large", f"{size} bytes; the limit is {limit} bytes", limit=limit)
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise ServiceError(413, f"{what} too large", f"over the limit of {limit} bytes", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)
