"""Precision mechanisms of the parse engine, issue 10 session 7: who a he/she points to, discourse-word and
echo objects, stance of refusals, wishes and purposes; real spaCy, no mocks."""

from __future__ import annotations

from tracelake.operators.extract import EventText, ParseDecomposer
from tests.operators.test_parse_engine import SPEAKER, has, read


def test_a_person_noun_subject_is_an_antecedent() -> None:
    facts = read("my brother Tom moved to Leeds.", "mum called. she wants me home next summer.")[1]
    assert any(s == "mum" and p == "want" for s, p, _, _, _ in facts)
    assert not any(s == "Tom" for s, _, _, _, _ in facts)


def test_whom_a_verb_of_contact_reaches_is_a_person() -> None:
    (facts,) = read("Met up with Ioana from uni yesterday. She's a pharmacist in Brennock now.")
    assert has(facts, "Ioana", "is_a", "pharmacist")
    (facts,) = read("called tamsin. she was mad.")
    assert has(facts, "tamsin", "feels", "mad")


def test_a_full_name_sharing_a_known_persons_name_is_that_person() -> None:
    facts = read("my old boss declan is retiring.", "talked to Declan Mulvey at the depot, hes definitely retiring "
                 "in august.")[1]
    assert has(facts, "Declan Mulvey", "retire_in", "august")


def test_a_person_named_in_an_object_phrase_is_remembered_by_name() -> None:
    reader = ParseDecomposer()
    reader.read([EventText(("t", "chat"), SPEAKER, "a guy asked for my number. his name's Ollie.")])
    names = [r.name for r in reader.memories[("t", "chat")].referents]
    assert "Ollie" in names and not any("name" in n for n in names)
