from __future__ import annotations

import pyarrow as pa
import pytest

from tracelake.ids import stable_id
from tracelake.operators.decompose import FACT_CANDIDATES, MENTIONS, decompose
from tracelake.schemas import schema_for, traces_schema

from tests.operators.conftest import ANCHOR, NOW, make_events, ts

TEXT = "My friend Sarah works at Google. I moved to Berlin last year! Yesterday I adopted a dog named Max."


def run(events: pa.Table, embedder) -> object:
    return decompose(events, embedder=embedder, now=NOW, stability_days=30.0)


@pytest.fixture()
def events() -> pa.Table:
    return make_events(
        [
            {"event_id": "e1", "text": TEXT},
            {"event_id": "e2", "text": "", "attrs": '{"pinned": true, "note": "remember the blue door"}', "actor": "Melanie"},
            {"event_id": "e3", "text": None, "attrs": None},
            {"event_id": "e4", "text": "Short one.", "tenant": "t2", "occurred_at": ts(2023, 5, 9)},
        ]
    )


def test_schema_exact(events: pa.Table, hash_embedder, static_embedder) -> None:
    for emb in (hash_embedder, static_embedder):
        d = run(events, emb)
        assert d.traces.schema.equals(traces_schema(emb.dim), check_metadata=False)
        assert d.traces.schema.equals(schema_for("traces", emb.dim), check_metadata=False)
        assert d.mentions.schema.equals(MENTIONS) and d.facts.schema.equals(FACT_CANDIDATES)


def test_traces_content(events: pa.Table, hash_embedder) -> None:
    d = run(events, hash_embedder)
    rows = d.traces.to_pylist()
    e1 = [r for r in rows if r["source_event_ids"] == ["e1"]]
    episodic = [r for r in e1 if r["kind"] == "episodic"]
    assert [r["text"] for r in episodic] == [
        TEXT,
        "My friend Sarah works at Google.",
        "I moved to Berlin last year!",
        "Yesterday I adopted a dog named Max.",
    ]
    whole, u1, u2, u3 = episodic
    assert whole["trace_id"] == stable_id("t1", "e1", "episodic", 0)
    assert whole["entities"] == ["Caroline", "Sarah", "Google", "Berlin", "Max"]
    assert u2["time_start"] == ts(2022, 1, 1) and u2["time_end"] == ts(2023, 1, 1)
    assert u3["keywords"][0] == "2023-05-07" and "adopted" in u3["keywords"]
    assert u1["time_start"] is None
    assert all(r["kind"] == "episodic" for r in rows)  # facts live in the facts table, not as traces
    assert [r["speech_act"] for r in episodic] == ["statement"] * 4
    facts = sorted((f["subject"], f["predicate"], f["object"]) for f in d.facts.to_pylist() if f["source_event_id"] == "e1")
    assert facts == [("Caroline", "friend", "Sarah"), ("Caroline", "has_pet", "dog"), ("Caroline", "lives_in", "Berlin"),
                     ("Caroline", "pet_name", "Max"), ("Sarah", "works_at", "Google")]
    for r in rows:
        assert r["occurred_at"] == r["last_source_at"] == r["valid_from"] == r["last_reinforced_at"]
        assert r["source_times"] == [r["occurred_at"]] and len(r["source_event_ids"]) == 1
        assert r["merged_from"] == [] and r["merged_into"] is None and r["valid_to"] is None
        assert r["recorded_at"] == r["updated_at"] == NOW
        assert r["stability"] == 30.0 and r["strength"] == 1.0 and r["reinforcement_count"] == 1
        assert r["archived"] is False and len(r["keywords"]) <= 16
    pinned = [r for r in rows if r["source_event_ids"] == ["e2"]]
    assert len(pinned) == 1 and pinned[0]["pinned"] is True and "blue door" in pinned[0]["text"]
    assert not any(r["source_event_ids"] == ["e3"] for r in rows)  # no content, no trace


def test_single_unit_event_has_one_episodic_trace(events: pa.Table, hash_embedder) -> None:
    rows = run(events, hash_embedder).traces.to_pylist()
    e4 = [r for r in rows if r["source_event_ids"] == ["e4"]]
    assert [(r["kind"], r["tenant"], r["text"]) for r in e4] == [("episodic", "t2", "Short one.")]


def test_units_are_embedded_and_the_whole_turn_pools_them(events: pa.Table, static_embedder) -> None:
    import numpy as np

    seen: list[str] = []

    class Recording:
        name, dim = static_embedder.name, static_embedder.dim

        def embed(self, texts: list[str]) -> np.ndarray:
            seen.extend(texts)
            return static_embedder.embed(texts)

    rows = run(events, Recording()).traces.to_pylist()
    vec = {r["text"]: np.asarray(r["embedding"]) for r in rows}
    units = ["My friend Sarah works at Google.", "I moved to Berlin last year!", "Yesterday I adopted a dog named Max."]
    assert f"Caroline: {TEXT}" not in seen and all(f"Caroline: {u}" in seen for u in units)
    assert "Caroline: Short one." in seen  # one unit: the whole text is embedded
    mean = np.mean([vec[u] for u in units], axis=0)
    assert np.allclose(vec[TEXT], mean / np.linalg.norm(mean), atol=1e-6)
    assert np.allclose(vec["Short one."], static_embedder.embed(["Caroline: Short one."])[0], atol=1e-6)


def test_facts_valid_from(events: pa.Table, hash_embedder) -> None:
    facts = {(f["subject"], f["predicate"], f["object"]): f for f in run(events, hash_embedder).facts.to_pylist()}
    assert facts[("Caroline", "lives_in", "Berlin")]["valid_from"] == ts(2022, 1, 1)
    assert facts[("Caroline", "pet_name", "Max")]["valid_from"] == ts(2023, 5, 7)
    works = facts[("Sarah", "works_at", "Google")]
    assert works["valid_from"] == works["occurred_at"] == ANCHOR
    assert works["source_event_id"] == "e1" and works["statement"] == "My friend Sarah works at Google."


def test_mentions(events: pa.Table, hash_embedder) -> None:
    m = run(events, hash_embedder).mentions.to_pylist()
    e1 = [(r["name"], r["kind"]) for r in m if r["event_id"] == "e1"]
    assert ("Sarah", "person") in e1 and ("Google", "org") in e1 and ("Berlin", "place") in e1
    assert e1.count(("Caroline", "person")) == 3  # My, I, I


def test_deterministic_and_order_independent(events: pa.Table, hash_embedder) -> None:
    a = run(events, hash_embedder)
    b = run(events.take(pa.array([3, 1, 0, 2])), hash_embedder)
    for x, y in ((a.traces, b.traces), (a.mentions, b.mentions), (a.facts, b.facts)):
        assert x.equals(y)


def test_tenants_never_mix(hash_embedder) -> None:
    ev = make_events([{"event_id": "e1", "text": "I love jazz.", "tenant": "a"}, {"event_id": "e1", "text": "I love jazz.", "tenant": "b"}])
    d = run(ev, hash_embedder)
    ids = d.traces.column("trace_id").to_pylist()
    assert len(set(ids)) == len(ids)
    assert sorted(d.facts.column("tenant").to_pylist()) == ["a", "b"]


def test_duplicate_event_ids_deduplicated(hash_embedder) -> None:
    ev = make_events([{"event_id": "e1", "text": "Hello world."}, {"event_id": "e1", "text": "Hello world."}])
    assert run(ev, hash_embedder).traces.num_rows == 1


def test_empty_input(hash_embedder) -> None:
    d = run(make_events([]), hash_embedder)
    assert d.traces.num_rows == d.mentions.num_rows == d.facts.num_rows == 0
    assert d.traces.schema.equals(traces_schema(hash_embedder.dim), check_metadata=False)


def test_missing_required_column(hash_embedder) -> None:
    from tracelake.errors import ValidationError

    with pytest.raises(ValidationError):
        run(pa.table({"tenant": ["t"], "text": ["hi"]}), hash_embedder)
