"""Every operation of the HTTP client, written once as a plan (see ``_wire``).

:class:`Operations` holds the configuration and one plan method per API operation. ``sync.Client`` and
``aio.AsyncClient`` turn each method named in :data:`OPERATIONS` into a real call with :func:`bind`, so both
clients offer the same methods, arguments and docstrings.
"""

from __future__ import annotations

import functools
import inspect
import uuid
from typing import Any, Callable, Iterable

import httpx
import pyarrow as pa

from tracelake import schemas
from tracelake.client import _wire as wire
from tracelake.client._wire import Call, Plan, RetryPolicy
from tracelake.results import Bundle, Context, Hit, IngestResult

#: Events per request the clients send (the service accepts up to ``service_max_batch_events``).
DEFAULT_MAX_BATCH = 1000

#: The plan methods of :class:`Operations` that the transports expose as public methods.
OPERATIONS = ("ingest", "ingest_event", "search", "context", "reconstruct", "timeline", "facts", "forget",
              "consolidate", "whoami", "health", "ready", "metrics")


class Operations:
    """Configuration and plans shared by :class:`~tracelake.client.Client` and
    :class:`~tracelake.client.AsyncClient`."""

    def __init__(self, base_url: str, api_key: str | None, *, timeout: float, retries: int, backoff: float,
                 max_backoff: float, max_batch: int) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = RetryPolicy(retries, backoff, max_backoff)
        self.max_batch = max_batch
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))

    def _call(self, call: Call, ok: Callable[[httpx.Response], bool] | None = None) -> Plan[httpx.Response]:
        return wire.exchange(call, self.policy, ok)

    def _batch(self, events: list[Any], key: str, offset: int = 0) -> Plan[IngestResult]:
        """One ``POST /v1/events:batch`` (what the batchers send)."""
        return wire.batch_result((yield from self._call(wire.batch_call(events, key))), offset)

    # -- ingest -----------------------------------------------------------------------------------------------
    def ingest(self, events: Any, *, tenant: str | None = None,
               idempotency_key: str | None = None) -> Plan[IngestResult]:
        """Ingest events (dicts, a ``pyarrow.Table``/``RecordBatchReader``, or one dict) durably.

        Sent in requests of ``max_batch`` events one after another, each with its own ``Idempotency-Key``
        (``f"{idempotency_key}:{n}"`` when one is given, so replaying the same call is a no-op with the same
        result). Lines in the result are 0-based indexes over all of ``events``. ``tenant`` fills events
        lacking one (the server also fills the key's tenant when it has exactly one).
        """
        results, offset = [], 0
        base = idempotency_key or uuid.uuid4().hex
        for n, chunk in enumerate(wire.chunks(events, self.max_batch)):
            chunk = list(wire.with_tenant(chunk, tenant))
            results.append((yield from self._batch(chunk, f"{base}:{n}", offset)))
            offset += len(chunk)
        return wire.merge_results(results)

    def ingest_event(self, event: dict[str, Any], *, idempotency_key: str | None = None) -> Plan[IngestResult]:
        """Ingest one event through ``POST /v1/events``; a rejected event comes back in ``rejected``."""
        call = wire.event_call(event, idempotency_key or uuid.uuid4().hex)
        return wire.event_result((yield from self._call(call, ok=wire.is_event_reject)))

    # -- query ------------------------------------------------------------------------------------------------
    def search(self, query: str, tenant: str | None = None, as_of: Any = None, k: int = 10, *,
               include_archived: bool = False, context_turns: int = 0) -> Plan[list[Hit]]:
        """Ranked :class:`~tracelake.results.Hit` objects, best first (as :meth:`tracelake.api.Lake.search`)."""
        call = Call("GET", "/v1/search", wire.params(q=query, tenant=tenant, as_of=wire.time_param(as_of), k=k,
                                                     include_archived=include_archived or None,
                                                     context=context_turns or None))
        return wire.hits((yield from self._call(call)))

    def context(self, question: str, tenant: str | None = None, as_of: Any = None, *, known_at: Any = None,
                budget_words: int = 120) -> Plan[Context]:
        """A :class:`~tracelake.results.Context`, never over ``budget_words`` words (as
        :meth:`tracelake.api.Lake.context`)."""
        call = Call("GET", "/v1/context", wire.params(q=question, tenant=tenant, as_of=wire.time_param(as_of),
                                                      known_at=wire.time_param(known_at), budget=budget_words))
        return wire.context((yield from self._call(call)))

    def reconstruct(self, question: str, tenant: str | None = None, as_of: Any = None, *, k: int = 12,
                    known_at: Any = None) -> Plan[Bundle]:
        """A :class:`~tracelake.results.Bundle` (as :meth:`tracelake.api.Lake.reconstruct`)."""
        call = Call("GET", "/v1/reconstruct", wire.params(q=question, tenant=tenant, as_of=wire.time_param(as_of),
                                                          k=k, known_at=wire.time_param(known_at)))
        return wire.bundle((yield from self._call(call)))

    def timeline(self, entity: str, tenant: str | None = None, start: Any = None, end: Any = None, *,
                 as_of: Any = None, limit: int | None = None, include_archived: bool = False) -> Plan[pa.Table]:
        """The entity's traces in time order (as :meth:`tracelake.api.Lake.timeline`)."""
        call = Call("GET", "/v1/timeline", {
            **wire.params(entity=entity, tenant=tenant, as_of=wire.time_param(as_of), limit=limit,
                          include_archived=include_archived or None),
            **wire.params(**{"from": wire.time_param(start), "to": wire.time_param(end)})})
        return wire.table((yield from self._call(call)), schemas.TIMELINE_SCHEMA)

    def facts(self, tenant: str | None = None, subject: str | None = None, as_of: Any = None,
              known_at: Any = None, *, predicate: str | None = None,
              include_archived: bool = False) -> Plan[pa.Table]:
        """Facts valid at ``as_of`` as known at ``known_at`` (as :meth:`tracelake.api.Lake.facts`)."""
        call = Call("GET", "/v1/facts", wire.params(tenant=tenant, subject=subject, as_of=wire.time_param(as_of),
                                                    known_at=wire.time_param(known_at), predicate=predicate,
                                                    include_archived=include_archived or None))
        return wire.table((yield from self._call(call)), schemas.FACTS)

    # -- erase ------------------------------------------------------------------------------------------------
    def forget(self, tenant: str | None = None, *, event_ids: Iterable[str] | None = None, entity: str | None = None,
               before: Any = None, all: bool = False) -> Plan[dict[str, Any]]:
        """Erase events on the server and everything derived only from them (as
        :meth:`tracelake.api.Lake.forget`, one of ``event_ids``/``entity``/``before``/``all``); returns the
        receipt as a dict. A tenant key may forget only its own tenant (``AuthError``). Resent while the lake
        is busy (409): re-running an erase is safe, it finishes what an interrupted one left."""
        body = {"tenant": tenant, "event_ids": list(event_ids) if event_ids is not None else None, "entity": entity,
                "before": wire.time_param(before), "all": all or None}
        call = Call("POST", "/v1/forget", content=wire.dumps({k: v for k, v in body.items() if v is not None}),
                    headers={"Content-Type": "application/json"})
        return (yield from self._call(call)).json()

    # -- operations -------------------------------------------------------------------------------------------
    def consolidate(self, tenant: str | None = None, steps: Iterable[str] | None = None) -> Plan[dict[str, Any]]:
        """Run consolidation on the server now (admin key); returns the report as a dict. Never retried."""
        call = Call("POST", "/v1/admin/consolidate",
                    wire.params(tenant=tenant, steps=",".join(steps) if steps is not None else None), retry=False)
        return (yield from self._call(call)).json()

    def whoami(self) -> Plan[dict[str, Any]]:
        """The calling key's id, tenants and admin flag."""
        return (yield from self._call(Call("GET", "/v1/whoami"))).json()

    def health(self) -> Plan[dict[str, Any]]:
        """Liveness (``/healthz``)."""
        return (yield from self._call(Call("GET", "/healthz"))).json()

    def ready(self) -> Plan[dict[str, Any]]:
        """The readiness checks; raises :class:`~tracelake.errors.QueryError` when the service is not ready."""
        return (yield from self._call(Call("GET", "/readyz", retry=False))).json()

    def metrics(self) -> Plan[str]:
        """The Prometheus metrics text (admin key)."""
        return (yield from self._call(Call("GET", "/metrics"))).text


def bind(cls: type, make: Callable[[Callable[..., Plan[Any]]], Callable[..., Any]]) -> type:
    """Give ``cls`` one public method per :data:`OPERATIONS` entry: ``make(plan_method)`` wraps the plan in the
    transport's driver; name, signature and docstring are the plan's."""
    for name in OPERATIONS:
        plan = getattr(Operations, name)
        method = functools.wraps(plan)(make(plan))
        signature = inspect.signature(plan)
        returns = signature.return_annotation
        if isinstance(returns, str) and returns.startswith("Plan[") and returns.endswith("]"):
            returns = returns[len("Plan["):-1]
        method.__signature__ = signature.replace(return_annotation=returns)  # type: ignore[attr-defined]
        setattr(cls, name, method)
    return cls
