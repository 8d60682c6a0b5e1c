"""The pluggable fact reader of decomposition, and its default: the parse-based engine (no LLM, no regex rules).

Contract:

- A :class:`Decomposer` turns a sequence of :class:`EventText` (in event-time order; ``key`` = the
  ``(tenant, stream)`` the event belongs to) into one :class:`Reading` per event: its fact candidates
  (:class:`Fact`, offsets into the event text) and the speech act of each sentence. ``decompose`` only talks to
  this interface, so another reader (an optional LLM extractor) can replace the default without touching merge.
- :class:`ParseDecomposer` (the default) parses every text with spaCy in batches (texts over
  :data:`WINDOW_CHARS` characters in windows of whole units), keeps one :class:`StreamMemory` per stream for
  reference resolution, and per *statement* sentence (questions, requests and greetings assert nothing) turns
  the clause triples of :mod:`~tracelake.operators.clauses` into facts: subjects resolved, frames mapped to
  canonical predicates (:mod:`~tracelake.operators.predicates`), objects typed (``entity`` | ``money`` |
  ``number`` | ``time`` | ``text``) with ``value_num`` for amounts and valences. ``modality`` is
  ``asserted`` | ``corrected`` | ``plan`` | ``hypothetical`` | ``ended``; ``polarity`` ``positive`` | ``negative``.
- A verb's whole complement, where its pieces cut it apart (``Triple.whole``), is one more fact: the open verb
  frame, a ``text`` object, no value, never read in a correction nor remembered as a correction's antecedent.
- At most :data:`MAX_FACTS_PER_EVENT` facts per event, no two the same: canonical predicates and relations first,
  then the facts that say most (:func:`~tracelake.operators.selection.select_facts`); text order kept.
- Deterministic: same events in the same order, same readings.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, Sequence

from tracelake.operators.clauses import VALUE_LABELS, clause_subject, clause_triples, verb_lemma
from tracelake.operators.docs import doc_text, token_range
from tracelake.operators.leftovers import loose_triples
from tracelake.operators.namesakes import namesakes
from tracelake.operators.nominals import can_feel
from tracelake.operators.phrases import is_time, name_of, phrase_bounds, possessor
from tracelake.operators.entities import normalize_name
from tracelake.operators.lexicon import ORG_SUFFIXES, SAID_VERBS, STOPWORDS
from tracelake.operators.nlp import CHAT_WORDS, english_word, parse
from tracelake.operators.predicates import (
    FRAMES,
    canonical,
    ending,
    parse_money,
    pet_noun,
    relation_noun,
    relation_predicate,
)
from tracelake.operators.references import SPEAKER_WORDS, StreamMemory, gender_of_relation, split_relation
from tracelake.operators.selection import Candidate, select_facts
from tracelake.operators.stance import FEELING_VERBS, FILLERS, is_correction, speech_act, valence
from tracelake.operators.triples import Triple
from tracelake.operators.text import split_units

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

__all__ = ["EventText", "Fact", "Reading", "Decomposer", "ParseDecomposer", "extract_facts", "MAX_FACTS_PER_EVENT",
           "WINDOW_CHARS"]

MAX_FACTS_PER_EVENT = 12
WINDOW_CHARS = 5_000
_CANONICAL = frozenset(FRAMES.values()) | {"feels", "age", "rent", "salary", "has_pet", "pet_name", "name"}
_PET_VERBS = frozenset("have get adopt own rescue buy foster".split())
_THING_PRONOUNS = frozenset({"it", "this", "that"})
_PERSON_PRONOUNS = frozenset("i me we us you he him she her they them".split())
#: A possessive and the pronouns of the same person: "his name is ..." names whoever "he" last was.
_SAME_PERSON = {"his": frozenset("he him his himself".split()), "her": frozenset("she her hers herself".split()),
                "their": frozenset("they them their theirs themselves".split())}
#: Adverbs the tagger glues to a name when they are capitalised ("Pinecone Labs STILL", "Hana FINALLY").
_STUCK_ADVERBS = frozenset("still finally also just really already even never always again too now literally".split())
#: Heads of an amount that make it money with a money verb ("made 88k", "pays 40 quid"; not "made three desserts").
_MONEY_UNITS = frozenset("k grand quid bucks dollars euros pounds pence cents an a".split())
#: Common nouns that only point back ("the one who ...", "ones"): no subject of their own.
_POINTER_NOUNS = frozenset("one ones thing things stuff bit lot".split())
_PLACE_WORDS = frozenset("street st road rd lane avenue ave row harbour harbor bay park square drive way hill heights "
                         "gardens quay port falls beach island valley county city town village close court crescent "
                         "terrace place bridge station airport reservoir canal pier wharf marina moor forest".split())
_PLACE_PREDICATES = frozenset({"lives_in", "from", "is_in"})
_ORG_PREDICATES = frozenset({"works_at"})
_ENTITY_ONLY = frozenset({"join", "start_at", "be_in", "work_with"})
#: Verbs whose object is a person ("called tamsin", "texted odessa"): an untyped proper noun there is one.
_SOCIAL_VERBS = frozenset("call ring phone text message email ask tell meet met hug kiss marry date visit invite "
                          "talk speak chat".split())
#: Common nouns of persons that a later he/she may point to besides relation nouns ("a guy", "the woman").
_PERSON_NOUNS = frozenset("guy man woman lady bloke fella lad girl boy chap".split())
#: Parts of speech of a one-word object that names nothing ("bc", "tho", "either").
_DISCOURSE_POS = frozenset({"SCONJ", "CCONJ", "ADV", "INTJ", "PART", "ADP", "DET", "AUX"})
_DISCOURSE_WORDS = frozenset("tho though bc cos coz cuz idk either too".split())
_BECAUSE = frozenset("bc because cause cos coz cuz".split())
#: Nouns that only point to another thing ("i'm the opposite"), and correction openers read as nouns.
_POINTING_WORDS = frozenset("opposite same other rest former latter".split())
_CORRECTION_WORDS = frozenset("correction update sorry".split())
_PLACE_PREPS = frozenset("in into near inside outside around across through".split())
_MOTION_VERBS = frozenset("move go come travel drive fly head relocate return walk run commute".split())
#: Nouns that label a message ("update: ...", "other news, ...", "side note, ..."), no thing of their own.
_LABEL_NOUNS = frozenset("news note update correction recap fyi".split())
_PERSON_LABELS = frozenset({"PERSON"})
_ORG_LABELS = frozenset({"ORG"})
_PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
_NAMED_LABELS = _PERSON_LABELS | _ORG_LABELS | _PLACE_LABELS | {"NORP", "PRODUCT", "EVENT", "WORK_OF_ART", "LANGUAGE"}


@dataclass(frozen=True)
class EventText:
    """One event as the reader sees it: its stream ``key``, its speaker (``actor``) and its text."""

    key: tuple[str, str]
    actor: str | None
    text: str


@dataclass(frozen=True)
class Fact:
    """One fact candidate; ``start``/``end`` locate its object in the event text, ``statement`` is its sentence."""

    subject: str
    predicate: str
    object: str
    object_type: str
    value_num: float | None
    statement: str
    start: int
    end: int
    polarity: str = "positive"
    modality: str = "asserted"


@dataclass(frozen=True)
class Reading:
    """What one event says: ``facts``, ``acts`` (``(start, end, act)`` per sentence) and ``namesakes`` (namesakes.py)."""

    facts: list[Fact]
    acts: list[tuple[int, int, str]]
    namesakes: list[tuple[int, int, str]] = field(default_factory=list)


class Decomposer(Protocol):
    """Reads events into facts and speech acts (see the module contract)."""

    def read(self, events: Sequence[EventText]) -> list[Reading]: ...


#: Possessive pronouns standing alone: as a subject they are a thing someone owns ("mine's about a snail").
_OWNED_PRONOUNS = frozenset("mine ours yours hers theirs".split())


def _windows(text: str) -> list[tuple[int, int]]:
    if len(text) <= WINDOW_CHARS:
        return [(0, len(text))]
    out: list[tuple[int, int]] = []
    lo = hi = 0
    for a, b in split_units(text):
        if b - lo > WINDOW_CHARS and hi > lo:
            out.append((lo, hi))
            lo = a
        hi = b
        while hi - lo > WINDOW_CHARS:  # one unit longer than a window
            out.append((lo, lo + WINDOW_CHARS))
            lo += WINDOW_CHARS
    if hi > lo:
        out.append((lo, hi))
    return out


def _name(tok: "Token") -> str:
    """The name a proper noun is part of: its entity, else the noun with its proper-noun compounds ("his name's
    Ollie" -> "Ollie"), without a possessive 's."""
    ent = next((e for e in tok.doc.ents if e.start <= tok.i < e.end), None) if tok.ent_iob_ != "O" else None
    if ent is not None and ent.label_ in _NAMED_LABELS:
        words = [t for t in ent]
        while len(words) > 1 and words[-1].lower_ in _STUCK_ADVERBS:  # "Pinecone Labs STILL hasn't paid"
            words.pop()
        text = tok.doc[words[0].i:words[-1].i + 1].text
    else:
        lo = hi = tok.i
        doc = tok.doc
        while lo > tok.sent.start:
            if doc[lo - 1].dep_ in ("compound", "flat") and doc[lo - 1].pos_ == "PROPN" and doc[lo - 1].head.i in \
                    range(lo, tok.i + 1):
                lo -= 1
            elif lo - 2 >= tok.sent.start and doc[lo - 1].text == "-" and not doc[lo - 1].whitespace_ and \
                    not doc[lo - 2].whitespace_ and doc[lo - 2].pos_ == "PROPN":
                lo -= 2  # "Dr Amara Ruiz-Obi": the hyphen joins one name
            else:
                break
        text = tok.doc[lo:hi + 1].text
    return text.removesuffix("'s").removesuffix("’s")


def _contacted(tok: "Token") -> bool:
    """The name is whom a verb of contact reaches: "called tamsin", "met up with Ioana", "talked to Declan Mulvey"
    (the tagger's type of such a name is often a place or firm)."""
    if tok.dep_ in ("dobj", "oprd"):
        verb = tok.head
        if any(c.dep_ == "dobj" and c is not tok for c in verb.children):
            return False  # "calling it The Chair": a name given, nobody reached
    elif tok.dep_ == "pobj" and tok.head.lower_ in ("with", "to"):
        verb = tok.head.head
    else:
        return False
    return verb.lemma_.lower() in _SOCIAL_VERBS or verb.lower_ in _SOCIAL_VERBS


def _feeling_subject(tok: "Token") -> bool:
    """The name is the subject of a feeling ("Sem isn't happy", "Sem hates it", tagged ORG): a person."""
    if tok.dep_ != "nsubj":
        return False
    head = tok.head
    if head.lemma_.lower() in FEELING_VERBS:
        return True
    return head.lemma_ == "be" and any(c.dep_ == "acomp" and valence(c.lemma_.lower()) is not None
                                       for c in head.children)


def _kin_owner(tok: "Token") -> bool:
    """The name owns a gendered relation ("Sem has a girlfriend", "Sem's girlfriend"): a person, whatever the
    tagger's type."""
    if tok.dep_ == "poss":
        return gender_of_relation(tok.head.lemma_) is not None
    return tok.dep_ == "nsubj" and tok.head.lemma_ == "have" and \
        any(c.dep_ == "dobj" and gender_of_relation(c.lemma_) for c in tok.head.children)


def _located(tok: "Token") -> bool:
    """A name that is where something is or goes: the object of "in"/"into"/"near" ..., or of "to"/"from" after a
    verb of motion ("moving to Arnsby"), or of "from" after a verb of contact that has its own subject ("Dario
    texted me from Ashbury": the one who texts is named, the "from" is where), never whom a verb of contact
    reaches."""
    if tok.dep_ != "pobj" or tok.head.dep_ != "prep":
        return False
    prep, gov = tok.head.lower_, tok.head.head
    if prep in _PLACE_PREPS:
        return True
    if prep == "from" and gov.pos_ == "VERB" and verb_lemma(gov) in _SOCIAL_VERBS and \
            any(c.dep_ == "nsubj" and c.pos_ in ("PROPN", "PRON") for c in gov.children):
        return True
    return prep in ("to", "from") and gov.pos_ == "VERB" and gov.lemma_.lower() in _MOTION_VERBS and \
        not _contacted(tok)


def _untyped_name(tok: "Token") -> bool:
    """A name the tagger gave no entity type: a proper noun, unless a lower-case English word ("scan was in the
    regional"), or a lower-case noun no English word table knows ("clodagh is teaching me excel")."""
    if tok.ent_type_ or not tok.text[0].isalpha():
        return False
    if tok.pos_ == "PROPN":
        return not (tok.text.islower() and english_word(tok.lower_))
    return tok.pos_ == "NOUN" and tok.text.islower() and tok.text.isalpha() and len(tok.text) > 3 and \
        not english_word(tok.lower_)


def _person_slot(tok: "Token") -> bool:
    """An untyped proper noun where only a person fits: a clause subject or possessor ("Sunita rang", "aoife told
    me", "Keiko's sister") or whom a verb of contact reaches."""
    return tok.dep_ in ("nsubj", "nsubjpass", "poss") or _contacted(tok)


def _apposed_gender(name: "Token") -> str | None:
    """The gender of a gendered common noun a name is apposed to ("this very tall guy, Matthijs van Aken"; "Ines,
    my sister"), else ``None``."""
    nouns = [name.head] if name.dep_ == "appos" else []
    nouns += [c for c in name.children if c.dep_ == "appos"]
    return next((g for n in nouns if n.pos_ == "NOUN" and (g := gender_of_relation(n.lemma_))), None)


def _trimmed(ent: "Span") -> str:
    """An entity's name from its first proper noun on ("not my brother declan" -> "declan")."""
    first = next((t for t in ent if t.pos_ == "PROPN"), None)
    return ent.text if first is None or first.i == ent.start else ent.doc[first.i:ent.end].text


def _noun_text(tok: "Token") -> str:
    """A common-noun subject as a name for it: the noun phrase up to its head ("Keiko's verdict", "one-eyed
    tabby"), nothing after it ("mattress strapped to her car roof" -> "mattress")."""
    span = phrase_bounds(tok)
    start = span[0] if span and span[0] <= tok.idx else tok.idx
    return doc_text(tok.doc)[start:tok.idx + len(tok.text)]


def _noun_with_prep(tok: "Token") -> str | None:
    """A common-noun subject with one prepositional phrase of a thing after it ("talks about the merger", "the
    flat on Kell Street"), at most 6 words, as its name; ``None`` when the phrase holds a time, an amount, a number,
    a pronoun or a verb ("alarm at 5:40", "the party of 22": no thing's name) or the noun has no such phrase."""
    preps = [c for c in tok.children if c.dep_ in ("prep", "nummod")]
    if len(preps) != 1 or preps[0].dep_ != "prep" or preps[0].i < tok.i:
        return None
    tail = list(preps[0].subtree)
    if not any(t.dep_ == "pobj" for t in tail) or any(
            is_time(t) or t.like_num or t.pos_ in ("NUM", "VERB", "AUX", "PRON") or t.ent_type_ in VALUE_LABELS
            for t in tail):
        return None
    head = _noun_text(tok)
    end = tail[-1].idx + len(tail[-1].text)
    text = doc_text(tok.doc)[tok.idx + len(tok.text) - len(head):end]
    if len(text.split()) > 6 or _garbled_noun(tok, len(head)):
        return None
    return text


def _word_before(sent: "Span", start: int) -> str | None:
    """The lower-cased word of ``sent`` that ends right before character ``start`` (``None``: none, or punctuation)."""
    prev = [t for t in sent if t.idx + len(t.text) <= start]
    return prev[-1].lower_ if prev and not prev[-1].is_punct else None


def _thing_name(tok: "Token") -> str:
    """A thing's name: a proper noun's name ("Skoda Fabia"), else its noun phrase up to the noun ("one full page")
    with the number that follows it ("level 2")."""
    if tok.pos_ == "PROPN":
        return _name(tok)
    nxt = tok.doc[tok.i + 1] if tok.i + 1 < len(tok.doc) else None
    text = _noun_text(tok)
    return f"{text} {nxt.text}" if nxt is not None and nxt.dep_ == "nummod" and nxt.head.i == tok.i else text


def _garbled_noun(tok: "Token", length: int) -> bool:
    """A noun subject phrase (``length`` characters up to ``tok``) that runs over a verb, an auxiliary or a personal
    pronoun is a misparse, no thing's name ("walk Cobalt round", "me a cake", "Daniela's gone")."""
    doc = tok.doc
    end = tok.idx + len(tok.text)
    return any((t.pos_ in ("VERB", "AUX") and t.dep_ not in ("amod", "compound", "nmod")) or
               (t.pos_ == "PRON" and t.tag_ == "PRP")  # "moving day", "his sat nav" are names of things
               for t in (doc[i] for i in token_range(doc, end - length, end)) if t.i != tok.i)


def _echoes(subject: str, obj: str, otype: str, speaker: str | None) -> bool:
    """The object only names the subject again ("Dr. Varga smiled" -> (Varga, smile, Dr. Varga); "Pinecone Labs
    STILL hasn't paid"): the same name, or a named object holding every word of the subject (not the speaker)."""
    subj, words = normalize_name(subject), set(normalize_name(obj).split())
    return subj == normalize_name(obj) or (otype == "entity" and subject != speaker and bool(subj) and
                                           set(subj.split()) <= words)


def _hollow(toks: list["Token"], frame: str) -> bool:
    """An object that names no thing: one discourse word ("cancelled bc ...", "bills not included tho"), a reason
    ("bc of the lighter"), a word that only points elsewhere ("i'm the opposite", "it's the same"), a correction
    opener read as a kind ("Ugh, correction, ..."), the frame's own bare verb ("so guilty leaving them" -> (leave,
    leaving)), or an adjective given as a name ("a chap called Gavin Osei, very direct")."""
    words = [t for t in toks if not t.is_punct and t.pos_ != "DET"]
    if not words:
        return True
    head = words[-1]
    if len(words) == 1 and (head.pos_ in _DISCOURSE_POS or head.lower_ in FILLERS | CHAT_WORDS | _DISCOURSE_WORDS) \
            and not head.like_num and head.dep_ not in ("acomp", "attr", "oprd"):  # "he's right" says something
        return True
    if len(words) == 1 and head.lower_ in _POINTING_WORDS | _CORRECTION_WORDS:
        return True
    if words[0].lower_ in _BECAUSE:  # "bc of the lighter", "bc Felipe's away": a reason, no phrase of a thing
        return True
    if len(words) == 1 and head.pos_ in ("VERB", "AUX") and head.lemma_.lower() == frame.split("_")[0]:
        return True  # "i feel so guilty leaving them" -> (leave, leaving): the bare verb, echoed as its object
    if words[0].pos_ in ("VERB", "AUX") and words[0].lemma_.lower() == frame.split("_")[0] and \
            words[0].lemma_.lower() in SAID_VERBS:
        return True  # "told me firmly", "said it out loud", "wrote it down wrong": the saying echoed, no content
    return frame in ("name", "be_called") and not any(t.pos_ in ("PROPN", "NOUN", "NUM") for t in words)


def _generic_relative(tr: Triple) -> bool:
    """A relative clause on a bare plural common noun describes a kind, no one in particular ("for people who can't
    afford lawyers", "to meet people who aren't ambulance people"): no fact of that noun."""
    subj, node = tr.subject, tr.obj_head
    if subj is None or node is None or subj.pos_ != "NOUN" or relation_noun(subj.lemma_):
        return False
    if subj.tag_ != "NNS" or any(c.dep_ in ("det", "poss", "nummod", "amod", "compound") for c in subj.children):
        return False  # "a bakery that does cardamom buns", "the neighbours who ...": somebody in particular
    for _ in range(4):
        if node.dep_ == "relcl" and node.head.i == subj.i:
            return True
        if node.head.i == node.i:
            return False
        node = node.head
    return False


def _stance_aside(head: "Token | None") -> bool:
    """A bare adjective of a copula that only frames how the speaker puts things: a subjectless to-clause ("to be
    clear, we are NOT ...", "to be fair") or an if-clause set off after its head by a comma ("slightly rattled, if
    I'm honest"); no fact of anyone."""
    if head is None or head.pos_ != "ADJ" or head.dep_ != "acomp" or head.n_lefts or head.n_rights:
        return False
    cop = head.head
    if cop.lemma_ != "be" or cop.dep_ != "advcl":
        return False
    kids = {c.dep_: c for c in cop.children}
    if "nsubj" not in kids and kids.get("aux") is not None and kids["aux"].lower_ == "to":
        return True
    mark = kids.get("mark")
    return mark is not None and mark.lower_ == "if" and cop.head.i < mark.i and \
        mark.i > 0 and mark.doc[mark.i - 1].text == ","


#: Endings of nouns of agents and roles ("director", "teacher", "dentist", "assistant", "trainee", "firewoman").
_AGENT_ENDINGS = ("er", "or", "ist", "ian", "ant", "ent", "ee", "eer", "man", "woman", "ess", "ive", "ic", "arch")


def _personal(noun: "Token") -> bool:
    """A common noun that may name a person: a relation or person noun, a pet, or an agent or role noun by its
    ending ("the director, Amara Quist"); not "the bridge consultancy, Hallet Brink", "the cafe, Fold & Pour"."""
    lemma = noun.lemma_.lower()
    return noun.pos_ != "NOUN" or can_feel(noun) or pet_noun(lemma) or lemma.endswith(_AGENT_ENDINGS)


def _sane_frame(frame: str) -> bool:
    """A frame made of real words (a mis-lemmatised "'s" or a symbol is no predicate)."""
    head = frame.split("_")[1 if frame.startswith("be_") and frame != "be_" else 0] if frame else ""
    return len(head) >= 2 and head.replace("-", "").isalpha()


def _corrected_noun(it: "Token") -> "Token | None":
    """The thing a correction names before its "it" in the same sentence, as what was wrong or what the
    correction is on ("wait i got the rent wrong, it's 1,340", "correction on the shifts thing, it's 11 hours"; a
    pointer noun's compound: "rent thing" -> rent), or ``None`` (then "it" is the last fact of its kind)."""
    for tok in reversed(it.sent[:it.i - it.sent.start]):
        if tok.pos_ != "NOUN" or is_time(tok):
            continue
        wrong = any(k.lower_ == "wrong" for k in (tok.head, *tok.head.children) if k.dep_ in ("ccomp", "oprd", "acomp")
                    or k is tok.head)
        on = tok.dep_ == "pobj" and tok.head.lower_ in ("on", "about") and tok.head.head.lower_ in _CORRECTION_WORDS
        if not (wrong or on):
            continue
        if tok.lower_ in _POINTER_NOUNS:
            tok = next((c for c in tok.children if c.dep_ == "compound" and c.pos_ == "NOUN"), None)
        if tok is None or tok.lemma_.lower() in _PERSON_NOUNS or relation_noun(tok.lemma_):
            return None
        return tok
    return None


class ParseDecomposer:
    """The default :class:`Decomposer`: spaCy dependency parse + closed word lists (see the module contract).

    ``memories``: the stream memories to start from (what reading a stream's earlier events left, so a long
    stream can be read in consecutive pieces with the same result as in one pass); :attr:`memories` holds them
    after each :meth:`read`. Default: every stream starts empty, and each ``read`` starts afresh."""

    def __init__(self, memories: dict[tuple[str, str], StreamMemory] | None = None) -> None:
        self._start = memories
        self.memories: dict[tuple[str, str], StreamMemory] = {}

    def read(self, events: Sequence[EventText]) -> list[Reading]:
        windows = [(_windows(e.text)) for e in events]
        docs = iter(parse([e.text[a:b] for e, ws in zip(events, windows) for a, b in ws]))
        memories = self.memories = copy.deepcopy(self._start) if self._start else {}
        out: list[Reading] = []
        for ev, ws in zip(events, windows):
            mem = memories.setdefault(ev.key, StreamMemory())
            mem.next_event()
            mem.spoke(ev.actor)
            reader = _EventReader(ev, mem)
            for offset, _ in ws:
                reader.read_doc(next(docs), offset)
            out.append(reader.reading())
        return out


class _EventReader:
    def __init__(self, ev: EventText, mem: StreamMemory) -> None:
        self.ev, self.mem, self.speaker = ev, mem, ev.actor
        self.facts: list[Candidate] = []
        self.acts: list[tuple[int, int, str]] = []
        self.namesakes: list[tuple[int, int, str]] = []
        self._noted = 0  # entities of the current doc up to this character are recorded
        self._correcting = False  # the previous sentence announced a correction and said nothing else

    # -- entities ---------------------------------------------------------------------------------------------
    def _kind(self, tok: "Token", text: str, predicate: str | None = None, suffix_only: bool = False) -> str | None:
        """The kind of a name: from the frame, its last word (an org or place suffix), what the stream knows, the
        tagger's type; ``suffix_only``: from its last word alone."""
        if predicate in _PLACE_PREDICATES:
            return "place"
        if predicate in _ORG_PREDICATES or (predicate and predicate.endswith("_by") and tok.ent_type_ != "PERSON"):
            return "org"  # "X hired me" / "X offered me a spot": X employs people, it is no place
        words = normalize_name(text).split()
        if words and words[-1] in ORG_SUFFIXES:
            return "org"
        if words and words[-1] in _PLACE_WORDS:
            return "place"
        if suffix_only:
            return None
        known = self.mem.kind_of(text)
        if known is not None:
            return known
        label = tok.ent_type_
        if label in _PERSON_LABELS and _located(tok):
            return "place"  # "right here in Harlingmeer", "going to Arnsby": the tagger's person is a place
        if label in _PERSON_LABELS and tok.dep_ == "compound" and tok.head.pos_ == "NOUN":
            return None  # "the Benthic meeting": a name that only modifies a thing is nobody
        if label in _PERSON_LABELS:
            return "person"
        if label in _ORG_LABELS:
            return "org"
        if label in _PLACE_LABELS:
            return "place"
        return None

    def _guessed(self, tok: "Token", text: str, kind: str | None, predicate: str | None = None) -> bool:
        """A one-word name that is an org or place by the tagger's type alone: no frame, suffix, locative slot or
        earlier reading says so ("told you about Odessa": a city to the tagger, a person by what follows)."""
        return kind in ("org", "place") and len(text.split()) == 1 and not _located(tok) and \
            predicate not in _PLACE_PREDICATES | _ORG_PREDICATES and \
            self._kind(tok, text, suffix_only=True) is None and self.mem.kind_of(text) in (None, kind) and \
            self.mem.guessed_only(text)

    def _note_entities(self, sent: "Span", before: int | None = None) -> None:
        """Record the sentence's named entities that end before character ``before`` (all when ``None``); a proper
        noun the tagger gave no entity type is a person when it is a clause subject or a possessor ("Sunita rang",
        "aoife told me", "Keiko's sister")."""
        found = [(ent.start_char, ent.end_char, ent.root, _trimmed(ent), ent.start) for ent in sent.ents]
        found += [(t.idx, t.idx + len(t.text), t, _name(t), t.i) for t in sent if _untyped_name(t) and
                  _person_slot(t) and t.lower_ not in FILLERS and t.lower_ not in STOPWORDS]
        found += [(t.idx, t.idx + len(t.text), t, "", t.i) for t in sent if t.pos_ == "NOUN" and
                  t.tag_ == "NN" and t.dep_ in ("nsubj", "nsubjpass") and
                  (relation_noun(t.lemma_) or t.lower_ in _PERSON_NOUNS)]
        found += [(t.idx, t.idx + len(t.text), t, "", t.i) for t in sent if t.pos_ == "NOUN" and
                  t.tag_ == "NNS" and not t.ent_type_]  # "drops ... they smell": plural things come between
        for start, end, root, text, first in sorted(found, key=lambda x: x[0]):
            if start < self._noted or (before is not None and end > before):
                continue
            self._noted = end
            if not text and root.tag_ == "NNS":
                owned = any(c.dep_ == "poss" for c in root.children) and root.dep_ in ("nsubj", "dobj", "pobj")
                definite = owned or (root.dep_ == "nsubj" and any(c.dep_ == "det" and c.lower_ in ("the", "these", "those")
                                                                  for c in root.children))
                self.mem.note_plural((self._plural_name(root) or "") if definite else "")
                continue
            if not text:  # a person noun ("mum called. she wants ..."): the person it names is an antecedent
                who = self._who(root)
                if who and who != self.speaker:
                    self.mem.note(who, "person", gender_of_relation(root.lemma_))
                continue
            kind = self._kind(root, text) or (None if root.ent_type_ else "person")
            if kind != "person" and root.pos_ == "PROPN" and (_contacted(root) or _kin_owner(root) or _feeling_subject(root)) and \
                    self._kind(root, text, suffix_only=True) is None:
                kind = "person"
            if kind is not None:
                text, inner = split_relation(text)  # "my brother declan": declan, a man
                title = (gender_of_relation(sent.doc[first - 1].lower_) if first > sent.start else None) or inner or \
                    _apposed_gender(root)
                single = root.ent_type_ == "PERSON" and kind == "person" and root.tag_ != "NNPS" and not (
                    first > sent.start and sent.doc[first - 1].lower_ == "the")  # "the Pereiras" are a family
                self.mem.note(text.removesuffix("'s").removesuffix("’s"), kind, title, single,
                              self._guessed(root, text, kind))

    def _plural_name(self, noun: "Token") -> str | None:
        """A definite plural noun phrase as a name "they" can stand for, its owner resolved ("my kids" -> "Ann's
        kids", "the cherry trees"); ``None`` when the owner cannot be resolved."""
        owner = possessor(noun)
        text = _noun_text(noun)
        if owner is None:
            return text
        if owner.pos_ != "PRON" or not text.lower().startswith(owner.lower_ + " "):
            return None
        who = self._who(owner)
        return f"{who}'s {text[len(owner.text) + 1:]}" if who else None

    # -- references -------------------------------------------------------------------------------------------
    def _text(self, tok: "Token") -> str:
        span = phrase_bounds(tok)
        return doc_text(tok.doc)[span[0]:span[1]] if span else tok.text

    def _who(self, tok: "Token | None") -> str | None:
        """The name a subject/owner token refers to, or ``None`` when it cannot be resolved."""
        if tok is None:
            return self.speaker
        low = tok.lower_
        if low in _OWNED_PRONOUNS and tok.dep_ in ("nsubj", "nsubjpass"):
            return None  # "mine's about a snail", "ours has started": a thing of the speaker's, not the speaker
        if low in SPEAKER_WORDS:
            return self.speaker
        if tok.pos_ == "PRON" or tok.tag_ in ("PRP", "PRP$"):
            if low in _THING_PRONOUNS:
                return self.mem.thing(low)
            return self.mem.pronoun(low, self.speaker)
        if low in FILLERS:
            return self.speaker  # "Ugh, correction, I misread ...": a filler parsed as the subject
        if tok.lemma_.lower() in _LABEL_NOUNS and tok.i - tok.sent.start <= 2 and \
                not any(c.dep_ in ("det", "poss") for c in tok.children):
            # "update: got him down to 4,950": a label of the message, the speaker's dropped subject; none of a
            # copula ("other news, clodaghs results are out on the 22nd")
            return None if tok.head.lemma_ == "be" else self.speaker
        if tok.pos_ == "PROPN":
            return _name(tok)
        if tok.pos_ == "NOUN" and tok.lower_ in _POINTER_NOUNS:
            return None
        if tok.pos_ == "NOUN":
            named = name_of(tok)
            if named is not None:
                return self._text(named)
            owner = possessor(tok)
            if owner is not None and relation_noun(tok.lemma_):
                who = self._who(owner)
                if who is None:
                    return None
                return self.mem.relation(who, relation_predicate(tok.lemma_)) or f"{who}'s {tok.lemma_.lower()}"
            if tok.dep_ in ("nsubj", "nsubjpass") and not tok.ent_type_ and (with_prep := _noun_with_prep(tok)):
                return with_prep  # "conversations about the merger are overdue": the noun with what it is about
            if tok.ent_type_ in ("DATE", "TIME") or any(c.dep_ in ("prep", "nummod") for c in tok.children):
                return None  # "Valentine's day", "alarm at 5:40": no subject to hold a fact
            text = _noun_text(tok)
            if len(text.split()) > 3 or _garbled_noun(tok, len(text)):
                return None
            if owner is not None and owner.pos_ == "PRON" and owner.lower_ not in SPEAKER_WORDS and \
                    text.lower().startswith(owner.lower_ + " "):  # "his lease ends in october": Ollie's lease
                who = self._who(owner)
                return f"{who}'s {text[len(owner.text) + 1:]}" if who else None
            return text
        return None

    # -- facts ------------------------------------------------------------------------------------------------
    def _object(self, tr: Triple, doc: "Doc") -> tuple[str, str, float | None] | None:
        if tr.place_ref:
            place = self.mem.place()
            return (place, "entity", None) if place else None
        if tr.pronoun_ref and tr.obj_head is not None:  # "she's my cat": the pet the pronoun points to
            who = self.mem.pronoun(tr.obj_head.lower_, self.speaker)
            return (who, "entity", None) if who else None
        text = doc_text(doc)[tr.obj_start:tr.obj_end].strip()
        if not any(ch.isalnum() for ch in text):
            return None  # "-", "!!": no phrase
        toks = [doc[i] for i in token_range(doc, tr.obj_start, tr.obj_end)]
        labels = {t.ent_type_ for t in toks}
        if tr.valence is not None:
            return text, "text", tr.valence
        if _hollow(toks, tr.frame) or _stance_aside(tr.obj_head):
            return None
        numeric = any(t.like_num or t.pos_ == "NUM" or any(ch.isdigit() for ch in t.text) for t in toks)
        if "MONEY" in labels or any(t.text in ("$", "€", "£") for t in toks) or \
                (numeric and tr.frame in ("earn", "make", "pay", "offer", "cost", "salary", "rent", "price") and
                 tr.obj_head is not None and (tr.obj_head.pos_ == "NUM" or tr.obj_head.lower_ in _MONEY_UNITS or
                                              (tr.obj_head.lower_[-1:] in ("k", "m") and tr.obj_head.lower_[0].isdigit()))):
            return text, "money", parse_money(text)
        if numeric and not labels & _NAMED_LABELS:
            return text, "number", parse_money(text)
        if labels & {"DATE", "TIME"} and not labels & _NAMED_LABELS:
            return text, "time", None
        head = tr.obj_head
        if head is not None and (head.pos_ == "PROPN" or head.ent_type_ in _NAMED_LABELS):
            return text, "entity", None
        return text, "text", None

    def _predicate(self, tr: Triple, otype: str, modality: str) -> tuple[str, str]:
        if tr.relation:
            return relation_predicate(tr.frame), modality
        frame = tr.frame
        if otype == "time" or (otype == "number" and canonical(frame) in _PLACE_PREDICATES | _ORG_PREDICATES):
            return frame, modality  # "work for 3 years", "worked there for nineteen years" say when, not where
        head = tr.obj_head
        if head is not None and pet_noun(head.lemma_) and frame.split("_")[0] in _PET_VERBS:
            return "has_pet", modality
        ends = ending(frame)
        if ends is not None and otype == "entity":
            if ends == "works_at" and head is not None and self._kind(head, head.text) == "place":
                ends = "lives_in"
            return ends, "ended" if modality in ("asserted", "corrected") else modality
        if frame in _ENTITY_ONLY and otype != "entity":
            return frame, modality
        pred = canonical(frame)
        if pred == "makes" and otype == "money":
            pred = "salary"
        if pred == "lives_in" and otype not in ("entity", "text"):
            return frame, modality
        return pred, modality

    def read_sentence(self, sent: "Span", offset: int) -> None:
        monologue = self.mem.addressee(self.speaker) is None
        act = speech_act(sent, monologue=monologue)
        self.acts.append((sent.start_char + offset, sent.end_char + offset, act))
        correcting, self._correcting = self._correcting, False
        if act != "statement":
            self._note_entities(sent)
            return
        corrects = is_correction(sent) or correcting
        statement = sent.text.strip()
        triples = clause_triples(sent, imperatives=not monologue)
        if corrects:  # "I've been telling people the wrong date": the mistake itself is no fact
            triples = [t for t in triples if not t.whole and (t.obj_head is None or
                       not any(c.lower_ == "wrong" and c.dep_ == "amod" for c in t.obj_head.children))]
        if corrects and not triples:
            self._correcting = True  # "ok correction." / "wait, I got that wrong.": the next sentence corrects
        pieces = [t for t in triples if not t.whole]  # a whole complement hides no leftover amount or name
        triples += loose_triples(sent, [(t.obj_start, t.obj_end) for t in pieces], pieces)
        for tr in triples:
            if not _sane_frame(tr.frame):
                continue
            obj = self._object(tr, sent.doc)
            if obj is None:
                continue
            text, otype, num = obj
            if tr.whole:  # what the clause says as one phrase: open frame and plain text, never a canonical value
                otype, num = "text", None
            pol, start = tr.polarity, tr.obj_start
            if text[:4].lower() == "not " and len(text) > 4:  # "it's 1,190 not 1,150": 1,150 is denied
                text, pol, start = text[4:], "negative", start + 4
            elif _word_before(sent, start) == "not":
                pol = "negative"  # the same, when "not" is no part of the phrase
            ref = tr.owner if tr.owner is not None else tr.subject
            self._note_entities(sent, ref.idx if ref is not None else sent.start_char)  # antecedents come first
            modality = "corrected" if corrects and tr.modality == "asserted" else tr.modality
            subject = _thing_name(tr.subject) if tr.thing and tr.subject is not None else \
                self._who(tr.owner if tr.relation or tr.owner is not None else tr.subject)
            predicate, modality = (tr.frame, modality) if tr.whole else self._predicate(tr, otype, modality)
            if predicate == "name" and otype == "entity" and (newcomer := self._introduced(tr)) is not None:
                subject, predicate = newcomer  # "the counsellor at student wellbeing, her name's Beatrix Lomax"
                if predicate != "name":
                    self.mem.relate(subject, predicate, text)
            if predicate == "feels" and tr.subject is not None and tr.subject.pos_ == "NOUN" and \
                    not relation_noun(tr.subject.lemma_) and name_of(tr.subject) is None:
                predicate = "is"  # "my jollof is fine": a thing is described, nobody feels
            if predicate == "feels" and tr.subject is not None and tr.subject.lower_ in ("they", "them") and \
                    self.mem.kind_of(subject) == "plural":
                predicate = "is"  # "my lessons ... they're better": the things described
            if corrects and tr.subject is not None and tr.subject.lower_ in _THING_PRONOUNS:
                named = _corrected_noun(tr.subject)  # "i got the rent wrong, it's 1,340": what it names
                bound = (self._who(possessor(named)) if possessor(named) is not None else self.speaker,
                         canonical(named.lemma_.lower())) if named is not None else self.mem.last_fact(otype)
                # else "no wait, it was 1,200": the last fact of that kind
                if bound is None and otype in ("money", "number"):
                    bound = self.mem.last_fact("number" if otype == "money" else "money")
                if bound is not None:
                    subject, predicate = bound
            if predicate == "name" and tr.subject is not None and pet_noun(tr.subject.lemma_):
                owner = possessor(tr.subject)  # "a dog named Max": the owner's pet_name
                subject, predicate = (self._who(owner) if owner is not None else self.speaker), "pet_name"
            if not subject or _echoes(subject, text, otype, self.speaker) or _generic_relative(tr):
                continue
            if tr.subject is not None and tr.subject.lower_ in ("that", "this") and otype == "text" and not corrects \
                    and tr.subject.head.lemma_ == "be":
                continue  # "so that's dead", "thats a miracle": a demonstrative sums up the situation, no thing's fact
            if predicate == "name" and tr.thing and tr.obj_head is not None and tr.obj_head.dep_ == "appos" and \
                    tr.obj_head.head == tr.subject and not _personal(tr.subject):
                self.mem.note(text, "org")  # "the bridge consultancy, Hallet Brink": a firm's name, nobody's he/she
            elif tr.relation and tr.obj_head is not None:
                self.mem.relate(subject, predicate, text)
                self.mem.note(text, "person", gender_of_relation(tr.frame))
            elif otype == "entity" and tr.obj_head is not None:
                kind = self._kind(tr.obj_head, text, predicate)
                if kind == "person" and tr.obj_head.pos_ == "PROPN":
                    self.mem.note(_name(tr.obj_head), kind)  # "his name's Ollie": the person is "Ollie"
                elif kind is not None:
                    self.mem.note(text, kind, guessed=self._guessed(tr.obj_head, text, kind, predicate))
            elif otype == "text" and tr.obj_head is not None and tr.obj_head.pos_ == "NOUN" and \
                    not (predicate == "is_a" and self._a_person(tr, subject)):
                self.mem.note_thing(text, plural=tr.obj_head.tag_ == "NNS")  # not "he's not a smoker": what he is
            start, end = start + offset, tr.obj_end + offset
            fact = Fact(subject, predicate, text, otype, num, statement, start, end, pol, modality)
            self.facts.append(self._candidate(fact, tr))
            if not tr.whole:
                self.mem.remember_fact(subject, predicate, otype)

    def _introduced(self, tr: Triple) -> tuple[str, str] | None:
        """Whom "his/her name is X" names when the event has just brought in a person by a noun and no name: the
        latest person or relation noun of the event before it with no name of its own and no name between ("Sem
        has a girlfriend apparently?? her name is Lieke" -> (Sem, girlfriend); "first session with the counsellor,
        her name's Beatrix Lomax" -> (speaker, counsellor); "a guy asked for my number. his name's Ollie" -> (guy,
        name)); ``None`` to let the pronoun resolve as usual."""
        owner = tr.owner
        same = _SAME_PERSON.get(owner.lower_) if owner is not None else None
        if same is None:
            return None
        for tok in reversed(owner.doc[:owner.i]):
            if tok.pos_ == "PROPN" or tok.lower_ in same:
                return None  # a name or the same pronoun in between ("he's 13" does not stop "her name")
            if tok.pos_ != "NOUN" or not can_feel(tok) or tok.lemma_.lower() == "someone":
                continue
            if name_of(tok) is not None or (possessor(tok) is not None and not relation_noun(tok.lemma_)):
                return None
            if not relation_noun(tok.lemma_):
                return _noun_text(tok), "name"
            who = possessor(tok)
            if who is None and tok.dep_ == "dobj" and tok.head.lemma_ == "have":
                who = clause_subject(tok.head) or None  # "Sem has a girlfriend": Sem's
            whose = self._who(who) if who is not None else self.speaker
            return (whose, relation_predicate(tok.lemma_)) if whose else None
        return None

    def _a_person(self, tr: Triple, subject: str) -> bool:
        """The triple's subject is a person: the speaker, a person pronoun or noun, or a name known as a person."""
        tok = tr.subject
        if subject == self.speaker or (tok is not None and tok.lower_ in _PERSON_PRONOUNS):
            return True
        if tok is not None and tok.pos_ == "NOUN":
            return can_feel(tok)
        return self.mem.kind_of(subject) == "person"

    def read_doc(self, doc: "Doc", offset: int) -> None:
        self._noted = 0
        for sent in doc.sents:
            self.read_sentence(sent, offset)
            self._note_entities(sent)
            self.namesakes += namesakes(sent, offset)

    @staticmethod
    def _candidate(fact: Fact, tr: Triple) -> Candidate:
        """``fact`` as the per-event budget weighs it (:mod:`~tracelake.operators.selection`)."""
        typed = (fact.predicate in _CANONICAL or bool(tr.relation)) and not tr.whole
        return Candidate(fact, typed, relation=bool(tr.relation),
                         number_head=tr.obj_head is not None and tr.obj_head.pos_ == "NUM")

    def reading(self) -> Reading:
        return Reading(facts=select_facts(self.facts, MAX_FACTS_PER_EVENT), acts=self.acts, namesakes=self.namesakes)


def extract_facts(text: str, speaker: str | None) -> list[Fact]:
    """The facts of one text read on its own (a fresh stream) by the default engine; ``speaker`` is I/me."""
    return ParseDecomposer().read([EventText(("", ""), speaker, text)])[0].facts
