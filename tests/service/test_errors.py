"""Every bad-input class gets its status code and a clear JSON message ``{"error": ..., "detail": ...}``."""

from __future__ import annotations

import json

import pytest

from tests.service.conftest import event, event_ids


def _err(resp, status: int, error: str) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["error"] == error, body
    assert "detail" in body
    return body


@pytest.fixture(scope="module")
def small(module_lake, ray_local):
    """A service with small limits, so the limits can be hit cheaply."""
    from tests.service.conftest import start_service

    running = start_service(module_lake, module_lake.settings.replace(
        service_max_body_bytes=64 * 1024, service_max_event_bytes=4 * 1024, service_max_batch_events=50))
    yield running
    running.stop()


def test_auth_errors(small) -> None:
    secret = small.key("err-a")
    batch = [event(1, "err-a")]
    with small.http() as anon:
        body = _err(anon.post("/v1/events:batch", json=batch), 401, "missing API key")
        assert "Authorization: Bearer" in body["detail"]
        wrong = {"Authorization": "Bearer tlk_0123456789ab_nope-nope-nope-nope-nope"}
        _err(anon.post("/v1/events:batch", json=batch, headers=wrong), 401, "invalid API key")
        _err(anon.post("/v1/events:batch", json=batch, headers={"X-API-Key": "garbage"}), 401, "invalid API key")
        resp = anon.get("/v1/search", params={"q": "x"})
        _err(resp, 401, "missing API key")
        assert resp.headers["www-authenticate"] == "Bearer"
    with small.http(secret) as c:
        body = _err(c.post("/v1/events:batch", json=[event(2, "err-a"), event(3, "err-b")]), 403, "forbidden")
        assert "err-b" in body["detail"]
        _err(c.post("/v1/events", json=event(4, "err-b")), 403, "forbidden")
        _err(c.get("/v1/search", params={"q": "x", "tenant": "err-b"}), 403, "forbidden")
        _err(c.post("/v1/admin/consolidate"), 403, "forbidden")
        _err(c.get("/metrics"), 403, "forbidden")
        # nothing of a refused request was written
        assert event_ids(small.svc.lake, "err-b") == [] and "e2" not in event_ids(small.svc.lake, "err-a")
    # a revoked key stops working on the next request
    key_id = secret.split("_")[1]
    small.svc.keys.revoke(key_id)
    with small.http(secret) as c:
        _err(c.get("/v1/whoami"), 401, "invalid API key")


def test_body_errors(small) -> None:
    secret = small.key("err-c")
    with small.http(secret) as c:
        body = _err(c.post("/v1/events:batch", content=b'[{"tenant": "err-c",',
                           headers={"Content-Type": "application/json"}), 400, "invalid JSON")
        assert "line 1 column" in body["detail"]
        _err(c.post("/v1/events:batch", content=b"\xff\xfe[]", headers={"Content-Type": "application/json"}),
             400, "invalid JSON")
        _err(c.post("/v1/events:batch", json={"events": []}), 422, "invalid batch")
        body = _err(c.post("/v1/events", json=[event(1, "err-c")]), 422, "invalid event")
        assert "/v1/events:batch" in body["detail"]
        body = _err(c.post("/v1/events:batch", content=b"tenant=x", headers={"Content-Type": "text/plain"}),
                    415, "unsupported content type")
        assert "text/plain" in body["detail"] and "application/json" in body["detail"]
        _err(c.post("/v1/events:batch", content=b"[]"), 415, "unsupported content type")  # no Content-Type
        _err(c.post("/v1/events:batch", content=b"[]", headers={"Content-Type": "application/json; charset=latin-1"}),
             415, "unsupported content type")
        _err(c.post("/v1/events", content=b"{}", headers={"Content-Type": "application/x-ndjson"}),
             415, "unsupported content type")
        body = _err(c.post("/v1/events:batch", json=[event(i, "err-c") for i in range(51)]), 413, "too many events")
        assert "51" in body["detail"] and body["limit"] == 50
        big = [event(i, "err-c", text="x" * 2000) for i in range(40)]  # 80 KB > 64 KiB
        body = _err(c.post("/v1/events:batch", json=big), 413, "request body too large")
        assert str(64 * 1024) in body["detail"]
        _err(c.post("/v1/events", json=event(1, "err-c", text="x" * 5000)), 413, "event too large")
        body = _err(c.post("/v1/events:batch", json=[event(1, "err-c"), event(2, "err-c", text="y" * 5000)]),
                    413, "event too large")
        assert body["detail"].startswith("item 1 is") and body["limit"] == 4096
        nd = json.dumps(event(1, "err-c")).encode() + b"\n\n" + json.dumps(event(2, "err-c", text="y" * 5000)).encode()
        body = _err(c.post("/v1/events:batch", content=nd, headers={"Content-Type": "application/x-ndjson"}),
                    413, "event too large")
        assert body["detail"].startswith("line 3 is")
        assert event_ids(small.svc.lake, "err-c") == []
        _err(c.post("/v1/events:batch", json=[event(1, "err-c")], headers={"Idempotency-Key": "has space"}),
             400, "invalid Idempotency-Key")
        _err(c.get("/v1/nope"), 404, "not found")
        _err(c.get("/v1/events:batch"), 405, "method not allowed")
        _err(c.get("/v1/search", params={"q": "x", "k": 0}), 422, "invalid request")
        _err(c.get("/v1/search", params={"q": "x", "as_of": "yesterday-ish"}), 422, "invalid query")


def test_bad_items_are_rejected_per_item_and_kept(small) -> None:
    secret = small.key("err-d")
    items = [
        event(1, "err-d"),
        {"tenant": "err-d", "text": "no time"},
        {"tenant": "err-d", "occurred_at": "2023-05-08T13:56:00Z"},
        {"tenant": "err-d", "occurred_at": "last tuesday", "text": "bad time"},
        {"tenant": "bad tenant!", "occurred_at": "2023-05-08T13:56:00Z", "text": "bad tenant"},
        {"tenant": "err-d", "occurred_at": "2023-05-08T13:56:00Z", "text": 42},
        "not an object",
        event(3, "err-d"),
    ]
    with small.http(secret) as c:
        resp = c.post("/v1/events:batch", json=items)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["accepted"], body["duplicates"]) == (2, 0)
    by_line = {r["line"]: r for r in body["rejected"]}
    assert sorted(by_line) == [1, 2, 3, 4, 5, 6]
    assert by_line[1]["field"] == "occurred_at" and "missing" in by_line[1]["reason"]
    assert by_line[2]["field"] == "text"
    assert by_line[3]["field"] == "occurred_at" and "ISO-8601" in by_line[3]["reason"]
    assert by_line[4]["field"] == "tenant"
    assert by_line[5]["field"] == "text" and "string" in by_line[5]["reason"]
    assert "not an object" in by_line[6]["reason"]
    assert [i["status"] for i in body["items"]] == ["accepted"] + ["rejected"] * 6 + ["accepted"]
    assert event_ids(small.svc.lake, "err-d") == ["e1", "e3"]
    kept = small.svc.lake.sql("select line, field from rejects where source like 'http:%' and tenant = 'err-d' "
                              "order by line").to_pylist()
    assert [(r["line"], r["field"]) for r in kept] == [(1, "occurred_at"), (2, "text"), (3, "occurred_at"),
                                                      (5, "text")]  # the lines the client saw

    # the same outcome, one list per field (what the SDK asks for): a replay, so duplicates now
    with small.http(secret) as c:
        cols = c.post("/v1/events:batch", json=items, params={"results": "columns"}).json()
    assert "items" not in cols and cols["rejected"] == body["rejected"]
    assert cols["acks"]["line"] == [i["line"] for i in body["items"]]
    assert cols["acks"]["status"] == ["duplicate"] + ["rejected"] * 6 + ["duplicate"]
    assert cols["acks"]["reason"] == [i["reason"] for i in body["items"]]

    # NDJSON: lines are 1-based, a broken line is one rejected item
    nd = b"\n".join([json.dumps(event(4, "err-d")).encode(), b"{broken", b"", json.dumps(event(5, "err-d")).encode()])
    with small.http(secret) as c:
        resp = c.post("/v1/events:batch", content=nd, headers={"Content-Type": "application/x-ndjson"})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["accepted"] == 2 and [(r["line"], r["field"]) for r in body["rejected"]] == [(2, None)]
        assert "invalid JSON" in body["rejected"][0]["reason"]
        assert [i["line"] for i in body["items"]] == [1, 2, 4]
        assert small.svc.lake.sql("select count(*) as n from rejects where tenant is null and line = 2 "
                                  "and reason like 'invalid JSON%'")["n"][0].as_py() >= 1
        # a single bad event is a 422 with its field and reason
        one = c.post("/v1/events", json={"tenant": "err-d", "text": "no time"})
        body = _err(one, 422, "invalid event")
        assert body["field"] == "occurred_at" and "missing" in body["detail"]
