"""The HTTP service: a FastAPI app in front of the ingest actors and the query layer (see docs/service.md).

Request path of an ingest (``POST /v1/events``, ``POST /v1/events:batch``), in the event loop unless noted:

1. authenticate the API key (401), check the content type (415), reserve a place (3.), read the body under its
   limit (413);
2. with an ``Idempotency-Key``: answer from the stored response if there is one (same request -> the same
   status and body; another request under the same key -> 422), or wait for the same key's request in flight;
3. take an ingest slot (``service_max_inflight`` running, ``service_max_queued`` waiting — reserved before
   the body is read; beyond that 503 with ``Retry-After``: nothing is buffered without bound);
4. in a worker thread: parse, check tenants (403), ``lake.ingest`` (returns only once every accepted event
   is committed), build the response, store it under the idempotency key — then answer.

A request whose client went away still completes steps 4 (the thread is not abandoned), so a retry finds
its stored response.

Also mounted on the app: the MCP server's streamable HTTP endpoint at ``/mcp/`` behind the same keys
(:mod:`.mcp_server`) and the timeline page's static files at ``/ui/`` (``service/ui/``). The OpenAPI document
is rewritten by :mod:`.openapi` (one error model; route pattern: ``responses=errors(...)``).
"""

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
from typing import Any, AsyncIterator, Callable, Literal

import anyio
from fastapi import Depends, FastAPI, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from tracelake.errors import AuthError, IngestError, LeaseHeldError, TracelakeError, ValidationError
from tracelake.settings import Settings

from .idempotency import IdempotencyStore, fingerprint
from .forget import FORGET_BODY, parse_forget, run_forget
from .ingest import JSON, NDJSON, ServiceError, batch_body, check_tenants, parse_batch, parse_one, run_ingest
from .keys import ApiKey, KeyStore
from .metrics import CONTENT_TYPE_LATEST, MetricsMiddleware, ServiceMetrics
from .models import BatchResult, Event, EventResult, KeyInfo
from .mcp_server import mount_http
from .openapi import errors, install, tenant_query, time_query
from .reads import entity_rows, rows

__all__ = ["create_app", "service_dir", "Service", "ServiceError", "UI_PATH", "UI_DIR"]

#: The timeline page (static files shipped in the package, no build step): ``/ui`` of the service.
UI_PATH = "/ui"
UI_DIR = Path(__file__).with_name("ui")

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
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


def _dumps(value: Any) -> bytes:
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
        if idem is not None and not _IDEMPOTENCY_KEY.match(idem):
            raise ServiceError(400, "invalid Idempotency-Key", "1 to 255 printable ASCII characters, no spaces")
        if self.admission is None:
            self.admission = Admission(s.service_max_inflight, s.service_max_queued, self.metrics)
        async with self.admission.reserve() as run:
            limit = s.service_max_body_bytes if batch else s.service_max_event_bytes
            body = await _read_body(request, limit, "request body" if batch else "event")
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
        payload = _dumps(out)
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
        return Response(_dumps(value), 200, media_type="application/json")


def _media_type(header: str | None) -> str:
    if not header:
        return ""
    media, _, params = header.partition(";")
    charset = re.search(r"charset\s*=\s*\"?([\w-]+)", params, re.IGNORECASE)
    if charset and charset.group(1).lower() not in {"utf-8", "utf8"}:
        return f"{media.strip().lower()}; charset={charset.group(1)}"  # not accepted: bodies are UTF-8
    return media.strip().lower()


async def _read_body(request: Request, limit: int, what: str) -> bytes:
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


def _error(status: int, error: str, detail: Any = None, headers: dict[str, str] | None = None,
           **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail, **extra}, status, headers=headers)


_READ_ERRORS = errors(401, 403, 422, 500)
_INGEST_ERRORS = errors(400, 401, 403, 409, 413, 415, 422, 500, 503,
                        s409="A request with the same Idempotency-Key is still in progress (retry later)",
                        s422="Wrong body shape, a rejected event, or an Idempotency-Key reused for a different "
                             "request")
_EVENT_SCHEMA = Event.model_json_schema()


def _batch_body(max_events: int) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "array", "maxItems": max_events, "items": {
            "anyOf": [_EVENT_SCHEMA, {}],
            "description": "An Event; an item that is not one is rejected on its own (in `rejected`, with its "
                           "field and reason) while the valid items are committed."}}},
        "application/x-ndjson": {"schema": {"type": "string", "description": "one JSON event per line"}},
    }}}


_ONE_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": _EVENT_SCHEMA}}}}
_IDEMPOTENCY_PARAM = {"name": "Idempotency-Key", "in": "header", "required": False,
                      "schema": {"type": "string", "pattern": _IDEMPOTENCY_KEY.pattern},
                      "description": "Makes a retried request a no-op that returns the first response."}


def create_app(lake: Any, settings: Settings | None = None, *, keys: KeyStore | None = None,
               idempotency: IdempotencyStore | None = None) -> FastAPI:
    """The ASGI app serving ``lake`` (a :class:`tracelake.api.Lake`).

    ``settings`` (default ``lake.settings``) supplies the ``service_*`` limits and the state directory;
    ``keys``/``idempotency`` default to the files in :func:`service_dir`.
    """
    settings = settings or lake.settings
    state = service_dir(settings, getattr(lake, "uri", None))
    svc = Service(lake, settings, keys or KeyStore(state / "keys.json"),
                  idempotency or IdempotencyStore(state / "idempotency.sqlite",
                                                  settings.service_idempotency_ttl_hours))

    mcp_lifespan: Callable[[], Any] | None = None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(svc.start)
        async with (mcp_lifespan() if mcp_lifespan else _nothing()):
            async with _purging(svc):
                yield

    app = FastAPI(title="tracelake", version=_version(), lifespan=lifespan,
                  description="Stream events into a tracelake lake and query it. See docs/service.md.")
    app.state.service = svc
    install(app)
    app.add_middleware(MetricsMiddleware, metrics=svc.metrics)

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse(exc.body(), exc.status, headers=exc.headers or None)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        names = {404: "not found", 405: "method not allowed"}
        return _error(exc.status_code, names.get(exc.status_code, "http error"), exc.detail,
                      headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())
        return _error(422, "invalid request", detail)

    @app.exception_handler(Exception)
    async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
        return _error(500, "internal error", f"{type(exc).__name__}: {exc}"[:500])

    bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <API key>`")
    api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="or `X-API-Key: <API key>`")

    async def require_key(creds: HTTPAuthorizationCredentials | None = Security(bearer),
                          header: str | None = Security(api_key_header)) -> ApiKey:
        return svc.authenticate(creds.credentials if creds is not None else header)

    async def require_admin(key: ApiKey = Depends(require_key)) -> ApiKey:
        if not key.admin:
            raise ServiceError(403, "forbidden", "this endpoint needs an admin key", key_id=key.key_id)
        return key

    # -- operations -------------------------------------------------------------------------------------
    @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="Readiness: Ray (ingest actors) and the lake are reachable",
             responses={503: {"description": "Not ready; `checks` says what failed"}})
    async def readyz() -> JSONResponse:
        ok, checks = await anyio.to_thread.run_sync(svc.readiness)
        return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks}, 200 if ok else 503)

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics (admin key unless public)",
             responses={200: {"content": {"text/plain": {}}}, **errors(401, 403)})
    async def metrics(request: Request) -> Response:
        if not settings.service_public_metrics:
            key = svc.authenticate(_secret_of(request))
            if not key.admin:
                raise ServiceError(403, "forbidden", "/metrics needs an admin key", key_id=key.key_id)
        return Response(svc.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/whoami", tags=["operations"], response_model=KeyInfo, responses=errors(401),
             summary="The calling key: id, tenants, admin")
    async def whoami(key: ApiKey = Depends(require_key)) -> dict[str, Any]:
        return {"key_id": key.key_id, "name": key.name, "tenants": list(key.tenants), "admin": key.admin}

    @app.post("/v1/admin/consolidate", tags=["operations"], responses=errors(401, 403, 409, 422, 500),
              summary="Run consolidation now (decompose, merge, decay, reindex); admin key")
    async def consolidate(tenant: str | None = tenant_query(), steps: str | None = Query(
            None, description="comma-separated subset of decompose,merge,decay,reindex"),
            key: ApiKey = Depends(require_admin)) -> Response:
        if tenant is not None:
            svc.tenant_for(key, tenant)

        def run() -> dict[str, Any]:
            if not svc.consolidating.acquire(blocking=False):
                raise ServiceError(409, "consolidation running", "another consolidation is in progress",
                                   headers={"Retry-After": "5"})
            try:
                kwargs: dict[str, Any] = {}
                if steps:
                    kwargs["steps"] = [p.strip() for p in steps.split(",") if p.strip()]
                return lake.consolidate(tenant, **kwargs).to_dict()
            except LeaseHeldError as exc:  # another process (CLI, scheduler, Ray job) consolidates or forgets
                raise ServiceError(409, "consolidation running", str(exc), headers={"Retry-After": "5"}) from None
            finally:
                svc.consolidating.release()

        return await svc.query(run, "consolidation")

    # -- ingest ----------------------------------------------------------------------------------------------
    @app.post("/v1/events", tags=["ingest"], openapi_extra={**_ONE_BODY, "parameters": [_IDEMPOTENCY_PARAM]},
              responses={200: {"model": EventResult, "description": "Durable (or already in the lake)"},
                         **_INGEST_ERRORS},
              summary="Ingest one event; answered once it is durable")
    async def ingest_one(request: Request, key: ApiKey = Depends(require_key)) -> Response:
        return await svc.ingest(request, key, batch=False)

    @app.post("/v1/events:batch", tags=["ingest"],
              openapi_extra={**_batch_body(settings.service_max_batch_events), "parameters": [_IDEMPOTENCY_PARAM]},
              responses={200: {"model": BatchResult, "description": "Per-item results; accepted items are durable"},
                         **_INGEST_ERRORS},
              summary=f"Ingest a batch (JSON array or NDJSON; at most {settings.service_max_batch_events} events)")
    async def ingest_batch(request: Request, key: ApiKey = Depends(require_key),
                           results: Literal["items", "columns"] = Query(
                               "items", description="per-item outcomes as a list of objects (`items`) or one "
                                                    "list per field (`acks`: cheaper for large batches)")) -> Response:
        return await svc.ingest(request, key, batch=True, columns=results == "columns")

    # -- query -----------------------------------------------------------------------------------------------
    tenant_q = tenant_query()
    as_of_q = time_query("ISO-8601 with offset or epoch ms: nothing after it is used")
    text_q = Query(..., pattern=r"\S", description="the question (not blank)")

    @app.get("/v1/search", tags=["query"], responses=_READ_ERRORS,
             summary="Ranked traces for a question: {\"hits\": [Hit, ...]}, best first")
    async def search(q: str = text_q, key: ApiKey = Depends(require_key), tenant: str | None = tenant_q,
                     as_of: str | None = as_of_q, k: int = Query(10, ge=1, le=1000),
                     include_archived: bool = False,
                     context: int = Query(0, ge=0, le=50, description="neighbouring events of the hit's stream "
                                                                      "returned on each side (`context_turns`)")
                     ) -> Response:
        t = svc.tenant_for(key, tenant)
        return await svc.query(lambda: {"hits": [h.to_dict() for h in lake.search(
            q, t, as_of, k, include_archived=include_archived, context_turns=context)]})

    @app.get("/v1/reconstruct", tags=["query"], responses=_READ_ERRORS,
             summary="A situation-level bundle: episodes, entities, facts with history, timeline")
    async def reconstruct(q: str = text_q, key: ApiKey = Depends(require_key), tenant: str | None = tenant_q,
                          as_of: str | None = as_of_q, k: int = Query(12, ge=1, le=1000),
                          known_at: str | None = time_query()) -> Response:
        t = svc.tenant_for(key, tenant)
        return await svc.query(lambda: lake.reconstruct(q, t, as_of, k=k, known_at=known_at).to_dict())

    @app.get("/v1/context", tags=["query"], responses=_READ_ERRORS,
             summary="The best context for a question within a word budget: Context (text, items)")
    async def context(q: str = text_q, key: ApiKey = Depends(require_key), tenant: str | None = tenant_q,
                      as_of: str | None = as_of_q, known_at: str | None = time_query(),
                      budget: int = Query(120, ge=1, le=5000, description="word budget of `text`")) -> Response:
        t = svc.tenant_for(key, tenant)
        return await svc.query(lambda: lake.context(q, t, as_of, known_at=known_at, budget_words=budget).to_dict())

    @app.get("/v1/timeline", tags=["query"], responses=_READ_ERRORS,
             summary="An entity's traces in time order: {\"rows\": [...]}")
    async def timeline(entity: str = Query(..., pattern=r"\S", description="entity name"),
                       key: ApiKey = Depends(require_key), tenant: str | None = tenant_q,
                       start: str | None = Query(None, alias="from", description="inclusive"),
                       end: str | None = Query(None, alias="to", description="exclusive"),
                       as_of: str | None = as_of_q, limit: int | None = Query(None, ge=1, le=100_000),
                       include_archived: bool = False) -> Response:
        t = svc.tenant_for(key, tenant)
        return await svc.query(lambda: {"rows": rows(lake.timeline(
            entity, t, start, end, as_of=as_of, limit=limit, include_archived=include_archived))})

    @app.get("/v1/facts", tags=["query"], responses=_READ_ERRORS,
             summary="Facts valid at as_of as known at known_at: {\"rows\": [...]}")
    async def facts(key: ApiKey = Depends(require_key), tenant: str | None = tenant_q,
                    subject: str | None = None, predicate: str | None = None, as_of: str | None = as_of_q,
                    known_at: str | None = time_query(), include_archived: bool = False,
                    history: bool = Query(False, description="every assertion (about `subject`) stated by `as_of`, "
                                                             "superseded ones too, each with `status`")) -> Response:
        t = svc.tenant_for(key, tenant)
        return await svc.query(lambda: {"rows": rows(lake.facts(
            t, subject, as_of, known_at, predicate=predicate, include_archived=include_archived, history=history))})

    @app.get("/v1/entities", tags=["query"], responses=_READ_ERRORS,
             summary="The tenant's entities, most mentioned first: {\"rows\": [...]}")
    async def entities(key: ApiKey = Depends(require_key), tenant: str | None = tenant_q) -> Response:
        t = svc.tenant_for(key, tenant)
        return await svc.query(lambda: {"rows": entity_rows(lake, t)})

    # -- erase -------------------------------------------------------------------------------------------
    @app.post("/v1/forget", tags=["forget"], openapi_extra=FORGET_BODY, responses=errors(400, 401, 403, 409, 413),
              summary="Erase events (by id, entity, time, or all of a tenant) and everything derived only from "
                      "them: a ForgetReceipt. Tenant keys: their own tenant only; admin keys: any")
    async def forget(request: Request, key: ApiKey = Depends(require_key)) -> Response:
        req = parse_forget(await _read_body(request, settings.service_max_body_bytes, "request body"))
        t = svc.tenant_for(key, req["tenant"])
        return await svc.query(lambda: run_forget(lake, t, req, key), "forget")

    mcp_lifespan = mount_http(app, lake, svc.keys, consolidating=svc.consolidating)
    app.mount(UI_PATH, StaticFiles(directory=UI_DIR, html=True), name="ui")
    return app


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield


@asynccontextmanager
async def _purging(svc: Service) -> AsyncIterator[None]:
    """Purge expired idempotency records every 10 minutes while the app runs."""
    async def purge() -> None:
        while True:
            await asyncio.sleep(600)
            await anyio.to_thread.run_sync(svc.idempotency.purge)

    task = asyncio.get_running_loop().create_task(purge())
    try:
        yield
    finally:
        task.cancel()


def _secret_of(request: Request) -> str | None:
    auth = request.headers.get("authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.headers.get("x-api-key")


def _version() -> str:
    import tracelake

    return tracelake.__version__
