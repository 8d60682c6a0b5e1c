"""The SDK's background batchers: bounded, batched, flushed on exit, failures surfaced."""

from __future__ import annotations

import asyncio

import pytest

from tests.service.conftest import event, event_ids
from tracelake.client import AsyncClient, Client
from tracelake.errors import IngestError


def test_batcher_sends_in_batches_and_flushes_on_exit(service) -> None:
    secret = service.key("batch-a")
    seen: list[int] = []
    with Client(service.url, secret) as client:
        with client.batcher(max_batch=1000, flush_interval=0.05,
                            on_result=lambda res, events: seen.append(len(events))) as b:
            for i in range(2500):
                b.add(event(i, None))
            b.add({"text": "no time", "event_id": "bad"})
        totals = b.totals
    assert totals.accepted == 2500 and totals.duplicates == 0
    assert [(ev["event_id"], reason) for ev, reason in totals.rejected] == \
           [("bad", "missing required field 'occurred_at'")]
    assert sum(seen) == 2501 and max(seen) <= 1000 and totals.batches == len(seen) >= 3
    assert len(event_ids(service.svc.lake, "batch-a")) == 2500


def test_batcher_flush_waits_for_durability(service) -> None:
    secret = service.key("batch-b")
    with Client(service.url, secret) as client:
        b = client.batcher(flush_interval=10.0)  # would wait 10 s for more events without flush()
        b.extend(event(i, None) for i in range(10))
        b.flush(timeout=30)
        assert len(event_ids(service.svc.lake, "batch-b")) == 10
        b.close()
        with pytest.raises(IngestError):
            b.add(event(11, None))


def test_batcher_surfaces_failed_batches(service) -> None:
    failed: list[int] = []
    with Client(service.url, "tlk_000000000000_not-a-real-key-not-a-real-key") as client:
        b = client.batcher(flush_interval=0.01, on_error=lambda exc, events: failed.append(len(events)))
        b.add(event(1, "x"))
        with pytest.raises(IngestError) as exc:
            b.close()
    assert "invalid API key" in str(exc.value) and failed == [1]


def test_async_batcher(service) -> None:
    secret = service.key("batch-c")

    async def main():
        async with AsyncClient(service.url, secret) as client:
            async with client.batcher(max_batch=400, max_queue=100, flush_interval=0.05) as b:
                for i in range(1000):
                    await b.add(event(i, None))
            return b.totals

    totals = asyncio.run(main())
    assert totals.accepted == 1000 and totals.batches >= 3
    assert len(event_ids(service.svc.lake, "batch-c")) == 1000
