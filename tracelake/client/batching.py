"""Background batching for the HTTP clients: :class:`Batcher` (a thread) and :class:`AsyncBatcher` (a task).

Each batch is one ``POST /v1/events:batch`` with one ``Idempotency-Key`` that the client's retries reuse, so a
batch lands exactly once however often it is resent.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Callable, Iterable

from tracelake.client._operations import DEFAULT_MAX_BATCH
from tracelake.client._wire import with_tenant
from tracelake.errors import IngestError
from tracelake.results import IngestResult

if TYPE_CHECKING:
    from tracelake.client.aio import AsyncClient
    from tracelake.client.sync import Client

__all__ = ["Batcher", "AsyncBatcher"]


class _Totals:
    """What a batcher has sent so far."""

    def __init__(self) -> None:
        self.accepted = 0
        self.duplicates = 0
        self.rejected: list[tuple[Any, str]] = []  # (event, reason)
        self.batches = 0
        self.errors: list[Exception] = []

    def sent(self, result: IngestResult, events: list[Any],
             on_result: Callable[[IngestResult, list[Any]], None] | None) -> None:
        """Count a batch the service acknowledged, then tell ``on_result``."""
        self.batches += 1
        self.accepted += result.accepted
        self.duplicates += result.duplicates
        self.rejected.extend((events[line], reason) for line, reason in result.rejected)
        if on_result is not None:
            on_result(result, events)

    def failed(self, exc: Exception, batch: list[Any], on_error: Callable[[Exception, list[Any]], None] | None) -> None:
        """Record a batch that failed after all retries, then tell ``on_error``."""
        self.errors.append(exc)
        if on_error is not None:
            on_error(exc, batch)

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

    def __init__(self, client: "Client", *, max_batch: int = DEFAULT_MAX_BATCH, max_queue: int = 10_000,
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
        events = list(with_tenant(batch, self.tenant))
        try:
            result = self.client.run(self.client._batch(events, uuid.uuid4().hex))
        except Exception as exc:  # noqa: BLE001 - recorded, raised by flush()/close()
            self.totals.failed(exc, batch, self.on_error)
        else:
            self.totals.sent(result, events, self.on_result)
        finally:
            self._done(len(batch))


class AsyncBatcher:
    """The asyncio twin of :class:`Batcher`: ``await add(event)`` (waits while the queue is full),
    ``await flush()``, ``await close()``; ``async with client.batcher() as b`` starts and closes it."""

    def __init__(self, client: "AsyncClient", *, max_batch: int = DEFAULT_MAX_BATCH, max_queue: int = 10_000,
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
            events = list(with_tenant(batch, self.tenant))
            try:
                result = await self.client.run(self.client._batch(events, uuid.uuid4().hex))
            except Exception as exc:  # noqa: BLE001 - recorded, raised by flush()/close()
                self.totals.failed(exc, batch, self.on_error)
            else:
                self.totals.sent(result, events, self.on_result)
            finally:
                for _ in batch:
                    q.task_done()
