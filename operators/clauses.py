"""Clause triples from the dependency tree of one parsed sentence (no lists of phrases, no regex rules).

Contract of :func:`clause_triples`: for a spaCy sentence ``Span`` it returns :class:`Triple` rows, each a
candidate fact whose subject is still a *reference* (a token to resolve: a pronoun, a name, "my sister") and
whose object is a *phrase* (a character span of the sentence's text):

- **Verb clauses**: every clause head (ROOT, conj, ccomp, advcl, relcl, acl, parataxis verbs) gives one triple per
  direct object and per prepositional attachment; the frame is the verb lemma with its particle and preposition
  (``move_to``, ``sign_up_for``); passives add ``be_`` (``be_diagnosed_with``). The subject is the clause's nsubj,
  else that of the verb it is coordinated with / governed by, else (for relative clauses) the noun it modifies,
  else (dropped subject, common in speech: "moved to porto lol") the speaker.
- **Chains**: "started working at X", "decided to move to Y", "thinking about quitting": the inner verb's triple
  with the outer verb's subject; the outer verb decides modality (see :mod:`~tracelake.operators.stance`).
- **Reported copulas**: "she thinks it's a disc thing" -> (she, think, disc thing): a bare "it" reported by
  someone is what they say, not a thing to resolve.
- **Copulas**: "my landlord is Tomas Weber" -> (speaker, landlord, Tomas Weber); "Tomas is my landlord" ->
  (speaker, landlord, Tomas); "I'm a senior nurse" -> (speaker, is_a, senior nurse); "she's from Graz" ->
  (she, be_from, Graz); "I'm 34" -> age; adjectives -> ``is`` (or ``feels`` for emotion words).
- **Possessives and appositions**: "Ruth's husband Karl", "my cousin Ines" -> (Ruth, husband, Karl),
  (speaker, cousin, Ines); "my dog Biscuit" -> (speaker, has_pet, dog) + (dog, name) is left to the caller.
- Time expressions (DATE/TIME entities, "last week") are never objects: they date the fact instead.
- Objects are whole noun phrases (modifiers, numbers with units, money, names), without relative clauses,
  leading determiners or trailing punctuation, at most :data:`MAX_OBJECT_TOKENS` tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from tracelake.operators.predicates import canonical, ending, pet_noun, relation_noun
from tracelake.operators.stance import modality, polarity, valence

if TYPE_CHECKING:
    from spacy.tokens import Span, Token

__all__ = ["Triple", "clause_triples", "loose_triples", "phrase_bounds", "name_of", "possessor", "MAX_OBJECT_TOKENS"]

MAX_OBJECT_TOKENS = 10
_CLAUSE_DEPS = frozenset({"ROOT", "conj", "ccomp", "advcl", "relcl", "acl", "parataxis", "xcomp", "pcomp", "dep"})
_CHAIN_ASPECT = frozenset("start begin keep continue resume get go come end finish stop quit".split())
_TIME_LABELS = frozenset({"DATE", "TIME"})
_TIME_NOUNS = frozenset(
    "day days week weeks month months year years morning afternoon evening night tonight today tomorrow yesterday "
    "weekend weekends moment minute minutes hour hours while time times ago sec second seconds lately".split()
)
#: Words of time phrases that only date a clause relative to the moment of speaking.
_DEICTIC = frozenset("last next this that the these those past other same few couple of a an today tonight tomorrow "
                     "yesterday now then day days week weeks weekend month months year years morning afternoon evening "
                     "night time while moment recently lately earlier later soon once".split())
_DROP_LEAD = frozenset("a an the this that these those some any such".split())
_BAD_OBJECT = frozenset(
    "it that this them him her you me us something anything nothing everything one lot bit stuff thing things what "
    "which who there here myself yourself himself herself themselves ourselves itself whatever so".split()
)
_PLACE_ADVERBS = frozenset({"there"})
_MOTION_VERBS = frozenset("move go come travel drive fly head relocate return get walk run".split())
_DIRECTIONS = frozenset("back away out over home down up off around along across".split())
_LINKING_VERBS = frozenset("feel seem look sound get go become grow turn stay".split())
_SALIENT = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT", "WORK_OF_ART", "LANGUAGE",
                      "MONEY", "QUANTITY", "CARDINAL", "PERCENT"})
_NAMED_ALONE = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "MONEY", "QUANTITY", "PERCENT", "PRODUCT", "EVENT",
                          "WORK_OF_ART"})
_ATTACHED = frozenset({"pobj", "appos", "attr", "dobj", "npadvmod", "conj", "nsubj"})
#: Verbs that state a feeling about their object (adjectives of feeling are :func:`~stance.valence`'s whole list).
_FEELING_VERBS = frozenset("love adore enjoy hate detest resent dread fear worry miss regret appreciate".split())
#: Verbs by which an organisation or a person takes the speaker on ("X hired me" -> (me, be_hire_by, X)).
_TAKE_ON_VERBS = frozenset("hire employ promote invite interview accept reject refer diagnose treat sign recruit "
                           "appoint".split())
#: Adverbs that add nothing a fact could hold ("miscounted before", "moving again lol", "not ready to say it yet").
_EMPTY_ADVERBS = frozenset("again before yet already still just now too then also even ever really so ok okay lol "
                           "anyway actually literally basically probably definitely maybe".split())
_TO_ME_VERBS = frozenset("offer pay give send lend owe promise".split())
_OBJ_DEPS = ("dobj", "attr", "oprd", "dative")
_PHRASE_CUT = frozenset({"relcl", "acl", "advcl", "punct", "cc", "conj", "appos", "parataxis", "ccomp", "mark"})


@dataclass(frozen=True)
class Triple:
    """A candidate fact before reference resolution.

    ``subject``: the subject token (``None`` for the speaker); ``owner``: for possessive relations, the token
    that owns the relation ("my" -> the speaker). ``frame``: verb frame or relation noun. ``obj_start/obj_end``:
    character offsets of the object phrase in ``doc.text``; ``obj_head`` its head token (``None`` for a literal).
    """

    subject: "Token | None"
    frame: str
    obj_start: int
    obj_end: int
    obj_head: "Token | None"
    polarity: str
    modality: str
    valence: float | None = None
    owner: "Token | None" = None
    relation: bool = False
    place_ref: bool = False
    pronoun_ref: bool = False


def _is_time(tok: "Token") -> bool:
    return tok.ent_type_ in _TIME_LABELS or tok.lemma_.lower() in _TIME_NOUNS


def _time_object(tok: "Token") -> tuple[int, int] | None:
    """The span of a time phrase that says something of its own ("on the 12th of august", "tuesdays 6-9", "for 6
    weeks", "three times a day"), or ``None`` for one that only dates the clause ("last week", "two days ago")."""
    span = phrase_bounds(tok)
    if span is None:
        return None
    words = [t.lower_ for t in tok.doc if span[0] <= t.idx < span[1] and not t.is_punct]
    if "ago" in words or all(w in _DEICTIC for w in words):
        return None
    return span


def _joiner(tok: "Token") -> bool:
    """A hyphen or slash inside a word ("Okonkwo-Lay", "L5-S1"): part of the phrase, not a cut."""
    return tok.text in ("-", "/", "&") and not tok.whitespace_ and tok.i > 0 and not tok.doc[tok.i - 1].whitespace_


def phrase_bounds(head: "Token") -> tuple[int, int] | None:
    """Character span of the noun phrase headed by ``head`` (see the module contract), or ``None``."""
    toks = [head]
    stack = [c for c in head.children if c.dep_ not in _PHRASE_CUT or _joiner(c)]
    while stack:
        t = stack.pop()
        toks.append(t)
        stack.extend(c for c in t.children if c.dep_ not in _PHRASE_CUT or _joiner(c))
    toks.sort(key=lambda t: t.i)
    # keep the contiguous run around the head
    idx = [t.i for t in toks]
    pos = idx.index(head.i)
    lo = hi = pos
    while lo > 0 and idx[lo - 1] == idx[lo] - 1:
        lo -= 1
    while hi < len(idx) - 1 and idx[hi + 1] == idx[hi] + 1:
        hi += 1
    run = toks[lo:hi + 1]
    while run and (run[0].lower_ in _DROP_LEAD or run[0].is_punct or run[0].lower_ in ("like", "just", "about")) \
            and run[0] is not head:
        run = run[1:]
    while run and (run[-1].is_punct or run[-1].dep_ in ("case", "cc")) and run[-1] is not head:
        run = run[:-1]
    if len(run) > MAX_OBJECT_TOKENS:  # keep the head and what is closest to it
        start = max(0, min(run.index(head) - 3, len(run) - MAX_OBJECT_TOKENS))
        run = run[start:start + MAX_OBJECT_TOKENS]
    if not run:
        return None
    if len(run) == 1 and (head.lower_ in _BAD_OBJECT or head.pos_ in ("PRON", "DET", "PUNCT", "SYM")):
        return None
    return run[0].idx, run[-1].idx + len(run[-1].text)


def _subject(head: "Token") -> "Token | None | bool":
    """The clause's subject token; ``None`` means the speaker (dropped subject); ``False``: no usable subject."""
    node = head
    for _ in range(6):
        for c in node.children:
            if c.dep_ in ("nsubj", "nsubjpass", "csubj") and c.is_punct:
                return None  # "[shares a photo ...]": a stage direction, the speaker's
            if c.dep_ in ("nsubj", "nsubjpass", "csubj") and not (c.tag_ in ("WP", "WDT") and node.dep_ == "relcl"):
                return c
        if node.dep_ in ("relcl", "acl") and node.head.pos_ in ("NOUN", "PROPN", "PRON"):
            return node.head
        if node.dep_ in ("conj", "xcomp", "advcl", "pcomp", "ccomp") and node.head is not node:
            node = node.head.head if node.head.dep_ == "prep" else node.head
            continue
        break
    if head.tag_ == "VB" and head.dep_ == "ROOT":
        return False  # imperative: no subject
    return None


def _objects(tok: "Token") -> Iterator["Token"]:
    """``tok`` and its coordinated nouns ("a dog and two cats")."""
    yield tok
    for c in tok.children:
        if c.dep_ == "conj" and c.pos_ in ("NOUN", "PROPN", "NUM"):
            yield from _objects(c)


def name_of(noun: "Token") -> "Token | None":
    """A proper-noun apposition or compound naming ``noun`` ("my cousin Ines", "this guy Omar Shah")."""
    for c in noun.children:
        if c.dep_ == "appos" and c.pos_ == "PROPN":
            return c
    if noun.pos_ == "NOUN":
        for c in noun.children:
            if c.dep_ == "appos" and c.pos_ == "NOUN":
                named = name_of(c)
                if named is not None:
                    return named
    if noun.pos_ == "PROPN" and noun.head.pos_ == "NOUN" and noun.dep_ in ("compound",):
        return None
    return None


def _frame(verb: "Token", prep: "Token | None" = None, adverb: "Token | None" = None) -> str:
    if verb.dep_ == "acl" and verb.tag_ == "VBN" and verb.lemma_ in ("call", "name"):
        return "be_called"  # "a grey cat called Miso"
    parts = [verb.lemma_.lower()]
    if any(c.dep_ == "auxpass" for c in verb.children):
        parts.insert(0, "be")
    parts += [c.lower_ for c in verb.children if c.dep_ == "prt"]
    if adverb is not None and adverb.lower_ not in parts:
        parts.append(adverb.lower_)
    if prep is not None:
        parts.append(prep.lower_)
    return "_".join(p.replace(" ", "_") for p in parts if p)


def possessor(noun: "Token") -> "Token | None":
    for c in noun.children:
        if c.dep_ == "poss":
            return c
    return None


def _relation_triples(sent: "Span", pol: str, mod: str) -> Iterator[Triple]:
    """Possessive relations with a name ("my cousin Ines", "Ruth's husband Karl") and descriptive appositions of
    a name ("Prof Annika Sall, ex-ICU nurse" -> is_a; "Lukas Brenner, 22" -> age)."""
    for name in sent:
        if name.pos_ != "PROPN" or name.dep_ == "compound":
            continue
        for c in name.children:
            if c.dep_ != "appos" or c.pos_ not in ("NOUN", "NUM") or relation_noun(c.lemma_) or \
                    (c.pos_ == "NUM" and (c.lower_ == "one" or any(g.dep_ == "prep" for g in c.children))):
                continue  # "the gym on Carver Street, the one with the glass front": no age
            span = phrase_bounds(c)
            if span:
                yield Triple(name, "age" if c.pos_ == "NUM" else "is_a", *span, c, pol, mod)
    for noun in sent:
        if noun.pos_ != "NOUN" or not relation_noun(noun.lemma_):
            continue
        owner = possessor(noun)
        name = name_of(noun)
        if name is None or (owner is None and not _definite(noun)):
            continue
        span = phrase_bounds(name)
        if span:
            yield Triple(None if owner is None or owner.lower_ in ("my", "mine") else owner, noun.lemma_.lower(), *span,
                         name, pol, mod, owner=owner, relation=True)


def _definite(noun: "Token") -> bool:
    """"the landlady", "our new crew lead": a relation noun the speaker owns when nobody else is named as owner."""
    return any(c.dep_ == "det" and c.lower_ == "the" for c in noun.children) and possessor(noun) is None


def _copula(head: "Token", subj: "Token | None", pol: str, mod: str) -> Iterator[Triple]:
    for c in head.children:
        if c.dep_ == "prep" and c.lower_ == "like":  # discourse "like": "rent is like 1,450 a month"
            c = next((p for p in c.children if p.dep_ == "pobj"), c)
            if c.dep_ == "pobj":
                yield from _copula_value(head, subj, c, pol, mod)
                continue
        if c.dep_ in ("attr", "acomp", "oprd") or c.dep_ == "prep":
            target = c
            if c.dep_ == "prep":
                pobj = next((p for p in c.children if p.dep_ == "pobj"), None)
                if pobj is None:
                    continue
                if _is_time(pobj):  # "the exam is on the 12th of april"
                    span = _time_object(pobj)
                    if span:
                        yield Triple(subj, f"be_{c.lower_}", *span, pobj, pol, mod)
                    continue
                for o in _objects(pobj):
                    span = phrase_bounds(o)
                    if span:
                        yield Triple(subj, f"be_{c.lower_}", *span, o, pol, mod)
                continue
            if _is_time(target) and target.pos_ != "NUM" and not (subj is not None and subj.pos_ == "NOUN") and \
                    _time_object(target) is None:
                continue
            yield from _copula_value(head, subj, target, pol, mod)


def _reported(head: "Token", subj: "Token | None") -> "tuple[Token | None, Token, str] | None":
    """``(reporter, value, frame)`` of a reported copula whose subject is a bare "it"/"that": "she thinks it's a
    disc thing" -> (she, disc thing, think); "he says it's not a tumour" -> (he, tumour, say)."""
    if subj is None or subj.lower_ not in ("it", "that", "this") or head.dep_ != "ccomp" or head.head.pos_ != "VERB":
        return None
    value = next((c for c in head.children if c.dep_ in ("attr", "acomp")), None)
    reporter = _subject(head.head)
    if value is None or reporter is False or value.pos_ in ("PRON", "ADJ"):
        return None
    return reporter, value, _frame(head.head)


def _copula_value(head: "Token", subj: "Token | None", target: "Token", pol: str, mod: str, *,
                  frame: str | None = None) -> Iterator[Triple]:
    span = phrase_bounds(name_of(target) or target)
    if span is None:
        return
    if frame is not None:  # a reported value: the reporter's verb is the predicate
        yield Triple(subj, frame, *span, target, pol, mod)
        return
    # "my landlord is Tomas Weber": the relation is the subject noun; "Tomas is my landlord": the attr noun.
    if subj is not None and subj.pos_ == "NOUN" and not (target.pos_ in ("ADJ", "VERB") or target.dep_ == "acomp") \
            and (possessor(subj) is not None or (relation_noun(subj.lemma_) and _definite(subj) and
                                                 (name_of(target) or target).pos_ == "PROPN")):
        owner = possessor(subj)  # "my landlord is Tomas", "the landlady is Mrs Oyelaran" (the speaker's)
        if owner is None:
            yield Triple(None, "_".join([c.lower_ for c in subj.children if c.dep_ == "compound"] +
                                        [subj.lemma_.lower()]), *span, target, pol, mod, relation=True)
            return
        frame = "_".join([c.lower_ for c in subj.children if c.dep_ == "compound"] + [subj.lemma_.lower()])
        yield Triple(None if owner.lower_ in ("my", "mine", "our") else owner, frame, *span, target, pol, mod,
                     owner=owner, relation=relation_noun(subj.lemma_))
        return
    if target.pos_ == "NOUN" and possessor(target) is not None and (relation_noun(target.lemma_) or
                                                                     pet_noun(target.lemma_)) and subj is not None:
        owner = possessor(target)  # "Tomas is my landlord", "she's my cat"
        frame = "pet_name" if pet_noun(target.lemma_) else target.lemma_.lower()
        if subj.pos_ == "PROPN":
            sspan = phrase_bounds(subj)
            if sspan:
                yield Triple(None if owner.lower_ in ("my", "mine", "our") else owner, frame, *sspan,
                             subj, pol, mod, owner=owner, relation=True)
            return
        if subj.pos_ == "PRON" and subj.lower_ not in ("i", "it", "this", "that"):
            yield Triple(None if owner.lower_ in ("my", "mine", "our") else owner, frame, subj.idx,
                         subj.idx + len(subj.text), subj, pol, mod, owner=owner, relation=True, pronoun_ref=True)
            return
    if subj is not None and subj.pos_ == "NOUN" and subj.lemma_ not in ("name",):
        sspan = phrase_bounds(subj)  # "the rent is 1,450": the subject noun names the attribute
        if sspan and (target.pos_ == "NUM" or target.ent_type_ in ("MONEY", "CARDINAL", "QUANTITY", "DATE", "TIME")):
            yield Triple(None, subj.lemma_.lower(), *span, target, pol, mod)
            return
    if target.pos_ == "NUM" and target.dep_ == "attr" and all(c.dep_ in ("advmod", "punct") for c in target.children) and \
            (subj is None or subj.pos_ == "PROPN" or subj.lower_ in ("i", "he", "she", "we", "they")):
        yield Triple(subj, "age", *span, target, pol, mod)
        return
    named = name_of(target) or target
    if subj is not None and subj.pos_ == "NOUN" and named.pos_ == "PROPN":
        sspan = phrase_bounds(subj)  # "the instructor is Prof Annika Sall": she is the instructor
        if sspan:
            yield Triple(named, "is_a", *sspan, subj, pol, mod)
            return
    if target.pos_ in ("ADJ", "VERB") or target.dep_ == "acomp":
        v = _val(target)
        if v is not None:
            yield Triple(subj, "feels", *span, target, pol, mod, valence=v)
            return
        yield Triple(subj, "is", *span, target, pol, mod)
        return
    if subj is not None and subj.lemma_.lower() == "name":
        owner = possessor(subj)
        yield Triple(owner if owner is not None and owner.lower_ not in ("my",) else None, "name", *span, target, pol, mod)
        return
    yield Triple(subj, "is_a", *span, target, pol, mod)


def _end_of(tok: "Token") -> int:
    span = phrase_bounds(tok)
    return span[1] if span else tok.idx + len(tok.text)


def _preps(head: "Token") -> Iterator[tuple["Token", "Token | None"]]:
    """``(prep, adverb)`` attachments of a verb, including those hung on a directional adverb ("moving back to X")."""
    for c in head.children:
        if c.dep_ in ("prep", "agent"):
            yield c, None
        elif c.dep_ in ("advmod", "prt") and c.lower_ in _DIRECTIONS:
            for p in c.children:
                if p.dep_ == "prep":
                    yield p, c


def _verb(head: "Token", subj: "Token | None", pol: str, mod: str) -> Iterator[Triple]:
    found = False
    if subj is not None and subj.pos_ == "PROPN" and (head.lemma_ in _TO_ME_VERBS | _TAKE_ON_VERBS) and \
            any(c.dep_ in ("dobj", "dative") and c.lower_ in ("me", "us") for c in head.children):
        span = phrase_bounds(subj)  # "Nordwind hired me", "Acme offered me a spot": the speaker's side of it
        if span:
            yield Triple(None, f"be_{_frame(head)}_by", *span, subj, pol, mod)
    if head.lemma_ in _TO_ME_VERBS and any(c.dep_ == "dative" and c.lower_ in ("me", "us") for c in head.children):
        subj = None  # "they offered me 88k": the speaker's offer
    v = _val(head)
    if v is not None and head.lemma_ not in _FEELING_VERBS and any(c.dep_ == "dobj" for c in head.children):
        v = None  # "hurt my back" is no feeling, "miss him" is
    for c in head.children:
        if c.dep_ == "dative" and c.pos_ == "PROPN":  # "gave Mrs Oyelaran a plant": to whom
            span = phrase_bounds(c)
            if span:
                found = True
                to = "to" if head.lemma_ in _TO_ME_VERBS | {"show", "tell", "teach", "hand", "write", "sell"} else "for"
                yield Triple(subj, f"{_frame(head)}_{to}", *span, c, pol, mod)
        elif c.dep_ in _OBJ_DEPS and c.dep_ != "dative":
            for o in _objects(c):
                span = phrase_bounds(name_of(o) or o)
                if span and v is not None:  # "gonna miss that idiot": the feeling with what it is about
                    span = (min(head.idx, span[0]), span[1])
                if span:
                    found = True
                    yield Triple(subj, "feels" if v is not None else _frame(head), *span, o, pol, mod, valence=v)
        elif c.dep_ in ("acomp", "oprd"):
            span = phrase_bounds(c)
            cv = _val(c)
            if span:
                found = True
                if head.lemma_ in _LINKING_VERBS:  # "feels good", "went really well": keep the verb
                    span = (min(head.idx, span[0]), span[1])
                yield Triple(subj, "feels" if cv is not None else _frame(head), *span, c, pol, mod, valence=cv)
    for c, adverb in _preps(head):
        for p in c.children:
            if p.dep_ != "pobj":
                continue
            frame = _frame(head, c, adverb)
            if _is_time(p):  # "starts on the 12th of august": the time as the object of its own frame
                span = _time_object(p)
                if span:
                    found = True
                    yield Triple(subj, frame, *span, p, pol, mod)
                continue
            for o in _objects(p):
                span = phrase_bounds(name_of(o) or o)
                if span:
                    found = True
                    yield Triple(subj, frame, *span, o, pol, mod)
    for c in head.children:
        if c.dep_ == "npadvmod" and _is_time(c) and c.i > head.i:  # "drove 5 hours", "move in sept 1st"
            span = _time_object(c)
            if span:
                found = True
                yield Triple(subj, _frame(head), *span, c, pol, mod)
        if c.dep_ == "advmod" and c.lower_ in _PLACE_ADVERBS:  # "lives there": resolved to the last place
            found = True
            prep = "to" if head.lemma_ in _MOTION_VERBS else "in"
            yield Triple(subj, f"{_frame(head)}_{prep}", c.idx, c.idx + len(c.text), c, pol, mod, place_ref=True)
    if not found and (v is not None or ending(_frame(head)) is not None or any(
            c.dep_ in ("prt", "advmod", "npadvmod") and c.i > head.i for c in head.children)):
        # intransitive: "ugh, dreading it", "we broke up", "walked home": the verb with its particle or adverb
        hi = max([head.idx + len(head.text)] + [c.idx + len(c.text) for c in head.children if c.dep_ in ("prt", "advmod")
                                                and c.i > head.i])
        if v is None and (hi == head.idx + len(head.text) or not any(
                c.dep_ == "advmod" and c.i > head.i and c.lower_ not in _EMPTY_ADVERBS for c in head.children)) \
                and ending(_frame(head)) is None:
            return  # a bare verb ("leaving") or one with only its particle ("got in": the predicate) says too little
        yield Triple(subj, "feels" if v is not None else _frame(head), head.idx, hi, None, pol, mod, valence=v)


def _verb_phrase(head: "Token", subj: "Token | None", pol: str, mod: str, triples: list[Triple]) -> list[Triple]:
    """Open-frame complements read as one verb phrase ("do a weekend on the coast at Saltwick Bay", "grab a drink"):
    for a plan or hypothetical, or a verb with two or more complements, one triple whose object runs from the verb
    to its last complement (at most :data:`MAX_OBJECT_TOKENS` + 2 tokens) replaces the open-frame pieces; named
    objects and canonical frames stay as their own triples."""
    pieces = [t for t in triples if t.obj_head is not None and not t.place_ref and t.valence is None
              and t.obj_start > head.idx and t.obj_head.dep_ != "dative"]
    planned = mod in ("plan", "hypothetical")
    if not pieces or (len(pieces) < 2 and not planned):
        return triples
    lo, hi = head.idx, max(t.obj_end for t in pieces)
    if sum(1 for t in head.doc if lo <= t.idx < hi) > MAX_OBJECT_TOKENS + 2:
        return triples
    keep = [t for t in triples if t not in pieces or canonical(t.frame) != t.frame or ending(t.frame) is not None
            or t.obj_head.pos_ == "PROPN" or _is_time(t.obj_head)]  # times stay facts of their own
    return keep + [Triple(subj, "plans" if planned else _frame(head), lo, hi, head, pol, mod)]


def _val(tok: "Token") -> float | None:
    v = valence(tok.lemma_)
    return v if v is not None else valence(tok.lower_)


def clause_triples(sent: "Span", *, imperatives: bool = True) -> list[Triple]:
    """Candidate triples of one sentence, in clause order (see the module contract); with ``imperatives=False``
    (a monologue) a subjectless base-form verb has the speaker as its subject instead of none."""
    out: list[Triple] = []
    seen_heads: set[int] = set()
    for head in sent:
        if head.pos_ == "ADJ" and head.dep_ in ("ROOT", "parataxis") and not any(
                c.dep_ in ("nsubj", "cop", "aux") or c.pos_ == "AUX" for c in head.children):
            out.extend(_copula_value(head, None, head, polarity(head), modality(head)))  # "kinda gutted ngl"
            continue
        is_verb = head.pos_ in ("VERB", "AUX") and head.dep_ in _CLAUSE_DEPS
        if not is_verb or head.i in seen_heads or (head.pos_ == "AUX" and head.dep_ not in ("ROOT", "conj", "ccomp", "advcl", "relcl")):
            continue
        if head.dep_ in ("xcomp", "pcomp") and head.head.lemma_ not in _CHAIN_ASPECT and head.head.pos_ in ("VERB", "AUX"):
            pass  # a governed clause: extracted with its own frame, modality from the governing verb
        if any(c.dep_ in ("xcomp",) for c in head.children) and head.lemma_ in _CHAIN_ASPECT | {"want", "plan", "hope", "decide", "try", "need", "intend", "use", "go"}:
            continue  # the inner verb carries the content ("started working at X")
        seen_heads.add(head.i)
        subj = _subject(head)
        if subj is False:
            if imperatives:
                continue
            subj = None
        pol, mod = polarity(head), modality(head)
        if head.lemma_ == "be" and head.pos_ == "AUX":
            reported = _reported(head, subj)
            if reported is not None:
                out.extend(_copula_value(head, reported[0], reported[1], pol, mod, frame=reported[2]))
            else:
                out.extend(_copula(head, subj, pol, mod))
        else:
            out.extend(_verb_phrase(head, subj, pol, mod, list(_verb(head, subj, pol, mod))))
    out.extend(_relation_triples(sent, "positive", "asserted"))
    root = sent.root
    if not out and root.pos_ in ("NOUN", "PROPN") and not any(t.pos_ in ("VERB", "AUX") for t in sent):
        span = phrase_bounds(root)  # a verbless fragment: "senior manager in the audit team"
        if span and any(t.pos_ in ("PROPN", "NUM") for t in sent if span[0] <= t.idx < span[1]):
            out.append(Triple(None, "note", *span, root, polarity(root), modality(root)))
    return out


def _loose_time(root: "Token") -> Iterator[Triple]:
    """A specific time hung on a noun, adjective or adverb ("interview on the 14th of June", "results are out on
    the 22nd", "drops, 3 times a day") -> (subject, interview_on, 14th of June); times of verbs are :func:`_verb`'s."""
    if root.dep_ == "pobj" and root.head.dep_ == "prep":
        gov = root.head.head
        frame = _frame(gov, root.head) if gov.pos_ in ("VERB", "AUX") else f"{gov.lemma_.lower()}_{root.head.lower_}"
    elif root.dep_ == "npadvmod" and root.head.pos_ in ("NOUN", "PROPN", "ADJ"):
        gov, frame = root.head, root.head.lemma_.lower()
    else:
        return
    span = _time_object(root)
    verb = gov if gov.pos_ in ("VERB", "AUX") else next((a for a in gov.ancestors if a.pos_ in ("VERB", "AUX")), None)
    subj = _subject(verb) if verb is not None else None
    if span is None or not _sane_word(frame):
        return
    pol, mod = (polarity(verb), modality(verb)) if verb is not None else ("positive", "asserted")
    yield Triple(None if subj is False else subj, frame, *span, root, pol, mod)


def _sane_word(frame: str) -> bool:
    return frame.split("_")[0].replace("-", "").isalpha()


def loose_triples(sent: "Span", covered: list[tuple[int, int]]) -> list[Triple]:
    """One triple per named entity or amount of ``sent`` that no object in ``covered`` contains, attached where
    the tree hangs it: ``"first week at Port Calder Metro"`` -> (speaker, week_at, Port Calder Metro)."""
    out: list[Triple] = []
    for ent in sent.ents:
        if any(a <= ent.start_char and ent.end_char <= b for a, b in covered):
            continue
        if ent.label_ in _TIME_LABELS:
            out.extend(_loose_time(ent.root))
            continue
        if ent.label_ not in _SALIENT or ent.text.lower() in _EMPTY_ADVERBS:
            continue
        root = ent.root
        while root.dep_ in ("nummod", "quantmod", "compound") and root.head.pos_ in ("NOUN", "PROPN", "NUM"):
            root = root.head  # "890 euros", "5k in 38 minutes": the amount with its unit
        frame = "mention"
        if ent.label_ not in _NAMED_ALONE and root is ent.root and root.dep_ not in _ATTACHED:
            continue  # a bare number with no unit and no attachment says nothing on its own
        if root.dep_ == "pobj" and root.head.dep_ in ("prep", "agent"):
            prep, gov = root.head, root.head.head
            frame = _frame(gov, prep) if gov.pos_ in ("VERB", "AUX") else f"{gov.lemma_.lower()}_{prep.lower_}"
        elif root.dep_ in ("appos", "npadvmod", "dobj", "attr", "nsubj") and root.head is not root:
            frame = root.head.lemma_.lower() if root.head.pos_ in ("NOUN", "VERB") else frame
        verb = next((a for a in root.ancestors if a.pos_ in ("VERB", "AUX")), None)
        if frame == "mention" and verb is not None and verb.lemma_ != "be" and root.head is verb and \
                ent.label_ in ("MONEY", "QUANTITY", "CARDINAL", "PERCENT"):
            frame = _frame(verb)  # "was doing about 48k": the amount of the verb it hangs from
        subj = _subject(verb) if verb is not None else None
        if verb is not None and subj is root:
            continue  # the entity is the clause's own subject: its facts come from the clause
        span = phrase_bounds(root)
        if span is None or span[0] > ent.start_char or span[1] < ent.end_char:
            span = (ent.start_char, ent.end_char)
        pol, mod = (polarity(verb), modality(verb)) if verb is not None else ("positive", "asserted")
        out.append(Triple(None if subj is False else subj, frame, *span, root, pol, mod))
    return out
