"""A Python client for the tracelake HTTP service (``tracelake serve``; see docs/service.md).

:class:`Client` (sync) and :class:`AsyncClient` (asyncio) mirror the in-process :class:`tracelake.api.Lake` and
return the same types: :class:`~tracelake.pipelines.ingest.IngestResult` from ``ingest``,
:class:`~tracelake.query.results.Hit` from ``search``, :class:`~tracelake.query.results.Bundle` from
``reconstruct``, ``pyarrow.Table`` from ``timeline`` and ``facts``::

    from tracelake.client import Client

    with Client("http://127.0.0.1:8600", api_key="tlk_...") as client:
        res = client.ingest([{"occurred_at": "2023-05-08T13:56:00Z", "text": "hello"}])
        hits = client.search("hello", k=5)               # tenant: the key's, when it has exactly one
        with client.batcher(max_batch=1000) as b:       # background batching, bounded queue
            for event in stream:
                b.add(event)                             # blocks while the queue is full

Retries: connection errors, timeouts, 409 (same request in progress), 429, 502, 503 and 504 are retried with
exponential backoff and jitter (at least ``Retry-After``). Every ingest request carries an
``Idempotency-Key`` that its retries reuse, so a retry after a dropped connection is a no-op that returns
the first response. Errors are tracelake's own: :class:`~tracelake.errors.AuthError` (401/403),
:class:`~tracelake.errors.ValidationError` (400/404/405/413/415/422), :class:`~tracelake.errors.IngestError` or
:class:`~tracelake.errors.QueryError` (server or network failures after the retries), with ``status`` and
``error`` in their ``context`` and the server's ``detail`` as an attribute.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import queue
import random
import threading
import time
import uuid
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, Callable, Iterable, Iterator

import httpx
import pyarrow as pa

from tracelake.errors import AuthError, IngestError, QueryError, TracelakeError, ValidationError
from tracelake.pipelines.ingest import ACK_SCHEMA, IngestResult
from tracelake.timeutil import iso, parse_time

__all__ = ["Client", "AsyncClient", "Batcher", "AsyncBatcher", "IngestResult", "DEFAULT_MAX_BATCH"]

#: Events per request the clients send (the service accepts up to ``service_max_batch_events``).
DEFAULT_MAX_BATCH = 1000
_RETRY_STATUS = frozenset({408, 409, 429, 502, 503, 504})
_TIME_KEYS = frozenset({"occurred_at", "last_source_at", "valid_from", "valid_to", "time_start", "time_end",
                        "invalidated_at", "last_reinforced_at", "recorded_at", "retracted_at", "value_time",
                        "start", "end", "as_of", "known_at"})
_TIME_LIST_KEYS = frozenset({"source_times"})


# -- wire helpers (shared by the sync and async clients) -------------------------------------------------------
@dataclass(frozen=True)
class _Call:
    method: str
    path: str
    params: dict[str, Any] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    retry: bool = True  # safe to resend (reads, and ingests: they carry an Idempotency-Key)
    failure: type[TracelakeError] = QueryError  # raised for server/network failures


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value) if value.tzinfo is not None else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot send a {type(value).__name__} as JSON")


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_default).encode()


def _time_param(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return iso(parse_time(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value))
    return str(value)


def _params(**kwargs: Any) -> dict[str, Any]:
    out = {}
    for k, v in kwargs.items():
        if v is None:
            continue
        out[k] = "true" if v is True else "false" if v is False else v
    return out


def _with_tenant(events: Iterable[Any], tenant: str | None) -> Iterator[Any]:
    for e in events:
        yield {**e, "tenant": tenant} if tenant is not None and isinstance(e, dict) and e.get("tenant") is None else e


def _chunks(events: Any, size: int) -> Iterator[list[Any]]:
    """Lists of at most ``size`` events from dicts, a ``pyarrow.Table``/``RecordBatchReader`` or one dict."""
    if isinstance(events, dict):
        yield [events]
        return
    if isinstance(events, (pa.Table, pa.RecordBatchReader)):
        batches = events.to_batches(max_chunksize=size) if isinstance(events, pa.Table) else events
        for batch in batches:
            for start in range(0, batch.num_rows, size):
                yield batch.slice(start, size).to_pylist()
        return
    it = iter(events)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def _error_of(resp: httpx.Response, failure: type[TracelakeError]) -> TracelakeError:
    try:
        body = resp.json()
    except ValueError:
        body = {"error": resp.reason_phrase, "detail": resp.text[:500]}
    if not isinstance(body, dict):
        body = {"error": resp.reason_phrase, "detail": body}
    error, detail = body.get("error") or resp.reason_phrase, body.get("detail")
    cls: type[TracelakeError]
    if resp.status_code in (401, 403):
        cls = AuthError
    elif resp.status_code in (400, 404, 405, 413, 415, 422):
        cls = ValidationError
    else:
        cls = failure
    if not detail:
        message = str(error)
    elif isinstance(detail, str) and detail.startswith(str(error)):
        message = detail
    else:
        message = f"{error}: {detail}"
    exc = cls(message, status=resp.status_code, error=error)
    exc.detail = detail  # type: ignore[attr-defined]
    return exc


def _delay(attempt: int, resp: httpx.Response | None, backoff: float, max_backoff: float) -> float:
    delay = min(max_backoff, backoff * (2 ** attempt)) * (0.5 + random.random() / 2)
    if resp is not None:
        try:
            delay = max(delay, min(float(resp.headers.get("retry-after", "")), 60.0))
        except ValueError:
            pass
    return delay


def _ingest_call(events: list[Any], key: str) -> _Call:
    return _Call("POST", "/v1/events:batch", {"results": "columns"}, content=_dumps(events),
                 headers={"Content-Type": "application/json", "Idempotency-Key": key}, failure=IngestError)


def _batch_result(resp: httpx.Response, offset: int = 0) -> IngestResult:
    body = resp.json()
    cols = body.get("acks")
    if cols is None:  # the default, per-item shape
        items = body.get("items") or []
        cols = {n: [i.get(n) for i in items] for n in ACK_SCHEMA.names}
    lines = [line + offset for line in cols["line"]] if offset else cols["line"]
    acks = pa.table([pa.array(lines, pa.int64())] + [pa.array(cols[n], pa.string()) for n in ACK_SCHEMA.names[1:]],
                    schema=ACK_SCHEMA)
    rejected = [(line, reason) for line, status, reason in zip(lines, cols["status"], cols["reason"])
                if status == "rejected"]
    return IngestResult(accepted=body["accepted"], duplicates=body["duplicates"], rejected=rejected, acks=acks)


def _merge(results: list[IngestResult]) -> IngestResult:
    if len(results) == 1:
        return results[0]
    return IngestResult(accepted=sum(r.accepted for r in results), duplicates=sum(r.duplicates for r in results),
                        rejected=[x for r in results for x in r.rejected],
                        acks=pa.concat_tables([r.acks for r in results]) if results else ACK_SCHEMA.empty_table())


def _event_call(event: dict[str, Any], key: str) -> _Call:
    return _Call("POST", "/v1/events", content=_dumps(event),
                 headers={"Content-Type": "application/json", "Idempotency-Key": key}, failure=IngestError)


def _event_result(resp: httpx.Response) -> IngestResult:
    body = resp.json()
    status = body.get("status")
    row = {"line": 0, "event_id": body.get("event_id"), "status": status, "field": body.get("field"),
           "reason": body.get("detail") if status == "rejected" else None}
    return IngestResult(accepted=int(status == "accepted"), duplicates=int(status == "duplicate"),
                        rejected=[(0, row["reason"])] if status == "rejected" else [],
                        acks=pa.Table.from_pylist([row], schema=ACK_SCHEMA))


def _is_event_reject(resp: httpx.Response) -> bool:
    if resp.status_code != 422:
        return False
    try:
        return resp.json().get("status") == "rejected"
    except ValueError:
        return False


def _revive(value: Any) -> Any:
    """JSON rows back to Python values: ISO times under known time keys become aware datetimes."""
    if isinstance(value, list):
        return [_revive(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for k, v in value.items():
        if k in _TIME_KEYS and isinstance(v, str):
            out[k] = parse_time(v, name=k)
        elif k in _TIME_LIST_KEYS and isinstance(v, list):
            out[k] = [parse_time(x, name=k) if isinstance(x, str) else x for x in v]
        else:
            out[k] = _revive(v)
    return out


def _hit(d: dict[str, Any]) -> Any:
    from tracelake.query.results import Hit

    kwargs = {}
    for f in fields(Hit):
        if f.name not in d:
            continue
        v = d[f.name]
        kind = str(f.type)
        if "datetime" in kind and isinstance(v, str):
            v = parse_time(v, name=f.name)
        elif "tuple" in kind and isinstance(v, list):
            v = tuple(v)
        kwargs[f.name] = v
    return Hit(**kwargs)


def _hits(resp: httpx.Response) -> list[Any]:
    return [_hit(h) for h in resp.json()["hits"]]


def _bundle(resp: httpx.Response) -> Any:
    from tracelake.query.results import Bundle, Episode

    d = resp.json()
    episodes = tuple(
        Episode(stream=e.get("stream"), start=parse_time(e["start"]), end=parse_time(e["end"]), score=e["score"],
                hits=tuple(_hit(h) for h in e.get("hits", [])), context=tuple(_revive(e.get("context", []))))
        for e in d.get("episodes", []))
    return Bundle(question=d["question"], tenant=d["tenant"], as_of=parse_time(d.get("as_of")),
                  hits=tuple(_hit(h) for h in d.get("hits", [])), episodes=episodes,
                  entities=tuple(d.get("entities", [])), facts=tuple(_revive(d.get("facts", []))),
                  timeline=tuple(_revive(d.get("timeline", []))), time_spans=tuple(_revive(d.get("time_spans", []))))


def _table(resp: httpx.Response, schema: pa.Schema) -> pa.Table:
    rows = _revive(resp.json()["rows"])
    if not rows:
        return schema.empty_table()
    try:
        return pa.Table.from_pylist([{n: r.get(n) for n in schema.names} for r in rows], schema=schema) \
            if set(rows[0]) == set(schema.names) else pa.Table.from_pylist(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.Table.from_pylist(rows)


def _timeline_schema() -> pa.Schema:
    from tracelake.query.traces import TIMELINE_SCHEMA

    return TIMELINE_SCHEMA


def _facts_schema() -> pa.Schema:
    from tracelake import schemas

    return schemas.FACTS


class _Base:
    def __init__(self, base_url: str, api_key: str | None, *, timeout: float, retries: int, backoff: float,
                 max_backoff: float, max_batch: int) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries, self.backoff, self.max_backoff = retries, backoff, max_backoff
        self.max_batch = max_batch
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))

    def _retryable(self, call: _Call, attempt: int) -> bool:
        return call.retry and attempt < self.retries

    # request builders ---------------------------------------------------------------------------------------
    @staticmethod
    def _search(query: str, tenant: str | None, as_of: Any, k: int, include_archived: bool,
                context_turns: int) -> _Call:
        return _Call("GET", "/v1/search", _params(q=query, tenant=tenant, as_of=_time_param(as_of), k=k,
                                                 include_archived=include_archived or None,
                                                 context=context_turns or None))

    @staticmethod
    def _reconstruct(question: str, tenant: str | None, as_of: Any, k: int, known_at: Any) -> _Call:
        return _Call("GET", "/v1/reconstruct", _params(q=question, tenant=tenant, as_of=_time_param(as_of), k=k,
                                                      known_at=_time_param(known_at)))

    @staticmethod
    def _timeline(entity: str, tenant: str | None, start: Any, end: Any, as_of: Any, limit: int | None,
                  include_archived: bool) -> _Call:
        return _Call("GET", "/v1/timeline", {**_params(entity=entity, tenant=tenant, as_of=_time_param(as_of),
                                                       limit=limit, include_archived=include_archived or None),
                                             **_params(**{"from": _time_param(start), "to": _time_param(end)})})

    @staticmethod
    def _facts(tenant: str | None, subject: str | None, as_of: Any, known_at: Any, predicate: str | None,
               include_archived: bool) -> _Call:
        return _Call("GET", "/v1/facts", _params(tenant=tenant, subject=subject, as_of=_time_param(as_of),
                                                 known_at=_time_param(known_at), predicate=predicate,
                                                 include_archived=include_archived or None))

    @staticmethod
    def _consolidate(tenant: str | None, steps: Iterable[str] | None) -> _Call:
        return _Call("POST", "/v1/admin/consolidate",
                     _params(tenant=tenant, steps=",".join(steps) if steps is not None else None), retry=False)


class Client(_Base):
    """Synchronous client. Thread-safe (one connection pool); use as a context manager or call :meth:`close`.

    ``retries`` extra attempts per request, waiting ``backoff * 2**attempt`` seconds (jittered, capped at
    ``max_backoff``, at least the server's ``Retry-After``). ``max_batch``: events per ingest request.
    ``transport``: an ``httpx`` transport (tests).
    """

    def __init__(self, base_url: str, api_key: str | None = None, *, timeout: float = 60.0, retries: int = 5,
                 backoff: float = 0.25, max_backoff: float = 8.0, max_batch: int = DEFAULT_MAX_BATCH,
                 transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(base_url, api_key, timeout=timeout, retries=retries, backoff=backoff,
                         max_backoff=max_backoff, max_batch=max_batch)
        self._http = httpx.Client(base_url=self.base_url, headers=self._headers, timeout=self._timeout,
                                  transport=transport)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, call: _Call, ok: Callable[[httpx.Response], bool] | None = None) -> httpx.Response:
        attempt = 0
        while True:
            resp = None
            try:
                resp = self._http.request(call.method, call.path, params=call.params, content=call.content,
                                          headers=call.headers)
            except httpx.TransportError as exc:
                if not self._retryable(call, attempt):
                    raise call.failure(f"request failed: {type(exc).__name__}: {exc}", path=call.path,
                                       attempts=attempt + 1) from exc
            else:
                if resp.status_code < 400 or (ok is not None and ok(resp)):
                    return resp
                if resp.status_code not in _RETRY_STATUS or not self._retryable(call, attempt):
                    raise _error_of(resp, call.failure)
            time.sleep(_delay(attempt, resp, self.backoff, self.max_backoff))
            attempt += 1

    # -- ingest -----------------------------------------------------------------------------------------------
    def ingest(self, events: Any, *, tenant: str | None = None, idempotency_key: str | None = None) -> IngestResult:
        """Ingest events (dicts, a ``pyarrow.Table``/``RecordBatchReader``, or one dict) durably.

        Sent in requests of ``max_batch`` events, each with its own ``Idempotency-Key``
        (``f"{idempotency_key}:{n}"`` when one is given, so replaying the same call is a no-op with the same
        result). Lines in the result are 0-based indexes over all of ``events``. ``tenant`` fills events
        lacking one (the server also fills the key's tenant when it has exactly one).
        """
        results, offset = [], 0
        base = idempotency_key or uuid.uuid4().hex
        for n, chunk in enumerate(_chunks(events, self.max_batch)):
            chunk = list(_with_tenant(chunk, tenant))
            results.append(_batch_result(self._send(_ingest_call(chunk, f"{base}:{n}")), offset))
            offset += len(chunk)
        return _merge(results) if results else IngestResult()

    def ingest_event(self, event: dict[str, Any], *, idempotency_key: str | None = None) -> IngestResult:
        """Ingest one event through ``POST /v1/events``; a rejected event comes back in ``rejected``."""
        return _event_result(self._send(_event_call(event, idempotency_key or uuid.uuid4().hex),
                                        ok=_is_event_reject))

    def batcher(self, max_batch: int | None = None, max_queue: int = 10_000, flush_interval: float = 0.2, *,
                tenant: str | None = None, on_result: Callable[[IngestResult, list[Any]], None] | None = None,
                on_error: Callable[[Exception, list[Any]], None] | None = None) -> "Batcher":
        """A background :class:`Batcher` sending through this client (started; close it, or use ``with``)."""
        return Batcher(self, max_batch=max_batch or self.max_batch, max_queue=max_queue,
                       flush_interval=flush_interval, tenant=tenant, on_result=on_result, on_error=on_error)

    # -- query ------------------------------------------------------------------------------------------------
    def search(self, query: str, tenant: str | None = None, as_of: Any = None, k: int = 10, *,
               include_archived: bool = False, context_turns: int = 0) -> list[Any]:
        """Ranked :class:`~tracelake.query.results.Hit` objects, best first (as :meth:`Lake.search`)."""
        return _hits(self._send(self._search(query, tenant, as_of, k, include_archived, context_turns)))

    def reconstruct(self, question: str, tenant: str | None = None, as_of: Any = None, *, k: int = 12,
                    known_at: Any = None) -> Any:
        """A :class:`~tracelake.query.results.Bundle` (as :meth:`Lake.reconstruct`)."""
        return _bundle(self._send(self._reconstruct(question, tenant, as_of, k, known_at)))

    def timeline(self, entity: str, tenant: str | None = None, start: Any = None, end: Any = None, *,
                 as_of: Any = None, limit: int | None = None, include_archived: bool = False) -> pa.Table:
        return _table(self._send(self._timeline(entity, tenant, start, end, as_of, limit, include_archived)),
                      _timeline_schema())

    def facts(self, tenant: str | None = None, subject: str | None = None, as_of: Any = None,
              known_at: Any = None, *, predicate: str | None = None, include_archived: bool = False) -> pa.Table:
        return _table(self._send(self._facts(tenant, subject, as_of, known_at, predicate, include_archived)),
                      _facts_schema())

    # -- operations ---------------------------------------------------------------------------------------------
    def consolidate(self, tenant: str | None = None, steps: Iterable[str] | None = None) -> dict[str, Any]:
        """Run consolidation on the server now (admin key); returns the report as a dict."""
        return self._send(self._consolidate(tenant, steps)).json()

    def whoami(self) -> dict[str, Any]:
        return self._send(_Call("GET", "/v1/whoami")).json()

    def health(self) -> dict[str, Any]:
        return self._send(_Call("GET", "/healthz")).json()

    def ready(self) -> dict[str, Any]:
        """The readiness checks; raises :class:`QueryError` when the service is not ready."""
        return self._send(_Call("GET", "/readyz", retry=False)).json()

    def metrics(self) -> str:
        return self._send(_Call("GET", "/metrics")).text


class AsyncClient(_Base):
    """The asyncio twin of :class:`Client` (same arguments, ``await`` every call, ``async with``)."""

    def __init__(self, base_url: str, api_key: str | None = None, *, timeout: float = 60.0, retries: int = 5,
                 backoff: float = 0.25, max_backoff: float = 8.0, max_batch: int = DEFAULT_MAX_BATCH,
                 transport: httpx.AsyncBaseTransport | None = None, max_connections: int = 100) -> None:
        super().__init__(base_url, api_key, timeout=timeout, retries=retries, backoff=backoff,
                         max_backoff=max_backoff, max_batch=max_batch)
        self._http = httpx.AsyncClient(base_url=self.base_url, headers=self._headers, timeout=self._timeout,
                                       transport=transport,
                                       limits=httpx.Limits(max_connections=max_connections,
                                                           max_keepalive_connections=max_connections))

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def _send(self, call: _Call, ok: Callable[[httpx.Response], bool] | None = None) -> httpx.Response:
        attempt = 0
        while True:
            resp = None
            try:
                resp = await self._http.request(call.method, call.path, params=call.params, content=call.content,
                                                headers=call.headers)
            except httpx.TransportError as exc:
                if not self._retryable(call, attempt):
                    raise call.failure(f"request failed: {type(exc).__name__}: {exc}", path=call.path,
                                       attempts=attempt + 1) from exc
            else:
                if resp.status_code < 400 or (ok is not None and ok(resp)):
                    return resp
                if resp.status_code not in _RETRY_STATUS or not self._retryable(call, attempt):
                    raise _error_of(resp, call.failure)
            await asyncio.sleep(_delay(attempt, resp, self.backoff, self.max_backoff))
            attempt += 1

    async def ingest(self, events: Any, *, tenant: str | None = None,
                     idempotency_key: str | None = None) -> IngestResult:
        """See :meth:`Client.ingest` (requests are sent one after another)."""
        results, offset = [], 0
        base = idempotency_key or uuid.uuid4().hex
        for n, chunk in enumerate(_chunks(events, self.max_batch)):
            chunk = list(_with_tenant(chunk, tenant))
            results.append(_batch_result(await self._send(_ingest_call(chunk, f"{base}:{n}")), offset))
            offset += len(chunk)
        return _merge(results) if results else IngestResult()

    async def ingest_event(self, event: dict[str, Any], *, idempotency_key: str | None = None) -> IngestResult:
        return _event_result(await self._send(_event_call(event, idempotency_key or uuid.uuid4().hex),
                                              ok=_is_event_reject))

    def batcher(self, max_batch: int | None = None, max_queue: int = 10_000, flush_interval: float = 0.2, *,
                tenant: str | None = None, on_result: Callable[[IngestResult, list[Any]], None] | None = None,
                on_error: Callable[[Exception, list[Any]], None] | None = None) -> "AsyncBatcher":
        """An :class:`AsyncBatcher` (use ``async with``, or ``await b.start()`` ... ``await b.close()``)."""
        return AsyncBatcher(self, max_batch=max_batch or self.max_batch, max_queue=max_queue,
                            flush_interval=flush_interval, tenant=tenant, on_result=on_result, on_error=on_error)

    async def search(self, query: str, tenant: str | None = None, as_of: Any = None, k: int = 10, *,
                     include_archived: bool = False, context_turns: int = 0) -> list[Any]:
        return _hits(await self._send(self._search(query, tenant, as_of, k, include_archived, context_turns)))

    async def reconstruct(self, question: str, tenant: str | None = None, as_of: Any = None, *, k: int = 12,
                          known_at: Any = None) -> Any:
        return _bundle(await self._send(self._reconstruct(question, tenant, as_of, k, known_at)))

    async def timeline(self, entity: str, tenant: str | None = None, start: Any = None, end: Any = None, *,
                       as_of: Any = None, limit: int | None = None, include_archived: bool = False) -> pa.Table:
        return _table(await self._send(self._timeline(entity, tenant, start, end, as_of, limit, include_archived)),
                      _timeline_schema())

    async def facts(self, tenant: str | None = None, subject: str | None = None, as_of: Any = None,
                    known_at: Any = None, *, predicate: str | None = None,
                    include_archived: bool = False) -> pa.Table:
        return _table(await self._send(self._facts(tenant, subject, as_of, known_at, predicate, include_archived)),
                      _facts_schema())

    async def consolidate(self, tenant: str | None = None, steps: Iterable[str] | None = None) -> dict[str, Any]:
        return (await self._send(self._consolidate(tenant, steps))).json()

    async def whoami(self) -> dict[str, Any]:
        return (await self._send(_Call("GET", "/v1/whoami"))).json()

    async def health(self) -> dict[str, Any]:
        return (await self._send(_Call("GET", "/healthz"))).json()

    async def ready(self) -> dict[str, Any]:
        return (await self._send(_Call("GET", "/readyz", retry=False))).json()

    async def metrics(self) -> str:
        return (await self._send(_Call("GET", "/metrics"))).text


# -- background batching ---------------------------------------------------------------------------------------
class _Totals:
    """What a batcher has sent so far."""

    def __init__(self) -> None:
        self.accepted = 0
        self.duplicates = 0
        self.rejected: list[tuple[Any, str]] = []  # (event, reason)
        self.batches = 0
        self.errors: list[Exception] = []

    def add(self, result: IngestResult, events: list[Any]) -> None:
        self.batches += 1
        self.accepted += result.accepted
        self.duplicates += result.duplicates
        self.rejected.extend((events[line], reason) for line, reason in result.rejected)

    def failure(self) -> IngestError | None:
        if not self.errors:
            return None
        return IngestError(f"{len(self.errors)} batch(es) could not be sent: {self.errors[0]}",
                           failed_batches=len(self.errors))


class Batcher:
    """Sends events in the background, in batches of up to ``max_batch``, at least every ``flush_interval`` s.

    - :meth:`add` puts an event on a bounded queue (``max_queue``); it blocks while the queue is full
      (backpressure), or raises ``queue.Full`` after ``timeout``.
    - Each batch is one request with one ``Idempotency-Key``; the client's retries reuse it, so a batch lands
      exactly once however often it is resent.
    - :meth:`flush` returns when everything added before it is acknowledged (durable) or failed; it raises
      :class:`IngestError` if any batch failed after all retries. :meth:`close` (and leaving a ``with``
      block) flushes, then stops the thread.
    - ``on_result(result, events)`` is called (in the sender thread) after each batch; ``on_error(exc,
      events)`` with a batch that failed after all retries — the batcher does not keep failed events.

    ``totals`` has the running ``accepted``, ``duplicates``, ``rejected`` ((event, reason) pairs),
    ``batches`` and ``errors``.
    """

    def __init__(self, client: Client, *, max_batch: int = DEFAULT_MAX_BATCH, max_queue: int = 10_000,
                 flush_interval: float = 0.2, tenant: str | None = None,
                 on_result: Callable[[IngestResult, list[Any]], None] | None = None,
                 on_error: Callable[[Exception, list[Any]], None] | None = None) -> None:
        self.client = client
        self.max_batch, self.flush_interval, self.tenant = max_batch, flush_interval, tenant
        self.on_result, self.on_error = on_result, on_error
        self.totals = _Totals()
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._cond = threading.Condition()
        self._unfinished = 0
        self._flush_now = threading.Event()
        self._stop = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="tracelake-batcher", daemon=True)
        self._thread.start()

    def __enter__(self) -> "Batcher":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def add(self, event: dict[str, Any], timeout: float | None = None) -> None:
        """Queue one event (blocks while the queue is full; ``queue.Full`` after ``timeout``)."""
        if self._closed:
            raise IngestError("batcher is closed")
        with self._cond:
            self._unfinished += 1
        try:
            self._queue.put(event, timeout=timeout)
        except queue.Full:
            self._done(1)
            raise

    def extend(self, events: Iterable[dict[str, Any]]) -> None:
        for event in events:
            self.add(event)

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every event added so far is acknowledged (or failed); raise if any batch failed."""
        self._flush_now.set()
        with self._cond:
            if not self._cond.wait_for(lambda: self._unfinished == 0, timeout):
                raise IngestError("flush timed out", pending=self._unfinished)
        failure = self.totals.failure()
        if failure is not None:
            raise failure

    def close(self, timeout: float | None = None) -> None:
        """Flush, then stop the sender thread. Idempotent."""
        if self._closed:
            return
        try:
            self.flush(timeout)
        finally:
            self._closed = True
            self._stop.set()
            self._thread.join(timeout)

    def _done(self, n: int) -> None:
        with self._cond:
            self._unfinished -= n
            self._cond.notify_all()

    def _run(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            try:
                first = self._queue.get(timeout=0.05)
            except queue.Empty:
                continue
            batch = [first]
            deadline = time.monotonic() + self.flush_interval
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                    continue
                except queue.Empty:
                    pass
                if self._flush_now.is_set() or self._stop.is_set():
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    batch.append(self._queue.get(timeout=min(left, 0.05)))
                except queue.Empty:
                    pass
            if self._queue.empty():
                self._flush_now.clear()
            self._send(batch)

    def _send(self, batch: list[Any]) -> None:
        try:
            events = list(_with_tenant(batch, self.tenant))
            result = _batch_result(self.client._send(_ingest_call(events, uuid.uuid4().hex)))
            self.totals.add(result, events)
            if self.on_result is not None:
                self.on_result(result, events)
        except Exception as exc:  # noqa: BLE001 - recorded, raised by flush()/close()
            self.totals.errors.append(exc)
            if self.on_error is not None:
                self.on_error(exc, batch)
        finally:
            self._done(len(batch))


class AsyncBatcher:
    """The asyncio twin of :class:`Batcher`: ``await add(event)`` (waits while the queue is full),
    ``await flush()``, ``await close()``; ``async with client.batcher() as b`` starts and closes it."""

    def __init__(self, client: AsyncClient, *, max_batch: int = DEFAULT_MAX_BATCH, max_queue: int = 10_000,
                 flush_interval: float = 0.2, tenant: str | None = None,
                 on_result: Callable[[IngestResult, list[Any]], None] | None = None,
                 on_error: Callable[[Exception, list[Any]], None] | None = None) -> None:
        self.client = client
        self.max_batch, self.max_queue, self.flush_interval, self.tenant = max_batch, max_queue, flush_interval, tenant
        self.on_result, self.on_error = on_result, on_error
        self.totals = _Totals()
        self._queue: asyncio.Queue[Any] | None = None
        self._task: asyncio.Task[None] | None = None
        self._flush_now: asyncio.Event | None = None
        self._closed = False

    async def __aenter__(self) -> "AsyncBatcher":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def start(self) -> None:
        if self._task is None:
            self._queue = asyncio.Queue(maxsize=self.max_queue)
            self._flush_now = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def add(self, event: dict[str, Any]) -> None:
        if self._closed:
            raise IngestError("batcher is closed")
        await self.start()
        assert self._queue is not None
        await self._queue.put(event)

    async def flush(self) -> None:
        if self._queue is not None and self._flush_now is not None:
            self._flush_now.set()
            await self._queue.join()
        failure = self.totals.failure()
        if failure is not None:
            raise failure

    async def close(self) -> None:
        if self._closed:
            return
        try:
            await self.flush()
        finally:
            self._closed = True
            if self._task is not None:
                self._task.cancel()
                try:
                    await self._task
                except asyncio.CancelledError:
                    pass

    async def _run(self) -> None:
        assert self._queue is not None and self._flush_now is not None
        q, loop = self._queue, asyncio.get_running_loop()
        while True:
            batch = [await q.get()]
            deadline = loop.time() + self.flush_interval
            while len(batch) < self.max_batch:
                if not q.empty():
                    batch.append(q.get_nowait())
                    continue
                left = deadline - loop.time()
                if self._flush_now.is_set() or left <= 0:
                    break
                await asyncio.sleep(min(left, 0.005))  # poll: cancelling a pending q.get() can lose an item
            if q.empty():
                self._flush_now.clear()
            try:
                events = list(_with_tenant(batch, self.tenant))
                result = _batch_result(await self.client._send(_ingest_call(events, uuid.uuid4().hex)))
                self.totals.add(result, events)
                if self.on_result is not None:
                    self.on_result(result, events)
            except Exception as exc:  # noqa: BLE001 - recorded, raised by flush()/close()
                self.totals.errors.append(exc)
                if self.on_error is not None:
                    self.on_error(exc, batch)
            finally:
                for _ in batch:
                    q.task_done()
