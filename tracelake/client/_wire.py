"""The wire format of the HTTP API, free of any I/O: requests as :class:`Call` values, responses decoded into
the lake's own result types, errors mapped onto tracelake's exceptions, and the retry policy as a *plan*.

A plan is a generator that yields :class:`Call` (send this request; the transport sends back the
``httpx.Response`` or the ``httpx.TransportError`` it raised) and :class:`Sleep` (wait this long; the transport
sends back ``None``), and returns the operation's result. The sync and async transports (``sync.py``,
``aio.py``) only drive plans, so every request, retry and decoding rule is written once, here and in
``_operations.py``.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, Callable, Generator, Iterable, Iterator, TypeVar, Union

import httpx
import pyarrow as pa

from tracelake.errors import AuthError, IngestError, QueryError, TracelakeError, ValidationError
from tracelake.results import ACK_SCHEMA, Bundle, Context, ContextItem, Episode, Hit, IngestResult
from tracelake.timeutil import iso, parse_time

T = TypeVar("T")

#: Status codes worth resending (with backoff, at least ``Retry-After``).
RETRY_STATUS = frozenset({408, 409, 429, 502, 503, 504})
_TIME_KEYS = frozenset({"occurred_at", "last_source_at", "valid_from", "valid_to", "time_start", "time_end",
                        "invalidated_at", "last_reinforced_at", "recorded_at", "retracted_at", "value_time",
                        "start", "end", "as_of", "known_at"})
_TIME_LIST_KEYS = frozenset({"source_times"})


@dataclass(frozen=True)
class Call:
    """One HTTP request of the API."""

    method: str
    path: str
    params: dict[str, Any] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    retry: bool = True  # safe to resend (reads, and ingests: they carry an Idempotency-Key)
    failure: type[TracelakeError] = QueryError  # raised for server/network failures


@dataclass(frozen=True)
class Sleep:
    """Wait ``seconds`` before the next step of a plan."""

    seconds: float


@dataclass(frozen=True)
class Done:
    """A plan's result."""

    value: Any


Reply = Union[httpx.Response, httpx.TransportError, None]
Plan = Generator[Union[Call, Sleep], Reply, T]


def advance(plan: Plan[Any], reply: Reply) -> Call | Sleep | Done:
    """The plan's next step after ``reply`` (``None`` to start it), or :class:`Done` with its result."""
    try:
        return plan.send(reply)
    except StopIteration as stop:
        return Done(stop.value)


@dataclass(frozen=True)
class RetryPolicy:
    """``retries`` extra attempts per request, waiting ``backoff * 2**attempt`` s (jittered to 50–100 %,
    capped at ``max_backoff``, at least the server's ``Retry-After`` up to 60 s)."""

    retries: int = 5
    backoff: float = 0.25
    max_backoff: float = 8.0

    def delay(self, attempt: int, resp: httpx.Response | None) -> float:
        delay = min(self.max_backoff, self.backoff * (2 ** attempt)) * (0.5 + random.random() / 2)
        if resp is not None:
            try:
                delay = max(delay, min(float(resp.headers.get("retry-after", "")), 60.0))
            except ValueError:
                pass
        return delay


def exchange(call: Call, policy: RetryPolicy,
             ok: Callable[[httpx.Response], bool] | None = None) -> Plan[httpx.Response]:
    """Send ``call`` until it succeeds (a status < 400, or one ``ok`` accepts), retrying network errors and
    :data:`RETRY_STATUS` while ``call.retry`` and attempts are left; then raise the mapped error."""
    attempt = 0
    while True:
        reply = yield call
        resp = None
        if isinstance(reply, httpx.TransportError):
            if not (call.retry and attempt < policy.retries):
                raise call.failure(f"request failed: {type(reply).__name__}: {reply}", path=call.path,
                                   attempts=attempt + 1) from reply
        else:
            assert isinstance(reply, httpx.Response)
            resp = reply
            if resp.status_code < 400 or (ok is not None and ok(resp)):
                return resp
            if resp.status_code not in RETRY_STATUS or not (call.retry and attempt < policy.retries):
                raise error_of(resp, call.failure)
        yield Sleep(policy.delay(attempt, resp))
        attempt += 1


def error_of(resp: httpx.Response, failure: type[TracelakeError]) -> TracelakeError:
    """The service's ``{"error", "detail"}`` body as a tracelake error: 401/403 → ``AuthError``, other client
    errors → ``ValidationError``, the rest → ``failure``; ``status`` and ``error`` in its context."""
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


# -- encoding ------------------------------------------------------------------------------------------------
def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value) if value.tzinfo is not None else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot send a {type(value).__name__} as JSON")


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_default).encode()


def time_param(value: Any) -> str | None:
    """A time argument as a query parameter (aware datetimes as ISO ``Z``, epoch ms as digits)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return iso(parse_time(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value))
    return str(value)


def params(**kwargs: Any) -> dict[str, Any]:
    """Query parameters without the ``None`` ones; booleans as ``true``/``false``."""
    out = {}
    for k, v in kwargs.items():
        if v is None:
            continue
        out[k] = "true" if v is True else "false" if v is False else v
    return out


def with_tenant(events: Iterable[Any], tenant: str | None) -> Iterator[Any]:
    """``events`` with ``tenant`` filled into the dicts that lack one."""
    for e in events:
        yield {**e, "tenant": tenant} if tenant is not None and isinstance(e, dict) and e.get("tenant") is None else e


def chunks(events: Any, size: int) -> Iterator[list[Any]]:
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


def batch_call(events: list[Any], key: str) -> Call:
    return Call("POST", "/v1/events:batch", {"results": "columns"}, content=dumps(events),
                headers={"Content-Type": "application/json", "Idempotency-Key": key}, failure=IngestError)


def event_call(event: dict[str, Any], key: str) -> Call:
    return Call("POST", "/v1/events", content=dumps(event),
                headers={"Content-Type": "application/json", "Idempotency-Key": key}, failure=IngestError)


# -- decoding ------------------------------------------------------------------------------------------------
def batch_result(resp: httpx.Response, offset: int = 0) -> IngestResult:
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


def merge_results(results: list[IngestResult]) -> IngestResult:
    if not results:
        return IngestResult()
    if len(results) == 1:
        return results[0]
    return IngestResult(accepted=sum(r.accepted for r in results), duplicates=sum(r.duplicates for r in results),
                        rejected=[x for r in results for x in r.rejected],
                        acks=pa.concat_tables([r.acks for r in results]))


def event_result(resp: httpx.Response) -> IngestResult:
    body = resp.json()
    status = body.get("status")
    row = {"line": 0, "event_id": body.get("event_id"), "status": status, "field": body.get("field"),
           "reason": body.get("detail") if status == "rejected" else None}
    return IngestResult(accepted=int(status == "accepted"), duplicates=int(status == "duplicate"),
                        rejected=[(0, row["reason"])] if status == "rejected" else [],
                        acks=pa.Table.from_pylist([row], schema=ACK_SCHEMA))


def is_event_reject(resp: httpx.Response) -> bool:
    """A 422 of ``POST /v1/events`` that is a per-event rejection (an answer, not an error)."""
    if resp.status_code != 422:
        return False
    try:
        return resp.json().get("status") == "rejected"
    except ValueError:
        return False


def revive(value: Any) -> Any:
    """JSON rows back to Python values: ISO times under known time keys become aware datetimes."""
    if isinstance(value, list):
        return [revive(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for k, v in value.items():
        if k in _TIME_KEYS and isinstance(v, str):
            out[k] = parse_time(v, name=k)
        elif k in _TIME_LIST_KEYS and isinstance(v, list):
            out[k] = [parse_time(x, name=k) if isinstance(x, str) else x for x in v]
        else:
            out[k] = revive(v)
    return out


def _from_json(cls: type, d: dict[str, Any]) -> Any:
    """A result dataclass from its ``to_dict()`` form: ISO times back to datetimes, lists to tuples."""
    kwargs = {}
    for f in fields(cls):
        if f.name not in d:
            continue
        v = d[f.name]
        kind = str(f.type)
        if "datetime" in kind and isinstance(v, str):
            v = parse_time(v, name=f.name)
        elif "tuple" in kind and isinstance(v, list):
            v = tuple(v)
        kwargs[f.name] = v
    return cls(**kwargs)


def hit(d: dict[str, Any]) -> Hit:
    return _from_json(Hit, d)


def context(resp: httpx.Response) -> Context:
    d = resp.json()
    return Context(question=d["question"], tenant=d["tenant"], as_of=parse_time(d.get("as_of")),
                   known_at=parse_time(d.get("known_at")), budget_words=d["budget_words"], mode=d["mode"],
                   items=tuple(_from_json(ContextItem, i) for i in d.get("items", [])))


def hits(resp: httpx.Response) -> list[Hit]:
    return [hit(h) for h in resp.json()["hits"]]


def bundle(resp: httpx.Response) -> Bundle:
    d = resp.json()
    episodes = tuple(
        Episode(stream=e.get("stream"), start=parse_time(e["start"]), end=parse_time(e["end"]), score=e["score"],
                hits=tuple(hit(h) for h in e.get("hits", [])), context=tuple(revive(e.get("context", []))))
        for e in d.get("episodes", []))
    return Bundle(question=d["question"], tenant=d["tenant"], as_of=parse_time(d.get("as_of")),
                  hits=tuple(hit(h) for h in d.get("hits", [])), episodes=episodes,
                  entities=tuple(d.get("entities", [])), facts=tuple(revive(d.get("facts", []))),
                  timeline=tuple(revive(d.get("timeline", []))), time_spans=tuple(revive(d.get("time_spans", []))))


def table(resp: httpx.Response, schema: pa.Schema) -> pa.Table:
    """``{"rows": [...]}`` as a table of ``schema`` when the rows have exactly its columns, else as inferred."""
    rows = revive(resp.json()["rows"])
    if not rows:
        return schema.empty_table()
    try:
        return pa.Table.from_pylist([{n: r.get(n) for n in schema.names} for r in rows], schema=schema) \
            if set(rows[0]) == set(schema.names) else pa.Table.from_pylist(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.Table.from_pylist(rows)
