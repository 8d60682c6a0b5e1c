"""Prometheus metrics of one service instance (a registry per app, so several apps can share a process).

Names (all prefixed ``tracelake_service_``):

- ``events_total{status}`` — events by outcome: ``accepted``, ``duplicate``, ``rejected`` (replayed
  idempotent responses are not counted again; see ``idempotent_replays_total``);
- ``requests_total{route,method,code}`` and ``request_duration_seconds{route,method}`` (a histogram);
  ``route`` is the route template (``/v1/events:batch``), ``unmatched`` for unknown paths;
- ``requests_in_flight`` — requests being handled; ``ingest_in_flight`` / ``ingest_queued`` — ingest calls
  running / waiting for a slot; ``saturated_total`` — requests refused with 503 because ingest was full;
- ``idempotent_replays_total`` — requests answered from a stored response.
"""

from __future__ import annotations

import time
from typing import Any, Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["ServiceMetrics", "MetricsMiddleware", "CONTENT_TYPE_LATEST"]

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ns = "tracelake_service"
        r = self.registry
        self.events = Counter("events", "Events by outcome", ["status"], namespace=ns, registry=r)
        for status in ("accepted", "duplicate", "rejected"):
            self.events.labels(status)
        self.requests = Counter("requests", "HTTP requests", ["route", "method", "code"], namespace=ns, registry=r)
        self.latency = Histogram("request_duration_seconds", "HTTP request latency", ["route", "method"],
                                 namespace=ns, registry=r, buckets=_BUCKETS)
        self.in_flight = Gauge("requests_in_flight", "HTTP requests being handled", namespace=ns, registry=r)
        self.ingest_in_flight = Gauge("ingest_in_flight", "Ingest calls running", namespace=ns, registry=r)
        self.ingest_queued = Gauge("ingest_queued", "Ingest calls waiting for a slot", namespace=ns, registry=r)
        self.saturated = Counter("saturated", "Requests refused because ingest was saturated", namespace=ns,
                                 registry=r)
        self.replays = Counter("idempotent_replays", "Requests answered from a stored response", namespace=ns,
                               registry=r)

    def count_events(self, accepted: int, duplicates: int, rejected: int) -> None:
        for status, n in (("accepted", accepted), ("duplicate", duplicates), ("rejected", rejected)):
            if n:
                self.events.labels(status).inc(n)

    def render(self) -> bytes:
        return generate_latest(self.registry)


Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class MetricsMiddleware:
    """Pure ASGI middleware: counts requests, observes latency, tracks in-flight requests."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        m = self.metrics
        code = 500
        start = time.perf_counter()

        async def send_wrapper(message: dict[str, Any]) -> None:
            nonlocal code
            if message["type"] == "http.response.start":
                code = message["status"]
            await send(message)

        m.in_flight.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            m.in_flight.dec()
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            m.requests.labels(template, method, str(code)).inc()
            m.latency.labels(template, method).observe(time.perf_counter() - start)
