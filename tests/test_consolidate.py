"""Consolidation runs: end to end on the sample story, idempotent, incremental, crash-safe, multi-node."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import pytest

import tracelake
from tracelake.errors import ConsolidationError

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2023, 10, 1, tzinfo=timezone.utc)
SAMPLE = str(resources.files("tracelake").joinpath("samples/demo.jsonl"))


def digest(lake) -> dict[str, str]:
    """Content digests of the published consolidated state (independent of run ids and physical layout)."""
    queries = {
        "traces": "select trace_id, kind, text, entities, source_event_ids, merged_into, archived from traces",
        "entities": "select entity_id, name, aliases, mention_count from entities",
        "facts": "select row_id, fact_id, subject, predicate, object, valid_from, valid_to, retracted_at from facts",
    }
    out = {}
    for name, q in queries.items():
        rows = sorted(json.dumps(r, default=str, sort_keys=True) for r in lake.sql(q).to_pylist())
        out[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16] + f"/{len(rows)}"
    return out


@pytest.fixture
def story(local_lake):
    res = local_lake.ingest(SAMPLE)
    assert res.accepted == 17
    return local_lake


def test_consolidation_end_to_end_keeps_history_and_sources(story) -> None:
    report = story.consolidate(now=NOW)
    assert report.status == "committed" and report.events_in == 17
    assert report.steps["merge"]["traces_new"] > 17
    traces = story.sql("select tenant, source_event_ids from traces").to_pylist()
    assert all(t["source_event_ids"] for t in traces)
    history = story.sql(
        "select object, valid_from, valid_to, superseded_by from facts "
        "where tenant = 'alice' and subject = 'Alice' and predicate = 'lives_in' and retracted_at is null "
        "and coalesce(modality, 'asserted') in ('asserted', 'corrected') "  # the plan "I will move to Berlin" is no value
        "order by valid_from").to_pylist()
    assert [h["object"] for h in history] == ["Lisbon", "Berlin", "Munich"]
    assert history[0]["valid_to"] == history[1]["valid_from"] and history[2]["valid_to"] is None
    # Bob's Sarah and Alice's Sarah never mix.
    bob = story.sql("select distinct tenant from traces where list_contains(entities, 'Sarah')").to_pylist()
    assert {r["tenant"] for r in bob} == {"alice", "bob"}
    assert story.sql("select count(*) as n from facts where tenant = 'bob' and subject = 'Alice'")["n"][0].as_py() == 0
    runs = story.sql("select status, events_in from job_runs").to_pylist()
    assert runs == [{"status": "committed", "events_in": 17}]


def test_second_run_changes_nothing_and_new_events_are_incremental(story) -> None:
    story.consolidate(now=NOW)
    before = digest(story)
    versions = story.store.published_versions()
    again = story.consolidate(now=NOW)
    assert again.status == "noop" and again.events_in == 0
    assert story.store.published_versions() == versions and digest(story) == before
    story.ingest([{"tenant": "alice", "event_id": "a-014", "occurred_at": "2023-09-20T10:00:00Z",
                   "actor": "Alice", "text": "I moved to Hamburg."}])
    third = story.consolidate(now=NOW)
    assert third.status == "committed" and third.events_in == 1
    current = story.sql("select object from facts where tenant = 'alice' and predicate = 'lives_in' "
                        "and retracted_at is null and valid_to is null").to_pylist()
    assert current == [{"object": "Hamburg"}]


def test_a_failed_run_publishes_nothing_and_the_next_run_completes_it(story, tmp_path, monkeypatch) -> None:
    from tracelake.storage import LakeStore

    clean = tracelake.connect(str(tmp_path / "clean"), embedder="hash")
    clean.ingest(SAMPLE)
    clean.consolidate(now=NOW)

    real_upsert = LakeStore.upsert

    def crash_on_facts(self, table, data, on):
        if table == "facts":
            raise RuntimeError("simulated crash after traces were committed")
        return real_upsert(self, table, data, on)

    monkeypatch.setattr(LakeStore, "upsert", crash_on_facts)
    with pytest.raises(ConsolidationError, match="simulated crash"):
        story.consolidate(now=NOW)
    assert story.sql("select count(*) as n from traces")["n"][0].as_py() == 0  # nothing published
    assert story.store.dataset("traces").version > story.store.published_versions()["traces"]
    monkeypatch.setattr(LakeStore, "upsert", real_upsert)
    report = story.consolidate(now=NOW)
    assert report.status == "committed" and "recover" in report.steps
    assert digest(story) == digest(clean)
    statuses = story.sql("select status from job_runs order by started_at").to_pylist()
    assert [s["status"] for s in statuses] == ["failed", "committed"]


def test_decay_archives_old_traces_but_never_pinned_ones(local_lake) -> None:
    local_lake.ingest([
        {"tenant": "t1", "event_id": "old", "occurred_at": "2020-01-01T00:00:00Z", "text": "An old remark about tea."},
        {"tenant": "t1", "event_id": "pin", "occurred_at": "2020-01-01T00:00:00Z", "text": "Never forget the code.",
         "attrs": {"pinned": True}},
    ])
    later = datetime(2026, 1, 1, tzinfo=timezone.utc)
    local_lake.consolidate(now=later)  # decay runs on the tenant's clock: nothing has happened since
    assert local_lake.sql("select count(*) as n from traces where archived")["n"][0].as_py() == 0
    assert local_lake.consolidate(now=later, steps=["decay"]).status == "noop"
    local_lake.ingest([{"tenant": "t1", "event_id": "new", "occurred_at": "2025-12-31T00:00:00Z",
                        "text": "Years later, a new remark."}])
    report = local_lake.consolidate(now=later)
    assert report.steps["decay"]["traces_archived"] > 0
    rows = local_lake.sql("select source_event_ids[1] as ev, bool_and(archived) as archived from traces group by 1")
    assert {r["ev"]: r["archived"] for r in rows.to_pylist()} == {"old": True, "pin": False, "new": False}


TWO_NODES = r"""
import json, sys
from datetime import datetime, timezone
import ray
from ray.cluster_utils import Cluster
cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
cluster.add_node(num_cpus=1)
cluster.wait_for_nodes()
ray.init(address=cluster.address, namespace="tracelake")
import tracelake
lake = tracelake.connect(sys.argv[1], embedder="hash")
lake.ingest(sys.argv[2])
report = lake.consolidate(now=datetime(2023, 10, 1, tzinfo=timezone.utc))
print(json.dumps({"nodes": report.steps["decompose"]["nodes"], "cluster_nodes": len(ray.nodes())}))
"""


@pytest.mark.cluster
def test_two_node_cluster_gives_the_same_result_as_one(story, tmp_path) -> None:
    story.consolidate(now=NOW)
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    env.pop("RAY_ADDRESS", None)
    uri = str(tmp_path / "two")
    proc = subprocess.run([sys.executable, "-c", TWO_NODES, uri, SAMPLE], capture_output=True, text=True,
                          timeout=300, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["cluster_nodes"] == 2 and len(out["nodes"]) == 2, out
    two = tracelake.connect(uri, embedder="hash")
    assert digest(two) == digest(story)
