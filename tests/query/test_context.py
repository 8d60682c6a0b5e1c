"""``lake.context``: never over budget, no future leakage, tenants apart, current state first, history for past
questions, the supersession signal in search and reconstruct, bad inputs. Lakes come from ``builders.py``
(no Ray); the last test runs the real pipeline on the bundled demo story."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.query.builders import build, entity, fact, trace, ts
from tests.query.story import EVENT_TIMES, T1, T2
from tracelake.errors import ValidationError
from tracelake.query.question import is_question, question_mode
from tracelake.results import word_count

QUESTIONS = ["Where does Caroline live?", "Where did Caroline live before Seattle?", "What does Melanie paint?",
             "who went camping with her kids?", "What changed for Caroline?", "Caroline"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(budget=st.integers(min_value=1, max_value=400), q=st.sampled_from(QUESTIONS))
def test_budget_never_exceeded(story_lake, budget: int, q: str) -> None:
    ctx = story_lake.context(q, T1, budget_words=budget)
    assert ctx.words <= budget
    assert word_count(ctx.text) == sum(word_count(i.text) for i in ctx.items)
    assert all(i.kind in {"fact", "evidence"} and i.source_event_ids for i in ctx.items)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offset=st.integers(min_value=-30, max_value=240), q=st.sampled_from(QUESTIONS),
       known=st.booleans())
def test_no_future_leakage(story_lake, offset: int, q: str, known: bool) -> None:
    as_of = ts("2023-01-01T00:00:00Z") + timedelta(days=offset)
    ctx = story_lake.context(q, T1, as_of=as_of, known_at=as_of if known else None, budget_words=200)
    for item in ctx.items:
        assert all(EVENT_TIMES[e] <= as_of for e in item.source_event_ids), (item, as_of)
        assert item.occurred_at is None or item.occurred_at <= as_of
        if item.kind == "fact":
            assert item.valid_from <= as_of
    if as_of < ts("2023-06-20T12:00:00Z"):
        assert "Seattle" not in ctx.text  # said on 06-20 (valid from 06-01: still unknown before)


def test_tenants_stay_apart(story_lake) -> None:
    t1_events = {e for e in EVENT_TIMES if not e.startswith("x")}
    ctx = story_lake.context("Where does Caroline live?", T2, budget_words=200)
    assert "Lisbon" in ctx.text and "Boston" not in ctx.text and "Seattle" not in ctx.text
    assert not set(ctx.source_event_ids()) & t1_events
    assert not story_lake.context("Where does Caroline live?", "nobody-here").items


def test_current_state_first(story_lake) -> None:
    now = story_lake.context("Where does Caroline live?", T1, as_of="2023-07-01T00:00:00Z", budget_words=30)
    assert now.mode == "present"
    assert "Seattle" in now.items[0].text
    assert now.items[0].kind == "fact" and "before: Denver" in now.items[0].text
    april = story_lake.context("Where does Caroline live?", T1, as_of="2023-04-01T00:00:00Z", budget_words=60)
    assert "Denver" in april.items[0].text and "Seattle" not in april.text
    # as known on 03-01 the move to Denver was not consolidated yet: Boston is the current state
    known = story_lake.context("Where does Caroline live?", T1, as_of="2023-04-01T00:00:00Z",
                               known_at="2023-03-01T00:00:00Z", budget_words=60)
    assert known.items and "Boston" in known.items[0].text


def test_past_questions_get_history(story_lake) -> None:
    ctx = story_lake.context("Where did Caroline live before Seattle?", T1, as_of="2023-07-01T00:00:00Z",
                             budget_words=60)
    assert ctx.mode == "past"
    assert "Denver" in ctx.text and "Boston" in ctx.text


def test_supersession_in_search(story_lake) -> None:
    hits = story_lake.search("Where does Caroline live?", T1, as_of="2023-07-01T00:00:00Z", k=3)
    assert hits[0].trace_id == "tr-c3"
    # the superseded Boston turn falls behind the turns of the current and the previous city
    ids = [h.trace_id for h in story_lake.search("Where does Caroline live?", T1, as_of="2023-04-01T00:00:00Z")]
    assert ids.index("tr-c2") < ids.index("tr-c1")


def test_reconstruct_has_a_budget(story_lake) -> None:
    bundle = story_lake.reconstruct("Where does Caroline live?", T1, budget_words=25)
    words = sum(word_count(h.text) for h in bundle.hits)
    words += sum(word_count(f.get("statement")) for f in bundle.facts)
    assert words <= 25 and bundle.hits
    with pytest.raises(ValidationError):
        story_lake.reconstruct("x", T1, budget_words=0)


def test_question_turns_rank_as_weak_evidence(qlake) -> None:
    build(qlake, traces=[
        trace("q", "t-ask", "wait what was the name of the dentist again?", "2023-05-02T10:00:00Z"),
        trace("q", "t-say", "the dentist is called Dr Alvarez, nice guy", "2023-05-01T10:00:00Z"),
    ])
    hits = qlake.search("what is the name of the dentist?", "q", k=2)
    assert [h.trace_id for h in hits] == ["t-say", "t-ask"]
    assert "Alvarez" in qlake.context("what is the name of the dentist?", "q", budget_words=12).items[0].text


def test_negated_and_planned_facts_are_not_current_state(qlake) -> None:
    """Read defensively: a lake whose facts carry ``polarity``/``modality`` columns hides negated/plan facts."""
    build(qlake, traces=[trace("n", "t1", "I live in Graz", "2023-05-01T10:00:00Z", entities=["Ana"])],
          entities=[entity("n", "Ana", "2023-05-01T10:00:00Z")],
          facts=[fact("n", "f1", "Ana", "lives_in", "Graz", "2023-05-01T10:00:00Z", sources=[("ev-t1", "2023-05-01T10:00:00Z")])])
    ctx = qlake.context("Where does Ana live?", "n", budget_words=40)
    assert ctx.items[0].kind == "fact" and "Graz" in ctx.items[0].text
    from tracelake.query.supersession import asserted_mask
    import pyarrow as pa

    table = pa.table({"polarity": ["negative", None, "positive", "positive", "positive"],
                      "modality": [None, "plan", "asserted", "corrected", "hypothetical"]})
    assert asserted_mask(table).tolist() == [False, False, True, True, False]


def test_long_turns_are_trimmed_to_the_matching_clause(qlake) -> None:
    text = ("ok so um, honestly the weather was awful all week and we watched that show again lol, anyway my "
            "manager is this guy Omar Shah, super chill, and then we got lunch at the new ramen place downtown")
    build(qlake, traces=[trace("m", "t1", text, "2023-05-01T10:00:00Z")])
    ctx = qlake.context("Who is my manager?", "m", budget_words=12)
    assert ctx.words <= 12 and "Omar" in ctx.text


def test_question_cues() -> None:
    assert question_mode("Where does Maya live now?") == "present"
    assert question_mode("Who is Maya's manager?") == "present"
    assert question_mode("Where did Maya live before Porto?") == "past"
    assert question_mode("What changed at work?") == "past"
    assert question_mode("When did Maya start at Halden?") == "past"
    assert is_question("wait what did I say the dentist's name was?")
    assert not is_question("my manager is Omar. what do you think?")
    assert not is_question("first day went fine?? my manager is Omar")
    assert is_question("anything", "question") and not is_question("what?", "statement")
    from tracelake.query.question import asks, without_time_markers

    assert asks("What salary was Mirela offered?")[3] and asks("What did she earn before?")[3]  # amounts wanted
    assert not asks("What did she study?")[3]
    assert without_time_markers("How does Yusra feel these days?").split() == ["How", "does", "Yusra", "feel", "?"]


@pytest.mark.parametrize("kwargs", [{"question": ""}, {"question": "   "}, {"budget_words": 0},
                                    {"budget_words": -5}, {"budget_words": 10**7}, {"budget_words": True},
                                    {"budget_words": 12.5}, {"tenant": ""}, {"tenant": "bad tenant!"},
                                    {"as_of": "yesterday-ish"}, {"known_at": "2023-01-01T00:00:00"}])
def test_bad_input_is_a_clear_error(story_lake, kwargs: dict) -> None:
    args = {"question": "Where does Caroline live?", "tenant": T1, **kwargs}
    with pytest.raises(ValidationError):
        story_lake.context(args.pop("question"), args.pop("tenant"), **args)


def test_before_any_event_is_empty(story_lake) -> None:
    ctx = story_lake.context("Where does Caroline live?", T1, as_of="2020-01-01T00:00:00Z")
    assert ctx.items == () and ctx.text == "" and ctx.to_dict()["words"] == 0


@pytest.mark.filterwarnings("ignore")
def test_demo_story_answers_current_state_first(local_lake) -> None:
    """The bundled demo story through the real pipeline: as of now Munich and Google come first."""
    from importlib import resources

    with resources.as_file(resources.files("tracelake").joinpath("samples/demo.jsonl")) as path:
        local_lake.ingest(str(path), source="demo")
    local_lake.consolidate()
    q = "Where does Alice live and work?"
    hits = local_lake.search(q, "alice", k=3)
    assert {"a-011", "a-012"} <= {e for h in hits for e in h.source_event_ids}
    assert "a-001" not in hits[0].source_event_ids
    ctx = local_lake.context(q, "alice", budget_words=30)
    first = "\n".join(i.text for i in ctx.items[:2])
    assert "Munich" in first and "Google" in first
    then = local_lake.context(q, "alice", as_of="2023-06-01T00:00:00Z", budget_words=30)
    assert "Lisbon" in then.text and "Munich" not in then.text


@pytest.mark.filterwarnings("ignore")
def test_clause_vectors_come_from_the_consolidation(local_lake, tmp_path) -> None:
    """With ``clause_vectors`` on, consolidation embeds the quoted clauses into the lake's vector cache and a query
    embeds none; off (the default), the query embeds them itself and answers the same."""
    import tracelake
    from importlib import resources

    q = "Where does Alice live and work?"
    on = tracelake.connect(str(tmp_path / "on"), embedder="hash", clause_vectors=True)
    try:
        answers, stats = [], []
        for lake in (on, local_lake):
            with resources.as_file(resources.files("tracelake").joinpath("samples/demo.jsonl")) as path:
                lake.ingest(str(path), source="demo")
            lake.consolidate()
            answers.append([lake.context(q, "alice", as_of=t, budget_words=40).text
                            for t in (None, "2023-06-01T00:00:00Z")])
            stats.append(dict(lake._query.clause_vectors().stats))
    finally:
        on.close()
    assert answers[0] == answers[1]
    assert stats[0]["cache"] > 0 and stats[0]["embedded"] == 0
    assert stats[1]["cache"] == 0 and stats[1]["embedded"] > 0
