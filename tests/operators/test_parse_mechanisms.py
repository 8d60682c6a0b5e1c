"""Mechanisms of the parse engine added for recall and precision (issue 10, second pass); real spaCy, no mocks."""

from __future__ import annotations

from tests.operators.test_parse_engine import SPEAKER, has, read
from tracelake.operators.extract import EventText, ParseDecomposer


def test_specific_times_are_objects_deictic_ones_only_date() -> None:
    (facts,) = read("HR sent the contract, I start on the 12th of August. Drove 5 hours last week.")
    assert has(facts, SPEAKER, "start_on", "12th of August")
    assert has(facts, SPEAKER, "drive", "5 hours")
    assert not any(o == "last week" for _, _, o, _, _ in facts)  # "last week" dates the fact instead


def test_times_of_copulas_and_nouns() -> None:
    (facts,) = read("The exam is on the 12th of April. results are out on the 22nd of August.")
    assert any(s == "exam" and p == "be_on" and "12th of April" in o for s, p, o, _, _ in facts)
    assert any(s == "results" and p == "be_on" and "22nd of August" in o for s, p, o, _, _ in facts)


def test_dropped_subject_in_a_monologue_is_the_speaker_in_a_dialogue_a_request() -> None:
    (facts,) = read("hurt my back carrying a patient down three flights.")
    assert has(facts, SPEAKER, "hurt", "my back")
    readings = read("Hi Maya!", "Keep chasing your dreams!", actor=None)
    assert readings[1] == []


def test_reported_copula_is_what_the_reporter_says() -> None:
    (facts,) = read("saw my GP, Dr Harriet Mwangi, she thinks it's a disc thing.")
    assert any(p == "think" and o == "disc thing" for _, p, o, _, _ in facts)


def test_got_it_wrong_corrects_the_last_value() -> None:
    first, second = read("rent is 1,380 a month", "wait i got the rent wrong, it's 1,340 not 1,380.")
    assert has(first, SPEAKER, "rent", "1,380")
    assert has(second, SPEAKER, "rent", "1,340", modality="corrected")


def test_the_landlady_is_the_speakers_and_names_stay_whole() -> None:
    (facts,) = read("the station manager is Brenda Okonkwo-Lay and she runs this place like a ship.")
    assert has(facts, SPEAKER, "station_manager", "Brenda Okonkwo-Lay")


def test_unlabelled_names_are_antecedents_of_he_and_she() -> None:
    (facts,) = read("Sunita rang. She's getting married again, to Colin.")
    assert any(s == "Sunita" and "Colin" in o for s, _, o, _, _ in facts)


def test_taken_on_by_an_organisation() -> None:
    (facts,) = read("Nordwind Energy hired me last month.")
    assert has(facts, SPEAKER, "works_at", "Nordwind Energy")


def test_made_things_are_no_salary_and_things_do_not_feel() -> None:
    (facts,) = read("mum made three desserts. my wrist is so sore. I make 88k now.")
    assert not any(p == "salary" and "desserts" in o for _, p, o, _, _ in facts)
    assert has(facts, SPEAKER, "salary", "88k")
    assert any(s == "my wrist" and p == "is" and o == "so sore" for s, p, o, _, _ in facts)


def test_empty_echo_objects_are_dropped() -> None:
    (facts,) = read("I miscounted before. we got in! i gave Mrs Oyelaran a plant.")
    assert not any(o in ("miscounted before", "got in") for _, _, o, _, _ in facts)
    assert any(p == "give_to" and o == "Mrs Oyelaran" for _, p, o, _, _ in facts)


def test_given_to_the_speaker_is_what_the_speaker_got() -> None:
    (facts,) = read("the GP gave me naproxen and said no lifting.")
    assert has(facts, SPEAKER, "get", "naproxen")
    assert not any(p == "give" for _, p, _, _, _ in facts)


def test_lets_is_a_plan_and_feeling_verbs_are_no_requests() -> None:
    events = [("Jon", "Hey Gina!"), ("Gina", "Let's keep chasing our dreams."), ("Jon", "Appreciate your kind words."),
              ("Gina", "Keep it up!")]
    from tracelake.operators.extract import EventText, ParseDecomposer

    readings = ParseDecomposer().read([EventText(("t", "s"), a, x) for a, x in events])
    facts = [[(f.subject, f.predicate, f.object, f.modality) for f in r.facts] for r in readings]
    assert any(s == "Gina" and "our dreams" in o and m == "plan" for s, _, o, m in facts[1])
    assert ("Jon", "appreciate", "your kind words", "asserted") in facts[2]
    assert facts[3] == []  # a real imperative asserts nothing


def test_the_role_is_the_speakers_and_adverbs_do_not_stick_to_names() -> None:
    head, unpaid = read("the new head is Juliet Abara.", "Pinecone Labs STILL hasn't paid the december invoice.")
    assert has(head, SPEAKER, "head", "Juliet Abara")
    assert any(s == "Pinecone Labs" and p in ("pay", "pays") and o == "december invoice" for s, p, o, _, _ in unpaid)


def test_namesakes_are_names_set_against_another_bearer() -> None:
    from tracelake.operators.namesakes import namesakes
    from tracelake.operators.nlp import parse

    def shared(text: str) -> list[str]:
        return [w for s in parse([text])[0].sents for _, _, w in namesakes(s)]

    assert shared("my friend Sam (Samira, from the gym, not dispatch Sam lol) dragged me along") == ["sam"]
    assert "kofi" in shared("no relation to my brother Kofi lol, two Kofis in my life now")
    assert shared("their dev lead is ALSO called Noor lol, Noor Lindqvist, backend person.") == ["noor"]
    assert shared("the real Kofi, not the boat one.") == ["kofi"]
    assert shared("My manager is Priya Raman. Priya called me, she joined Nordwind too!") == []
    assert shared("it was Priya, not Maya, who called") == []


def test_a_relation_inside_a_name_gives_its_gender_and_places_are_no_people() -> None:
    (_, facts) = read("my brother declan had a heart attack.", "she finished her shift at Curl Up & Dye.")
    assert not any("declan" in s for s, _, _, _, _ in facts)  # "she" is no brother
    (_, facts) = read("Helen rang me last night.",
                      "Second date with Helen, a walk with the dogs round Fennick Reservoir and chips after. She's 49.")
    assert has(facts, "Helen", "age", "49")  # not the reservoir's


def test_an_extraposed_it_leaves_the_to_clause_to_the_speaker() -> None:
    (facts,) = read("it was lovely to finally visit the aquarium in Dunmore.")
    assert has(facts, SPEAKER, "visit", "aquarium")
    (facts,) = read("is it odd to want a third cat?")  # a question asserts nothing
    assert facts == []


def test_the_object_of_a_verb_does_its_to_clause_and_a_request_is_no_deed() -> None:
    (facts,) = read("I asked Tomasz to fix the boiler before friday.")
    assert has(facts, "Tomasz", "plans", "fix the boiler", modality="plan")
    (facts,) = read("my aunt Wiebke told me to repaint the shed.")
    assert has(facts, SPEAKER, "plans", "repaint the shed", modality="plan")
    (facts,) = read("I spent Sundays cleaning gutters.")  # a time is no doer
    assert not any(s == "Sundays" for s, _, _, _, _ in facts)


def test_a_gerund_subject_is_what_the_speaker_does() -> None:
    (facts,) = read("Repainting the garden fence took me all weekend.")
    assert has(facts, SPEAKER, "repaint", "garden fence")
    (facts,) = read("His snoring keeps the whole street awake.")  # a noun with an owner is no clause of the speaker's
    assert not any(p == "snore" for _, p, _, _, _ in facts)


def test_a_subject_noun_keeps_one_phrase_of_a_thing_but_no_time() -> None:
    (facts,) = read("the bakery near the tram stop is lovely.")
    assert any(s == "bakery near the tram stop" for s, _, _, _, _ in facts)
    (facts,) = read("the meeting on friday was pointless.")  # a time is no part of a thing's name
    assert not any("friday" in s for s, _, _, _, _ in facts)


def test_they_stands_for_a_definite_plural_just_named() -> None:
    (facts,) = read("my parents came over and they brought soup.")
    assert has(facts, "Maya's parents", "bring", "soup")
    (facts,) = read("we bought chairs. they were cheap.")  # a bare plural names no one thing "they" could be
    assert not any(p == "is" for _, p, _, _, _ in facts)


def test_a_verbs_whole_complement_stands_beside_its_pieces() -> None:
    readings = ParseDecomposer().read([EventText(("t", "chat"), SPEAKER, t) for t in (
        "my sister gave me her old bike, a red one with a basket",
        "I moved into a flat on Elm Road, two rooms and a balcony.",
        "the nurse put me on iron tablets, 200mg twice a day")])
    bike, flat, iron = ([(f.subject, f.predicate, f.object, f.object_type, f.value_num) for f in r.facts]
                        for r in readings)
    assert (SPEAKER, "get", "her old bike", "text", None) in bike  # the pieces stay
    assert ("Maya's sister", "give", "her old bike, a red one with a basket", "text", None) in bike
    # the whole is the open frame, plain text, beside the canonical piece
    assert any(p == "lives_in" and o == "flat on Elm Road" for _, p, o, _, _ in flat)
    assert (SPEAKER, "move", "into a flat on Elm Road, two rooms and a balcony", "text", None) in flat
    assert any("200mg twice a day" in o and p == "put" for _, p, o, _, _ in iron)  # how often is no dating time


def test_no_whole_complement_without_a_new_word_or_in_a_correction() -> None:
    (facts,) = read("I moved to Berlin last year.")  # only a dating time beyond the piece
    assert [p for _, p, _, _, _ in facts] == ["lives_in"]
    first, second = read("we paid 900 for the van.", "wait, I got it wrong, we paid 950 for the van, not 900.")
    assert has(first, SPEAKER, "pay", "900 for the van")  # the whole, beside (pays, 900)
    assert not any(p == "pay" for _, p, _, _, _ in second)  # a correction's values are its pieces


def test_a_name_the_tagger_took_for_a_place_is_she_when_no_person_is() -> None:
    first, second = read("so I never told you about Florence. she's a paramedic in Leeds.",
                         "she just got a flat near the hospital.")
    assert has(first, "Florence", "is_a", "paramedic in Leeds")
    assert any(s == "Florence" for s, _, _, _, _ in second)
    (facts,) = read("we drove to Florence last spring. she was lovely.")  # a place by its slot stays a place
    assert not any(s == "Florence" for s, _, _, _, _ in facts)


def test_a_first_day_at_a_firm_is_working_there_a_last_one_ends_it() -> None:
    (first, last, plain) = read("first day at Nordwind Energy today!!", "Last day at Acme Robotics.",
                                "a long day at Nordwind Energy.")
    assert has(first, SPEAKER, "works_at", "Nordwind Energy")
    assert has(last, SPEAKER, "works_at", "Acme Robotics", modality="ended")
    assert not any(p in ("works_at", "leave") for _, p, _, _, _ in plain)  # neither first nor last: no job change


def test_a_correction_beside_an_existential_is_no_reported_copula() -> None:
    (_, facts) = read("rent is 1,150.", "correction on the rent thing, it's 1,190 not 1,150, there's a bike add-on.")
    assert has(facts, SPEAKER, "rent", "1,190", modality="corrected")
    assert has(facts, SPEAKER, "rent", "1,150", polarity="negative")
    assert not any(p == "be" for _, p, _, _, _ in facts)


def test_his_or_her_name_names_the_person_just_brought_in_by_a_noun() -> None:
    (counsellor, girlfriend, named) = read(
        "first session with the counsellor at student wellbeing, her name's Beatrix Lomax.",
        "Sem has a girlfriend apparently?? he's 13. her name is Lieke.",
        "I met Ines at the market, her name is on every stall.")
    assert has(counsellor, SPEAKER, "counsellor", "Beatrix Lomax")
    assert has(girlfriend, "Sem", "girlfriend", "Lieke")  # "he's 13" is someone else: it does not stop "her"
    assert not any(p in ("counsellor", "girlfriend") for _, p, _, _, _ in named)  # a name in between: hers


def test_a_name_with_an_apposed_relation_of_someone_is_that_relation() -> None:
    (daughter, denied, nobodys) = read("Emi, our daughter, says we need to talk about the house.",
                                       "Dario Vance, not my old partner obviously, is a firefighter.",
                                       "Lukas Brenner, 22, sweet kid, is scared of needles.")
    assert has(daughter, SPEAKER, "daughter", "Emi")
    assert not any(p == "partner" for _, p, _, _, _ in denied)  # denied: no relation
    assert not any(p == "kid" for _, p, _, _, _ in nobodys)  # nobody's kid: a description
