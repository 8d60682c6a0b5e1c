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
- **Times**: a specific time phrase attached to a verb or copula is an object of its own frame ("I start on the
  12th of August" -> (I, start_on, 12th of August); "drove 5 hours" -> (I, drive, 5 hours)); one that only
  dates the clause ("last week", "two days ago") is no object (it dates the fact instead).
- **The speaker's side**: "Nordwind hired me" -> (speaker, be_hire_by, Nordwind); a named dative: "gave Mrs X a
  plant" -> (I, give_to, Mrs X).
- **Whole complements**: where the pieces of a verb's complement are cut apart ("gave me naproxen, 500 mg twice
  a day"), the complement as said is one more triple (``whole=True``, see :func:`_whole_complement`).
- Objects are phrases (:func:`~tracelake.operators.phrases.phrase_bounds`); a verb with only its particle or an
  empty adverb ("got in", "miscounted before") gives no triple. Leftover entities, amounts and times are
  :mod:`~tracelake.operators.leftovers`'.
- With ``imperatives=False`` (a monologue) a subjectless base-form verb has the speaker as its subject.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING, Iterator

from tracelake.operators.docs import doc_text, token_range
from tracelake.operators.nlp import CHAT_WORDS, english_word, parser
from tracelake.operators.phrases import (
    MAX_OBJECT_TOKENS,
    TIME_LABELS,
    called_name,
    coordinated,
    is_time,
    name_of,
    phrase_bounds,
    possessor,
    time_object,
)
from tracelake.operators.predicates import canonical, ending, pet_noun, relation_noun
from tracelake.operators.nominals import PERSON_NOUNS, can_feel, first_day_at, introduced, noteworthy, relation_triples
from tracelake.operators.stance import FEELING_VERBS, asserts_nothing, modality, polarity, shown_valence, valence
from tracelake.operators.triples import Triple

if TYPE_CHECKING:
    from spacy.tokens import Span, Token

__all__ = ["clause_triples", "clause_subject", "verb_frame", "verb_lemma", "EMPTY_ADVERBS", "VALUE_LABELS"]

_CLAUSE_DEPS = frozenset({"ROOT", "conj", "ccomp", "advcl", "relcl", "acl", "parataxis", "xcomp", "pcomp", "dep"})
_CHAIN_ASPECT = frozenset("start begin keep continue resume get go come end finish stop quit".split())
_PLACE_ADVERBS = frozenset({"there"})
_MOTION_VERBS = frozenset("move go come travel drive fly head relocate return get walk run".split())
_DIRECTIONS = frozenset("back away out over home down up off around along across".split())
#: Verbs that report what someone says or thinks: a first-person clause under another's is theirs to claim.
_REPORTING = frozenset("say tell think reckon claim insist suggest recommend mention write text email warn "
                       "promise swear joke argue".split())
_SPEAKER_PRONOUNS = frozenset({"i", "me", "we", "us"})
_SAYING = frozenset("say tell ask".split())
_HOLDING_VERBS = frozenset("have get make take".split())
_TOPIC_PREPS = frozenset("about of to for".split())
#: Entity labels of values (times, amounts, numbers), not of things.
VALUE_LABELS = frozenset({"DATE", "TIME", "CARDINAL", "MONEY", "QUANTITY", "PERCENT", "ORDINAL"})
_LINKING_VERBS = frozenset("feel seem look sound get go become grow turn stay".split())
#: Verbs by which an organisation or a person takes the speaker on ("X hired me" -> (me, be_hire_by, X)).
_TAKE_ON_VERBS = frozenset("hire employ promote invite interview accept reject refer diagnose treat sign recruit "
                           "appoint".split())
#: Adverbs that add nothing a fact could hold ("miscounted before", "moving again lol", "not ready to say it yet").
EMPTY_ADVERBS = frozenset("again before yet already still just now too then also even ever really so ok okay lol "
                           "anyway actually literally basically probably definitely maybe".split())
_GOT_VERBS = frozenset("give send hand lend".split())  # "X gave me Y" -> (me, get, Y)
_TO_ME_VERBS = frozenset("offer pay give send lend owe promise".split())
_OBJ_DEPS = ("dobj", "attr", "oprd", "dative")
_WEATHER_VERBS = frozenset("rain snow pour drizzle hail sleet thunder storm freeze".split())
_WEATHER_WORDS = frozenset("cold hot warm grey gray sunny windy rainy wet dry foggy freezing humid chilly "
                           "muggy cloudy stormy mild".split())
_WEATHER_COMPLEMENTS = _WEATHER_WORDS | _WEATHER_VERBS
_NOT_YET = frozenset("before until till".split())
_STATE_PASSIVES = frozenset("call name base marry bear bore engage divorce diagnose".split())


#: Objects that control a to-clause of their verb ("told him to leave": he leaves); "promise" keeps the subject's.
_CONTROLLERS = frozenset("me us him her them you".split())
_SUBJECT_CONTROL = frozenset("promise".split())


def _extraposed(gov: "Token") -> bool:
    """A copula after an expletive "it", with a complement ("it's great to ...", "it was a blessing to ..."; not the
    question "is it normal to ..."): the to-clause or -ing clause after it is the content, nobody named its doer."""
    return gov.lemma_ == "be" and any(c.dep_ in ("nsubj", "expl") and c.lower_ == "it" and c.i < gov.i
                                      for c in gov.children) and \
        any(c.dep_ in ("acomp", "attr") for c in gov.children)


def clause_subject(head: "Token") -> "Token | None | bool":
    """The clause's subject token; ``None`` means the speaker (dropped subject); ``False``: no usable subject."""
    node = head
    for _ in range(6):
        for c in node.children:
            if c.dep_ in ("nsubj", "nsubjpass", "csubj") and c.is_punct:
                return None  # "[shares a photo ...]": a stage direction, the speaker's
            if c.dep_ in ("nsubj", "nsubjpass", "csubj") and c.lower_ in ("'s", "’s") and node.head.lemma_ == "let":
                return None  # "let's go": the speaker (with the addressee)
            if c.dep_ in ("nsubj", "nsubjpass", "csubj") and not (c.tag_ in ("WP", "WDT") and node.dep_ == "relcl"):
                return name_of(c) if c.pos_ == "NOUN" and name_of(c) is not None and name_of(c).dep_ == c.dep_ else c
        if node.dep_ == "acl" and node.head.pos_ == "NOUN" and node.head.head.lemma_ in _HOLDING_VERBS and \
                any(c.dep_ == "aux" and c.lower_ == "to" for c in node.children) and node.head.head != node.head:
            node = node.head.head  # "had every intention to join the choir", "got the chance to see": whoever
            continue  # has the intention or the chance does it, not the noun ("arranged a carer to come": the carer)
        if node.dep_ in ("relcl", "acl") and node.head.pos_ in ("NOUN", "PROPN", "PRON"):
            return node.head
        if node.dep_ == "xcomp" and node.head != node:
            gov = node.head.head if node.head.pos_ == "ADJ" and node.head.dep_ == "acomp" else node.head
            if _extraposed(gov):
                return None  # "it's great to be part of it", "it was nice seeing them": the speaker does it
            ctrl = next((c for c in node.head.children if c.dep_ == "dobj" and c.i < node.i and
                         (c.lower_ in _CONTROLLERS or (c.pos_ == "PROPN" and not is_time(c)))), None)
            if ctrl is not None and node.head.lemma_ not in _SUBJECT_CONTROL:
                return ctrl  # "it inspired me to make a difference", "asked Sam to cover": the object does it
        if (node.dep_ in ("conj", "xcomp", "pcomp") or (node.dep_ == "advcl" and node.tag_ in ("VBG", "VBN"))) and \
                node.head != node:  # a clause complement or a finite adverbial clause has its own (dropped) subject
            node = node.head.head if node.head.dep_ == "prep" else node.head
            continue
        break
    if head.tag_ == "VB" and head.dep_ == "ROOT" and head.lemma_ not in FEELING_VERBS and head.lemma_ != "let":
        return False  # imperative: no subject ("appreciate it", "let's ...": the speaker)
    return None


def verb_frame(verb: "Token", prep: "Token | None" = None, adverb: "Token | None" = None) -> str:
    if verb.dep_ == "acl" and verb.tag_ == "VBN" and verb.lemma_ in ("call", "name"):
        return "be_called"  # "a grey cat called Miso"
    habit = _habit(verb)
    if habit is not None and prep is not None:
        return verb_frame(habit, prep)  # "at Calloway Brandt I used to eat crisps": eat_at, no use_at
    parts = [verb_lemma(verb)]
    kids = list(verb.children)
    if any(c.dep_ == "auxpass" and (c.lower_ not in ("'s", "’s", "s") or verb.lemma_ in _STATE_PASSIVES or
                                     any(k.lower_ == "been" for k in kids)) for c in kids):
        parts.insert(0, "be")  # "she's found a place" is has found; "it's been sold", "she's called X" passives
    parts += [c.lower_ for c in verb.children if c.dep_ == "prt"]
    if adverb is not None and adverb.lower_ not in parts:
        parts.append(adverb.lower_)
    if prep is not None:
        parts.append(prep.lower_)
    return "_".join(p.replace(" ", "_") for p in parts if p)


def _weather(head: "Token") -> bool:
    """A clause about the weather or the time of day: a weather verb ("it rained"), or a copula with a weather
    adjective ("it's cold and grey", "it's raining sideways") or a time of day ("it's 8am", "its 5am")."""
    if head.lemma_.lower() in _WEATHER_VERBS:
        return True
    return head.lemma_ == "be" and any(c.dep_ in ("acomp", "attr") and (c.lemma_.lower() in _WEATHER_COMPLEMENTS or
                                                                         _clock(c)) for c in head.children)


def _clock(tok: "Token") -> bool:
    """A time of day ("8am", "5 am", "6:30"), not a duration ("11 hours")."""
    ent = next((e for e in tok.doc.ents if e.start <= tok.i < e.end), None)  # "8 am": the "am" hangs elsewhere
    words = [t.lower_ for t in (ent if ent is not None else tok.subtree)]
    return tok.ent_type_ == "TIME" and any(w in ("am", "pm", "a.m.", "p.m.", "o'clock") or
                                           (w[:1].isdigit() and (w.endswith(("am", "pm")) or ":" in w)) for w in words)


@lru_cache(maxsize=1)
def _verb_lemmas() -> frozenset[str]:
    """The verbs of the lemmatizer's English tables."""
    return frozenset(parser().get_pipe("lemmatizer").lookups.get_table("lemma_index")["verb"])


def verb_lemma(verb: "Token") -> str:
    """The verb's lemma; a past or -ing form the lemmatizer cut to no English word ("texted", "texting" -> "texte")
    is cut back to the English word it is ("text"; "rebooked" -> "rebook": re- and a verb); a third-person form
    cut one letter too far ("hates" -> "hat") keeps its "e" when that is a verb."""
    lemma, low = verb.lemma_.lower(), verb.lower_
    if verb.tag_ == "VBZ" and low.endswith("es") and lemma == low[:-2] and low[:-1] in _verb_lemmas():
        return low[:-1]
    if english_word(lemma) or not low.endswith(("ed", "ing")):
        return lemma
    cuts = (low[:-2], low[:-3], low[:-1]) if low.endswith("ed") else (low[:-3], low[:-4], low[:-3] + "e")
    # "texting" -> "texte" is "text" too; "rebooked" -> "rebooke" is "rebook" (re- and an English verb)
    return next((w for w in cuts if len(w) > 1 and (english_word(w) or (w[:2] == "re" and english_word(w[2:])))),
                lemma)


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
                if is_time(pobj):  # "the exam is on the 12th of april"
                    span = time_object(pobj)
                    if span:
                        yield Triple(subj, f"be_{c.lower_}", *span, pobj, pol, mod)
                    continue
                for o in coordinated(pobj):
                    span = phrase_bounds(o)
                    if span:
                        yield Triple(subj, f"be_{c.lower_}", *span, o, pol, mod)
                continue
            if is_time(target) and target.pos_ != "NUM" and not (subj is not None and subj.pos_ == "NOUN") and \
                    time_object(target) is None:
                continue
            yield from _copula_value(head, subj, target, pol, mod)


def _reported(head: "Token", subj: "Token | None") -> "tuple[Token | None, Token, str] | None":
    """``(reporter, value, frame)`` of a reported copula whose subject is a bare "it"/"that": "she thinks it's a
    disc thing" -> (she, disc thing, think); "he says it's not a tumour" -> (he, tumour, say)."""
    if subj is None or subj.lower_ not in ("it", "that", "this") or head.dep_ != "ccomp" or head.head.pos_ != "VERB" \
            or head.head.lemma_ == "be":  # "it's 1,190 not 1,150, there's an add-on": no one reports it
        return None
    value = next((c for c in head.children if c.dep_ in ("attr", "acomp")), None)
    reporter = clause_subject(head.head)
    if value is None or reporter is False or value.pos_ in ("PRON", "ADJ"):
        return None
    return reporter, value, verb_frame(head.head)


def _as_reported(head: "Token", subj: "Token | None", triples: list[Triple]) -> list[Triple]:
    """The speaker's triples of a clause that someone else's reporting verb governs ("Colm says i'm doing great",
    "she said she'd argued for me to make partner"): what the reporter says, (reporter, say, object), not what the
    speaker asserts. Other clauses' triples are returned as they are."""
    if subj is not None and subj.lower_ not in _SPEAKER_PRONOUNS:
        return triples
    node = head
    for _ in range(5):
        if node.dep_ == "conj" and any(c.dep_ in ("nsubj", "nsubjpass") for c in node.children):
            break  # "Varga says my cholesterol is 7.1, and I'm 96 kilos": a clause of its own
        if node.dep_ == "ccomp" and node.head.lemma_ in _REPORTING and node.head.pos_ == "VERB" and \
                node.i > node.head.i:
            reporter = clause_subject(node.head)
            if reporter is None or reporter is False or reporter.lower_ in _SPEAKER_PRONOUNS or not (
                    reporter.pos_ in ("PROPN", "PRON") or relation_noun(reporter.lemma_) or
                    reporter.lemma_.lower() in PERSON_NOUNS):
                return triples  # "my father would have said im mad" comes first; "a mug that says ..." is no one
            frame = verb_frame(node.head)
            start, denial_said = _claim_start(head)
            said = polarity(node.head)
            out = []
            for t in triples:
                if t.subject is not subj or t.owner is not None:
                    out.append(t)
                    continue
                fits = start is not None and sum(start <= k.idx < t.obj_end for k in head.subtree) <= MAX_OBJECT_TOKENS
                out.append(replace(t, subject=reporter, frame=frame, relation=False, owner=None,
                                   obj_start=min(t.obj_start, start) if fits else t.obj_start,
                                   polarity=said if fits and denial_said else t.polarity))
            return out
        if node.dep_ not in ("xcomp", "advcl", "conj", "pcomp", "ccomp") or node.head == node:
            break
        node = node.head.head if node.head.dep_ == "prep" else node.head
    return triples


def _claim_start(head: "Token") -> tuple[int | None, bool]:
    """Where a reported verb clause starts as a claim, and whether its negation is inside it: at the verb ("doing
    great"), or at a negated auxiliary, whose denial is part of what is said, not of the saying ("she said 'I dont
    miss the hill'" -> (she, say, dont miss the hill), positive); ``(None, False)`` for a clause whose head is no
    verb. A free-standing "not" stays outside (the reader takes a leading "not" as the denial of the value)."""
    if head.pos_ != "VERB":
        return None, False
    neg = next((c for c in head.children if c.dep_ == "neg" and c.i < head.i), None)
    if neg is None or neg.i == 0 or head.doc[neg.i - 1].whitespace_:
        return head.idx, False
    return head.doc[neg.i - 1].idx, True  # "dont", "weren't": from the auxiliary on


def _copula_value(head: "Token", subj: "Token | None", target: "Token", pol: str, mod: str, *,
                  frame: str | None = None) -> Iterator[Triple]:
    called = called_name(target) if frame is None and target.pos_ == "NOUN" else None
    if called is not None:  # "the neighbour is a retired driver called Mossie Keane": he is both
        tspan = phrase_bounds(target)
        if tspan and target.lemma_.lower() not in PERSON_NOUNS:
            yield Triple(called, "is_a", *tspan, target, pol, mod)
        target = called
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
        if relation_noun(subj.lemma_) and target.pos_ == "NOUN" and name_of(target) is None and \
                not target.like_num and target.ent_type_ not in VALUE_LABELS:
            # "Sunita's new husband Colin is a builder": what the relation's person is, not who
            yield Triple(name_of(subj) or subj, "is_a", *span, target, pol, mod)
            return
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
            if _definite(subj):  # "the new head is Juliet Abara": the speaker's (school's) head is her
                nspan = phrase_bounds(named)
                role = "_".join([c.lower_ for c in subj.children if c.dep_ == "compound"] + [subj.lemma_.lower()])
                if nspan and role.replace("_", "").isalpha():
                    yield Triple(None, role, *nspan, named, pol, mod, relation=True)
            return
    if target.pos_ in ("ADJ", "VERB") or target.dep_ == "acomp":
        for adj in [target] + [c for c in target.children if c.dep_ == "conj" and c.pos_ == "ADJ"]:
            aspan = span if adj == target else phrase_bounds(adj)  # "scary but exciting": both
            v = _val(adj)
            if v is None and any(c.dep_ == "ccomp" for c in adj.children) and \
                    not any(c.lower_ in ("so", "too") for c in adj.children):
                continue  # "I was sure he was", "im sure im going to be sick": the clause says it, not "sure"
                # ("so nice i can't even be mad": the clause is a degree of the adjective, which stays)
            if aspan:
                yield Triple(subj, "feels" if v is not None and can_feel(subj) else "is", *aspan, adj, pol, mod,
                             valence=v)
        return
    if subj is not None and subj.lemma_.lower() == "name":
        owner = possessor(subj)
        yield Triple(owner if owner is not None and owner.lower_ not in ("my",) else None, "name", *span, target, pol, mod)
        return
    valued = target.like_num or target.ent_type_ in VALUE_LABELS or any(c.dep_ == "nummod" for c in target.children)
    yield Triple(subj, "is" if valued else "is_a", *span, target, pol, mod)  # "deposit was 1,500": a value, no kind


def _preps(head: "Token") -> Iterator[tuple["Token", "Token | None"]]:
    """``(prep, adverb)`` attachments of a verb, including those hung on a directional adverb ("moving back to X")."""
    for c in head.children:
        if c.dep_ in ("prep", "agent"):
            yield c, None
        elif c.dep_ in ("advmod", "prt") and c.lower_ in _DIRECTIONS and _hung_on(head, c):
            for p in c.children:
                if p.dep_ == "prep" and p.i > c.i:
                    yield p, c


def _hung_on(verb: "Token", adverb: "Token") -> bool:
    """A directional adverb that goes with the verb: after it in the same stretch of the sentence ("came over from
    X", "drove up from X"), not one the parser hung on it across a comma or colon ("started a walk on Fridays, up to
    the headland", "I've decided: up at 6") nor after the phrase it belongs to ("on his days off")."""
    lo, hi = sorted((verb.i, adverb.i))
    return adverb.i > verb.i and not any(verb.doc[i].is_punct for i in range(lo + 1, hi))


def _verb(head: "Token", subj: "Token | None", pol: str, mod: str) -> Iterator[Triple]:
    found = False
    if subj is not None and subj.pos_ == "PROPN" and (head.lemma_ in _TO_ME_VERBS | _TAKE_ON_VERBS) and \
            any(c.dep_ in ("dobj", "dative") and c.lower_ in ("me", "us") for c in head.children):
        span = phrase_bounds(subj)  # "Nordwind hired me", "Acme offered me a spot": the speaker's side of it
        if span:
            yield Triple(None, f"be_{verb_frame(head)}_by", *span, subj, pol, mod)
    received = head.lemma_ in _TO_ME_VERBS and any(c.dep_ == "dative" and c.lower_ in ("me", "us")
                                                   for c in head.children)
    if received:
        subj = None  # "they offered me 88k": the speaker's offer; "she gave me naproxen": the speaker got it
    v = _val(head)
    if v is not None and head.lemma_ not in FEELING_VERBS and any(c.dep_ == "dobj" for c in head.children):
        v = None  # "hurt my back" is no feeling, "miss him" is
    for c in head.children:
        if c.dep_ == "dative" and c.pos_ == "PROPN":  # "gave Mrs Oyelaran a plant": to whom
            span = phrase_bounds(c)
            if span:
                found = True
                to = "to" if head.lemma_ in _TO_ME_VERBS | {"show", "tell", "teach", "hand", "write", "sell"} else "for"
                yield Triple(subj, f"{verb_frame(head)}_{to}", *span, c, pol, mod)
        elif c.dep_ in _OBJ_DEPS and c.dep_ != "dative":
            for o in coordinated(c):
                span = phrase_bounds(name_of(o) or called_name(o) or o)
                if span and v is not None:  # "gonna miss that idiot": the feeling with what it is about
                    span = (min(head.idx, span[0]), span[1])
                if span:
                    found = True
                    frame = "get" if received and head.lemma_ in _GOT_VERBS else verb_frame(head)
                    yield Triple(subj, "feels" if v is not None else frame, *span, o, pol, mod, valence=v)
        elif c.dep_ in ("acomp", "oprd"):
            span = phrase_bounds(c)
            cv = _val(c)
            if span:
                found = True
                whole = (min(head.idx, span[0]), span[1])
                if head.lemma_ == "feel":  # "felt accepted", "Feeling rather smug." (the phrase, not the sentence)
                    sentence = head.sent.text.strip().rstrip(".!?").strip()
                    span = span if doc_text(head.doc)[whole[0]:whole[1]] == sentence else whole
                    yield Triple(subj, "feels", *span, c, pol, mod, valence=cv if cv is not None else 0.0)
                    continue
                if head.lemma_ in _LINKING_VERBS:  # "seems good", "went really well": keep the verb
                    span = whole
                yield Triple(subj, "feels" if cv is not None and can_feel(subj) else verb_frame(head), *span, c, pol,
                             mod, valence=cv)  # "kickoff went fine": (kickoff, go, went fine)
    for c, adverb in _preps(head):
        if _setting_of_saying(head, c):
            continue
        for p in c.children:
            if p.dep_ != "pobj":
                continue
            hedge = c.lower_ == "like" and (p.like_num or p.text[:1].isdigit() or
                                            any(k.dep_ == "nummod" or k.like_num for k in p.children))
            frame = verb_frame(head, None if hedge else c, adverb)  # "spend like 30k": a hedge, no preposition
            if is_time(p):  # "starts on the 12th of august": the time as the object of its own frame
                span = time_object(p)
                if span:
                    found = True
                    yield Triple(subj, frame, *span, p, pol, mod)
                continue
            for o in coordinated(p):
                span = phrase_bounds(name_of(o) or called_name(o) or o)
                if span:
                    found = True
                    yield Triple(subj, frame, *span, o, pol, mod)
    for c in head.children:
        if c.dep_ == "npadvmod" and is_time(c) and c.i > head.i:  # "drove 5 hours", "move in sept 1st"
            span = time_object(c)
            if span:
                found = True
                yield Triple(subj, verb_frame(head), *span, c, pol, mod)
        if c.dep_ == "advmod" and c.lower_ in _PLACE_ADVERBS:  # "lives there": resolved to the last place
            found = True
            prep = "to" if head.lemma_ in _MOTION_VERBS else "in"
            yield Triple(subj, f"{verb_frame(head)}_{prep}", c.idx, c.idx + len(c.text), c, pol, mod, place_ref=True)
    if not found and (v is not None or ending(verb_frame(head)) is not None or any(
            c.dep_ in ("prt", "advmod", "npadvmod") and c.i > head.i for c in head.children)):
        # intransitive: "ugh, dreading it", "we broke up", "walked home": the verb with its particle or adverb
        after = [c for c in head.children if c.dep_ in ("prt", "advmod") and c.i > head.i and
                 (c.lower_ not in _DIRECTIONS or _hung_on(head, c))]  # not "I've decided: up at 6"
        hi = max([head.idx + len(head.text)] + [c.idx + len(c.text) for c in after])
        if v is None and (hi == head.idx + len(head.text) or not any(
                c.dep_ == "advmod" and c.lower_ not in EMPTY_ADVERBS for c in after)) \
                and ending(verb_frame(head)) is None:
            return  # a bare verb ("leaving") or one with only its particle ("got in": the predicate) says too little
        yield Triple(subj, "feels" if v is not None else verb_frame(head), head.idx, hi, None, pol, mod, valence=v)


def _habit(head: "Token") -> "Token | None":
    """The verb of a past habit that "used to" carries ("at Calloway Brandt I used to eat crisps" -> eat): what
    hangs on "used" belongs to it; ``None`` for any other verb ("I still use the timer")."""
    if head.lemma_ != "use" or head.tag_ != "VBD":
        return None
    return next((c for c in head.children if c.dep_ == "xcomp" and c.pos_ == "VERB" and
                 any(a.lower_ == "to" for a in c.children if a.dep_ == "aux")), None)


def _setting_of_saying(head: "Token", prep: "Token") -> bool:
    """A prepositional phrase of a saying verb that has its content elsewhere (a clause, a quote, a yes or no):
    where, when or how it was said ("told me over dessert she's opening a salon", "said yes, with conditions",
    "asked me at lunch if ..."), no object of the saying; "about", "of", "to" and "for" phrases stay (the topic,
    the addressee, the thing asked for)."""
    return head.lemma_ in _SAYING and prep.lower_ not in _TOPIC_PREPS and any(
        c.dep_ in ("ccomp", "advcl") and c.i > head.i or c.lower_ in ("yes", "no") for c in head.children)


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
    if len(token_range(head.doc, lo, hi)) > MAX_OBJECT_TOKENS + 2:
        return triples
    direct = any(t.obj_head.dep_ == "dobj" for t in pieces)
    keep = [t for t in triples if t not in pieces or canonical(t.frame) != t.frame or ending(t.frame) is not None
            or t.obj_head.pos_ == "PROPN" or (is_time(t.obj_head) and not (direct and t.obj_head.dep_ == "npadvmod"))]
    # times stay facts of their own, but a bare time beside a direct object says how often or long the verb *with
    # that object* happens ("had toast four times", "eats the same wrap every day"): the phrase holds it
    v = None if planned else shown_valence(head.lemma_)
    if v is not None:  # a verb that shows a feeling ("grinning like an idiot all day"): the phrase is the feeling
        return keep + [Triple(subj, "feels", lo, hi, head, pol, mod, valence=v)]
    if not planned:  # the predicate is the verb: the object is what follows it, not the verb again
        lo = _after_verb(head)
    return keep + [Triple(subj, "plans" if planned else verb_frame(head), lo, hi, head, pol, mod)]


#: Words that end a spoken phrase without adding to it ("drives like a grandma tho", "eating on the floor bc").
_TRAILING = CHAT_WORDS | EMPTY_ADVERBS | frozenset("tho though apparently honestly bc because cause".split())
#: Dependents that open a clause of their own (or stand outside the phrase): no part of a verb's complement.
_COMPLEMENT_CUT = frozenset({"relcl", "acl", "advcl", "ccomp", "parataxis", "conj", "cc", "mark", "intj", "xcomp",
                             "csubj", "discourse"})
_NOT_COMPLEMENT = _COMPLEMENT_CUT | {"nsubj", "nsubjpass", "aux", "auxpass", "neg", "expl"}
_HOW_OFTEN = frozenset("once twice times every each per".split())  # "twice a day" says how often, not when


def _dating(tok: "Token") -> bool:
    """A time that only dates its clause ("last year", "this morning"): the fact's time, no part of its object."""
    return tok.dep_ in ("npadvmod", "advmod") and is_time(tok) and time_object(tok) is None and \
        not any(t.lower_ in _HOW_OFTEN for t in tok.doc[max(tok.i - 3, tok.sent.start):tok.i])


def _listed(tok: "Token") -> bool:
    """A conjunct of a noun phrase, or its "and"/"or" ("two rooms and a balcony"), not a clause of its own."""
    return tok.dep_ in ("conj", "cc") and tok.head.pos_ in ("NOUN", "PROPN", "NUM", "ADJ") and \
        tok.pos_ not in ("VERB", "AUX")


def _complement_run(head: "Token") -> list[int]:
    """Token indices of a verb's complement as said: from after the verb (and its particles) through the objects,
    prepositional phrases, amounts and listed details that follow it, up to the first gap (a clause, a dating
    time, a pronoun dative: "gave me X"), without trailing punctuation, fillers or a dangling subject."""
    doc = head.doc
    toks: set[int] = set()
    stack = [c for c in head.children if c.i > head.i and c.dep_ not in _NOT_COMPLEMENT and not _dating(c)
             and not (c.dep_ == "advmod" and c.lower_ in EMPTY_ADVERBS) and not (c.dep_ == "dative" and c.pos_ == "PRON")]
    while stack:
        t = stack.pop()
        toks.add(t.i)
        stack.extend(k for k in t.children if (k.dep_ not in _COMPLEMENT_CUT or _listed(k)) and not _dating(k))
    start = _after_verb(head)
    run: list[int] = []
    for i in sorted(i for i in toks if doc[i].idx >= start):
        if run and i != run[-1] + 1:
            break
        run.append(i)
    while run and (doc[run[-1]].is_punct or doc[run[-1]].dep_ in ("cc", "case", "nsubj") or
                   doc[run[-1]].lower_ in _TRAILING):
        run.pop()
    while run and doc[run[0]].is_punct:
        run.pop(0)
    return run


def _whole_complement(head: "Token", subj: "Token | None", pol: str, mod: str, found: list[Triple]) -> list[Triple]:
    """The verb's whole complement as one more triple beside ``found``, its pieces ("put me on ferrous sulfate,
    200mg once a day": (put_on, ferrous sulfate) and (put, 200mg once a day) cut apart what belongs together):
    only where the clause has a piece, no piece already holds the whole, and the whole has a content word no piece
    has (times aside); at most :data:`MAX_OBJECT_TOKENS` + 2 tokens; the verb's open frame (``whole=True``: the
    reader keeps it as plain text, never a canonical value, and lets it go first when an event says too much)."""
    if not any(t.obj_head is not None and t.obj_start > head.idx and not t.place_ref for t in found):
        return []
    run = _complement_run(head)
    if not run or len(run) > MAX_OBJECT_TOKENS + 2:
        return []
    doc = head.doc
    lo, hi = doc[run[0]].idx, doc[run[-1]].idx + len(doc[run[-1]].text)
    if any(t.obj_start <= lo and t.obj_end >= hi for t in found):
        return []
    covered = {i for t in found if t.obj_head is not None for i in token_range(doc, t.obj_start, t.obj_end)}
    if not any(i not in covered and not doc[i].is_stop and not doc[i].is_punct and doc[i].ent_type_ not in TIME_LABELS
               for i in run):
        return []
    return [Triple(subj, verb_frame(head), lo, hi, head, pol, mod, whole=True)]


def _after_verb(head: "Token") -> int:
    """Where a verb's object phrase starts when the predicate already says the verb: after the verb and the
    particles its frame holds ("found a seahorse at site 9" -> "a seahorse at site 9", "put the ad up for X")."""
    end, i = head.idx + len(head.text), head.i + 1
    doc = head.doc
    while i < len(doc) and doc[i].dep_ == "prt" and doc[i].head.i == head.i:
        end, i = doc[i].idx + len(doc[i].text), i + 1
    return next((t.idx for t in doc[i:head.sent.end] if not (t.is_space or t.is_punct)), end)


def _val(tok: "Token") -> float | None:
    v = valence(tok.lemma_)
    return v if v is not None else valence(tok.lower_)


def _gerund_subject(head: "Token") -> bool:
    """An -ing clause that is the subject of its sentence, with no subject of its own ("losing my job was hard",
    "getting up at 5 is brutal"): what the speaker does or did, read as a clause of its own."""
    return head.dep_ in ("csubj", "csubjpass") and head.tag_ == "VBG" and \
        not any(c.dep_ in ("nsubj", "nsubjpass", "poss") for c in head.children)


def clause_triples(sent: "Span", *, imperatives: bool = True) -> list[Triple]:
    """Candidate triples of one sentence, in clause order (see the module contract); with ``imperatives=False``
    (a monologue) a subjectless base-form verb has the speaker as its subject instead of none."""
    out: list[Triple] = []
    seen_heads: set[int] = set()
    for head in sent:
        if head.pos_ == "ADJ" and head.dep_ in ("ROOT", "parataxis") and not any(
                c.dep_ in ("nsubj", "cop", "aux") or c.pos_ == "AUX" for c in head.children):
            named = any(t.pos_ in ("NUM", "PROPN") for t in head.subtree) or any(  # "20 years married to aoife"
                c.dep_ == "prep" for c in head.children)  # "busy with studies", "fascinated by the traditions"
            out.extend(t for t in _copula_value(head, None, head, polarity(head), modality(head))  # "kinda gutted"
                       if t.frame == "feels" or named)  # "tiny, cheap", "close but not too close": of something else
            continue
        is_verb = head.pos_ in ("VERB", "AUX") and (head.dep_ in _CLAUSE_DEPS or _gerund_subject(head))
        if not is_verb or head.i in seen_heads or (head.pos_ == "AUX" and head.dep_ not in ("ROOT", "conj", "ccomp", "advcl", "relcl")):
            continue
        if head.dep_ in ("xcomp", "pcomp") and head.head.lemma_ not in _CHAIN_ASPECT and head.head.pos_ in ("VERB", "AUX"):
            pass  # a governed clause: extracted with its own frame, modality from the governing verb
        if any(c.dep_ in ("xcomp",) for c in head.children) and head.lemma_ in _CHAIN_ASPECT | {"want", "plan", "hope", "decide", "try", "need", "intend", "use", "go"}:
            continue  # the inner verb carries the content ("started working at X")
        seen_heads.add(head.i)
        if asserts_nothing(head):
            out.extend(introduced(head))
            continue
        subj = clause_subject(head)
        if subj is None and head.dep_ == "ccomp" and any(c.tag_ in ("WDT", "WP") and c.i < head.i
                                                         for c in head.head.children):
            continue  # "..., which I've decided is a compliment": its subject is what "which" points back to
        if subj is not None and subj is not False and subj.lower_ == "it" and _weather(head):
            continue  # "it rained the whole day", "it's cold and grey": the weather, no thing's fact
        if head.lemma_ == "be" and head.dep_ == "advcl" and any(c.dep_ == "mark" and c.lower_ in _NOT_YET
                                                                for c in head.children):
            continue  # "got in before the coffee machine was warm": a state not yet reached
        if subj is False:
            if imperatives:
                continue
            subj = None
        pol, mod = polarity(head), modality(head)
        if head.lemma_ == "be" and head.pos_ == "AUX":
            reported = _reported(head, subj)
            if reported is not None:
                found = list(_copula_value(head, reported[0], reported[1], pol, mod, frame=reported[2]))
            else:
                found = list(_copula(head, subj, pol, mod))
        else:
            found = _verb_phrase(head, subj, pol, mod, list(_verb(head, subj, pol, mod)))
            found += _whole_complement(head, subj, pol, mod, found)
        out.extend(_as_reported(head, subj, found))
    out.extend(relation_triples(sent, "positive", "asserted"))
    root = sent.root
    if not out and root.pos_ in ("NOUN", "PROPN") and not any(t.pos_ in ("VERB", "AUX") for t in sent):
        span = phrase_bounds(root)  # a verbless fragment: "senior manager in the audit team"
        v = _val(root)
        if span and v is not None:  # "panic", "best feeling of the year"
            out.append(Triple(None, "feels", *span, root, polarity(root), modality(root), valence=v))
        elif first_day_at(root, out):
            pass
        elif span and noteworthy([t for t in sent if span[0] <= t.idx < span[1] and not t.is_punct]):
            out.append(Triple(None, "note", *span, root, polarity(root), modality(root)))
    return out

