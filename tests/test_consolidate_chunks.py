"""Decomposition chunks: whole streams per task, enough tasks for the cores, same bytes however a run is cut."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

import pyarrow as pa
import pytest

import tracelake
from tracelake.errors import ConfigError
from tracelake.pipelines.decomposition import plan_chunks, target_weight, weights

NOW = datetime(2023, 10, 1, tzinfo=timezone.utc)
SAMPLE = str(resources.files("tracelake").joinpath("samples/demo.jsonl"))
#: One stream whose references reach across events ("She" is Ines, then Priya; "there" is Lyon; "He" is Karl).
DIARY = ["My sister Ines lives in Porto and works at Nordwind Energy.", "She visited me last weekend.",
         "She said her manager is Priya Raman.", "I moved to Lyon in March.", "The rent there is 1,200 a month.",
         "She is thinking of moving to Lyon too.", "My sister's husband Karl works at a bakery in Porto.",
         "He bakes bread every morning.", "Ines started a new job at Lumen Labs in June.", "She loves it there."]


def _events(tenant: str, streams: dict[str, int], text: str = "x" * 60) -> pa.Table:
    """Events of one tenant in event order; ``streams``: stream -> number of events (interleaved in time)."""
    rows = []
    left = dict(streams)
    i = 0
    while any(left.values()):
        for s in streams:
            if left[s]:
                rows.append({"tenant": tenant, "event_id": f"e{i:04d}", "stream": s, "text": text})
                left[s] -= 1
                i += 1
    return pa.Table.from_pylist(rows)


def test_whole_streams_are_packed_into_at_least_as_many_chunks_as_cpus() -> None:
    events = _events("t", {f"s{k}": 10 for k in range(8)})
    target = target_weight(sum(weights(events)), 2)
    chunks = plan_chunks(events, target, 512)
    assert len(chunks) == 2 and all(c.stream is None for c in chunks)
    streams = events["stream"].to_pylist()
    owner = {streams[i]: n for n, c in enumerate(chunks) for i in c.rows}
    assert all(owner[streams[i]] == n for n, c in enumerate(chunks) for i in c.rows)  # no stream is split
    assert sorted(i for c in chunks for i in c.rows) == list(range(events.num_rows))
    assert [len(c.rows) for c in chunks] == [40, 40]
    assert all(c.rows == sorted(c.rows) for c in chunks)


def test_a_stream_heavier_than_a_chunk_is_cut_into_consecutive_segments() -> None:
    events = _events("t", {"long": 30, "a": 3, "b": 3})
    chunks = plan_chunks(events, target_weight(sum(weights(events)), 4), 512)
    segments = [c for c in chunks if c.stream == "long"]
    assert len(chunks) >= 4 and len(segments) >= 3
    assert [i for c in segments for i in c.rows] == [i for i, s in enumerate(events["stream"].to_pylist()) if s == "long"]
    assert {c.stream for c in chunks} == {"long", None}
    capped = plan_chunks(events, 10**9, 4)  # the event cap alone cuts too
    assert max(len(c.rows) for c in capped) <= 4
    with pytest.raises(ConfigError, match="consolidate_chunk_events"):
        plan_chunks(events, 1, 0)


def _diary() -> list[dict]:
    t0 = datetime(2023, 5, 1, 9, tzinfo=timezone.utc)
    out = [{"tenant": "maya", "stream": "diary", "actor": "Maya", "event_id": f"d{i:02d}", "text": text,
            "occurred_at": (t0 + timedelta(days=i)).isoformat().replace("+00:00", "Z")} for i, text in enumerate(DIARY)]
    out += [{"tenant": "maya", "stream": None, "actor": "Maya", "event_id": f"n{i}", "text": text,
             "occurred_at": (t0 + timedelta(days=i, hours=1)).isoformat().replace("+00:00", "Z")}
            for i, text in enumerate(["I adopted a cat named Miso.", "She sleeps on my desk."])]
    return out


def _state(lake: tracelake.Lake) -> dict[str, list[dict]]:
    """Every published row of the consolidated tables (all columns, vectors included), in key order."""
    return {t: lake.sql(f"select * from {t} order by {key}").to_pylist()
            for t, key in (("traces", "trace_id"), ("entities", "entity_id"), ("facts", "row_id"))}


def test_one_chunk_and_many_chunks_give_the_same_rows(tmp_path: Path, ray_local: None) -> None:
    states, tasks = [], []
    for name, options in (("one", {"consolidate_tasks": 1, "consolidate_chunk_events": 100_000}),
                          ("many", {"consolidate_tasks": 8, "consolidate_chunk_events": 2})):
        lake = tracelake.connect(str(tmp_path / name), embedder="hash", **options)
        try:
            lake.ingest(SAMPLE)
            lake.ingest(_diary())
            report = lake.consolidate(now=NOW)
            assert report.status == "committed"
            tasks.append((report.steps["decompose"]["tasks"], report.steps["decompose"]["chained_tasks"]))
            states.append(_state(lake))
        finally:
            lake.close()
    assert tasks[0] == (3, 0)  # one task per tenant ...
    assert tasks[1][0] > 10 and tasks[1][1] > 0  # ... versus streams packed and cut into chained 2-event segments
    one, many = states
    assert {t: len(rows) for t, rows in one.items()} == {t: len(rows) for t, rows in many.items()}
    for table in one:
        assert one[table] == many[table], table
    # A reference read across a cut: "She is thinking of moving to Lyon too" (d05) is Priya, named in d02.
    assert any(f["subject"] == "Priya Raman" and f["source_event_ids"] == ["d05"] for f in many["facts"])


def test_a_one_megabyte_event_is_consolidated_whole_with_its_cut_recorded(local_lake) -> None:
    """Bad input: 1 MB of text is consolidated in bounded work, never dropped; the cut is published."""
    from tracelake.operators.decompose import MAX_ANALYSED_CHARS, MAX_UNITS

    sentence = "I moved to Berlin last year and my friend Alice helped me. "
    text = (sentence * (1_000_000 // len(sentence) + 1))[:1_000_000].strip()
    assert local_lake.ingest([{"tenant": "bad", "event_id": "mb", "actor": "Ann", "text": text,
                               "occurred_at": "2023-05-08T13:56:00Z"}]).accepted == 1
    assert local_lake.consolidate(now=NOW).status == "committed"
    rows = local_lake.sql("select analysed_chars, length(text) as chars from traces where tenant = 'bad'").to_pylist()
    assert 2 <= len(rows) <= MAX_UNITS + 1
    assert [r for r in rows if r["analysed_chars"] is not None] == [{"analysed_chars": MAX_ANALYSED_CHARS,
                                                                     "chars": len(text)}]
