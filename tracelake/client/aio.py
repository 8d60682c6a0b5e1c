"""The asyncio transport: :class:`AsyncClient` drives the plans of ``_operations`` with ``httpx.AsyncClient``."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

import httpx

from tracelake.client._operations import DEFAULT_MAX_BATCH, Operations, bind
from tracelake.client._wire import Call, Done, Plan, Sleep, advance

__all__ = ["AsyncClient"]


class AsyncClient(Operations):
    """The asyncio twin of :class:`~tracelake.client.Client` (same arguments and methods, ``await`` every
    call, ``async with``)."""

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

    async def run(self, plan: Plan[Any]) -> Any:
        """Drive ``plan`` to its result: send its calls, sleep its sleeps (without blocking the loop)."""
        step = advance(plan, None)
        while not isinstance(step, Done):
            reply = await asyncio.sleep(step.seconds) if isinstance(step, Sleep) else await self._request(step)
            step = advance(plan, reply)
        return step.value

    async def _request(self, call: Call) -> httpx.Response | httpx.TransportError:
        try:
            return await self._http.request(call.method, call.path, params=call.params, content=call.content,
                                            headers=call.headers)
        except httpx.TransportError as exc:
            return exc

    def batcher(self, max_batch: int | None = None, max_queue: int = 10_000, flush_interval: float = 0.2, *,
                tenant: str | None = None, on_result: Callable[..., None] | None = None,
                on_error: Callable[..., None] | None = None) -> Any:
        """An :class:`~tracelake.client.AsyncBatcher` (use ``async with``, or ``await b.start()`` ...
        ``await b.close()``)."""
        from tracelake.client.batching import AsyncBatcher

        return AsyncBatcher(self, max_batch=max_batch or self.max_batch, max_queue=max_queue,
                            flush_interval=flush_interval, tenant=tenant, on_result=on_result, on_error=on_error)


def _async(plan: Callable[..., Plan[Any]]) -> Callable[..., Any]:
    async def method(self: AsyncClient, *args: Any, **kwargs: Any) -> Any:
        return await self.run(plan(self, *args, **kwargs))

    return method


bind(AsyncClient, _async)
