from __future__ import annotations

import pyarrow as pa

from tracelake.operators.decompose import decompose
from tracelake.operators.merge import merge_traces
from tracelake.schemas import traces_schema

from tests.operators.conftest import NOW, make_events, ts


def traces(hash_embedder, rows: list[dict]) -> pa.Table:
    return decompose(make_events(rows), embedder=hash_embedder, now=NOW, stability_days=30.0).traces


def episodic(t: pa.Table) -> pa.Table:
    return t.filter(pa.compute.equal(t.column("kind"), "episodic"))


def test_duplicate_converges_into_earlier(hash_embedder) -> None:
    old = episodic(traces(hash_embedder, [{"event_id": "e1", "text": "We went hiking near the lake.", "occurred_at": ts(2023, 5, 1)}]))
    new = episodic(traces(hash_embedder, [{"event_id": "e2", "text": "we went hiking near the lake!", "occurred_at": ts(2023, 5, 5)}]))
    m = merge_traces(old, new, 0.95, stability_growth=2.0)
    assert m.upserts.schema.equals(traces_schema(hash_embedder.dim), check_metadata=False)
    rows = {r["source_event_ids"][0] if r["merged_into"] else "survivor": r for r in m.upserts.to_pylist()}
    surv, gone = rows["survivor"], rows["e2"]
    assert surv["trace_id"] == old.column("trace_id")[0].as_py() and gone["merged_into"] == surv["trace_id"]
    assert surv["source_event_ids"] == ["e1", "e2"] and surv["source_times"] == [ts(2023, 5, 1), ts(2023, 5, 5)]
    assert surv["merged_from"] == [gone["trace_id"]] and surv["reinforcement_count"] == 2 and surv["stability"] == 60.0
    assert surv["last_reinforced_at"] == surv["last_source_at"] == ts(2023, 5, 5) and surv["occurred_at"] == ts(2023, 5, 1)
    assert gone["text"] == "we went hiking near the lake!"  # absorbed trace kept intact
    # idempotent: the same batch again writes nothing
    assert merge_traces(m.upserts, new).upserts.num_rows == 0  # upserts hold every row: old (updated) and new


def test_late_earlier_trace_survives(hash_embedder) -> None:
    old = episodic(traces(hash_embedder, [{"event_id": "e2", "text": "Dinner with Sarah at Luigi's.", "occurred_at": ts(2023, 5, 9)}]))
    new = episodic(traces(hash_embedder, [{"event_id": "e1", "text": "Dinner with Sarah at Luigi's.", "occurred_at": ts(2023, 5, 2)}]))
    rows = merge_traces(old, new).upserts.to_pylist()
    surv = [r for r in rows if r["merged_into"] is None]
    assert len(rows) == 2 and len(surv) == 1 and surv[0]["source_event_ids"] == ["e1", "e2"]
    assert surv[0]["trace_id"] == new.column("trace_id")[0].as_py()


def test_different_texts_tenants_kinds_stay_apart(hash_embedder) -> None:
    a = traces(hash_embedder, [{"event_id": "e1", "text": "I love jazz.", "tenant": "a"}])
    b = traces(hash_embedder, [{"event_id": "e1", "text": "I love jazz.", "tenant": "b"}, {"event_id": "e2", "text": "The cat sat on the mat.", "tenant": "a"}])
    rows = merge_traces(a, b).upserts.to_pylist()
    assert all(r["merged_into"] is None for r in rows) and len(rows) == b.num_rows


def test_within_batch_chain(hash_embedder) -> None:
    new = episodic(traces(hash_embedder, [{"event_id": f"e{i}", "text": "Morning run by the river.", "occurred_at": ts(2023, 5, i)} for i in (3, 1, 2)]))
    rows = merge_traces(new.schema.empty_table(), new).upserts.to_pylist()
    surv = [r for r in rows if r["merged_into"] is None]
    assert len(surv) == 1 and surv[0]["source_event_ids"] == ["e1", "e2", "e3"] and surv[0]["reinforcement_count"] == 3
    assert sorted(surv[0]["merged_from"]) == sorted(r["trace_id"] for r in rows if r["merged_into"])


def test_deterministic(hash_embedder) -> None:
    new = episodic(traces(hash_embedder, [{"event_id": f"e{i}", "text": t, "occurred_at": ts(2023, 5, i + 1)} for i, t in enumerate(["a b c d", "a b c d", "x y z", "x y z w"])]))
    a = merge_traces(new.schema.empty_table(), new).upserts
    b = merge_traces(new.schema.empty_table(), new.take(pa.array([3, 1, 2, 0]))).upserts
    assert a.sort_by("trace_id").equals(b.sort_by("trace_id"))


def test_parts_of_one_event_never_converge(hash_embedder) -> None:
    """An event's whole-text trace and its unit traces are its parts: even with one vector they stay apart,
    while the same text from another event still converges."""
    text = "Hi there, friend! I moved to Porto and my manager is Priya Raman now."
    new = episodic(traces(hash_embedder, [{"event_id": "e1", "text": text, "occurred_at": ts(2023, 5, 1)},
                                          {"event_id": "e2", "text": text, "occurred_at": ts(2023, 5, 2)}]))
    one_vector = pa.array([new.column("embedding")[0].as_py()] * new.num_rows, new.schema.field("embedding").type)
    new = new.set_column(new.schema.get_field_index("embedding"), "embedding", one_vector)
    rows = merge_traces(None, new).upserts.to_pylist()
    e1 = [r for r in rows if r["source_event_ids"][0] == "e1"]
    assert len(e1) >= 3 and all(r["merged_into"] is None for r in e1)  # whole text + units of e1 stay roots
    e2 = [r for r in rows if r["source_event_ids"][0] == "e2"]
    assert e2 and all(r["merged_into"] is not None for r in e2)  # e2 restates e1: every part converges
