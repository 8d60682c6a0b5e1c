"""The per-event fact budget (operators/selection.py): pure function on candidates, plus one long real turn."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tracelake.operators.extract import MAX_FACTS_PER_EVENT, EventText, Fact, ParseDecomposer
from tracelake.operators.selection import Candidate, select_facts, worth


def fact(obj: str, subject: str = "Maya", predicate: str = "do", start: int = 0) -> Fact:
    return Fact(subject, predicate, obj, "text", None, obj, start, start + len(obj))


def cand(obj: str, *, typed: bool = False, predicate: str = "do", start: int = 0) -> Candidate:
    return Candidate(fact(obj, predicate=predicate, start=start), typed)


def objects(facts: list[Fact]) -> list[str]:
    return [f.object for f in facts]


def test_under_the_limit_everything_stays_in_text_order_without_duplicates() -> None:
    cs = [cand("the night shift"), cand("a new flat"), cand("The night shift"), cand("a cat")]
    assert objects(select_facts(cs, 12)) == ["the night shift", "a new flat", "a cat"]


def test_duplicates_differ_by_stance() -> None:
    neg = Candidate(Fact("Maya", "do", "a cat", "text", None, "", 0, 5, polarity="negative"), False)
    assert len(select_facts([cand("a cat"), neg], 12)) == 2


def test_over_the_limit_typed_facts_come_first_then_what_says_most() -> None:
    cs = [cand("it"), cand("a long walk along the river to the old mill"), cand("Acme", typed=True,
                                                                           predicate="works_at"), cand("tea")]
    kept = select_facts(cs, 2)
    assert objects(kept) == ["a long walk along the river to the old mill", "Acme"]  # text order


def test_a_fact_another_kept_one_already_says_goes_last() -> None:
    cs = [cand("ferrous sulfate, 200mg once a day"), cand("200mg once a day"), cand("a new bike")]
    assert objects(select_facts(cs, 2)) == ["ferrous sulfate, 200mg once a day", "a new bike"]


def test_a_typed_fact_is_kept_even_when_a_longer_one_holds_its_words() -> None:
    cs = [cand("at Acme in the control room on nights"), cand("Acme", typed=True, predicate="works_at"),
          cand("a new bike"), cand("tea")]
    assert "Acme" in objects(select_facts(cs, 2))


def test_worth_ranks_names_amounts_and_longer_phrases_over_vague_words() -> None:
    assert worth(cand("1,450 a month")) > worth(cand("rent")) and worth(cand("Nordwind Energy")) > worth(cand("job"))
    assert worth(cand("a cottage near the lake")) > worth(cand("stuff"))
    assert worth(cand("the dog", predicate="mention")) < worth(cand("the dog", predicate="walk"))
    assert 0.0 < worth(cand("")) < 1.0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["tea", "a cat", "the old mill", "Acme Robotics in Porto", "it"]),
                          st.booleans()), max_size=30), st.integers(1, 12))
def test_never_over_the_limit_deterministic_and_in_text_order(spec: list, limit: int) -> None:
    cs = [cand(o, typed=t, predicate=f"p{i % 3}", start=i) for i, (o, t) in enumerate(spec)]
    first, again = select_facts(cs, limit), select_facts(list(cs), limit)
    assert first == again and len(first) <= limit
    assert [f.start for f in first] == sorted(f.start for f in first)


def test_a_long_turn_keeps_at_most_the_budget_and_its_named_facts() -> None:
    text = ("ok so big week. I moved to Porto on Monday, the flat is on Rua das Flores, 900 a month, tiny balcony. "
            "I started at Nordwind Energy as a data analyst, my manager is Ines Duarte, she's lovely. "
            "we had pastel de nata at the bakery downstairs, walked along the river to the old bridge, "
            "my sister Clara visited with her dog Pimento, he chewed my new sandals, and Clara booked a "
            "table at a tiny fado place for Saturday, then we watched the football with her friends from Braga.")
    facts = ParseDecomposer().read([EventText(("t", "chat"), "Maya", text)])[0].facts
    assert len(facts) <= MAX_FACTS_PER_EVENT
    preds = {(f.predicate, f.object) for f in facts}
    assert ("works_at", "Nordwind Energy") in preds
    assert any(p == "manager" and "Ines" in o for p, o in preds)
