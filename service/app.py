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

from tracelake.errors import LeaseHeldError
from tracelake.settings import Settings

from .forget import FORGET_BODY, parse_forget, run_forget
from .idempotency import IdempotencyStore
from .ingest import ServiceError
from .keys import ApiKey, KeyStore
from .mcp_server import mount_http
from .metrics import CONTENT_TYPE_LATEST, MetricsMiddleware
from .models import BatchResult, Event, EventResult, KeyInfo
from .openapi import errors, install, tenant_query, time_query
from .reads import entity_rows, rows
from .runtime import IDEMPOTENCY_KEY, Service, read_body, service_dir

__all__ = ["create_app", "service_dir", "Service", "ServiceError", "UI_PATH", "UI_DIR"]

#: The timeline page (static files shipped in the package, no build step): ``/ui`` of the service.
UI_PATH = "/ui"
UI_DIR = Path(__file__).with_name("ui")

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
                      "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY.pattern},
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
        req = parse_forget(await read_body(request, settings.service_max_body_bytes, "request body"))
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
