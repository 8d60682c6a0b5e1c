"""When ingest is saturated the service answers 503 with Retry-After instead of buffering without bound; the
SDK retries through it; the batcher's queue is bounded."""

from __future__ import annotations

import queue
import threading
import time

import httpx
import pytest

from tests.service.conftest import event, event_ids
from tests.service.test_idempotency import GatedLake
from tracelake.client import Client


@pytest.fixture
def gated(make_service):
    running = make_service(service_max_inflight=1, service_max_queued=1)
    lake = GatedLake(running.svc.lake)
    running.svc.lake = lake
    yield running, lake
    lake.gate.set()


def test_saturated_ingest_answers_503_with_retry_after(gated) -> None:
    running, lake = gated
    secret = running.key("bp")
    out: dict[str, httpx.Response] = {}

    def post(name: str, i: int) -> None:
        with running.http(secret) as c:
            out[name] = c.post("/v1/events:batch", json=[event(i, "bp")])

    a = threading.Thread(target=post, args=("a", 1))
    a.start()
    assert lake.entered.acquire(timeout=30)  # a is ingesting (1 slot)
    b = threading.Thread(target=post, args=("b", 2))
    b.start()
    deadline = time.monotonic() + 30
    while running.svc.admission.waiting < 1:  # b waits for the slot (1 queued)
        assert time.monotonic() < deadline
        time.sleep(0.01)
    with running.http(secret) as c:
        c_resp = c.post("/v1/events:batch", json=[event(3, "bp")])
        one = c.post("/v1/events", json=event(4, "bp"))
    assert c_resp.status_code == 503 and one.status_code == 503
    assert c_resp.headers["retry-after"] == "1"
    assert c_resp.json()["error"] == "ingest saturated"
    admin = running.key(admin=True)
    with running.http(admin) as c:
        metrics = c.get("/metrics").text  # reads are not blocked by a saturated ingest
    assert "tracelake_service_saturated_total 2.0" in metrics
    assert "tracelake_service_ingest_in_flight 1.0" in metrics and "tracelake_service_ingest_queued 1.0" in metrics
    lake.gate.set()
    a.join(60)
    b.join(60)
    assert out["a"].status_code == out["b"].status_code == 200
    assert event_ids(lake, "bp") == ["e1", "e2"]


def test_sdk_retries_through_503_and_batcher_queue_is_bounded(gated) -> None:
    running, lake = gated
    secret = running.key("bp2")
    with Client(running.url, secret, backoff=0.05, max_backoff=0.2, retries=100) as client:
        holder = threading.Thread(target=client.ingest, args=([event(0, None)],))
        holder.start()
        assert lake.entered.acquire(timeout=30)
        results = []
        waiters = [threading.Thread(target=lambda i=i: results.append(client.ingest([event(i, None)])))
                   for i in range(1, 4)]
        for t in waiters:
            t.start()  # one queues, two get 503 and keep retrying

        batcher = client.batcher(max_batch=5, max_queue=10, flush_interval=0.01)
        added = 0
        with pytest.raises(queue.Full):
            for i in range(100, 200):
                batcher.add(event(i, None), timeout=0.5)  # the sender is stuck: the queue fills up
                added += 1
        assert 10 <= added <= 10 + 5  # queue bound (+ one batch taken by the sender)
        lake.gate.set()
        holder.join(60)
        for t in waiters:
            t.join(60)
        batcher.close()
    assert [r.accepted for r in results] == [1, 1, 1]
    assert batcher.totals.accepted == added
    assert len(event_ids(lake, "bp2")) == 4 + added
