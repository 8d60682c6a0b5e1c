"""The synchronous transport: :class:`Client` drives the plans of ``_operations`` with ``httpx.Client``."""

from __future__ import annotations

import time
from typing import Any, Callable

import httpx

from tracelake.client._operations import DEFAULT_MAX_BATCH, Operations, bind
from tracelake.client._wire import Call, Done, Plan, Sleep, advance

__all__ = ["Client"]


class Client(Operations):
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

    def run(self, plan: Plan[Any]) -> Any:
        """Drive ``plan`` to its result: send its calls, sleep its sleeps."""
        step = advance(plan, None)
        while not isinstance(step, Done):
            step = advance(plan, time.sleep(step.seconds) if isinstance(step, Sleep) else self._request(step))
        return step.value

    def _request(self, call: Call) -> httpx.Response | httpx.TransportError:
        try:
            return self._http.request(call.method, call.path, params=call.params, content=call.content,
                                      headers=call.headers)
        except httpx.TransportError as exc:
            return exc

    def batcher(self, max_batch: int | None = None, max_queue: int = 10_000, flush_interval: float = 0.2, *,
                tenant: str | None = None, on_result: Callable[..., None] | None = None,
                on_error: Callable[..., None] | None = None) -> Any:
        """A background :class:`~tracelake.client.Batcher` sending through this client (started; close it, or
        use ``with``)."""
        from tracelake.client.batching import Batcher

        return Batcher(self, max_batch=max_batch or self.max_batch, max_queue=max_queue,
                       flush_interval=flush_interval, tenant=tenant, on_result=on_result, on_error=on_error)


def _sync(plan: Callable[..., Plan[Any]]) -> Callable[..., Any]:
    def method(self: Client, *args: Any, **kwargs: Any) -> Any:
        return self.run(plan(self, *args, **kwargs))

    return method


bind(Client, _sync)
