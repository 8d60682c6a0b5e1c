"""Canonical predicates: the frame table, which predicates hold one value at a time, and value parsing.

A *frame* is what the clause extractor reads off the dependency tree: the verb lemma with its particle and
preposition, joined by ``_`` (``move_to``, ``work_at``, ``sign_up_for``, ``be_from``). :func:`canonical`
maps frequent frames to a small set of canonical predicates (the table ``FRAMES`` below, documented in
``docs/operators.md``) and leaves every other frame as its own open predicate.

- :func:`is_single_valued`: a newer value of ``(subject, predicate)`` supersedes the older one (``lives_in``,
  ``works_at``, ``job_title``, ``manager``, ``partner``, ``salary``, ``rent``, ``age``, ...). Every other
  predicate is multi-valued: values accumulate (``friend``, ``has_pet``, ``likes``, ``feels``, ...).
- :data:`ENDS`: frames that end a state rather than start one ("left Acme" ends ``works_at Acme``,
  "moved out of Lisbon" ends ``lives_in Lisbon``).
- :func:`parse_money`: ``$195k`` -> 195000.0.
"""

from __future__ import annotations

import re

__all__ = ["canonical", "is_kin", "ending", "is_single_valued", "predicate_phrase", "parse_money", "relation_noun",
           "pet_noun", "relation_predicate", "FRAMES", "ENDS"]

#: frame -> canonical predicate.
FRAMES: dict[str, str] = {
    # where someone lives
    "live_in": "lives_in", "live_at": "lives_in", "live_on": "lives_in", "reside_in": "lives_in",
    "settle_in": "lives_in", "stay_in": "lives_in", "be_based_in": "lives_in", "base_in": "lives_in",
    "move_to": "lives_in", "move_into": "lives_in", "move_in": "lives_in", "relocate_to": "lives_in",
    "move_in_to": "lives_in", "move_back_to": "lives_in", "be_in": "is_in",
    # where someone works
    "work_at": "works_at", "work_for": "works_at", "work_with": "works_with", "join": "works_at",
    "be_hired_by": "works_at", "be_hire_by": "works_at", "hire_by": "works_at", "start_at": "works_at", "employ_by": "works_at",
    "be_employed_by": "works_at", "be_employ_by": "works_at", "intern_at": "works_at",
    "work_as": "job_title", "join_as": "job_title", "hire_as": "job_title", "start_as": "job_title",
    "promote_to": "job_title", "become": "job_title", "be_promoted_to": "job_title",
    # origin, study, money
    "be_from": "from", "come_from": "from", "grow_up_in": "from", "be_born_in": "from", "bear_in": "from",
    "study": "studies", "study_at": "studies", "major_in": "studies", "enrol_in": "studies", "enroll_in": "studies",
    "earn": "salary", "make": "makes", "pay": "pays", "offer": "offered", "cost": "price",
    # people and pets
    "date": "partner", "marry": "partner", "be_married_to": "partner", "adopt": "has_pet",
    "name": "name", "call": "call", "be_called": "name", "be_named": "name",
    # attitudes
    "like": "likes", "love": "likes", "enjoy": "likes", "adore": "likes", "hate": "dislikes",
    "dislike": "dislikes", "detest": "dislikes", "diagnose_with": "diagnosis", "be_diagnosed_with": "diagnosis",
    "prescribe": "medication",
}

#: ending frame -> the canonical predicate whose matching value it closes.
ENDS: dict[str, str] = {
    "leave": "works_at", "quit": "works_at", "resign_from": "works_at", "be_fired_from": "works_at",
    "fire_from": "works_at", "retire_from": "works_at", "be_laid_off_from": "works_at", "lay_off_from": "works_at",
    "move_from": "lives_in", "move_out_of": "lives_in", "move_away_from": "lives_in", "leave_from": "lives_in",
    "break_up_with": "partner", "divorce": "partner", "split_from": "partner", "split_up_with": "partner",
}

_SINGLE_VALUED = frozenset(
    {
        "lives_in", "works_at", "job_title", "manager", "boss", "supervisor", "partner", "wife", "husband",
        "boyfriend", "girlfriend", "fiance", "fiancee", "spouse", "landlord", "landlady", "salary", "rent", "price",
        "age", "from", "name", "pet_name", "doctor", "dentist", "therapist", "mother", "father", "mom", "dad",
        "relationship_status", "schedule", "date", "is_in",
    }
)

#: Nouns naming a relation to a person; "my X" / "X's Y" with such a noun is a relation, not a thing.
_RELATION_NOUNS = frozenset(
    "friend bestie buddy pal mate sister brother sibling mom mum mam mother dad father parent wife husband partner "
    "boyfriend girlfriend fiance fiancee fiancé fiancée spouse son daughter kid child cousin aunt uncle niece "
    "nephew grandma grandmother grandpa grandfather granddaughter grandson stepmom stepdad stepmother stepfather "
    "manager boss supervisor colleague coworker co-worker teammate lead mentor landlord landlady roommate "
    "flatmate housemate neighbor neighbour doctor dentist therapist physio physiotherapist coach teacher tutor "
    "trainer professor advisor adviser lawyer accountant nurse vet client ex in-law gp physician surgeon "
    "specialist midwife counsellor counselor psychiatrist psychologist optician instructor classmate "
    "bf gf workmate".split()
)


#: Kinship relations (after synonyms): a person's kin is rarely also the same-named stranger of another story.
_KIN = frozenset(
    "sister brother sibling mother father parent son daughter kid child cousin aunt uncle niece nephew grandma "
    "grandmother grandpa grandfather granddaughter grandson stepmom stepdad stepmother stepfather in-law".split()
)


def is_kin(predicate: str) -> bool:
    """True when ``predicate`` is a kinship relation (``brother``, ``mother``, ``cousin``; not ``partner``)."""
    return predicate in _KIN


def canonical(frame: str) -> str:
    """The canonical predicate of ``frame`` (itself when the table has no entry)."""
    return FRAMES.get(frame, frame)


def ending(frame: str) -> str | None:
    """The canonical predicate that ``frame`` closes ("leave" -> ``works_at``), or ``None``."""
    return ENDS.get(frame)


_PETS = frozenset("dog cat puppy pup kitten kitty hamster rabbit bunny parrot bird fish turtle tortoise horse snake "
                  "lizard ferret gecko budgie pony goldfish".split())
#: Relation nouns read as one canonical relation.
_RELATION_SYNONYMS = {
    "supervisor": "manager", "boss": "manager", "lead": "manager", "crew_lead": "manager", "team_lead": "manager",
    "line_manager": "manager", "coworker": "colleague", "co-worker": "colleague", "workmate": "colleague",
    "mum": "mother", "mam": "mother", "mom": "mother", "dad": "father", "gf": "girlfriend", "bf": "boyfriend", "bestie": "friend",
    "best_friend": "friend", "buddy": "friend", "pal": "friend", "gp": "doctor", "physician": "doctor",
    "flatmate": "roommate", "housemate": "roommate", "neighbour": "neighbor",
}


def pet_noun(lemma: str) -> bool:
    """True when the noun ``lemma`` names a kind of pet (``dog``, ``cat``, ``hamster``)."""
    return lemma.lower() in _PETS


def relation_predicate(noun: str) -> str:
    """The canonical relation for a relation noun phrase (``supervisor`` -> ``manager``, ``mum`` -> ``mother``)."""
    key = noun.lower().replace(" ", "_")
    return _RELATION_SYNONYMS.get(key, _RELATION_SYNONYMS.get(key.rsplit("_", 1)[-1], key))


def relation_noun(lemma: str) -> bool:
    """True when the noun ``lemma`` names a relation to a person (``sister``, ``manager``, ``landlord``)."""
    return lemma.lower() in _RELATION_NOUNS


def is_single_valued(predicate: str) -> bool:
    """True when ``predicate`` holds one value at a time (a newer value supersedes the older)."""
    return predicate in _SINGLE_VALUED or predicate.startswith("favorite_")


def predicate_phrase(predicate: str) -> str:
    """Human-readable form: ``works_at`` -> ``works at``, ``has_pet`` -> ``has pet``."""
    return predicate.replace("_", " ")


_MULT = {"k": 1e3, "thousand": 1e3, "grand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}
_MONEY = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s?(k|mm|m|bn|b|million|thousand|grand|billion)?\b", re.IGNORECASE)


def parse_money(text: str) -> float | None:
    """``$195k`` -> 195000.0, ``1.2M`` -> 1200000.0, ``195,000 dollars`` -> 195000.0; ``None`` if unparseable."""
    m = _MONEY.search(text)
    if not m:
        return None
    try:
        value = float(m.group(1).replace(",", ""))
    except ValueError:
        return None
    return value * _MULT.get((m.group(2) or "").lower(), 1.0)
