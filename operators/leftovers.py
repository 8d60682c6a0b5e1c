"""Leftover facts: named entities, amounts and specific times of a sentence that no clause triple holds.

Contract of :func:`loose_triples`: for a parsed sentence and the object spans its clause triples already cover,
one :class:`~tracelake.operators.clauses.Triple` per uncovered named entity or amount (with its unit), attached
where the tree hangs it ("first week at Port Calder Metro" -> (speaker, week_at, Port Calder Metro); "was doing
about 48k" -> (speaker, do, about 48k); an amount apposed in a comma list is the value of the list's thing: "a flat
on Harbour Row, balcony, 1,500 a month" -> (flat, price, 1,500 a month), counted things and times too ("the fridge
chart, version 14", "a place ten min from ours": the chart's, the place's, not a ``chart`` or ``place`` of the
speaker); a name apposed to a common noun is its name ("the director, Amara Quist" -> (director, name, ...));
``mention`` when nothing attaches it), and per uncovered *specific* time hung on a noun, adjective or adverb
("results are out on the 22nd of August" -> out_on). A bare number with no unit and no attachment, and a clause's
own subject, give nothing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Iterator

from tracelake.operators.clauses import EMPTY_ADVERBS, clause_subject, verb_frame
from tracelake.operators.lexicon import NUMBER_WORDS
from tracelake.operators.nominals import PERSON_NOUNS
from tracelake.operators.phrases import TIME_LABELS, is_time, phrase_bounds, time_object
from tracelake.operators.stance import modality, polarity
from tracelake.operators.triples import Triple

if TYPE_CHECKING:
    from spacy.tokens import Span, Token

__all__ = ["loose_triples"]

_SALIENT = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT", "WORK_OF_ART", "LANGUAGE",
                      "MONEY", "QUANTITY", "CARDINAL", "PERCENT"})
_NAMED_ALONE = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "MONEY", "QUANTITY", "PERCENT", "PRODUCT", "EVENT",
                          "WORK_OF_ART"})
_ATTACHED = frozenset({"pobj", "appos", "attr", "dobj", "npadvmod", "conj", "nsubj"})
_AMOUNTS = frozenset({"MONEY", "QUANTITY", "CARDINAL", "PERCENT"})
_TITLES = frozenset({"WORK_OF_ART", "PRODUCT", "EVENT", "LANGUAGE", "NORP"})
_CURRENCY = frozenset("quid euro euros eur pounds pound dollars dollar bucks grand k pence cents".split())
_POINTERS = frozenset("one ones thing things bit lot".split())
_TIME_PARTS = frozenset("end start beginning middle rest half".split())
_LABELS = frozenset("news note update correction recap fyi wait".split())
_MODIFIER_DEPS = frozenset({"nsubj", "nsubjpass", "det", "predet", "neg", "amod", "advmod", "advcl", "ccomp", "quantmod",
                            "nmod", "relcl", "acl"})


def _loose_time(root: "Token") -> Iterator[Triple]:
    """A specific time hung on a noun, adjective or adverb ("interview on the 14th of June", "results are out on
    the 22nd", "drops, 3 times a day") -> (subject, interview_on, 14th of June); times of verbs are :func:`_verb`'s."""
    if root.dep_ == "pobj" and root.head.dep_ == "prep" and root.head.head.pos_ != "ADP":  # not "as of monday"
        gov = root.head.head
        if gov.pos_ == "NOUN" and (is_time(gov) or gov.lemma_.lower() in _TIME_PARTS):
            return  # "the first time in five years", "95 an hour from february": one time phrase, no frame
        frame = verb_frame(gov, root.head) if gov.pos_ in ("VERB", "AUX") else f"{gov.lemma_.lower()}_{root.head.lower_}"
    elif root.dep_ == "npadvmod" and root.head.pos_ in ("NOUN", "PROPN", "ADJ"):
        gov, frame = root.head, root.head.lemma_.lower()
    else:
        return
    span = time_object(root)
    verb = gov if gov.pos_ in ("VERB", "AUX") else next((a for a in gov.ancestors if a.pos_ in ("VERB", "AUX")), None)
    subj = clause_subject(verb) if verb is not None else None
    if span is None or not _sane_word(frame):
        return
    pol, mod = (polarity(verb), modality(verb)) if verb is not None else ("positive", "asserted")
    yield Triple(None if subj is False else subj, frame, *span, root, pol, mod)


def _unattached(root: "Token") -> bool:
    """A leftover the tree hangs nowhere a fact could say ("one fella rang", "Radu's not confident either", "not my
    brother declan"): a modifier, a clause or a clause subject, not a noun, name or amount standing on its own."""
    return root.pos_ not in ("NOUN", "PROPN", "NUM") or root.dep_ in _MODIFIER_DEPS or \
        (root.dep_ == "conj" and root.head.pos_ in ("VERB", "AUX", "ADJ"))


def _vague_noun(gov: "Token") -> bool:
    """A governing noun that gives no frame: a pointer ("a smaller one on Quillon Street") or a named date ("Tuesday 19th
    March, at the Fairlow test centre")."""
    return gov.lower_ in ("one", "ones", "thing", "things", "bit", "lot") or (gov.pos_ == "PROPN" and gov.ent_type_ in TIME_LABELS)


def _a_name(tok: "Token") -> bool:
    """A person's or firm's name the tagger knows as one ("Dr. Farah Lindgren", "Deepa")."""
    return tok.pos_ == "PROPN" and tok.ent_type_ in ("PERSON", "ORG")


def _sane_word(frame: str) -> bool:
    return frame.split("_")[0].replace("-", "").isalpha()


def _listed_thing(root: "Token") -> "Token | None":
    """The thing an amount apposed in a comma list describes ("2017 Skoda Fabia, dark red, 6,800" -> Skoda Fabia;
    "a flat on Harbour Row, balcony, 1,500 a month" -> flat; "one full page, 350" -> page; after a comma behind a
    verb, its object: "drawn up a ramp, 1 in 12 gradient" -> ramp), or ``None`` (the list hangs on a verb with no
    object, a time, a person or a pointer)."""
    if root.dep_ in ("appos", "npadvmod") and root.head.pos_ == "VERB" and root.i > root.head.i and \
            root.left_edge.i > 0 and root.doc[root.left_edge.i - 1].text == ",":
        # "added a portuguese white from Vinhos Serra Alta, 9 euros a glass": the verb's object's value
        obj = next((c for c in root.head.children if c.dep_ == "dobj" and c.i < root.i and c.pos_ == "NOUN"), None)
        return None if obj is None or obj.lemma_.lower() in _POINTERS else obj
    if root.dep_ not in ("appos", "npadvmod") or root.head.pos_ not in ("NOUN", "PROPN") or root.head == root:
        return None
    thing = root.head
    while thing.dep_ in ("appos", "conj") and thing.head.pos_ in ("NOUN", "PROPN") and thing.head != thing:
        thing = thing.head  # up the list to its first item
    if thing.dep_ == "pobj" and thing.head.dep_ == "prep" and thing.head.head.pos_ in ("NOUN", "ADJ") and \
            thing.head.head.dep_ in ("dobj", "pobj", "ROOT", "attr", "nsubj"):
        thing = thing.head.head  # "a flat on Harbour Row, ...": the flat, not the street
    if thing.ent_type_ in TIME_LABELS | {"PERSON"} or thing.lemma_.lower() in _POINTERS or \
            thing.dep_ in ("npadvmod", "advmod"):
        return None
    return thing


def _named_thing(root: "Token") -> "Token | None":
    """The common noun a leftover name is hung on as its name ("interview with the director, Amara Quist" ->
    director; "the bridge consultancy, Hallet Brink" -> consultancy; a person's name after a place of a person
    noun: "this guy at the gym, Ezra Lindqvist" -> guy), or ``None``: the name is hung on no common noun, or on a
    pointer, a time or a label."""
    gov = root.head
    if root.dep_ not in ("appos", "npadvmod") or root.pos_ != "PROPN" or gov == root or gov.pos_ != "NOUN":
        return None  # a name as the object of a "noun" is a verb the tagger missed ("feed Tofu")
    if root.ent_type_ == "PERSON" and gov.dep_ == "pobj" and gov.head.head.pos_ == "NOUN" and \
            gov.head.head.lemma_.lower() in PERSON_NOUNS:
        gov = gov.head.head  # the guy, not the gym
    if gov.lower_ in _POINTERS or is_time(gov) or gov.lemma_.lower() in _LABELS:
        return None
    return gov


def _amount_like(tok: "Token") -> bool:
    return tok.pos_ == "NUM" or tok.like_num or tok.ent_type_ in _AMOUNTS


def _list_host(root: "Token") -> "Token | None":
    """The thing a comma list of details describes when an amount closes the list ("enrolled in a design course at
    X, eight weeks, 640" -> course; "found a one-bed on Y, 3rd floor, no lift, 1,620 a month" -> one-bed; a list
    that is the sentence: "2017 Skoda Fabia, dark red, 6,800" -> Skoda Fabia), or ``None``: the list hangs on a
    time, a pointer or a label, or on a verb with no object."""
    x = root.head
    while x.dep_ in ("appos", "conj") and x.head != x and x.head.pos_ in ("NOUN", "PROPN"):
        x = x.head
    if x.dep_ == "ROOT" and x.pos_ in ("NOUN", "PROPN") and not any(t.pos_ in ("VERB", "AUX") for t in root.sent):
        thing = x
    elif x.dep_ == "npadvmod" and x.head.pos_ == "VERB" and x.i > x.head.i:
        verb = x.head
        objs = [c for c in verb.children if c.dep_ == "dobj" and c.i < x.i] or \
            [g for c in verb.children if c.dep_ == "prep" and c.i < x.i for g in c.children if g.dep_ == "pobj"]
        thing = objs[0] if objs and objs[0].pos_ in ("NOUN", "PROPN") else None
    else:
        return None
    if thing is None or thing.lemma_.lower() in _POINTERS | _LABELS or is_time(thing) or \
            thing.ent_type_ in TIME_LABELS | {"PERSON"}:
        return None
    return thing


def _a_thing(tok: "Token | bool | None") -> bool:
    """A clause subject that is a thing named by a noun ("mortgage", "the rate"), not a person or a pointer."""
    return tok is not None and tok is not False and tok.pos_ in ("NOUN", "PROPN") and \
        tok.ent_type_ not in ("PERSON", "ORG", "NORP") and tok.lemma_.lower() not in _POINTERS and \
        tok.lower_ not in PERSON_NOUNS and not is_time(tok)


def _same_kind(a: "Token", b: "Token") -> bool:
    """Two list items of one kind: both amounts or both names."""
    return (_amount_like(a) and _amount_like(b)) or (a.pos_ == "PROPN" and b.pos_ == "PROPN")


def _first_item(root: "Token") -> "Token":
    """The first item of the list or contrast of one kind a leftover is hung on ("they paid 2,900, not the 3,200"
    -> 2,900; "I'm 52, not 80" -> 52; "Mariko and Kenji argued" -> Mariko), else ``root`` itself."""
    first = root
    while first.dep_ in ("conj", "appos") and first.head != first and first.head.i < first.i and \
            _same_kind(first.head, root):
        first = first.head
    return first


def _denied(first: "Token", root: "Token") -> bool:
    """A "not" between the first item and this one ("2,900, not the 3,200")."""
    return any(t.lower_ == "not" for t in root.doc[first.i + 1:root.i])


def _value(tok: "Token") -> float | None:
    low = tok.lower_.replace(",", "")
    if low in NUMBER_WORDS and low not in ("a", "an"):
        return float(NUMBER_WORDS[low])
    try:
        return float(low)
    except ValueError:
        return None


def _repeated(root: "Token", sent: "Span") -> bool:
    """A number said again as its own exclamation ("I slept 9 hours last night. NINE."): an echo of an amount
    said before it in the same text."""
    val = _value(root)
    return val is not None and any(_value(t) == val for t in root.doc[:sent.start])


def _fragment_thing(sent: "Span") -> "Token | None":
    """The thing a verbless amount sentence prices or measures: the direct object (or the object of a preposition
    of the verb) of the sentence before it ("bought a vertical mouse. 120!!!" -> mouse; "looked at the price.
    4,500." -> price), or the head of a definite noun-phrase sentence before it ("the little blue hatchback. 4,200,
    to a student." -> hatchback); ``None`` when the sentence before names no such thing."""
    if sent.start == 0 or any(t.pos_ in ("VERB", "AUX") for t in sent):
        return None
    prev = sent.doc[sent.start - 1].sent
    root = prev.root
    if root.pos_ == "NOUN" and not any(t.pos_ in ("VERB", "AUX") for t in prev):
        det = [c for c in root.children if c.dep_ in ("det", "poss")]
        return root if det and not any(c.dep_ == "nummod" for c in root.children) else None
    if root.pos_ != "VERB":
        return None
    objs = [c for c in root.children if c.dep_ == "dobj" and c.pos_ == "NOUN"] + \
        [g for c in root.children if c.dep_ == "prep" for g in c.children if g.dep_ == "pobj" and g.pos_ == "NOUN"]
    objs = [o for o in objs if o.lemma_.lower() not in _POINTERS and not is_time(o)]
    return objs[-1] if len(objs) == 1 else None


def _priced(ent: "Span", root: "Token") -> bool:
    """An amount that is money: tagged so, or with a currency word or a rate ("780 euros", "1,500 a month")."""
    parts = [c for c in root.children if c.dep_ in ("nummod", "quantmod", "compound", "npadvmod", "prep")]
    toks = list(ent) + [root] + [t for c in parts for t in c.subtree]  # its own words, not a list hung on it
    return ent.label_ == "MONEY" or any(t.lower_ in _CURRENCY or t.text in ("$", "€", "£") for t in toks) or \
        any(t.dep_ == "npadvmod" and t.lemma_.lower() in ("month", "week", "year", "night") for t in toks)


def loose_triples(sent: "Span", covered: list[tuple[int, int]], hosts: "list[Triple] | None" = None) -> list[Triple]:
    """One triple per named entity or amount of ``sent`` that no object in ``covered`` contains, attached where
    the tree hangs it: ``"first week at Port Calder Metro"`` -> (speaker, week_at, Port Calder Metro). ``hosts``:
    the sentence's clause triples; an item listed or contrasted with one of their objects takes that triple's frame
    ("they paid 2,900, not the 3,200" -> (they, pay, 3,200), denied)."""
    out: list[Triple] = []
    for ent in sent.ents:
        if any(a <= ent.start_char and ent.end_char <= b for a, b in covered):
            continue
        if ent.label_ in TIME_LABELS:
            out.extend(_loose_time(ent.root))
            continue
        if ent.label_ not in _SALIENT or ent.text.lower() in EMPTY_ADVERBS or ent.text.lower() in ("one", "ones"):
            continue
        if len([t for t in sent if not t.is_punct]) == len(ent) == 1 and ent.label_ not in _AMOUNTS:
            continue  # "Hmm.", "Helen!": a one-word sentence names nothing a fact could hold ("455,000." does)
        root = ent.root
        while root.dep_ in ("nummod", "quantmod", "compound") and root.head.pos_ in ("NOUN", "PROPN", "NUM"):
            root = root.head  # "890 euros", "5k in 38 minutes": the amount with its unit
        titled = ent.label_ in _TITLES  # a work, product, event or language is named for itself
        if root.dep_ == "poss" and not titled:
            continue  # "Radu's sister Carla", "Valentine's day": an owner, the relation's or the noun's own fact
        first = _first_item(root)
        if first is not root:
            host = next((t for t in hosts or () if t.obj_head is not None and t.obj_start <= first.idx < t.obj_end),
                        None)
            span = phrase_bounds(root)
            if span is None or span[0] > ent.start_char or span[1] < ent.end_char:
                span = (ent.start_char, ent.end_char)
            if host is not None:  # "they paid 2,900, not the 3,200", "I'm 52, not 80": the same frame
                out.append(replace(host, obj_start=span[0], obj_end=span[1], obj_head=root,
                                   polarity="negative" if _denied(first, root) else host.polarity))
                continue
            verb = next((a for a in first.ancestors if a.pos_ in ("VERB", "AUX")), None)
            if root.dep_ == "conj" and verb is not None and clause_subject(verb) == first:
                continue  # "Mariko and Kenji argued": a subject of the clause, its facts come from the clause
        if ent.label_ in _AMOUNTS and not any(t.pos_ in ("VERB", "AUX") for t in sent):
            if _repeated(ent.root, sent):
                continue  # "I slept 9 hours last night. NINE.", "..., but 25 METRES": said again, for emphasis
            if root.dep_ == "ROOT" and (thing := _fragment_thing(sent)) is not None:
                span = phrase_bounds(root) or (ent.start_char, ent.end_char)  # "bought a vertical mouse. 120!!!"
                bare = root is ent.root and ent.label_ in ("CARDINAL", "MONEY")
                out.append(Triple(thing, "price" if bare or _priced(ent, root) else "is", *span, root, "positive",
                                  "asserted", thing=True))
                continue
        frame = "mention"
        if ent.label_ not in _NAMED_ALONE and root is ent.root and root.dep_ not in _ATTACHED:
            continue  # a bare number with no unit and no attachment says nothing on its own
        if root.dep_ == "pobj" and root.head.dep_ in ("prep", "agent"):
            prep, gov = root.head, root.head.head
            if gov.pos_ not in ("VERB", "AUX") and _vague_noun(gov):
                continue
            if _a_name(gov):  # "Dr. Farah Lindgren at the Harbourside surgery": where she is, not a lindgren_at
                span = phrase_bounds(root) or (ent.start_char, ent.end_char)
                out.append(Triple(gov, f"be_{prep.lower_}", *span, root, "positive", "asserted"))
                continue
            frame = verb_frame(gov, prep) if gov.pos_ in ("VERB", "AUX") else f"{gov.lemma_.lower()}_{prep.lower_}"
            if gov.pos_ == "NOUN" and prep.lower_ == "of" and ent.label_ in _AMOUNTS and not is_time(gov):
                frame = gov.lemma_.lower()  # "the deposit of 2,380", "a bonus of up to 15 percent": its value
        elif ent.label_ in _AMOUNTS and (thing := _listed_thing(root)) is not None:
            span = phrase_bounds(root) or (ent.start_char, ent.end_char)  # the listed thing's value
            out.append(Triple(thing, "price" if _priced(ent, root) else "is", *span, root, "positive", "asserted",
                              thing=True))
            continue
        elif ent.label_ not in _AMOUNTS and (thing := _named_thing(root)) is not None:
            out.append(Triple(thing, "name", *(phrase_bounds(root) or (ent.start_char, ent.end_char)), root,
                              "positive", "asserted", thing=True))  # "the director, Amara Quist": her name
            continue
        elif ent.label_ in _AMOUNTS and root.dep_ == "appos" and root.head.pos_ == "NOUN" and \
                (thing := _list_host(root)) is not None:  # "a design course at X, eight weeks, 640": its price
            span = phrase_bounds(root) or (ent.start_char, ent.end_char)
            out.append(Triple(thing, "price" if _priced(ent, root) or (root is ent.root and ent.label_ in
                                                                      ("CARDINAL", "MONEY")) else "is",
                              *span, root, "positive", "asserted", thing=True))
            continue
        elif root.dep_ in ("appos", "npadvmod", "dobj", "attr", "nsubj") and root.head != root:
            frame = root.head.lemma_.lower() if root.head.pos_ in ("NOUN", "VERB") else frame
        if frame == "mention" and _unattached(root) and not titled:
            continue
        verb = next((a for a in root.ancestors if a.pos_ in ("VERB", "AUX")), None)
        if frame == "mention" and verb is not None and verb.lemma_ != "be" and root.head == verb and \
                ent.label_ in ("MONEY", "QUANTITY", "CARDINAL", "PERCENT"):
            frame = verb_frame(verb)  # "was doing about 48k": the amount of the verb it hangs from
        subj = clause_subject(verb) if verb is not None else None
        if verb is not None and subj == root:
            continue  # the entity is the clause's own subject: its facts come from the clause
        if frame == "mention" and verb is not None and verb.lemma_ == "be" and _a_thing(subj):
            frame = "is"  # "mortgage is small enough, 640 a month", "our team is the Greyhaven Gulls": what it is
        if subj is not None and subj is not False and root.head.dep_ == "prep" and \
                (subj == root.head.head or root.head.head in subj.conjuncts):  # "rent plus the deposit of 2,380"
            subj = next((c for c in subj.children if c.dep_ == "poss"), None)  # "first day at X went fine": mine
        span = phrase_bounds(root)
        if span is None or span[0] > ent.start_char or span[1] < ent.end_char:
            span = (ent.start_char, ent.end_char)
        pol, mod = (polarity(verb), modality(verb)) if verb is not None else ("positive", "asserted")
        out.append(Triple(None if subj is False else subj, frame, *span, root, pol, mod))
    return out
