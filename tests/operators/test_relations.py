from __future__ import annotations

import pytest

from tracelake.operators.relations import extract_facts, is_single_valued, parse_money

SP = "Caroline"


def spo(text: str, speaker: str | None = SP) -> list[tuple]:
    return [(f.subject, f.predicate, f.object, f.object_type, f.value_num) for f in extract_facts(text, speaker)]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("My friend Sarah works at Google.", [(SP, "friend", "Sarah", "entity", None), ("Sarah", "works_at", "Google", "entity", None)]),
        ("I moved to Berlin last year.", [(SP, "lives_in", "Berlin", "entity", None)]),
        ("I live in New York.", [(SP, "lives_in", "New York", "entity", None)]),
        ("I work for Microsoft.", [(SP, "works_at", "Microsoft", "entity", None)]),
        ("I worked at IBM for years.", [(SP, "worked_at", "IBM", "entity", None)]),
        ("My name is Caroline.", [(SP, "name", "Caroline", "entity", None)]),
        ("I'm a nurse.", [(SP, "is_a", "nurse", "text", None)]),
        ("Sarah is my sister.", [(SP, "sister", "Sarah", "entity", None)]),
        ("I have a dog named Max.", [(SP, "has_pet", "Max", "entity", None)]),
        ("My favorite color is blue.", [(SP, "favorite_color", "blue", "text", None)]),
        ("Pizza is my favorite food.", [(SP, "favorite_food", "pizza", "text", None)]),
        ("I love hiking and painting.", [(SP, "likes", "hiking", "text", None), (SP, "likes", "painting", "text", None)]),
        ("I hate mornings.", [(SP, "dislikes", "mornings", "text", None)]),
        ("They offered $195k!", [(SP, "offered", "195000", "money", 195000.0)]),
        ("Google offered me a base salary of $195,000.", [(SP, "offered", "195000", "money", 195000.0)]),
        ("I have 3 kids.", [(SP, "has_kids", "3", "number", 3.0)]),
        ("I have two cats.", [(SP, "has_cats", "2", "number", 2.0), (SP, "has_pet", "cat", "text", None)]),
        ("I'm 32 years old.", [(SP, "age", "32", "number", 32.0)]),
        ("I'm married to John.", [(SP, "relationship_status", "married", "text", None), (SP, "spouse", "John", "entity", None)]),
        ("David Chen lives in Boston.", [("David Chen", "lives_in", "Boston", "entity", None)]),
        ("Sweden is where I'm from.", [(SP, "from", "Sweden", "entity", None)]),
        ("I'm interested in pottery.", [(SP, "likes", "pottery", "text", None)]),
        ("I speak French and Spanish.", [(SP, "speaks", "French", "entity", None), (SP, "speaks", "Spanish", "entity", None)]),
    ],
)
def test_extract(text: str, expected: list[tuple]) -> None:
    assert spo(text) == expected


@pytest.mark.parametrize(
    "text",
    ["I don't live in Paris anymore.", "I'm not married.", "I'd like to go.", "I love it when it rains.", "I'm a bit tired.", "I'm 5 minutes away.", ""],
)
def test_nothing(text: str) -> None:
    assert spo(text) == []


def test_works_at_and_work_for_share_a_predicate() -> None:
    assert spo("I work at Acme Corp.")[0][1] == spo("I work for Acme Corp.")[0][1] == "works_at"


def test_first_person_needs_a_speaker() -> None:
    assert spo("I moved to Berlin.", None) == []
    assert spo("Sarah moved to Berlin.", None) == [("Sarah", "lives_in", "Berlin", "entity", None)]


def test_statement_and_offsets() -> None:
    text = "Hello there. I moved to Berlin."
    (fact,) = extract_facts(text, SP)
    assert fact.statement == "I moved to Berlin."
    assert text[fact.start : fact.end] == "I moved to Berlin"


def test_single_valued() -> None:
    for p in ("lives_in", "works_at", "age", "name", "occupation", "relationship_status", "offered", "salary", "has_kids", "favorite_color"):
        assert is_single_valued(p), p
    for p in ("likes", "dislikes", "visited", "has_pet", "friend", "sister", "speaks", "is_a"):
        assert not is_single_valued(p), p


def test_parse_money() -> None:
    assert parse_money("$195k") == 195000.0
    assert parse_money("$1.2M") == 1200000.0
    assert parse_money("195,000 dollars") == 195000.0
    assert parse_money("nothing") is None
