"""Facts a sentence states through its nouns rather than a verb clause (no lists of phrases, no regex rules).

Contract (each function reads one parsed spaCy sentence or token and returns :class:`~tracelake.operators.triples.
Triple` rows, subjects still references to resolve):

- :func:`relation_triples`: possessive relations with a name ("my cousin Ines", "Ruth's husband Karl", "Keiko's
  sister Mariko" parsed as a compound) and appositions that say what a person or firm is ("Prof Annika Sall,
  ex-ICU nurse" -> is_a; "Lukas Brenner, 22" -> age; not a comma list after a place, date or amount).
- :func:`introduced`: what an existential says exists ("there's a power cut in our area" -> (speaker, there_is,
  ...)), or names ("there's a tabby called Tofu" -> (Tofu, is_a, tabby)).
- :func:`first_day_at`: a verbless "first day at Bellweather Foods" -> (speaker, start_at, Bellweather Foods):
  works there; "last shift at Station 9" -> (speaker, leave, Station 9): no longer.
- :func:`noteworthy`: whether a verbless fragment's words say enough for a ``note``; :func:`can_feel`: whether a
  subject noun can have a feeling (a person, not "kickoff" or "christmas").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from tracelake.operators.lexicon import FIRST_NAMES
from tracelake.operators.nlp import english_word
from tracelake.operators.phrases import called_name, coordinated, name_of, phrase_bounds, possessor
from tracelake.operators.predicates import relation_noun
from tracelake.operators.stance import modality, polarity
from tracelake.operators.triples import Triple

if TYPE_CHECKING:
    from spacy.tokens import Span, Token

__all__ = ["relation_triples", "introduced", "first_day_at", "can_feel", "noteworthy", "PERSON_NOUNS"]

#: Nouns that say only that someone is a person ("a woman called Priya Lanz"): no is_a of their own.
PERSON_NOUNS = frozenset("man woman guy lady person bloke girl boy kid lad chap fella someone".split())
_THING_LABELS = frozenset({"DATE", "TIME", "EVENT", "ORG", "GPE", "LOC", "FAC", "PRODUCT", "WORK_OF_ART"})
_PLACE_HEADS = frozenset("road street lane avenue row close way drive park square".split())
_FAMILY_WORDS = frozenset("mam mama mammy ma mum mummy mom mommy da dad daddy papa nan nana gran granny".split())


def relation_triples(sent: "Span", pol: str, mod: str) -> Iterator[Triple]:
    """Possessive relations with a name ("my cousin Ines", "Ruth's husband Karl", "Emi, our daughter,") and
    descriptive appositions of a name ("Prof Annika Sall, ex-ICU nurse" -> is_a; "Lukas Brenner, 22" -> age)."""
    for name in sent:
        if name.pos_ != "PROPN" or name.dep_ == "compound":
            continue
        for c in name.children:
            if c.dep_ != "appos" or c.pos_ not in ("NOUN", "NUM") or relation_noun(c.lemma_) or \
                    (c.pos_ == "NUM" and (c.lower_ == "one" or any(g.dep_ == "prep" for g in c.children))):
                continue  # "the gym on Carver Street, the one with the glass front": no age
            span = phrase_bounds(c)
            if c.pos_ == "NUM" and not _may_be_person(name):
                continue  # "Harbour Row, balcony, 1,500 a month": a place has no age
            if span and (c.pos_ == "NUM" or _describes_person(name, c)):
                yield Triple(name, "age" if c.pos_ == "NUM" else "is_a", *span, c, pol, mod)
    for noun in sent:
        if noun.pos_ != "NOUN" or not relation_noun(noun.lemma_):
            continue
        owner = possessor(noun)  # none: the speaker's ("the landlady, Mrs Oyelaran", "two flatmates, Juno and Priya")
        name = name_of(noun)
        if name is None and noun.dep_ == "compound" and noun.head.pos_ == "PROPN":
            name = noun.head  # "Keiko's sister Mariko came": the parser made the relation a compound of the name
            owner = owner or possessor(name)
        elif name is None and noun.dep_ == "appos" and noun.head.pos_ == "PROPN" and noun.head.i < noun.i and \
                owner is not None and not _denied(noun) and not _denied(noun.head):
            name = noun.head  # "Emi, our daughter, says ...", "Bettina, my manager, eats ...": the name it follows
            # (not "Lukas Brenner, 22, sweet kid", "Dario Vance, not my old partner": no one's, or denied)
        if name is None:
            continue
        for named in coordinated(name):
            span = phrase_bounds(named) if named.pos_ == "PROPN" else None
            if span and noun.head == name and noun.dep_ == "compound":  # the name alone, not "Keiko's sister Mariko"
                span = (noun.doc[noun.i + 1].idx, span[1])
            if span:
                yield Triple(None if owner is None or owner.lower_ in ("my", "mine") else owner, noun.lemma_.lower(),
                             *span, named, pol, mod, owner=owner, relation=True)


def _denied(noun: "Token") -> bool:
    """The noun phrase is denied ("not my old partner", "not Radu's sister")."""
    first = min(t.i for t in noun.subtree)
    return any(c.lower_ in ("not", "no", "never") for c in noun.children) or \
        (first > 0 and noun.doc[first - 1].lower_ in ("not", "no", "never"))


def _may_be_person(name: "Token") -> bool:
    """A name that can be a person's: not tagged a place, firm, date or amount, nor ending in a place word."""
    return name.ent_type_ not in ("GPE", "LOC", "FAC", "ORG", "DATE", "TIME", "MONEY", "PRODUCT") and \
        name.lower_ not in _PLACE_HEADS


def _describes_person(name: "Token", noun: "Token") -> bool:
    """An apposed noun that says what a person or firm is ("Prof Annika Sall, ex-ICU nurse", "Tomasz, a postdoc",
    "Koopgoed, the supermarket on Gildeweg"), not a comma list after a place or firm ("Birchcombe Road, small
    garden", "Valbrecht, 14 euro", "Greyhaven University, ocean sciences"), a denial or pointer ("Kofi, not the
    boat one", "Kofi Ansah, no relation to my brother") nor an occurrence ("Rafi Amsel, first session today")."""
    kids = list(noun.children)
    if name.ent_type_ in ("GPE", "LOC", "FAC", "DATE", "TIME", "MONEY") or \
            name.lower_ in _PLACE_HEADS or \
            (name.ent_type_ == "ORG" and not any(c.dep_ == "det" and c.lower_ in ("a", "an", "the") for c in kids)):
        return False
    if any(c.dep_ == "amod" and (c.ent_type_ == "ORDINAL" or c.lower_ in ("first", "last", "next")) for c in kids) \
            or any(t.ent_type_ in ("DATE", "TIME") for t in noun.subtree):
        return False  # "a physio, Rafi Amsel, first session today": an occurrence, not what he is
    return noun.lower_ not in ("one", "ones") and not any(
        c.dep_ in ("nummod", "neg") or (c.dep_ == "det" and c.lower_ == "no") for c in kids) and not \
        any(t.lower_ in ("not", "no") for t in noun.doc[name.i + 1:noun.i])


#: "first day at X" starts something at X (``start_at``: works at), "last shift at X" ends it (``leave``).
_OPENING, _CLOSING = frozenset("first new".split()), frozenset("last final".split())


def first_day_at(root: "Token", out: list[Triple]) -> bool:
    """A verbless "first day at Bellweather Foods" / "last shift at Station 9": (speaker, start_at | leave, the
    place) added to ``out`` (a day, week or shift without "first"/"last": ``day_at``, ``shift_at``); ``False``
    when ``root`` is no such day, week or shift at a name."""
    if root.lemma_.lower() not in ("day", "week", "shift") or any(c.dep_ == "nummod" for c in root.children):
        return False  # "8 weeks at X" is how long
    which = {c.lower_ for c in root.children if c.dep_ == "amod"}
    for c in root.children:
        pobj = next((p for p in c.children if p.dep_ == "pobj"), None) if c.dep_ == "prep" else None
        span = phrase_bounds(pobj) if pobj is not None and pobj.pos_ == "PROPN" else None
        if span:
            frame = "start_at" if which & _OPENING and c.lower_ == "at" else "leave" if which & _CLOSING and \
                c.lower_ == "at" else f"{root.lemma_.lower()}_{c.lower_}"
            out.append(Triple(possessor(root), frame, *span, pobj, polarity(root), modality(root),
                              owner=possessor(root)))
    return bool(out)


def introduced(head: "Token") -> Iterator[Triple]:
    """What an existential says exists, as the speaker tells it: "there's a power cut in our area" -> (speaker,
    there_is, power cut in our area); one introduced by name: "there's a one-eyed tabby called Tofu" -> (Tofu,
    is_a, one-eyed tabby)."""
    if not any(c.dep_ in ("expl", "nsubj") and c.tag_ == "EX" for c in head.children):
        return
    for c in head.children:
        if c.dep_ not in ("attr", "dobj", "nsubj", "acomp") or c.tag_ == "EX" or c.pos_ not in ("NOUN", "PROPN", "NUM"):
            continue
        named = called_name(c) if c.pos_ == "NOUN" else None
        span = phrase_bounds(c)
        if span and named is not None and c.lemma_.lower() not in PERSON_NOUNS:
            yield Triple(named, "is_a", *span, c, polarity(head), modality(head))
        elif span and named is None:
            yield Triple(None, "there_is", *span, c, polarity(head), modality(head))


def can_feel(subj: "Token | None") -> bool:
    """Whether a subject can have a feeling: the speaker, a person pronoun, a name that is no date, place, firm or
    work, a person or relation noun; not a thing ("it went ok", "christmas was mad", "my jollof is fine")."""
    if subj is None:
        return True
    if subj.pos_ == "PRON":
        return subj.lower_ not in ("it", "this", "that", "which", "what")
    if subj.pos_ == "PROPN":
        low = subj.lower_
        if subj.text == low and english_word(low) and low not in FIRST_NAMES and low not in _FAMILY_WORDS:
            return False  # "kickoff went fine", "christmas was mad": a word typed in lower case, not a name
        return subj.ent_type_ not in _THING_LABELS and not any(c.dep_ == "poss" for c in subj.children)
    return relation_noun(subj.lemma_) or subj.lemma_.lower() in PERSON_NOUNS


def noteworthy(toks: list["Token"]) -> bool:
    """Whether a verbless fragment says enough to be kept as a note: a name or number in it, and more than one word;
    up to three words only with a number or a name of two words ("Eleven years", "Sandpiper Close"), not a lone
    word ("Hmm.", "Bust!"), a day ("saturday.", "keys on saturday!") or a bare label ("GCSE results day")."""
    if len(toks) < 2 or not any(t.pos_ in ("PROPN", "NUM") for t in toks):
        return False
    if len(toks) > 3:
        return True
    return any(t.like_num for t in toks) or \
        sum(t.pos_ == "PROPN" and t.ent_type_ not in ("DATE", "TIME") for t in toks) >= 2
