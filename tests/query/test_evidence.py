"""Clause-level evidence for ``lake.context`` (:mod:`tracelake.query.evidence`) and the fact bridge
(:func:`tracelake.query.context.bridge_names`): pure functions, no lake."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tracelake.query.context import bridge_names
from tracelake.query.evidence import EvidenceConfig, Unit, pieces, select_evidence
from tracelake.results import Hit, word_count

T = datetime(2024, 5, 1, tzinfo=timezone.utc)


def hit(n: int, text: str, score: float, at: datetime = T) -> Hit:
    return Hit(trace_id=f"t{n}", score=score, text=text, kind="episodic", tenant="a", stream="s", occurred_at=at,
               valid_from=None, valid_to=None, source_event_ids=(f"e{n}",))


WORDS = st.sampled_from(["ok", "so", "I", "moved", "to", "Porto,", "and", "but", "because", "rent", "is", "1,450.",
                         "wait", "what?", "honestly", "lol", "my", "manager", "Priya", "(long", "story)", "-"])


@settings(max_examples=80, deadline=None)
@given(st.lists(WORDS, max_size=80))
def test_pieces_partition_the_text(words: list[str]) -> None:
    text = " ".join(words)
    cfg = EvidenceConfig()
    got = pieces(text, cfg)
    assert [w for p in got for w in p] == text.split()
    assert all(1 <= len(p) <= cfg.max_piece for p in got)


@settings(max_examples=60, deadline=None)
@given(budget=st.integers(min_value=-3, max_value=90), turns=st.lists(st.lists(WORDS, min_size=1, max_size=60),
                                                                       min_size=1, max_size=5))
def test_never_over_budget(budget: int, turns: list[list[str]]) -> None:
    hits = [hit(i, " ".join(t), 1.0 / (i + 1)) for i, t in enumerate(turns)]
    items = select_evidence(hits, [[(h.text, None)] for h in hits], "where did I move to and what is the rent?",
                            budget)
    assert sum(word_count(i.text) for i in items) <= max(budget, 0)
    assert all(i.kind == "evidence" and i.source_event_ids for i in items)


def test_answer_clause_of_a_lower_turn_beats_filler_of_the_top_turn() -> None:
    top = ("ugh what a week, honestly the weather was awful and we watched that baking show again, and the cat "
           "knocked over a plant, whatever, work was work and I am tired of everything lately to be honest")
    answer = ("anyway random update, the new manager started monday, her name is Priya Raman, seems sharp, "
              "and then we all went for lunch at the ramen place which was fine")
    hits = [hit(0, top, 1.0), hit(1, answer, 0.8)]
    items = select_evidence(hits, [[(top, None)], [(answer, None)]], "Who is the new manager?", 20)
    text = " ".join(i.text for i in items)
    assert "Priya" in text and word_count(text) <= 20


def test_the_sentence_closest_to_the_question_wins_a_tie() -> None:
    q = np.array([1.0, 0.0], dtype=np.float32)
    units = [("the dog barked at the van all morning.", np.array([0.0, 1.0], dtype=np.float32)),
             ("we finally booked the flights to Lima.", np.array([1.0, 0.0], dtype=np.float32))]
    hits = [hit(0, " ".join(u for u, _ in units), 1.0)]
    items = select_evidence(hits, [units], "any travel plans?", 8, query_vector=q)
    assert items and "Lima" in items[0].text


def test_recency_favours_the_later_statement_not_a_later_question() -> None:
    old, new = "I work at the bakery on Lime Street now.", "I work at the harbour office now."
    asks = "wait where do I work again, the harbour office or the bakery?"
    at = [datetime(2024, m, 1, tzinfo=timezone.utc) for m in (1, 6, 9)]
    hits = [hit(0, old, 1.0, at[0]), hit(1, new, 1.0, at[1]), hit(2, asks, 1.0, at[2])]
    units = [[Unit(old, None, "statement")], [Unit(new, None, "statement")], [Unit(asks, None, "question")]]
    items = select_evidence(hits, units, "Where do I work now?", 8, present=True)
    assert items and items[0].source_event_ids == ("e1",)
    # Speech act unknown: read from the text (every sentence ends in "?").
    items = select_evidence(hits, [[(h.text, None)] for h in hits], "Where do I work now?", 8, present=True)
    assert items[0].source_event_ids == ("e1",)


def test_a_unit_that_only_asks_is_weak_evidence() -> None:
    said, asked = "her name is Dr Okafor.", "what was the dentist's name again?"
    hits = [hit(0, f"{asked} {said}", 1.0)]
    units = [[Unit(asked, None, "question"), Unit(said, None, "statement")]]
    items = select_evidence(hits, units, "What is the dentist's name?", 5)
    assert items and "Okafor" in items[0].text


def test_non_adjacent_pieces_are_joined_with_a_gap_that_counts() -> None:
    text = ("my manager is Priya Raman. the weather is grey again. the dog ate a sock. the van broke down. "
            "Priya says the manager meeting moved to friday.")
    hits = [hit(0, text, 1.0)]
    cfg = EvidenceConfig(near=0.5)  # neighbours worth less than a match: the two matching sentences are taken
    items = select_evidence(hits, [[(text, None)]], "who is my manager Priya?", 14, cfg=cfg)
    assert len(items) == 1 and "…" in items[0].text and word_count(items[0].text) <= 14


def test_bridge_names_follow_current_facts_named_by_the_question() -> None:
    rows = [
        {"subject": "Renata", "predicate": "sister", "object": "Marisol", "status": "current"},
        {"subject": "Renata", "predicate": "partner", "object": "Dario Pinto", "status": "superseded"},
        {"subject": "Renata", "predicate": "partner", "object": "Ezra", "status": "current"},
        {"subject": "Gwen", "predicate": "sister", "object": "Hollis", "status": "current"},
        {"subject": "Renata", "predicate": "sister", "object": "my little sister who lives far", "status": "current"},
    ]
    assert bridge_names(rows, "Where does Renata's sister live?", mentioned=[]) == ["Marisol"]
    assert bridge_names(rows, "What does Renata's boyfriend do?", mentioned=[]) == ["Ezra"]
    assert bridge_names(rows, "Where does Marisol live?", mentioned=[]) == []


def test_timeline_keeps_one_entry_per_event() -> None:
    import pyarrow as pa

    from tracelake.ids import trace_id
    from tracelake.query.traces import one_per_event

    whole, unit, other_unit = trace_id("a", "e1"), trace_id("a", "e1", "episodic", 1), trace_id("a", "e2", "episodic", 2)
    table = pa.table({"trace_id": [unit, whole, other_unit, trace_id("a", "e2", "episodic", 1), "loose"],
                      "occurred_at": pa.array([T, T, T.replace(hour=2), T.replace(hour=2), T.replace(hour=3)],
                                              pa.timestamp("us", tz="UTC")),
                      "source_event_ids": [["e1"], ["e1"], ["e2"], ["e2"], []]})
    got = one_per_event(table, "a")
    assert got["trace_id"].to_pylist() == [whole, min(other_unit, trace_id("a", "e2", "episodic", 1)), "loose"]


def test_present_questions_prefer_the_later_of_two_matching_turns() -> None:
    old, new = "we live on Larkspur Avenue, four of us in one house", "we live on Saltmeadow Road now, just us two"
    hits = [Hit(trace_id="t0", score=1.0, text=old, kind="episodic", tenant="a", stream="s", occurred_at=T,
                valid_from=None, valid_to=None, source_event_ids=("e0",)),
            Hit(trace_id="t1", score=0.95, text=new, kind="episodic", tenant="a", stream="s",
                occurred_at=T.replace(month=9), valid_from=None, valid_to=None, source_event_ids=("e1",))]
    units = [[(old, None)], [(new, None)]]
    assert "Saltmeadow" in select_evidence(hits, units, "where do we live?", 10, present=True)[0].text
    assert "Larkspur" in select_evidence(hits, units, "where do we live?", 10, present=False)[0].text


def test_vectors_after_a_null_keep_their_rows() -> None:
    import pyarrow as pa

    from tracelake.query.working_set import normalised_vectors

    column = pa.chunked_array([pa.array([[3.0, 4.0], None, [0.0, 0.0], [1.0, 0.0]], pa.list_(pa.float32(), 2))])
    vectors, valid = normalised_vectors(column)
    assert valid.tolist() == [True, False, False, True]
    assert np.allclose(vectors, [[0.6, 0.8], [0, 0], [0, 0], [1, 0]])


def test_a_resolved_pronoun_makes_the_turn_about_its_antecedent() -> None:
    from tracelake.query.context import event_names

    mine, his = "i grew up in Corrowin, never going back", "he grew up in Marrow Falls, his grandpa came from Sweden"
    hits = [hit(0, mine, 1.0), hit(1, his, 1.0)]
    rows = [{"subject": "Renata", "source_event_ids": ["e0"]},
            {"subject": "Ezra Lindqvist", "source_event_ids": ["e1"]},
            {"subject": "Ezra Lindqvist", "source_event_ids": ["e1"]}]
    names = event_names(rows, hits)
    assert names == ["Renata", "Ezra Lindqvist"]
    question = "Where did Ezra grow up?"
    units = [[(mine, None)], [(his, None)]]
    assert "Marrow Falls" in select_evidence(hits, units, question, 7, names=names)[0].text
    assert "Corrowin" in select_evidence(hits, units, question, 7)[0].text  # a tie without the names: order wins


def test_a_fact_off_the_questions_topic_gives_way() -> None:
    from tracelake.query.context import ContextConfig, select_facts

    def fact(fid: str, obj: str, event: str) -> dict:
        return {"fact_id": fid, "subject": "Bea", "predicate": "feels", "object": obj, "object_type": "text",
                "statement": f"i {obj}", "status": "current", "valid_from": T, "valid_to": None,
                "occurred_at": T, "source_event_ids": [event], "superseded_by": None}

    rows = [fact("f1", "love the new flat", "e1"), fact("f2", "miss her", "e2")]
    question = "How does Bea feel about Tamsin moving away?"
    got = select_facts(rows, question, mentioned=["Bea"], mode="present", hit_events=[("e2",), ("e9",)],
                       cfg=ContextConfig())
    assert [i.text.split(" (")[0] for i in got] == ["Bea feels miss her"]
    slot = select_facts(rows, "How does Bea feel these days?", mentioned=["Bea"], mode="present",
                        hit_events=[("e9",)], cfg=ContextConfig())
    assert len(slot) == 2  # nothing asked beyond whom and what: every current feeling is on topic


def test_the_clause_that_states_an_answering_fact_wins() -> None:
    from tracelake.query.context import event_statements

    turn = "Helen came round with the dogs and we walked for hours. she works at the clinic on the hill now"
    hits = [hit(0, turn, 1.0)]
    rows = [{"subject": "Helen", "predicate": "works_at", "object": "the clinic", "object_type": "entity",
             "source_event_ids": ["e0"]},
            {"subject": "Helen", "predicate": "walk_for", "object": "hours", "object_type": "text",
             "source_event_ids": ["e0"]},
            {"subject": "Arjun", "predicate": "works_at", "object": "the mill", "object_type": "entity",
             "source_event_ids": ["e0"]}]
    question = "Where does Helen work?"
    said = event_statements(rows, hits, question, mentioned=[])
    assert said == [[frozenset({"clinic"})]]  # not Helen's walk (not asked), not Arjun's work (not named)
    units = [[(turn, None)]]
    cfg = EvidenceConfig(stated=1.0)
    assert "clinic" in select_evidence(hits, units, question, 8, cfg=cfg, statements=said)[0].text
    assert "clinic" not in select_evidence(hits, units, question, 8, cfg=cfg)[0].text


def test_why_and_what_do_you_do_questions_ask_for_a_reason_and_a_kind() -> None:
    why = "the station was lovely and the people were great, but it's booked out for a school group."
    units = [[(why, None)]]
    got = select_evidence([hit(0, why, 1.0)], units, "Why didn't Kwame stay at the station?", 8)
    assert got[0].text == "but it's booked out for a school group."
    got = select_evidence([hit(0, why, 1.0)], units, "What did Kwame think of the station?", 8)
    assert "school group" not in got[0].text
    job = "Ezra came over and we cooked dinner and watched a film. he's a carpenter, builds boats mostly"
    got = select_evidence([hit(0, job, 1.0)], [[(job, None)]], "What does Ezra do for a living?", 6)
    assert "carpenter" in got[0].text


def test_long_clauses_are_cut_where_a_phrase_starts() -> None:
    """A verb keeps its particle and a determiner its noun: the cut falls before a preposition or a subject."""
    text = "damn the Harbour Row one got snapped up before i could even video call with the landlord about it"
    parts = [" ".join(p) for p in pieces(text)]
    assert parts == ["damn the Harbour Row one got snapped up", "before i could even video call with the landlord about it"]
    assert all(len(p.split()) <= EvidenceConfig().max_piece for p in parts)
    assert " ".join(parts) == text


def test_cut_pieces_keep_every_word_in_order_and_the_cap() -> None:
    """Whatever the words, the parts join back to the clause and none is over ``max_piece`` words."""
    cfg = EvidenceConfig()
    for n in range(13, 60, 7):
        ws = [("of" if i % 3 else "the") for i in range(n)]  # nowhere good to cut
        text = " ".join(ws)
        parts = pieces(text, cfg)
        assert [w for p in parts for w in p] == ws
        assert all(len(p) <= cfg.max_piece for p in parts)


def test_the_clause_whose_own_vector_is_nearest_the_question_wins() -> None:
    """Two clauses of one sentence share its unit vector and no question word: the clause vector decides."""
    text = "after the long winter we sold the old car, and then we finally settled down by the coast"
    hits = [hit(0, text, 1.0)]
    q = np.array([1.0, 0.0, 0.0], np.float32)
    seen: list[list[str]] = []

    def clause_vectors(texts: list[str]) -> np.ndarray:
        seen.append(texts)
        return np.array([[1.0, 0.0, 0.0] if "coast" in t else [0.0, 1.0, 0.0] for t in texts], np.float32)

    units = [[Unit(text, np.array([0.6, 0.8, 0.0], np.float32))]]
    plain = select_evidence(hits, units, "which city?", 9, query_vector=q)[0].text
    chosen = select_evidence(hits, units, "which city?", 9, query_vector=q, clause_vectors=clause_vectors)[0].text
    assert "coast" not in plain and "coast" in chosen
    assert seen == [[" ".join(p) for p in pieces(text)]]
    off = EvidenceConfig(clause_semantic=0.0)
    assert select_evidence(hits, units, "which city?", 9, query_vector=q, cfg=off,
                           clause_vectors=clause_vectors)[0].text == plain
    assert len(seen) == 1  # switched off: not even asked
    wrong_dim = select_evidence(hits, units, "which city?", 9, query_vector=q,
                                clause_vectors=lambda ts: np.ones((len(ts), 5), np.float32))
    assert wrong_dim[0].text == plain  # vectors of another model are ignored, not a crash


def test_a_correction_in_the_same_turn_comes_with_what_it_corrects() -> None:
    text = ("the vet put Mango on the ear drops, twice a day with food... no wait, it's after food, an hour after, "
            "she said it twice. the waiting room smelled of bleach. a parrot shouted hello at everyone. "
            "the receptionist had a cast on her arm.")
    hits = [hit(0, text, 1.0)]
    question = "When should Mango get the ear drops?"
    fixed = select_evidence(hits, [[(text, None)]], question, 16)
    assert "after food" in " ".join(i.text for i in fixed)
    plain = select_evidence(hits, [[(text, None)]], question, 16, cfg=EvidenceConfig(correction=0.0))
    assert "after food" not in " ".join(i.text for i in plain)


def test_a_later_correction_takes_the_value_of_the_turn_it_corrects() -> None:
    early, late = datetime(2024, 5, 1, tzinfo=timezone.utc), datetime(2024, 5, 3, tzinfo=timezone.utc)
    said = "the dentist appointment for my filling is on the 9th, at the clinic on Elm Row"
    fixed = "ugh, correction, the letter says the 12th, not the 9th. same time"
    hits = [hit(0, said, 1.0, early), hit(1, fixed, 0.4, late), hit(2, "the filling cost 80 quid", 0.9, early)]
    units = [[(h.text, None)] for h in hits]
    question = "When is the dentist appointment for the filling?"
    got = select_evidence(hits, units, question, 20)
    assert "the 12th" in " ".join(i.text for i in got)
    plain = select_evidence(hits, units, question, 20, cfg=EvidenceConfig(correction=0.0))
    assert "the 12th" not in " ".join(i.text for i in plain)


def test_the_teller_the_question_names_is_heard_before_the_others() -> None:
    """Ten people talk in one tenant: "Kwame's rent" is what Kwame said about his rent, not Sol's rent."""
    sol = "Ezra and I split the rent, 1,040 each"
    kwame = "the rent is 1,590 a month between us"
    hits = [replace(hit(0, sol, 1.0), actor="Sol"), replace(hit(1, kwame, 0.9), actor="Kwame")]
    units = [[(sol, None)], [(kwame, None)]]
    text = " ".join(i.text for i in select_evidence(hits, units, "How much is Kwame's rent now?", 10))
    assert "1,590" in text and "1,040" not in text
    text = " ".join(i.text for i in select_evidence(hits, units, "How much is the rent?", 10))
    assert "1,040" in text  # nobody named: the search order stands
