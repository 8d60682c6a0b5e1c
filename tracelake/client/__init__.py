"""A Python client for the tracelake HTTP service (``tracelake serve``; see docs/service.md).

:class:`Client` (sync) and :class:`AsyncClient` (asyncio) mirror the in-process :class:`tracelake.api.Lake` and
return the same types (from :mod:`tracelake.results`): :class:`~tracelake.results.IngestResult` from ``ingest``,
:class:`~tracelake.results.Hit` from ``search``, :class:`~tracelake.results.Bundle` from ``reconstruct``,
``pyarrow.Table`` from ``timeline`` and ``facts``::

    from tracelake.client import Client

    with Client("http://127.0.0.1:8600", api_key="tlk_...") as client:
        res = client.ingest([{"occurred_at": "2023-05-08T13:56:00Z", "text": "hello"}])
        hits = client.search("hello", k=5)               # tenant: the key's, when it has exactly one
        with client.batcher(max_batch=1000) as b:       # background batching, bounded queue
            for event in stream:
                b.add(event)                             # blocks while the queue is full

Retries: connection errors, timeouts, 408, 409 (same request in progress), 429, 502, 503 and 504 are retried
with exponential backoff and jitter (at least ``Retry-After``). Every ingest request carries an
``Idempotency-Key`` that its retries reuse, so a retry after a dropped connection is a no-op that returns
the first response. Errors are tracelake's own: :class:`~tracelake.errors.AuthError` (401/403),
:class:`~tracelake.errors.ValidationError` (400/404/405/413/415/422), :class:`~tracelake.errors.IngestError` or
:class:`~tracelake.errors.QueryError` (server or network failures after the retries), with ``status`` and
``error`` in their ``context`` and the server's ``detail`` as an attribute.

Layout: ``_wire`` (requests, decoding, errors, the retry plan — no I/O), ``_operations`` (every operation once,
as a plan), ``sync`` and ``aio`` (two thin transports that drive plans), ``batching``. The client depends on the
ground floor only (``tracelake.results``, ``schemas``, ``errors``, ``timeutil``): it needs neither Lance nor Ray.
"""

from tracelake.client._operations import DEFAULT_MAX_BATCH
from tracelake.client.aio import AsyncClient
from tracelake.client.batching import AsyncBatcher, Batcher
from tracelake.client.sync import Client
from tracelake.results import IngestResult

__all__ = ["Client", "AsyncClient", "Batcher", "AsyncBatcher", "IngestResult", "DEFAULT_MAX_BATCH"]
