"""Ingestion: durable, exactly-once, per-record rejection — on local disk and on the S3 server."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone

import pyarrow as pa
import pytest

import tracelake
from tracelake.errors import SchemaVersionError


def _events(n: int, tenant: str = "t1", start: int = 0, stream: str = "s") -> list[dict]:
    return [
        {"tenant": tenant, "event_id": f"{tenant}-{i}", "stream": stream, "actor": "ann",
         "occurred_at": f"2023-05-08T13:{i // 60 % 60:02d}:{i % 60:02d}Z", "text": f"event number {i}"}
        for i in range(start, start + n)
    ]


def _count(lake, where: str = "true") -> int:
    return lake.sql(f"select count(*) as n from events where {where}")["n"][0].as_py()


def _distinct(lake) -> int:
    return lake.sql("select count(distinct tenant || '/' || event_id) as n from events")["n"][0].as_py()


def test_ingest_commits_and_acknowledges(lake) -> None:
    res = lake.ingest(_events(50) + _events(10, tenant="t2"))
    assert (res.accepted, res.duplicates, res.rejected) == (60, 0, [])
    assert _count(lake) == 60
    assert _count(lake, "tenant = 't2'") == 10
    row = lake.sql("select * from events where event_id = 't1-3'").to_pylist()[0]
    assert row["stream"] == "s" and row["kind"] == "message" and row["actor"] == "ann"
    assert row["occurred_at"] == datetime(2023, 5, 8, 13, 0, 3, tzinfo=timezone.utc)
    assert row["recorded_at"] is not None and row["batch_id"]


def test_reingest_is_a_noop_also_across_runs(lake, lake_location) -> None:
    import ray

    lake.ingest(_events(30))
    again = lake.ingest(_events(40))  # 30 known + 10 new
    assert (again.accepted, again.duplicates) == (10, 30)
    # A separate run: a new handle and restarted ingest actors (their caches are gone).
    for i in range(lake.settings.ingest_actors):
        ray.kill(ray.get_actor(f"tracelake-ingest-{i}", namespace="tracelake"), no_restart=False)
    uri, options = lake_location
    other = tracelake.connect(uri, storage_options=options, embedder="hash")
    third = other.ingest(_events(40))
    assert (third.accepted, third.duplicates) == (0, 40)
    assert _count(other) == 40 == _distinct(other)


def test_derived_event_ids_are_deterministic(lake) -> None:
    rec = {"tenant": "t1", "occurred_at": "2023-05-08T13:56:00Z", "text": "no id here", "attrs": {"b": 1, "a": 2}}
    same_time_as_ms = dict(rec, occurred_at=1683554160000)
    first = lake.ingest([rec])
    second = lake.ingest([same_time_as_ms])
    assert (first.accepted, second.duplicates) == (1, 1)
    assert lake.sql("select event_id from events")["event_id"][0].as_py().startswith("ev-")


def test_two_concurrent_ingesters_of_overlapping_data(lake) -> None:
    a, b = _events(600, start=0), _events(600, start=300)
    results = {}

    def run(name, data):
        results[name] = lake.ingest(data)

    threads = [threading.Thread(target=run, args=(n, d)) for n, d in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results["a"].accepted + results["b"].accepted == 900
    assert results["a"].duplicates + results["b"].duplicates == 300
    assert _count(lake) == 900 == _distinct(lake)


def _prepared(events: list[dict]) -> pa.Table:
    from tracelake.operators.validate import validate_events

    valid, _ = validate_events(pa.Table.from_pylist(events), source="t", batch_id="b",
                               now=datetime.now(timezone.utc), max_text_bytes=1 << 20)
    return valid


def test_writers_of_separate_clusters_race_to_exactly_once(lake) -> None:
    """Two writers that share nothing but the lake (as two Ray clusters would) commit overlapping ids."""
    from tracelake.storage.events import EventWriter

    lake.ingest(_events(5))  # both writers start from the same committed state
    w1, w2 = EventWriter(lake.store), EventWriter(lake.store)
    w1.refresh(["t1"])
    stale = w2.refresh(["t1"])
    m1 = w1.commit(_prepared(_events(100, start=0)))
    w2.refresh = lambda tenants: stale  # w2 looked before w1 committed: it cannot have seen w1's rows
    m2 = w2.commit(_prepared(_events(100, start=50)))
    assert sum(m1.to_pylist()) == 95
    assert m2.to_pylist() == [False] * 50 + [True] * 50  # its 50 clashing copies were deleted: the earlier commit wins
    assert _count(lake) == 150 == _distinct(lake)


def test_actor_killed_mid_ingest_loses_nothing(lake) -> None:
    import ray

    acked: list[str] = []
    data = _events(3000)
    lake.settings = lake.settings.replace(ingest_chunk_rows=200)

    def on_ack(ack: pa.Table) -> None:
        acked.extend(r["event_id"] for r in ack.to_pylist() if r["status"] == "accepted")
        if len(acked) >= 400 and not killed.is_set():
            killed.set()
            ray.kill(ray.get_actor("tracelake-ingest-0", namespace="tracelake"), no_restart=False)
            ray.kill(ray.get_actor("tracelake-ingest-1", namespace="tracelake"), no_restart=False)

    killed = threading.Event()
    res = lake.ingest(data, on_ack=on_ack)
    assert killed.is_set()
    committed = set(lake.sql("select event_id from events")["event_id"].to_pylist())
    assert set(acked) <= committed
    assert res.accepted + res.duplicates == 3000
    assert _count(lake) == 3000 == _distinct(lake)


BAD_LINES = [
    ("not json at all", "invalid JSON"),
    ('["an", "array"]', "not an object"),
    ('{"occurred_at": "2023-05-08T13:56:00Z", "text": "x"}', "missing required field 'tenant'"),
    ('{"tenant": "bad tenant!", "occurred_at": "2023-05-08T13:56:00Z", "text": "x"}', "must match"),
    ('{"tenant": "t1", "text": "x"}', "missing required field 'occurred_at'"),
    ('{"tenant": "t1", "occurred_at": "yesterday", "text": "x"}', "not an ISO-8601 time"),
    ('{"tenant": "t1", "occurred_at": "2023-05-08T13:56:00", "text": "x"}', "not an ISO-8601 time"),
    ('{"tenant": "t1", "occurred_at": true, "text": "x"}', "must be an ISO-8601 string or epoch"),
    ('{"tenant": "t1", "occurred_at": "2023-05-08T13:56:00Z", "text": 42}', "'text' must be a string"),
    ('{"tenant": 7, "occurred_at": "2023-05-08T13:56:00Z", "text": "x"}', "'tenant' must be a string"),
    ('{"tenant": "t1", "occurred_at": "2023-05-08T13:56:00Z", "text": "x", "attrs": [1]}', "'attrs' must be a JSON object"),
    ('{"tenant": "t1", "occurred_at": "2023-05-08T13:56:00Z"}', "missing field 'text'"),
    ('{"tenant": "t1", "occurred_at": "2023-05-08T13:56:00Z", "text": "%s"}' % ("y" * (1 << 20 + 1)), "byte limit"),
    ('{"tenant": "t1", "occurred_at": "2023-05-08T13:56:00Z", "text": "x", "event_id": ""}', "'event_id' is empty"),
    ('{"tenant": "t1", "occurred_at": "2023-05-08T13:56:00Z", "text": "x", "event_id": "%s"}' % ("e" * 300), "longer than 256"),
]


def test_every_kind_of_malformed_record_is_rejected_and_the_rest_committed(lake, tmp_path) -> None:
    good = [json.dumps(e) for e in _events(3)]
    lines = [good[0]] + [bad for bad, _ in BAD_LINES] + good[1:]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    res = lake.ingest(str(path), source=str(path))
    assert res.accepted == 3
    by_line = dict(res.rejected)
    assert sorted(by_line) == list(range(2, 2 + len(BAD_LINES)))
    for offset, (_, expected) in enumerate(BAD_LINES):
        assert expected in by_line[2 + offset], (offset, by_line[2 + offset])
    stored = lake.sql("select line, reason, source from rejects order by line").to_pylist()
    assert [r["line"] for r in stored] == sorted(by_line)
    assert all(r["source"] == str(path) for r in stored)
    assert _count(lake) == 3


def test_attrs_only_events_and_unknown_fields_are_kept(local_lake) -> None:
    res = local_lake.ingest([
        {"tenant": "t1", "occurred_at": 1683554160000, "attrs": {"temp": 21.5}, "kind": "observation"},
        {"tenant": "t1", "occurred_at": "2023-05-08T13:56:00+02:00", "text": "hi", "mood": "good"},
    ])
    assert res.accepted == 2
    rows = local_lake.sql("select kind, attrs, occurred_at from events order by occurred_at").to_pylist()
    assert rows[0]["occurred_at"] == datetime(2023, 5, 8, 11, 56, tzinfo=timezone.utc)
    assert json.loads(rows[0]["attrs"]) == {"mood": "good"}
    assert rows[1]["kind"] == "observation" and json.loads(rows[1]["attrs"]) == {"temp": 21.5}


def test_arrow_and_parquet_inputs(local_lake, tmp_path) -> None:
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(_events(20))
    assert local_lake.ingest(table).accepted == 20
    pq.write_table(pa.Table.from_pylist(_events(10, start=20)), tmp_path / "e.parquet")
    assert local_lake.ingest(str(tmp_path / "e.parquet")).accepted == 10
    ts_table = pa.table({"tenant": ["t9"], "occurred_at": pa.array([datetime(2023, 1, 1)], pa.timestamp("ms")),
                         "text": ["naive arrow timestamps are UTC"]})
    assert local_lake.ingest(ts_table).accepted == 1
    bad = pa.table({"tenant": ["t9", None], "occurred_at": [1, 2], "text": ["ok", "no tenant"]})
    res = local_lake.ingest(bad)
    assert res.accepted == 1 and res.rejected == [(1, "missing required field 'tenant'")]


def test_time_travel_over_versions(local_lake) -> None:
    local_lake.ingest(_events(5))
    v1 = local_lake.store.versions("events")[-1].version
    local_lake.ingest(_events(5, start=5))
    assert local_lake.store.read("events", version=v1).num_rows == 5
    assert local_lake.store.read("events").num_rows == 10
    assert [v.version for v in local_lake.store.versions("events")][-2:] == [v1, v1 + 1]


def test_opening_a_lake_of_another_schema_version_says_why(tmp_path) -> None:
    import lance

    from tracelake import schemas

    uri = tmp_path / "old"
    uri.mkdir()
    schema = schemas.schema_for("events")
    old = schema.with_metadata({**schema.metadata, schemas.META_VERSION: b"0"})
    lance.write_dataset(old.empty_table(), str(uri / "events.lance"), schema=old)
    with pytest.raises(SchemaVersionError, match="schema version 0") as info:
        tracelake.connect(str(uri), embedder="hash")
    assert "events" in str(info.value)
