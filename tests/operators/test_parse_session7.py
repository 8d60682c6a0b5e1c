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


def test_discourse_words_pointers_and_correction_openers_are_no_objects() -> None:
    (facts,) = read("she cancelled bc her firm dumped a merger on her. bills not included tho. i'm the opposite. "
                    "Ugh, correction, it's Thursday the 21st. The CEO is a chap called Gavin Osei, very direct.")
    assert not any(o.lower() in ("bc", "tho", "opposite", "correction", "very direct") for _, _, o, _, _ in facts)
    (facts,) = read("checked it. he's right. i feel ok")
    assert has(facts, SPEAKER, "feels", "ok")


def test_a_refusal_or_inability_is_asserted_and_negative() -> None:
    (facts,) = read("couldn't go home for mum's 60th in the end. neighbour Jonas fixed the bike and wouldn't take "
                    "any money.")
    assert not any(m == "hypothetical" for _, _, _, _, m in facts)
    assert any(p == "take" and pol == "negative" and m == "asserted" for _, p, _, pol, m in facts)


def test_a_wish_or_a_purpose_is_not_done() -> None:
    (facts,) = read("Deepa wants me to do the next level in the autumn. Went for a run at lunch to stop myself "
                    "saying something stupid. learning the tablet properly, so we can video call Kenji.")
    assert not any(m == "asserted" and ("next level" in o or "stupid" in o or o == "Kenji")
                   for _, _, o, _, m in facts)


def test_said_no_is_said() -> None:
    (facts,) = read("the landlord said no pets in the lease.")
    assert has(facts, "landlord", "say", "no pets")


def test_which_is_no_speaker() -> None:
    (facts,) = read("Juliet called it 'bold', which I've decided is a compliment.")
    assert not any(o == "compliment" for _, _, o, _, _ in facts)


def test_a_noun_subject_running_over_a_pronoun_is_a_misparse() -> None:
    (facts,) = read("Noor made me a cake shaped like a snail.")
    assert not any(s.startswith("me ") for s, _, _, _, _ in facts)


def test_a_lower_case_name_no_word_table_knows_is_a_person() -> None:
    (facts,) = read("my brother is great. clodagh is teaching me excel. shes 18 and has the patience of a saint")
    assert has(facts, "clodagh", "age", "18")



def test_a_negated_belief_denies_its_complement() -> None:
    (facts,) = read("I don't think I'm a dog person. i dont think i'll miss the 5am alarms.")
    assert has(facts, SPEAKER, "is_a", "dog person", polarity="negative")
    assert any("alarms" in o and pol == "negative" for _, _, o, pol, _ in facts)
