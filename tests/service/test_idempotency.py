"""Retries are safe: a replayed batch after a dropped connection ends with each event exactly once; the same
Idempotency-Key gets the same response (even while the first request is still running); without a key the
event ids make a replay a no-op."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from tests.service.conftest import event, event_ids
from tracelake.client import Client
from tracelake.errors import ValidationError


class GatedLake:
    """The real lake, whose ``ingest`` waits for ``gate`` (to hold a request in flight on purpose)."""

    def __init__(self, lake: Any) -> None:
        self._lake = lake
        self.gate = threading.Event()
        self.entered = threading.Semaphore(0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lake, name)

    def ingest(self, *args: Any, **kwargs: Any) -> Any:
        self.entered.release()
        assert self.gate.wait(60), "gate never opened"
        return self._lake.ingest(*args, **kwargs)


def _raw_post_and_hang_up(url: str, secret: str, path: str, body: bytes, idem: str, wait: float) -> None:
    """Send a complete request on a raw socket, then close it without reading the response."""
    u = urlparse(url)
    head = (f"POST {path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {secret}\r\nIdempotency-Key: {idem}\r\nContent-Length: {len(body)}\r\n\r\n")
    with socket.create_connection((u.hostname, u.port)) as sock:
        sock.sendall(head.encode() + body)
        time.sleep(wait)
    # closed: the client never saw an answer


def _wait_for(pred, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_replay_after_dropped_connection_is_exactly_once(service) -> None:
    secret = service.key("idem-a")
    key_id = secret.split("_")[1]
    batch = [event(i, "idem-a") for i in range(50)]
    body = json.dumps(batch).encode()
    _raw_post_and_hang_up(service.url, secret, "/v1/events:batch", body, "drop-1", wait=0.3)
    _wait_for(lambda: service.svc.idempotency.get(key_id, "drop-1") is not None)
    with service.http(secret) as c:
        first = c.post("/v1/events:batch", content=body,
                       headers={"Content-Type": "application/json", "Idempotency-Key": "drop-1"})
        again = c.post("/v1/events:batch", content=body,
                       headers={"Content-Type": "application/json", "Idempotency-Key": "drop-1"})
        assert first.status_code == again.status_code == 200
        assert first.headers["idempotent-replayed"] == "true"
        assert first.content == again.content
        assert first.json()["accepted"] == 50  # the response of the request whose answer was lost
        # another request under the same key is refused, not answered with the first one's response
        other = c.post("/v1/events:batch", json=batch[:10], headers={"Idempotency-Key": "drop-1"})
        assert other.status_code == 422 and other.json()["error"] == "Idempotency-Key reused"
        # without a key, the event ids make the replay a no-op
        plain = c.post("/v1/events:batch", content=body, headers={"Content-Type": "application/json"})
        assert plain.json()["accepted"] == 0 and plain.json()["duplicates"] == 50
    assert event_ids(service.svc.lake, "idem-a") == sorted(f"e{i}" for i in range(50))
    # keys are per API key: the same Idempotency-Key under another key is a different request
    other_secret = service.key("idem-a")
    with service.http(other_secret) as c:
        resp = c.post("/v1/events:batch", content=body,
                      headers={"Content-Type": "application/json", "Idempotency-Key": "drop-1"})
        assert resp.json()["duplicates"] == 50 and "idempotent-replayed" not in resp.headers


def test_concurrent_requests_with_one_key_get_one_response(make_service) -> None:
    running = make_service()
    gated = GatedLake(running.svc.lake)
    running.svc.lake = gated
    secret = running.key("idem-b")
    batch = [event(i, "idem-b") for i in range(20)]
    results: list[httpx.Response] = []

    def post() -> None:
        with running.http(secret) as c:
            results.append(c.post("/v1/events:batch", json=batch, headers={"Idempotency-Key": "same"}))

    threads = [threading.Thread(target=post) for _ in range(3)]
    for t in threads:
        t.start()
    assert gated.entered.acquire(timeout=30)  # one of them is ingesting ...
    time.sleep(0.3)
    assert not gated.entered.acquire(blocking=False)  # ... and the others wait for it, not ingest
    gated.gate.set()
    for t in threads:
        t.join(60)
    assert [r.status_code for r in results] == [200, 200, 200]
    assert len({r.content for r in results}) == 1 and results[0].json()["accepted"] == 20
    assert sum("idempotent-replayed" in r.headers for r in results) == 2
    assert event_ids(gated, "idem-b") == sorted(f"e{i}" for i in range(20))


class DropFirstResponse(httpx.HTTPTransport):
    """Delivers each request to the server, but loses the first response (as a dropped connection would)."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.keys.append(request.headers.get("idempotency-key"))
        response = super().handle_request(request)
        if len(self.keys) == 1:
            response.read()
            response.close()
            raise httpx.ReadError("connection reset by peer (simulated)", request=request)
        return response


def test_sdk_retry_reuses_the_idempotency_key(service) -> None:
    secret = service.key("idem-c")
    transport = DropFirstResponse()
    with Client(service.url, secret, transport=transport, backoff=0.01) as client:
        res = client.ingest([event(i, None) for i in range(30)])
    assert transport.keys[0] is not None and transport.keys == [transport.keys[0]] * 2
    assert res.accepted == 30 and res.duplicates == 0  # the stored first response, not "30 duplicates"
    assert event_ids(service.svc.lake, "idem-c") == sorted(f"e{i}" for i in range(30))
    # replaying a whole call with the same idempotency_key returns the same result
    with Client(service.url, secret) as client:
        a = client.ingest([event(100 + i, None) for i in range(5)], idempotency_key="call-7")
        b = client.ingest([event(100 + i, None) for i in range(5)], idempotency_key="call-7")
        assert (a.accepted, b.accepted, b.duplicates) == (5, 5, 0)
        with pytest.raises(ValidationError):
            client.ingest([event(200, None)], idempotency_key="call-7")  # same key, another request
