from __future__ import annotations

import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from tracelake.operators import (
    decompose,
    extract_facts,
    extract_mentions,
    merge_facts,
    merge_traces,
    resolve_entities,
    resolve_time_expressions,
)
from tracelake.operators.decompose import MAX_ANALYSED_CHARS, MAX_UNITS
from tracelake.operators.text import split_units
from tracelake.schemas import ENTITIES, FACTS

from tests.operators.conftest import ANCHOR, NOW, make_events, ts

WEIRD = [
    "",
    "   \n\t  ",
    "\x00\x01\x02 I moved to Berlin\u200b. \ufeff",
    "🎉🎉🎉 I ❤️ Zürich and São Paulo!!! 😀",
    "ÉMILE ZOLA était à Paris. I’m from Montréal.",
    "$$$ 195k $ $1,2,3 in 0 days 99999 years ago on 99 May",
    "I I I I I my my me me",
    "a" * 5000,
    "Mr. Dr. St. e.g. i.e. ... ?!?! ..",
    "\ud800 lone surrogate",
]


def test_text_operators_survive_weird_input() -> None:
    for text in WEIRD:
        resolve_time_expressions(text, ANCHOR)
        extract_mentions(text, "Caroline")
        extract_facts(text, "Caroline")
        split_units(text)


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=300))
def test_text_operators_never_raise(text: str) -> None:
    for span in resolve_time_expressions(text, ANCHOR):
        assert span.start < span.end
    for m in extract_mentions(text, "S"):
        assert 0 <= m.start < m.end <= len(text)
    extract_facts(text, "S")


def test_decompose_weird_and_huge(hash_embedder) -> None:
    """A ~200 KB event and a 10,000-sentence one decompose in bounded work: only their first
    ``MAX_ANALYSED_CHARS`` are analysed, at most ``MAX_UNITS`` unit traces each, the whole text is kept in the
    event's trace and ``analysed_chars`` records the cut; nothing is dropped."""
    huge = "I moved to Berlin last year and my friend Sarah works at Google. " * 3000  # ~200 KB
    many = "I like tea. " * 10_000
    arrow_ok = [t for t in WEIRD if "\ud800" not in t]  # Arrow strings are valid UTF-8: no lone surrogates
    rows = [{"event_id": f"w{i}", "text": t} for i, t in enumerate(arrow_ok)]
    rows += [{"event_id": "huge", "text": huge}, {"event_id": "many", "text": many}]
    d = decompose(make_events(rows), embedder=hash_embedder, now=NOW, stability_days=30.0)
    for event_id, text in (("huge", huge), ("many", many)):
        own = d.traces.filter(pc.equal(d.traces.column("source_event_ids").combine_chunks().flatten(), event_id))
        assert 2 <= own.num_rows <= MAX_UNITS + 1
        whole = own.filter(pc.is_valid(own.column("analysed_chars")))
        assert whole.column("text").to_pylist() == [text.strip()]  # kept in full
        assert whole.column("analysed_chars").to_pylist() == [MAX_ANALYSED_CHARS]
    assert pc.sum(pc.is_valid(d.traces.column("analysed_chars"))).as_py() == 2  # only the two long events are cut
    units = d.traces.filter(pc.equal(d.traces.column("kind"), "episodic"))
    assert max(len(t.split()) for t in units.column("text").to_pylist() if len(t) < 10_000) <= 60


def test_pipeline_end_to_end_idempotent(hash_embedder) -> None:
    """decompose -> entities -> facts -> traces, twice over the same events: the second pass writes nothing."""
    ev = make_events(
        [
            {"event_id": "e1", "text": "I live in Berlin. My friend David Chen works at Google.", "occurred_at": ts(2023, 5, 1)},
            {"event_id": "e2", "text": "I moved to Paris! David says hi.", "occurred_at": ts(2023, 5, 10)},
            {"event_id": "e3", "text": "I live in Berlin.", "occurred_at": ts(2023, 5, 1), "tenant": "other"},
        ]
    )
    d = decompose(ev, embedder=hash_embedder, now=NOW, stability_days=30.0)
    ents = resolve_entities(ENTITIES.empty_table(), d.mentions, NOW)
    assert ents.canonical[("t1", "david")] == "David Chen"
    facts = merge_facts(FACTS.empty_table(), d.facts, ents.canonical, NOW, 2.0)
    lives = {(r["tenant"], r["object"]): r for r in facts.inserts.to_pylist() if r["predicate"] == "lives_in"}
    assert lives[("t1", "Berlin")]["valid_to"] == ts(2023, 5, 10) and lives[("t1", "Paris")]["valid_to"] is None
    assert lives[("other", "Berlin")]["valid_to"] is None
    traces = merge_traces(d.traces.schema.empty_table(), d.traces).upserts
    assert set(traces.column("trace_id").to_pylist()) == set(d.traces.column("trace_id").to_pylist())

    d2 = decompose(ev, embedder=hash_embedder, now=NOW, stability_days=30.0)
    assert d2.traces.equals(d.traces)
    assert resolve_entities(ents.entities, d2.mentions, NOW).entities.num_rows == 0
    again = merge_facts(facts.inserts, d2.facts, ents.canonical, NOW, 2.0)
    assert again.inserts.num_rows == 0 and again.retract_row_ids == []
    assert merge_traces(traces, d2.traces).upserts.num_rows == 0
