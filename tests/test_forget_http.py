"""``POST /v1/forget`` on the real service: tenant keys forget only their own tenant, admin keys any; bad
requests are 400; the idempotency records that named erased events are gone."""

from __future__ import annotations

import pytest

from tests.forget_events import events
from tests.service.conftest import start_service


@pytest.fixture
def running(local_lake):
    local_lake.ingest(events(24, tenants=2))
    svc = start_service(local_lake)
    yield svc
    svc.stop()


def test_tenant_keys_forget_their_own_tenant_only_and_admin_keys_any(running, local_lake) -> None:
    own, admin = running.key("t0"), running.key("*", admin=True)
    with running.http(own) as http:
        denied = http.post("/v1/forget", json={"tenant": "t1", "event_ids": ["e000001"]})
        assert denied.status_code == 403 and denied.json()["error"] == "forbidden"
        ok = http.post("/v1/forget", json={"event_ids": ["e000000", "e000001"]})  # the key's tenant: t0
        assert ok.status_code == 200, ok.text
        body = ok.json()
        assert body["tenant"] == "t0" and body["events"] == 1 and body["removed"]["events"] == 1  # e000001 is t1's
    with running.http(admin) as http:
        other = http.post("/v1/forget", json={"tenant": "t1", "all": True})
        assert other.status_code == 200 and other.json()["events"] == 12
    left = local_lake.sql("select tenant, count(*) as n from events group by 1 order by 1").to_pylist()
    assert left == [{"tenant": "t0", "n": 11}]
    who = local_lake.sql("select requested_by from erasures order by started_at")["requested_by"].to_pylist()
    assert who[0].startswith("http:") and len(who) == 2


@pytest.mark.parametrize("body, detail", [
    (b"", "empty request"),
    (b"{}", "exactly one of"),
    (b'{"tenant": "t0"}', "exactly one of"),
    (b'{"tenant": "t0", "all": true, "entity": "x"}', "exactly one of"),
    (b'{"tenant": "t0", "event_ids": [1]}', "event_ids"),
    (b'{"tenant": "t0", "colour": "red", "all": true}', "unknown field"),
    (b"[1, 2]", "JSON object"),
    (b'{"tenant": "t0", "before": "not a time"}', "before"),
    (b'{"tenant": "t0", "all": true, "before": ""}', "exactly one of"),  # a present selector counts
    (b'{"tenant": "t0", "event_ids": []}', "event_ids"),
    (b'{"tenant": "t0", "entity": " "}', "entity"),
])
def test_bad_requests_are_400(running, body: bytes, detail: str) -> None:
    with running.http(running.key("t0")) as http:
        r = http.post("/v1/forget", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert detail in (r.json()["error"] + " " + str(r.json()["detail"]))


def test_stored_responses_naming_erased_events_are_deleted(running) -> None:
    secret = running.key("t0")
    with running.http(secret) as http:
        r = http.post("/v1/events", json={"tenant": "t0", "event_id": "kept-1", "occurred_at": 1683554160000,
                                          "text": "hello"}, headers={"Idempotency-Key": "k-keep"})
        assert r.status_code == 200
        r = http.post("/v1/events", json={"tenant": "t0", "event_id": "gone-1", "occurred_at": 1683554160000,
                                          "text": "erase me"}, headers={"Idempotency-Key": "k-gone"})
        assert r.status_code == 200
        assert http.post("/v1/forget", json={"event_ids": ["gone-1"]}).json()["events"] == 1
    key_id = running.svc.keys.authenticate(secret).key_id
    assert running.svc.idempotency.get(key_id, "k-gone") is None
    assert running.svc.idempotency.get(key_id, "k-keep") is not None


def test_the_client_forgets_through_the_service(running, local_lake) -> None:
    from tracelake.client import AsyncClient, Client
    from tracelake.errors import AuthError, ValidationError

    with Client(running.url, running.key("t1"), retries=0) as client:
        receipt = client.forget(event_ids=["e000003", "e000005"])
        assert receipt["tenant"] == "t1" and receipt["events"] == 2
        with pytest.raises(AuthError):
            client.forget("t0", all=True)
        with pytest.raises(ValidationError, match="exactly one of"):
            client.forget("t1")

    async def erase_before() -> dict:
        async with AsyncClient(running.url, running.key("*", admin=True), retries=0) as aclient:
            return await aclient.forget("t0", before="2023-01-01T01:00:00Z")

    import asyncio

    assert asyncio.run(erase_before())["events"] == 2  # e000000 (00:00) and e000002 (00:34) of t0
    assert local_lake.sql("select count(*) as n from events")["n"][0].as_py() == 20


def test_a_held_lease_is_a_409_for_forget_and_consolidate(running, local_lake) -> None:
    from tracelake.storage.lease import Lease

    admin = running.key("*", admin=True)
    with Lease(local_lake.store, "consolidate", ttl_s=30), running.http(admin) as http:
        for r in (http.post("/v1/forget", json={"tenant": "t0", "all": True}),
                  http.post("/v1/admin/consolidate")):
            assert r.status_code == 409 and r.headers["retry-after"] == "5", r.text
            assert "holds its lease" in r.json()["detail"]
    assert local_lake.sql("select count(*) as n from events where tenant = 't0'")["n"][0].as_py() == 12
