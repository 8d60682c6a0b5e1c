"""Ingestion on Ray: tenant-partitioned actors validate, buffer and commit events to the ``events`` table.

Contract
--------
- **Durable acks.** :meth:`IngestActor.write` returns only after every accepted row of its chunk is
  committed to Lance (rejects are committed before that). A caller that saw the ack can lose nothing.
- **Exactly once.** An event is identified by ``(tenant, event_id)``; the commit protocol (duplicates
  dropped before the commit, races between writers of different clusters resolved after it) is
  :class:`tracelake.storage.events.EventWriter`, one per lake in each actor.
- **Flush** on ``ingest_flush_rows`` buffered rows, after ``ingest_flush_seconds``, or when a chunk asks.
- **Partitioning.** A tenant always maps to the same actor (``crc32(tenant) % ingest_actors``), so one
  tenant's writes are serialised within a cluster. The driver puts each chunk in the object store once
  and sends every actor that owns some of its tenants a mask of its share; the actors select
  their rows themselves, in parallel.
- **Retries.** If an actor dies, the driver resubmits its unacknowledged chunks to the restarted actor;
  ids committed by the lost attempt then come back as duplicates (never twice in the table).
"""

from __future__ import annotations

import asyncio
import time
import uuid
import zlib
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracelake import schemas
from tracelake.errors import IngestError, TracelakeError
from tracelake.operators.validate import validate_events
from tracelake.pipelines.ray_runtime import NAMESPACE, ensure_ray
from tracelake.pipelines.sources import EarlyReject, iter_chunks
from tracelake.results import ACK_SCHEMA, IngestResult
from tracelake.settings import Settings
from tracelake.storage import LakeStore
from tracelake.storage.erase import tombstoned
from tracelake.storage.events import EventWriter
from tracelake.timeutil import TS

__all__ = ["IngestResult", "ingest", "ACK_SCHEMA", "IngestActor", "FORGOTTEN"]

#: Ack reason of an event skipped because ``forget`` erased it (see :func:`tracelake.storage.erase.tombstoned`).
FORGOTTEN = "forgotten: erased by forget (ingest with allow_reingest to bring it back)"

class _Buffer:
    """Per-lake state inside an actor: the rows waiting for a commit, and the lake's event writer."""

    def __init__(self, store: LakeStore) -> None:
        self.writer = EventWriter(store)
        self.pending: list[tuple[pa.Table, asyncio.Future[pa.Array]]] = []
        self.pending_rows = 0
        self.oldest = 0.0
        self.lock = asyncio.Lock()


class IngestActor:
    """A Ray actor (async): validates chunks, buffers them per lake, commits on size/time, then acks."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.buffers: dict[tuple[str, tuple[tuple[str, str], ...]], _Buffer] = {}
        self._flusher: asyncio.Task[None] | None = None

    def _buffer(self, store: LakeStore) -> _Buffer:
        key = (store.uri, tuple(sorted(store.storage_options.items())))
        if key not in self.buffers:
            if len(self.buffers) >= 16:  # bound memory in long-lived actors: forget the oldest lake
                self.buffers.pop(next(iter(self.buffers)))
            self.buffers[key] = _Buffer(store)
        return self.buffers[key]

    async def write(self, store: LakeStore, raw: pa.Table, rows: pa.Array | None, early: list[EarlyReject],
                    source: str, flush: bool = False, settings: Settings | None = None,
                    allow_reingest: bool = False) -> pa.Table:
        """Validate and durably commit one chunk; returns its per-record outcome (:data:`ACK_SCHEMA`).

        Events erased by ``forget`` (tombstoned) are skipped as duplicates, reason ``forgotten``, unless
        ``allow_reingest``.

        ``rows``: a boolean mask of this actor's rows in ``raw`` (``None``: all of them). ``settings`` (the
        caller's) replace the actor's: limits and flush policy follow the latest caller.
        """
        if settings is not None:
            self.settings = settings
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_loop())
        if rows is not None:
            raw = raw.filter(rows)
        now = datetime.now(timezone.utc)
        events, rejects = validate_events(raw, source=source, batch_id=uuid.uuid4().hex, now=now,
                                          max_text_bytes=self.settings.max_text_bytes)
        if early:
            rejects = pa.concat_tables([_early_rejects(early, source, now), rejects])
        if rejects.num_rows:
            await asyncio.to_thread(store.append, "rejects", rejects)
        forgotten = None
        if events.num_rows and not allow_reingest:
            gone = await asyncio.to_thread(tombstoned, store, events)
            if pc.any(gone).as_py():
                forgotten, events = events.filter(gone), events.filter(pc.invert(gone))
        buffer = self._buffer(store)
        status = pa.array([], pa.bool_())
        if events.num_rows:
            future: asyncio.Future[pa.Array] = asyncio.get_running_loop().create_future()
            if not buffer.pending:
                buffer.oldest = time.monotonic()
            buffer.pending.append((events, future))
            buffer.pending_rows += events.num_rows
            if flush or buffer.pending_rows >= self.settings.ingest_flush_rows:
                asyncio.get_running_loop().create_task(self._flush(buffer))
            status = await future
        accepted = pa.table({
            "line": events["_line"], "event_id": events["event_id"],
            "status": pc.if_else(status, "accepted", "duplicate") if len(status) else pa.array([], pa.string()),
            "field": pa.nulls(events.num_rows, pa.string()), "reason": pa.nulls(events.num_rows, pa.string()),
        }, schema=ACK_SCHEMA)
        refused = pa.table({
            "line": rejects["line"], "event_id": pa.nulls(rejects.num_rows, pa.string()),
            "status": pa.array(["rejected"] * rejects.num_rows, pa.string()),
            "field": rejects["field"], "reason": rejects["reason"],
        }, schema=ACK_SCHEMA)
        if forgotten is not None:
            refused = pa.concat_tables([refused, pa.table({
                "line": forgotten["_line"], "event_id": forgotten["event_id"],
                "status": pa.repeat(pa.scalar("duplicate"), forgotten.num_rows),
                "field": pa.nulls(forgotten.num_rows, pa.string()),
                "reason": pa.repeat(pa.scalar(FORGOTTEN), forgotten.num_rows)}, schema=ACK_SCHEMA)])
        return pa.concat_tables([accepted, refused])

    async def _flush_loop(self) -> None:
        interval = max(self.settings.ingest_flush_seconds / 4, 0.01)
        while True:
            await asyncio.sleep(interval)
            deadline = time.monotonic() - self.settings.ingest_flush_seconds
            for buffer in list(self.buffers.values()):
                if buffer.pending and buffer.oldest <= deadline and not buffer.lock.locked():
                    await self._flush(buffer)

    async def _flush(self, buffer: _Buffer) -> None:
        async with buffer.lock:
            items, buffer.pending, buffer.pending_rows = buffer.pending, [], 0
            if not items:
                return
            table = pa.concat_tables([t for t, _ in items])
            try:
                mask = await asyncio.to_thread(buffer.writer.commit, table)
            except BaseException as exc:  # the whole buffer failed: nobody is acked
                buffer.writer.reset()
                err = exc if isinstance(exc, TracelakeError) else IngestError(f"commit failed: {exc}")
                for _, fut in items:
                    if not fut.done():
                        fut.set_exception(err)
                return
            offset = 0
            for t, fut in items:
                if not fut.done():
                    fut.set_result(mask.slice(offset, t.num_rows))
                offset += t.num_rows

    def ping(self) -> bool:
        return True

    def memory(self) -> dict[str, int]:
        """What this actor holds: lakes, committed ids known, bytes of their index, process RSS."""
        import resource

        writers = [b.writer for b in self.buffers.values()]
        return {"lakes": len(writers), "ids": sum(len(w.ids) for w in writers),
                "id_bytes": sum(w.ids.nbytes for w in writers),
                "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def _early_rejects(early: list[EarlyReject], source: str, now: datetime) -> pa.Table:
    n = len(early)
    return pa.table({
        "tenant": [r.tenant for r in early], "source": [source] * n, "line": [r.line for r in early],
        "field": [r.field for r in early], "reason": [r.reason for r in early], "raw": [r.raw for r in early],
        "recorded_at": pa.array([now] * n, TS), "batch_id": [uuid.uuid4().hex] * n,
    }, schema=schemas.REJECTS)


# -- driver ---------------------------------------------------------------------------------------------
_ACTOR_ERRORS: tuple[type[BaseException], ...] = ()
_HANDLES: dict[tuple[str, int], list[Any]] = {}


def _actor_errors() -> tuple[type[BaseException], ...]:
    global _ACTOR_ERRORS
    if not _ACTOR_ERRORS:
        import ray.exceptions as rex

        _ACTOR_ERRORS = tuple(
            getattr(rex, n) for n in ("RayActorError", "ActorDiedError", "ActorUnavailableError") if hasattr(rex, n)
        )
    return _ACTOR_ERRORS


def _wait_until_alive(actor: Any, timeout_s: float = 60.0) -> bool:
    """Wait (with backoff) until a restarting actor answers again; False if it does not in time."""
    import ray

    deadline, delay = time.monotonic() + timeout_s, 0.05
    while time.monotonic() < deadline:
        try:
            return bool(ray.get(actor.ping.remote(), timeout=max(0.1, deadline - time.monotonic())))
        except _actor_errors():
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        except ray.exceptions.GetTimeoutError:
            return False
    return False


def get_actors(settings: Settings) -> list[Any]:
    """The named ingest actors of this Ray cluster (created on first use, shared by every driver)."""
    import ray

    ensure_ray(settings.ray_address, settings.ray_num_cpus)
    key = (ray.get_runtime_context().get_job_id(), settings.ingest_actors)
    if key in _HANDLES:  # non-detached actors die with their last handle: this process keeps them
        return _HANDLES[key]
    remote = ray.remote(IngestActor)
    _HANDLES[key] = [
        remote.options(
            name=f"tracelake-ingest-{i}", namespace=NAMESPACE, get_if_exists=True, max_restarts=-1,
            max_task_retries=0, num_cpus=0, max_concurrency=1000,
            lifetime="detached" if settings.ray_address else None,
        ).remote(settings)
        for i in range(max(1, settings.ingest_actors))
    ]
    return _HANDLES[key]


def ping_actors(settings: Settings, timeout: float) -> None:
    """Start or join Ray and the ingest actors, and wait until each answers (raises on ``timeout``)."""
    import ray

    actors = get_actors(settings)
    ray.get([a.ping.remote() for a in actors], timeout=timeout)


def _partition(raw: pa.Table, n: int) -> list[tuple[int, pa.Array | None]]:
    """Which actor owns which rows of ``raw``: ``[(actor, boolean row mask, or None for all rows)]``."""
    if n == 1 or raw.num_rows == 0:
        return [(0, None)]
    tenants = raw["tenant"].combine_chunks() if "tenant" in raw.column_names else pa.nulls(raw.num_rows, pa.string())
    uniq = pc.unique(tenants)
    parts = pa.array([0 if t is None else zlib.crc32(t.encode()) % n for t in uniq.to_pylist()], pa.int64())
    part = pc.take(parts, pc.index_in(tenants, value_set=uniq))
    owners = pc.unique(part).to_pylist()
    if len(owners) == 1:
        return [(owners[0], None)]
    return [(p, pc.equal(part, p)) for p in owners]


@dataclass
class _Call:
    """One actor call in flight: enough to resubmit it."""

    ref: Any
    actor: int
    chunk: Any  # the chunk's table in the object store (an ObjectRef), shared by its actors' calls
    rows: pa.Array | None
    rejects: list[EarlyReject]
    last: bool
    attempt: int


def ingest(store: LakeStore, data: Any, settings: Settings, *, source: str = "api",
           default_tenant: str | None = None, on_ack: Callable[[pa.Table], None] | None = None,
           max_retries: int = 3, allow_reingest: bool = False) -> IngestResult:
    """Ingest any supported input through the ingest actors; returns after every chunk is acknowledged.

    Events erased by ``forget`` count as duplicates unless ``allow_reingest``.

    ``on_ack`` is called with each acknowledged chunk's outcome table (in completion order), e.g. for a
    progress bar. Raises :class:`IngestError` if an actor keeps failing beyond ``max_retries``.
    """
    import ray

    actors = get_actors(settings)
    result = IngestResult()
    acks: list[pa.Table] = []
    inflight: deque[_Call] = deque()

    def submit(call: _Call) -> None:
        call.ref = actors[call.actor].write.remote(store, call.chunk, call.rows, call.rejects, source, call.last,
                                                   settings, allow_reingest)
        inflight.append(call)

    def collect(block_until: int) -> None:
        while len(inflight) > block_until:
            call = inflight.popleft()
            try:
                ack = ray.get(call.ref)
            except _actor_errors() as exc:
                if call.attempt >= max_retries or not _wait_until_alive(actors[call.actor]):
                    raise IngestError(f"ingest actor lost {call.attempt + 1} times: {exc}", actor=call.actor) from None
                call.last, call.attempt = True, call.attempt + 1
                submit(call)
                continue
            acks.append(ack)
            if on_ack is not None:
                on_ack(ack)

    chunks = iter_chunks(data, chunk_rows=settings.ingest_chunk_rows, default_tenant=default_tenant)
    pending = next(chunks, None)
    while pending is not None:
        following = next(chunks, None)
        shared = ray.put(pending.table)  # once, however many actors own its rows
        for i, (p, rows) in enumerate(_partition(pending.table, len(actors))):
            submit(_Call(None, p, shared, rows, pending.rejects if i == 0 else [], following is None, 0))
        collect(settings.ingest_max_inflight)
        pending = following
    collect(0)

    table = pa.concat_tables(acks) if acks else ACK_SCHEMA.empty_table()
    lines = table["line"].to_numpy()
    if len(lines) > 1 and (lines[1:] < lines[:-1]).any():  # actors' shares interleave: back to input order
        table = table.take(pa.array(np.argsort(lines, kind="stable")))
    counts = table.group_by("status").aggregate([("status", "count")]).to_pylist()
    by_status = {r["status"]: r["status_count"] for r in counts}
    result.accepted = by_status.get("accepted", 0)
    result.duplicates = by_status.get("duplicate", 0)
    rej = table.filter(pc.equal(table["status"], "rejected"))
    result.rejected = list(zip(rej["line"].to_pylist(), rej["reason"].to_pylist()))
    result.acks = table
    return result
