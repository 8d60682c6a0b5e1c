"""Hybrid search: evidence ids, signals, exclusions, determinism, index and fallback paths."""

from __future__ import annotations

import pytest

from tests.query.builders import build, entity, publish, trace, write_traces
from tests.query.story import EVENT_TIMES, T1, ts
from tracelake.results import Hit
from tracelake.query.retrieval import SearchTrace


def test_hits_carry_evidence(story_lake) -> None:
    hits = story_lake.search("Melanie painted a sunrise", T1, k=3)
    assert isinstance(hits[0], Hit)
    assert hits[0].trace_id == "tr-m1"
    assert hits[0].source_event_ids == ("m1", "m3")
    assert set(hits[0].matched) >= {"vector", "text", "entity"}
    d = hits[0].to_dict()
    assert d["occurred_at"] == "2023-05-08T13:56:00Z" and d["source_event_ids"] == ["m1", "m3"]
    for key in ("trace_id", "score", "text", "kind", "tenant", "stream", "occurred_at", "valid_from", "valid_to",
                "source_event_ids", "actor", "entities", "time_start", "time_end"):
        assert key in d
    scores = [h.score for h in story_lake.search("Melanie painted a sunrise", T1, k=10)]
    assert scores == sorted(scores, reverse=True)


def test_as_of_filters_and_trims(story_lake) -> None:
    hits = story_lake.search("Melanie painted a sunrise", T1, as_of="2023-06-01T00:00:00Z", k=10)
    ids = {h.trace_id: h for h in hits}
    assert "tr-m1" in ids and ids["tr-m1"].source_event_ids == ("m1",)
    assert "tr-c3" not in ids  # occurred 06-20
    for h in hits:
        assert h.occurred_at <= ts("2023-06-01T00:00:00Z")
        assert all(EVENT_TIMES[e] <= ts("2023-06-01T00:00:00Z") for e in h.source_event_ids)


def test_archived_and_merged_excluded_by_default(story_lake) -> None:
    ids = [h.trace_id for h in story_lake.search("forgotten painting of a boat", T1, k=20)]
    assert "tr-old" not in ids and "tr-m3" not in ids
    ids = [h.trace_id for h in story_lake._query.search("forgotten painting of a boat", T1, k=20,
                                                         include_archived=True)]
    assert ids[0] == "tr-old"


def test_entity_alias_and_time_signals(story_lake) -> None:
    info = SearchTrace()
    hits = story_lake._query.search("where was Caro in March 2023?", T1, k=5, explain=info)
    assert info.entities == ["Caroline"]
    assert [(s.start, s.end) for s in info.spans] == [(ts("2023-03-01T00:00:00Z"), ts("2023-04-01T00:00:00Z"))]
    assert hits[0].trace_id == "tr-c2"
    assert set(hits[0].matched) >= {"entity", "time"}
    # relative expressions resolve against as_of: "last month" as of 2023-06-25 is June... of the mention
    info = SearchTrace()
    hits = story_lake._query.search("what did Caroline do this month", T1, as_of="2023-06-25T00:00:00Z", k=3,
                                    explain=info)
    assert hits[0].trace_id == "tr-c3" and "time" in hits[0].matched


def test_deterministic(story_lake) -> None:
    a = [h.to_dict() for h in story_lake.search("Caroline moved", T1, k=10)]
    b = [h.to_dict() for h in story_lake.search("Caroline moved", T1, k=10)]
    assert a == b


def test_empty_and_unknown(story_lake) -> None:
    assert story_lake.search("", T1) == []
    assert story_lake.search("Caroline", "nobody-here") == []


def test_index_paths_match_fallbacks(qlake) -> None:
    """Tenant-local BM25, FTS index and keyword BM25; IVF_PQ with prefilter vs exact flat search: same top hit."""
    from tracelake.query.retrieval import SearchConfig

    words = ["river", "piano", "garden", "coffee", "mountain", "novel", "violin", "harbor", "bakery", "chess"]
    rows = [trace("a" if i % 2 else "b", f"t{i:03d}", f"{words[i % 10]} {words[(i * 3) % 10]} note {i}",
                  f"2023-01-01T{i // 60 % 24:02d}:{i % 60:02d}:00Z", entities=[f"P{i % 7}"]) for i in range(300)]
    rows.append(trace("a", "target", "the lighthouse keeper plays the violin at dawn", "2023-02-01T00:00:00Z"))
    build(qlake, traces=rows, entities=[entity("a", "P1", "2023-01-01T00:00:00Z")])
    q = "lighthouse keeper violin"
    info = SearchTrace()
    top = qlake._query.search(q, "a", k=3, explain=info)
    assert info.plan == {"vector": "flat", "text": "local_bm25"} and top[0].trace_id == "target"
    qlake._query.retriever = type(qlake._query.retriever)(SearchConfig(local_text_max_rows=0))
    info = SearchTrace()
    top = qlake._query.search(q, "a", k=3, explain=info)
    assert info.plan == {"vector": "flat", "text": "keywords_bm25"} and top[0].trace_id == "target"
    ds = qlake.store.dataset("traces")
    ds.create_scalar_index("text", "INVERTED", with_position=False)
    ds = qlake.store.dataset("traces")
    ds.create_index("embedding", index_type="IVF_PQ", metric="cosine", num_partitions=2, num_sub_vectors=16)
    publish(qlake)
    qlake._query.retriever = type(qlake._query.retriever)(SearchConfig(flat_search_max_bytes=0,
                                                                       local_text_max_rows=0))
    info = SearchTrace()
    top = qlake._query.search(q, "a", k=3, explain=info)
    assert info.plan == {"vector": "ivf_pq", "text": "fts"}
    assert top[0].trace_id == "target" and all(h.tenant == "a" for h in top)
    # rows appended after the index build are still found (Lance searches unindexed fragments exactly)
    write_traces(qlake, [trace("a", "late", "a brand new lighthouse keeper violin story", "2023-03-01T00:00:00Z")])
    publish(qlake)
    ids = [h.trace_id for h in qlake.search(q, "a", k=3)]
    assert "late" in ids and "target" in ids


def test_unpublished_rows_are_invisible(qlake) -> None:
    build(qlake, traces=[trace("a", "one", "a quiet morning by the river", "2023-01-01T00:00:00Z")])
    write_traces(qlake, [trace("a", "two", "a quiet evening by the river", "2023-01-02T00:00:00Z")])
    assert [h.trace_id for h in qlake.search("quiet river", "a")] == ["one"]
    assert qlake.sql("select count(*) as n from traces")["n"][0].as_py() == 1
    publish(qlake)
    assert sorted(h.trace_id for h in qlake.search("quiet river", "a")) == ["one", "two"]
    assert qlake.sql("select count(*) as n from traces")["n"][0].as_py() == 2


@pytest.mark.parametrize("k", [0, -1, 1001, "3", True])
def test_bad_k(story_lake, k) -> None:
    from tracelake.errors import ValidationError

    with pytest.raises(ValidationError):
        story_lake.search("Caroline", T1, k=k)


def test_reconstruct_episode_context(qlake) -> None:
    rows = [trace("a", f"c{i}", text, f"2023-03-01T10:{i * 5:02d}:00Z", stream="call")
            for i, text in enumerate(["hello there", "we talked about the new violin teacher", "lunch plans",
                                      "the weather is grey", "bye for now"])]
    rows.append(trace("a", "other", "a different chat", "2023-03-01T10:07:00Z", stream="elsewhere"))
    build(qlake, traces=rows)
    bundle = qlake.reconstruct("violin teacher", "a", as_of="2023-03-01T10:16:00Z", k=1)
    assert [h.trace_id for h in bundle.hits] == ["c1"]
    (episode,) = bundle.episodes
    assert episode.stream == "call"
    assert [r["trace_id"] for r in episode.context] == ["c0", "c2", "c3"]  # c4 (10:20) is after as_of
    assert "c4" not in bundle.source_event_ids() and "ev-c4" not in bundle.source_event_ids()


def test_one_hit_per_event_and_context_window(qlake) -> None:
    from tracelake.ids import stable_id

    whole = stable_id("a", "e1", "episodic", 0)
    texts = ["hello there", "did you find a teacher?", "yes. the violin teacher is great", "lunch plans",
             "the weather is grey", "bye for now"]
    rows = [trace("a", f"c{i}", text, f"2023-03-01T10:{i * 5:02d}:00Z", stream="call",
                  sources=[(f"e{i}", f"2023-03-01T10:{i * 5:02d}:00Z")])
            for i, text in enumerate(texts) if i != 2]
    at = "2023-03-01T10:10:00Z"
    rows += [trace("a", stable_id("a", "e2", "episodic", 0), texts[2], at, stream="call", sources=[("e2", at)]),
             trace("a", "unit", "the violin teacher is great", at, stream="call", sources=[("e2", at)]),
             trace("a", "other", "a violin in a different chat", "2023-03-01T10:07:00Z", stream="elsewhere")]
    build(qlake, traces=rows)
    hits = qlake.search("violin teacher", "a", as_of="2023-03-01T10:21:00Z", k=10)
    events = [h.source_event_ids[0] for h in hits]
    assert len(events) == len(set(events))  # one hit per source event
    top = next(h for h in hits if h.source_event_ids == ("e2",))
    assert top.trace_id == stable_id("a", "e2", "episodic", 0) and top.context == ()  # whole-event trace
    assert whole != top.trace_id
    hits = qlake.search("violin teacher", "a", as_of="2023-03-01T10:21:00Z", k=10, context_turns=2)
    top = next(h for h in hits if h.source_event_ids == ("e2",))
    assert top.context_event_ids == ("e0", "e1", "e3", "e4")  # same stream only; e5 (10:25) is after as_of
    assert top.context == ("hello there", "did you find a teacher?", "lunch plans", "the weather is grey")
    assert top.to_dict()["context_event_ids"] == ["e0", "e1", "e3", "e4"]
    assert top.source_event_ids == ("e2",)
    hits = qlake.search("violin teacher", "a", as_of="2023-03-01T10:16:00Z", k=10, context_turns=1)
    top = next(h for h in hits if h.source_event_ids == ("e2",))
    assert top.context_event_ids == ("e1", "e3")


def _hit(event: str, score: float, stream: str | None) -> Hit:
    from datetime import datetime, timezone

    return Hit(trace_id=f"t-{event}", score=score, text=event, kind="episodic", tenant="a", stream=stream,
               occurred_at=datetime(2023, 3, 1, tzinfo=timezone.utc), valid_from=None, valid_to=None,
               source_event_ids=(event,))


def test_diversify_decays_repeated_streams() -> None:
    from tracelake.query.fusion import diversify as _diversify

    hits = [_hit("a1", 1.0, "a"), _hit("a2", 0.95, "a"), _hit("a3", 0.9, "a"), _hit("b1", 0.8, "b"),
            _hit("n1", 0.7, None)]
    picked = _diversify(hits, 4, 0.85, None)
    # a2: 0.95 * 0.85 = 0.8075 > b1 0.8; a3: 0.9 * 0.85^2 = 0.65 < n1 0.7 (no stream: never decayed)
    assert [h.source_event_ids[0] for h in picked] == ["a1", "a2", "b1", "n1"]
    assert [h.score for h in picked] == sorted((h.score for h in picked), reverse=True)
    assert picked[1].score == pytest.approx(0.95 * 0.85)
    assert [h.source_event_ids[0] for h in _diversify(hits, 4, 1.0, None)] == ["a1", "a2", "a3", "b1"]
    assert _diversify(hits, 2, 1.0, None) == hits[:2]  # off: the list as ranked, scores unchanged


def test_diversify_returns_each_event_once_with_windows() -> None:
    from tracelake.query.fusion import diversify as _diversify

    hits = [_hit("a5", 1.0, "a"), _hit("a6", 0.9, "a"), _hit("a9", 0.8, "a"), _hit("b1", 0.5, "b")]
    windows = [([("a4", "four")], [("a6", "six")]),
               ([("a5", "five")], [("a7", "seven")]),
               ([("a8", "eight")], [("a10", "ten")]),
               ([], [("b2", "b two")])]
    picked = _diversify(hits, 3, 1.0, windows)
    assert [h.source_event_ids[0] for h in picked] == ["a5", "a9", "b1"]  # a6 is in a5's window
    assert picked[0].context_event_ids == ("a4", "a6") and picked[0].context == ("four", "six")
    assert picked[1].context_event_ids == ("a8", "a10")
    shown = [e for h in picked for e in (*h.source_event_ids, *h.context_event_ids)]
    assert len(shown) == len(set(shown))


def test_context_windows_never_repeat_an_event(qlake) -> None:
    texts = ["the violin lesson", "violin practice again", "a violin concert", "violin strings", "lunch",
             "violin teacher"]
    rows = [trace("a", f"c{i}", text, f"2023-03-01T10:{i * 5:02d}:00Z", stream="call",
                  sources=[(f"e{i}", f"2023-03-01T10:{i * 5:02d}:00Z")]) for i, text in enumerate(texts)]
    rows.append(trace("a", "o0", "violin shop", "2023-03-02T10:00:00Z", stream="other",
                      sources=[("o0", "2023-03-02T10:00:00Z")]))
    build(qlake, traces=rows)
    hits = qlake.search("violin", "a", k=10, context_turns=1)
    shown = [e for h in hits for e in (*h.source_event_ids, *h.context_event_ids)]
    assert len(shown) == len(set(shown))
    assert set(shown) == {f"e{i}" for i in range(6)} | {"o0"}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert "o0" in {h.source_event_ids[0] for h in hits}
