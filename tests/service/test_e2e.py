"""End to end over loopback: ingest through HTTP and the SDK, consolidate (admin), query through HTTP and the
SDK — the SDK returns the in-process API's own types with the same content."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from importlib import resources

import pyarrow as pa

import tracelake
from tracelake.client import AsyncClient, Client
from tracelake.results import IngestResult
from tracelake.results import Bundle, Hit
from tracelake.timeutil import iso

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def story(tenant_less: bool = True) -> list[dict]:
    """Recent events (decay must not archive them), no tenant: the key's only tenant fills it."""
    lines = [
        ("Alice", "Hi! I'm Alice. I live in Lisbon and I work at Acme as a data engineer."),
        ("assistant", "Nice to meet you, Alice. How is work at Acme going?"),
        ("Alice", "My friend Sarah works at Google and she referred me."),
        ("Alice", "I have an interview with Google next Friday."),
        ("Alice", "The interview went really well. David Chen was on the panel."),
        ("Alice", "I moved to Berlin last month."),
    ]
    start = NOW - timedelta(hours=6)
    return [{"event_id": f"s-{i}", "stream": "chat", "actor": actor, "text": text,
             "occurred_at": iso(start + timedelta(minutes=10 * i))} for i, (actor, text) in enumerate(lines)]


def test_http_ingest_matches_in_process(service, tmp_path) -> None:
    """The sample stream as NDJSON over HTTP gets the same per-record outcome as `lake.ingest(path)`."""
    sample = resources.files("tracelake").joinpath("samples/demo.jsonl")
    body = sample.read_bytes() + b'{"tenant": "alice", "text": "no time"}\n{oops\n'
    admin = service.key("*", admin=True)
    with service.http(admin) as c:
        resp = c.post("/v1/events:batch", content=body, headers={"Content-Type": "application/x-ndjson"})
    assert resp.status_code == 200, resp.text
    got = resp.json()
    path = tmp_path / "demo.jsonl"
    path.write_bytes(body)
    local = tracelake.connect(str(tmp_path / "lake"), embedder="hash")
    want = local.ingest(str(path)).to_dict()
    local.close()
    assert got["accepted"] == want["accepted"] == 17
    assert got["duplicates"] == want["duplicates"]
    assert [(r["line"], r["reason"]) for r in got["rejected"]] == [(r["line"], r["reason"]) for r in want["rejected"]]
    assert len(got["items"]) == 17 + got["duplicates"] + len(got["rejected"])


def test_sdk_ingest_then_query_returns_in_process_types(service) -> None:
    secret = service.key("e2e")
    admin = service.key("*", admin=True)
    lake = service.svc.lake
    with Client(service.url, secret) as client, Client(service.url, admin) as ops:
        assert client.whoami()["tenants"] == ["e2e"]
        res = client.ingest(story(), idempotency_key="story-1")
        assert isinstance(res, IngestResult)
        assert (res.accepted, res.duplicates, res.rejected) == (6, 0, [])
        assert res.acks["event_id"].to_pylist() == [f"s-{i}" for i in range(6)]
        assert client.ingest(story()).duplicates == 6  # event ids make a re-send a no-op
        report = ops.consolidate(tenant="e2e")
        assert report["status"] == "committed" and report["events_in"] == 6

        hits = client.search("Where does Alice live?", k=5)
        want = lake.search("Where does Alice live?", "e2e", k=5)
        assert hits and all(isinstance(h, Hit) for h in hits)
        assert [h.trace_id for h in hits] == [h.trace_id for h in want]
        assert [h.source_event_ids for h in hits] == [h.source_event_ids for h in want]
        assert hits[0].occurred_at == want[0].occurred_at and hits[0].occurred_at.tzinfo is not None
        assert {e for h in hits for e in h.source_event_ids} <= {f"s-{i}" for i in range(6)}
        windowed = client.search("Where does Alice live?", k=5, context_turns=1)
        want_windowed = lake.search("Where does Alice live?", "e2e", k=5, context_turns=1)
        assert [(h.trace_id, h.context, h.context_event_ids) for h in windowed] == [
            (h.trace_id, h.context, h.context_event_ids) for h in want_windowed]

        as_of = NOW - timedelta(hours=6, minutes=-5)  # only the first event had happened
        early = client.search("Alice", as_of=as_of, k=10)
        assert early and all(h.source_event_ids == ("s-0",) for h in early)

        bundle = client.reconstruct("How did the interview go?")
        assert isinstance(bundle, Bundle) and bundle.tenant == "e2e"
        assert set(bundle.source_event_ids()) == set(lake.reconstruct("How did the interview go?", "e2e")
                                                    .source_event_ids())

        facts = client.facts()
        want_facts = lake.facts("e2e")
        assert isinstance(facts, pa.Table) and facts.num_rows == want_facts.num_rows
        assert sorted(facts["fact_id"].to_pylist()) == sorted(want_facts["fact_id"].to_pylist())
        if facts.num_rows:
            assert facts.schema.field("valid_from").type == want_facts.schema.field("valid_from").type

        tl = client.timeline("Alice")
        want_tl = lake.timeline("Alice", "e2e")
        assert tl["trace_id"].to_pylist() == want_tl["trace_id"].to_pylist() and tl.num_rows > 0
        assert tl.column("occurred_at").to_pylist() == want_tl.column("occurred_at").to_pylist()

    # the same over plain HTTP: JSON shaped like `tracelake search --json`
    with service.http(secret) as c:
        raw = c.get("/v1/search", params={"q": "Where does Alice live?", "k": 5}).json()["hits"]
        assert [h["trace_id"] for h in raw] == [h.trace_id for h in want]
        assert raw[0]["occurred_at"].endswith("Z") and isinstance(raw[0]["source_event_ids"], list)
        windowed = c.get("/v1/search", params={"q": "Where does Alice live?", "k": 5, "context": 1}).json()["hits"]
        want_windowed = lake.search("Where does Alice live?", "e2e", k=5, context_turns=1)
        assert [h["context_event_ids"] for h in windowed] == [list(h.context_event_ids) for h in want_windowed]
        assert any(h["context"] for h in windowed)
        assert c.get("/v1/search", params={"q": "x", "context": 51}).status_code == 422
        assert c.get("/v1/facts", params={"subject": "Alice"}).status_code == 200
        assert c.get("/v1/timeline", params={"entity": "Alice", "from": iso(NOW - timedelta(days=1))}).json()["rows"]


def test_async_client(service) -> None:
    secret = service.key("e2e-async")

    async def main() -> tuple[IngestResult, IngestResult, list[Hit]]:
        async with AsyncClient(service.url, secret, max_batch=2) as client:
            res = await client.ingest([{**e, "event_id": f"a{e['event_id']}"} for e in story()])
            one = await client.ingest_event({"event_id": "solo", "occurred_at": iso(NOW), "text": "one more"})
            bad = await client.ingest_event({"event_id": "bad", "text": "no time"})
            hits = await client.search("Alice")
            return res, one, bad, hits

    res, one, bad, hits = asyncio.run(main())
    assert res.accepted == 6 and res.acks["line"].to_pylist() == list(range(6))  # 3 requests, one result
    assert (one.accepted, one.acks["event_id"][0].as_py()) == (1, "solo")
    assert bad.rejected and bad.rejected[0][1].startswith("missing required field 'occurred_at'")
    assert hits == []  # not consolidated yet: nothing to find, and no error
    assert sorted(service.svc.lake.sql("select event_id from events where tenant = 'e2e-async'")["event_id"]
                  .to_pylist()) == sorted([f"as-{i}" for i in range(6)] + ["solo"])


def test_health_readiness_openapi_and_metrics(service) -> None:
    admin = service.key("*", admin=True)
    with service.http() as anon:
        assert anon.get("/healthz").json() == {"status": "ok"}
        ready = anon.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"] == {"ray": "ok", "lake": "ok"}
        doc = anon.get("/openapi.json").json()
        for path in ("/v1/events", "/v1/events:batch", "/v1/search", "/v1/reconstruct", "/v1/timeline",
                     "/v1/facts", "/v1/admin/consolidate", "/healthz", "/readyz", "/metrics"):
            assert path in doc["paths"], path
        batch = doc["paths"]["/v1/events:batch"]["post"]
        assert set(batch["requestBody"]["content"]) == {"application/json", "application/x-ndjson"}
        assert {"413", "415", "401", "403"} <= set(batch["responses"])
    with service.http(admin) as c:
        text = c.get("/metrics").text
    assert 'tracelake_service_events_total{status="accepted"}' in text
    assert "tracelake_service_request_duration_seconds_bucket" in text
    assert 'route="/v1/events:batch"' in text and "tracelake_service_requests_in_flight" in text
    accepted = float(text.split('tracelake_service_events_total{status="accepted"} ')[1].split()[0])
    assert accepted >= 1
    assert json.loads(json.dumps(doc))  # the document is plain JSON
