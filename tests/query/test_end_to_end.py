"""The query layer over a lake built by the real pipeline: ingest (Ray) -> consolidate -> search/timeline/facts.

One test, the demo sample plus a second tenant with the same names: evidence ids point at ingested events of
the right tenant, and as of a moment in the middle of the story nothing from later events comes back.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from importlib import resources

import pytest

pytestmark = pytest.mark.filterwarnings("ignore")


def _events() -> list[dict]:
    with resources.as_file(resources.files("tracelake").joinpath("samples/demo.jsonl")) as path:
        demo = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    other = [
        {"tenant": "bob", "stream": "b1", "actor": "Bob", "occurred_at": "2023-05-02T10:00:00Z", "event_id": "b-001",
         "text": "I'm Bob. My friend Sarah works at Google too, and I live in Porto."},
        {"tenant": "bob", "stream": "b1", "actor": "Bob", "occurred_at": "2023-06-02T10:00:00Z", "event_id": "b-002",
         "text": "I moved to Madrid last week."},
    ]
    return demo + other


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
