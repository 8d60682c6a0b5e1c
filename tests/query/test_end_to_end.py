"""The query layer over a lake built by the real pipeline: ingest (Ray) -> consolidate -> search/timeline/facts.

One test, two tenants whose stories share names: evidence ids point at ingested events of
the right tenant, and as of a moment in the middle of the story nothing from later events comes back.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

pytestmark = pytest.mark.filterwarnings("ignore")


def _ev(tenant: str, eid: str, at: str, text: str, stream: str = "s1", actor: str = "Alice") -> dict:
    return {"tenant": tenant, "event_id": eid, "occurred_at": at, "text": text, "stream": stream, "actor": actor}


def _events() -> list[dict]:
    return [
        _ev("alice", "a1", "2023-05-01T09:00:00Z", "Hi! I'm Alice. I live in Lisbon and I work at Acme."),
        _ev("alice", "a2", "2023-05-01T09:01:00Z", "My friend Sarah works at Google and she referred me."),
        _ev("alice", "a3", "2023-05-01T09:02:00Z", "I have an interview with Google next Friday."),
        _ev("alice", "a4", "2023-05-13T18:30:00Z", "The interview yesterday went really well.", stream="s2"),
        _ev("alice", "a5", "2023-06-01T10:00:00Z", "I got the offer! I work at Google now.", stream="s3"),
        _ev("alice", "a6", "2023-06-20T10:00:00Z", "Sarah and I moved to Porto together.", stream="s3"),
        _ev("bob", "b1", "2023-05-02T10:00:00Z", "I'm Bob. My friend Sarah works at Google too, and I live in Porto.",
            actor="Bob"),
        _ev("bob", "b2", "2023-06-02T10:00:00Z", "I moved to Madrid last week.", actor="Bob"),
    ]


def test_pipeline_lake_answers_as_of(local_lake) -> None:
    events = _events()
    res = local_lake.ingest(events)
    assert not res.rejected
    local_lake.consolidate(now=datetime(2024, 1, 1, tzinfo=timezone.utc))
    when = {(e["tenant"], e["event_id"]): datetime.fromisoformat(e["occurred_at"].replace("Z", "+00:00"))
            for e in events}
    tenants = sorted({e["tenant"] for e in events})
    cut = datetime(2023, 5, 10, tzinfo=timezone.utc)
    for tenant in tenants:
        hits = local_lake.search("where does Sarah work?", tenant, k=20)
        assert hits, tenant
        for h in hits:
            assert h.tenant == tenant and h.source_event_ids
            assert all((tenant, e) in when for e in h.source_event_ids)
        for h in local_lake.search("where does Sarah work and where do I live?", tenant, as_of=cut, k=20):
            assert h.occurred_at <= cut
            assert all(when[(tenant, e)] <= cut for e in h.source_event_ids)
        for row in local_lake.timeline("Sarah", tenant, as_of=cut).to_pylist():
            assert all(when[(tenant, e)] <= cut for e in row["source_event_ids"])
        for row in local_lake.facts(tenant, as_of=cut).to_pylist():
            assert row["tenant"] == tenant
            assert all(when[(tenant, e)] <= cut for e in row["source_event_ids"])
        bundle = local_lake.reconstruct("what happened with Sarah?", tenant, as_of=cut)
        assert all(when[(tenant, e)] <= cut for e in bundle.source_event_ids())
    # the facts the pipeline extracted are queryable as of a time and now
    assert local_lake.facts("bob", "Bob", as_of="2023-05-20T00:00:00Z").num_rows >= 1
    sql = local_lake.sql("select count(*) as n from facts_at('alice', now())")["n"][0].as_py()
    assert sql == local_lake.facts("alice").num_rows
