"""The MCP server: agents reach the lake through the Model Context Protocol (official SDK, ``mcp`` 2.x).

:func:`build_mcp` makes an :class:`mcp.server.mcpserver.MCPServer` over a :class:`tracelake.api.Lake` with the
tools ``remember``, ``context``, ``search``, ``timeline``, ``facts``, ``forget`` and ``status``, and two
resources: a tenant's entity list and an entity's timeline. Two transports:

- **stdio** (``tracelake mcp``, :func:`run_stdio`): a local agent's subprocess; it may use every tenant, as
  the CLI may;
- **streamable HTTP** (``tracelake mcp --http``): :func:`mount_http` mounts the server at ``/mcp`` on the
  FastAPI app of ``tracelake serve``; every request carries an API key (``Authorization: Bearer`` or
  ``X-API-Key``; 401 otherwise) and a tenant key sees only its tenants.

Contract of every tool: arguments are checked against the published JSON schema; a bad argument or any
lake error comes back as an MCP tool error (``isError``) whose text names the argument and the reason —
the server never crashes on input. ``remember`` returns only once the events are durable *and* searchable:
it ingests them (acknowledged when committed) and then runs an incremental consolidation of that tenant,
one at a time per lake (``consolidating``), so a following ``search``/``context`` finds them.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Annotated, Any, AsyncIterator, Callable

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from tracelake.errors import AuthError, TracelakeError
from tracelake.schemas import MAX_ID_CHARS, MAX_NAME_CHARS, TENANT_PATTERN
from tracelake.timeutil import iso, now_utc, parse_time

from .keys import ApiKey, KeyStore
from .models import MAX_TEXT_CHARS
from .reads import entity_rows, rows, status_row

__all__ = ["build_mcp", "run_stdio", "mount_http", "MCP_PATH", "SCOPE_KEY"]

#: Where the streamable HTTP endpoint is mounted on the service app.
MCP_PATH = "/mcp"
#: The ASGI scope entry holding the authenticated :class:`ApiKey` of an HTTP request.
SCOPE_KEY = "tracelake.api_key"

Tenant = Annotated[str | None, Field(
    None, pattern=TENANT_PATTERN,
    description="Tenant (user/agent) whose memory to use; optional when the API key has exactly one tenant.")]
Time = Annotated[str | int | None, Field(
    None, description="ISO-8601 time with offset (2023-06-01T00:00:00Z) or epoch milliseconds.")]


class Memory(BaseModel):
    """One thing to remember (an event, INTERFACE.md §1)."""

    text: str = Field(..., min_length=1, max_length=MAX_TEXT_CHARS, description="What was said or observed.")
    occurred_at: str | int | None = Field(
        None, description="When it happened (ISO-8601 with offset or epoch ms); default: now.")
    actor: str | None = Field(None, max_length=MAX_NAME_CHARS, description="Who said or did it (a name).")
    stream: str | None = Field(None, max_length=MAX_NAME_CHARS, description="Conversation id; default 'default'.")
    kind: str | None = Field(None, max_length=MAX_NAME_CHARS, description="message (default), action, fact, ...")
    event_id: str | None = Field(None, min_length=1, max_length=MAX_ID_CHARS,
                                 description="Idempotency key: remembering the same id twice is a no-op.")
    attrs: dict[str, Any] | None = Field(None, description="Any extra JSON payload, kept verbatim.")


def _caller(ctx: Context) -> ApiKey | None:
    """The HTTP request's API key, or ``None`` for a stdio (local, all-tenant) caller."""
    request = ctx.request_context.request
    if request is None:
        return None
    key = request.scope.get(SCOPE_KEY)
    if key is None:  # mount_http authenticates every request before it gets here
        raise ToolError("unauthenticated request")
    return key


def _tenant(ctx: Context, tenant: str | None) -> str:
    key = _caller(ctx)
    if key is None:
        if not tenant:
            raise ToolError("tenant: required")
        return tenant
    if not tenant:
        if key.default_tenant is None:
            raise ToolError("tenant: required (this API key has several tenants)")
        return key.default_tenant
    if not key.may_access(tenant):
        raise ToolError(f"tenant: this API key may not access tenant {tenant!r}")
    return tenant


def _time(value: str | int | None, name: str) -> str | None:
    """Check a time argument up front so the error names it; returns its canonical ISO form."""
    try:
        return iso(parse_time(value, name=name))
    except TracelakeError as exc:
        raise ToolError(str(exc)) from None


async def _call(fn: Callable[[], Any]) -> Any:
    """Run a blocking lake call in a worker thread; tracelake errors become tool errors."""
    try:
        return await anyio.to_thread.run_sync(fn)
    except TracelakeError as exc:
        raise ToolError(str(exc)) from None


def build_mcp(lake: Any, *, consolidating: threading.Lock | None = None) -> MCPServer:
    """The MCP server over ``lake``. ``consolidating`` serialises the consolidations ``remember`` runs (share
    the service's lock when mounted on it)."""
    import tracelake

    lock = consolidating or threading.Lock()
    max_events = lake.settings.service_max_batch_events
    mcp = MCPServer("tracelake", version=tracelake.__version__, instructions=(
        "Long-term, time-aware memory. Call `remember` with what the user said, `context` (or `search`) before "
        "answering, `facts` for what is true now or at a past time, `timeline` for how something changed."))
    read_only = ToolAnnotations(readOnlyHint=True, openWorldHint=False)

    @mcp.tool(description="Store one or more events (what the user said or did) durably; returns once they are "
                          "searchable.", annotations=ToolAnnotations(idempotentHint=True, openWorldHint=False))
    async def remember(events: Annotated[list[Memory], Field(min_length=1)], ctx: Context,
                       tenant: Tenant = None) -> dict[str, Any]:
        if len(events) > max_events:
            raise ToolError(f"events: at most {max_events} per call (service_max_batch_events), got {len(events)}")
        t = _tenant(ctx, tenant)
        key = _caller(ctx)
        now = iso(now_utc())
        records = []
        for i, event in enumerate(events):
            record = event.model_dump(exclude_none=True)
            record["occurred_at"] = _time(event.occurred_at, f"events[{i}].occurred_at") or now
            records.append({**record, "tenant": t})
        source = f"mcp:{key.key_id}" if key else "mcp"
        result = await _call(lambda: lake.ingest(records, tenant=t, source=source))
        acks = result.acks.to_pylist()
        rejected = [f"events[{a['line']}].{a['field'] or 'event'}: {a['reason']}" for a in acks
                    if a["status"] == "rejected"]
        if rejected and not result.accepted and not result.duplicates:
            raise ToolError("nothing remembered: " + "; ".join(rejected))
        if result.accepted:
            def consolidate() -> None:
                with lock:
                    lake.consolidate(tenant=t)

            await _call(consolidate)
        return {"tenant": t, "accepted": result.accepted, "duplicates": result.duplicates, "rejected": rejected,
                "event_ids": [a["event_id"] for a in acks if a["status"] != "rejected"], "searchable": True}

    @mcp.tool(description="Best context for answering a question, within a word budget: current facts first, "
                          "then evidence turns, each citing source_event_ids.", annotations=read_only)
    async def context(question: Annotated[str, Field(min_length=1, description="The question to answer.")],
                      ctx: Context, tenant: Tenant = None, as_of: Time = None, known_at: Time = None,
                      budget_words: Annotated[int, Field(ge=10, le=5000)] = 120) -> dict[str, Any]:
        t, at, known = _tenant(ctx, tenant), _time(as_of, "as_of"), _time(known_at, "known_at")
        out = await _call(lambda: lake.context(question, t, at, known_at=known, budget_words=budget_words))
        return out.to_dict()

    @mcp.tool(description="Ranked memories (traces) for a query, best first, each with source_event_ids; "
                          "as_of hides everything after that time.", annotations=read_only)
    async def search(query: Annotated[str, Field(min_length=1, description="What to look for.")], ctx: Context,
                     tenant: Tenant = None, as_of: Time = None, k: Annotated[int, Field(ge=1, le=100)] = 10,
                     context_turns: Annotated[int, Field(ge=0, le=10, description=(
                         "Neighbouring turns of each hit's conversation to include on each side."))] = 0,
                     ) -> dict[str, Any]:
        t, at = _tenant(ctx, tenant), _time(as_of, "as_of")
        hits = await _call(lambda: lake.search(query, t, at, k, context_turns=context_turns))
        return {"hits": [h.to_dict() for h in hits]}

    @mcp.tool(description="An entity's (person, place, thing) memories in time order, optionally between two "
                          "times.", annotations=read_only)
    async def timeline(entity: Annotated[str, Field(min_length=1, description="Entity name, e.g. 'Alice'.")],
                       ctx: Context, tenant: Tenant = None, start: Time = None, end: Time = None,
                       as_of: Time = None, limit: Annotated[int, Field(ge=1, le=1000)] = 100) -> dict[str, Any]:
        t = _tenant(ctx, tenant)
        s, e, at = _time(start, "start"), _time(end, "end"), _time(as_of, "as_of")
        found = await _call(lambda: rows(lake.timeline(entity, t, s, e, as_of=at, limit=limit)))
        return {"entity": entity, "rows": found}

    @mcp.tool(description="Facts (subject, predicate, object) valid at as_of, as the memory knew them at "
                          "known_at (both default to now), with validity intervals and sources.",
              annotations=read_only)
    async def facts(ctx: Context, tenant: Tenant = None, subject: str | None = None, predicate: str | None = None,
                    as_of: Time = None, known_at: Time = None) -> dict[str, Any]:
        t, at, known = _tenant(ctx, tenant), _time(as_of, "as_of"), _time(known_at, "known_at")
        found = await _call(lambda: rows(lake.facts(t, subject, at, known, predicate=predicate)))
        return {"rows": found}

    @mcp.tool(description="Erase events for good (by id, by entity, before a time, or all of a tenant) and "
                          "everything derived only from them; returns a receipt.",
              annotations=ToolAnnotations(destructiveHint=True, openWorldHint=False))
    async def forget(ctx: Context, tenant: Tenant = None, event_ids: list[str] | None = None,
                     entity: str | None = None, before: Time = None,
                     all_events: Annotated[bool, Field(description="Erase the whole tenant.")] = False,
                     ) -> dict[str, Any]:
        t, b = _tenant(ctx, tenant), _time(before, "before")
        if sum(map(bool, (event_ids, entity, b, all_events))) != 1:
            raise ToolError("give exactly one of event_ids, entity, before, all_events")
        key = _caller(ctx)
        receipt = await _call(lambda: lake.forget(t, event_ids=event_ids, entity=entity, before=b, all=all_events,
                                                  requested_by=f"mcp:{key.key_id}" if key else "mcp"))
        return receipt.to_dict()

    @mcp.tool(description="How much the memory holds for a tenant: events, events not yet consolidated, traces, "
                          "entities, facts, last consolidation.", annotations=read_only)
    async def status(ctx: Context, tenant: Tenant = None) -> dict[str, Any]:
        t = _tenant(ctx, tenant)
        return await _call(lambda: status_row(lake, t))

    @mcp.resource("tracelake://{tenant}/entities", mime_type="application/json",
                  description="The tenant's entities (people, places, things) with mention counts.")
    async def entities(tenant: str, ctx: Context) -> list[dict[str, Any]]:
        t = _resource_tenant(ctx, tenant)
        return await _read(lambda: entity_rows(lake, t))

    @mcp.resource("tracelake://{tenant}/entities/{entity}/timeline", mime_type="application/json",
                  description="An entity's memories in time order.")
    async def entity_timeline(tenant: str, entity: str, ctx: Context) -> list[dict[str, Any]]:
        t = _resource_tenant(ctx, tenant)
        return await _read(lambda: rows(lake.timeline(entity, t, limit=1000)))

    return mcp


def _resource_tenant(ctx: Context, tenant: str) -> str:
    try:
        return _tenant(ctx, tenant)
    except ToolError as exc:
        raise ResourceError(str(exc)) from None


async def _read(fn: Callable[[], Any]) -> Any:
    try:
        return await anyio.to_thread.run_sync(fn)
    except TracelakeError as exc:
        raise ResourceError(str(exc)) from None


def run_stdio(lake: Any) -> None:
    """Serve MCP over stdin/stdout until the client closes the pipe (``tracelake mcp``)."""
    build_mcp(lake).run("stdio")


class _KeyGate:
    """ASGI wrapper: authenticate the API key of every request (401 with the service's error body), put the
    :class:`ApiKey` into the scope under :data:`SCOPE_KEY`, then hand over to the MCP app."""

    def __init__(self, app: Any, keys: KeyStore) -> None:
        self.app, self.keys = app, keys

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        auth = headers.get("authorization", "")
        secret = auth[7:].strip() if auth[:7].lower() == "bearer " else headers.get("x-api-key")
        try:
            key = self.keys.authenticate(secret)
        except AuthError as exc:
            from starlette.responses import JSONResponse

            missing = exc.context.get("reason") == "missing"
            body = {"error": "missing API key" if missing else "invalid API key",
                    "detail": "send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'" if missing else
                    "the API key is unknown or has been revoked"}
            return await JSONResponse(body, 401, headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
        await self.app({**scope, SCOPE_KEY: key}, receive, send)


def mount_http(app: Any, lake: Any, keys: KeyStore, *, consolidating: threading.Lock | None = None,
               ) -> Callable[[], contextlib.AbstractAsyncContextManager[None]]:
    """Mount the streamable HTTP MCP endpoint at :data:`MCP_PATH` on the FastAPI ``app``, behind the API keys.

    Returns the session manager's lifespan (an async context manager factory) for the app's lifespan to enter:
    the MCP sessions run in its task group."""
    server = build_mcp(lake, consolidating=consolidating)
    # stateless: each POST is self-contained (no session affinity), JSON answers; the service listens on
    # whatever host it was given, so the SDK's localhost-only Host check is left to the deployment.
    from mcp.server.transport_security import TransportSecuritySettings

    inner = server.streamable_http_app(streamable_http_path="/", stateless_http=True, json_response=True,
                                       transport_security=TransportSecuritySettings(
                                           enable_dns_rebinding_protection=False))
    app.mount(MCP_PATH, _KeyGate(inner, keys))

    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        async with server.session_manager.run():
            yield

    return lifespan
