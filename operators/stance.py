"""Speech act, polarity, modality, corrections and affect of parsed sentences and clauses (closed word lists).

Contract (every function reads spaCy tokens; none keeps state):

- :func:`speech_act` of a sentence: ``question`` (a wh-word or an inverted auxiliary opens it, after fillers
  such as "wait", "um", "so"; a bare trailing "?" on a declarative sentence is uptalk, still a statement),
  ``request`` (an imperative verb — not in a monologue, where it is a dropped "I", nor a verb of feeling:
  "appreciate your help" — or "can/could you ..."); "let's ..." is the speaker's plan, a statement; ``greeting`` (only interjections, thanks, greetings,
  acknowledgements) or ``statement``.
- :func:`polarity` of a clause head: ``negative`` when it (or its auxiliary) carries a negation (not, n't, never),
  "nearly"/"almost" (it did not happen) or its object is determined by "no" (not under a verb of saying: "said no
  pets" was said), or it is the complement of a negated verb of belief ("I don't think I'll miss it"); else
  ``positive``.
- :func:`modality` of a clause head: ``hypothetical`` (might/may/could/would/should, maybe/perhaps, an "if" or
  "unless" clause), ``plan`` (will/'ll/shall, going to/gonna, or governed by a plan verb: want, plan, hope,
  intend, consider, decide, think about ..., a purpose: "to ..." or "so we can ...", or someone's wish: "wants me to
  ..."; a negated would/could is a refusal or inability, asserted), ``ended`` ("used to", "no longer", "not ... anymore") or
  ``asserted``.
- :func:`asserts_nothing`: a clause that asserts no triple of its own (an existential, a sentential ", which is
  ...", an embedded "what's X", an indirect question under a verb of knowing).
- :func:`is_correction`: the sentence corrects something said before ("actually ...", "wait no", "sorry, I
  meant", "I got that wrong", "I got the rent wrong", "scratch that").
- :func:`valence` of an emotion word (lemma) in ``[-1, 1]``, or ``None`` when it is not an emotion word.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Span, Token

__all__ = ["speech_act", "polarity", "modality", "is_correction", "asserts_nothing", "valence", "FILLERS",
           "FEELING_VERBS", "shown_valence"]

FILLERS = frozenset(
    "um umm uh uhh er erm hmm so ok okay well oh ah like yeah yea yep wait anyway anyways lol haha honestly "
    "basically literally and but omg ugh hey alright right ya".split()
)
_WH = frozenset("what where when who whom whose why how which".split())
_AUX_Q = frozenset("do does did is are was were am can could will would should shall have has had may might must".split())
_GREET = frozenset(
    "hi hello hey hiya yo thanks thank thx ty bye goodbye cheers ok okay cool nice great awesome wow yes no yeah "
    "yep nope sure lol haha morning night evening good you so much see later talk soon".split()
)
_HYPOTHETICAL_AUX = frozenset("might may could would should 'd".split())
_PLAN_AUX = frozenset("will 'll shall wo".split())
_HEDGES = frozenset("maybe perhaps possibly probably hopefully".split())
_PLAN_VERBS = frozenset(
    "want plan hope intend consider decide think mean aim wish expect need try aspire dream look prepare "
    "schedule arrange promise let suppose offer agree volunteer".split()
)
#: Verbs whose to-clause did not happen ("refused to pay", "forgot to say", "failed to show").
_UNDONE_VERBS = frozenset("refuse forget fail decline neglect".split())
#: Verbs that state a feeling about their object; a subjectless one is a dropped "I" ("appreciate your help").
FEELING_VERBS = frozenset("love adore enjoy hate detest resent dread fear worry miss regret appreciate".split())
#: Verbs of belief whose negation denies their complement clause ("I don't think it's X": not X).
_BELIEF_VERBS = frozenset("think believe reckon expect suppose imagine convince guess feel".split())
_SAYING_VERBS = frozenset("say tell write text reply answer announce".split())
#: Verbs whose to-clause with its own subject is the governor's wish or request ("Deepa wants me to do the next level").
_WISH_VERBS = _PLAN_VERBS | frozenset("ask tell like love prefer urge encourage".split())
_KNOWING_VERBS = frozenset("know wonder check see remember care decide tell guess doubt".split())
_CORRECTION_OPENERS = frozenset("actually correction sorry oops scratch".split())
_MISTAKE_VERBS = frozenset("get have say write read remember hear put tell type note count".split())
_CORRECTION_PHRASES = ("got that wrong", "got it wrong", "i mean", "i meant", "no wait", "wait no", "my bad",
                       "scratch that", "not what i said", "i misspoke", "let me correct")

#: Emotion lemmas with a valence in [-1, 1] (adjectives, verbs and nouns of feeling).
_VALENCE: dict[str, float] = {
    **{w: 0.8 for w in "happy glad thrilled excited ecstatic elated delighted overjoyed joyful grateful thankful "
                       "proud relieved hopeful optimistic content pleased stoked pumped psyched confident hooked "
                       "love adore enjoy calm relaxed peaceful blessed lucky inspired motivated smug flattered".split()},
    **{w: 0.4 for w in "fine okay ok better good curious intrigued interested comfortable settled".split()},
    **{w: -0.8 for w in "sad unhappy depressed miserable devastated heartbroken anxious nervous worried scared "
                        "afraid terrified frightened stressed overwhelmed exhausted drained burnt burned angry "
                        "furious mad annoyed irritated frustrated upset lonely hurt guilty ashamed embarrassed "
                        "jealous bitter disappointed gutted dread hate resent miserable panicky panicked "
                        "bummed crushed heartbroke sick hopeless helpless rattled shaken livid gutted sore "
                        "embarrassing humiliated dreading lost stuck panic fomo homesick".split()},
    **{w: -0.4 for w in "tired bored confused uneasy unsure uncertain torn restless meh weird awkward worry fear "
                        "miss dread nervy tense knackered shattered".split()},
}
#: Verbs that show a feeling: with a complement, the phrase is the feeling ("grinning like an idiot all day",
#: "cried a tiny bit at the finish"); alone ("Keiko laughed") they are what someone did.
_SHOWN: dict[str, float] = {**{w: 0.8 for w in "grin beam".split()}, **{w: 0.4 for w in "smile laugh giggle".split()},
                            **{w: -0.4 for w in "cry sob weep".split()}}


def _first_content(sent: "Span") -> list["Token"]:
    toks = [t for t in sent if not t.is_punct and not t.is_space]
    i = 0
    while i < len(toks) and toks[i].lower_ in FILLERS and toks[i].pos_ in ("INTJ", "ADV", "CCONJ", "ADP", "VERB", "ADJ"):
        i += 1
    return toks[i:]


def speech_act(sent: "Span", *, monologue: bool = False) -> str:
    """``question`` | ``request`` | ``greeting`` | ``statement`` for one sentence. In a ``monologue`` (a stream
    with nobody to address) a subjectless base-form verb is a dropped "I" ("hurt my back carrying a patient",
    "start the 5th of august"), a statement; only "please" and "can you ..." stay requests."""
    toks = [t for t in sent if not t.is_punct and not t.is_space]
    if not toks:
        return "greeting"
    if all(t.lower_ in _GREET or t.pos_ == "INTJ" or t.pos_ == "PROPN" for t in toks) and len(toks) <= 8 and \
            any(t.lower_ in _GREET or t.pos_ == "INTJ" for t in toks):  # "Thanks, Melanie!"
        return "greeting"
    rest = _first_content(sent)
    if not rest:
        return "greeting"
    first = rest[0]
    second = rest[1] if len(rest) > 1 else None
    if first.lower_ in _WH and second is not None and (second.pos_ in ("AUX", "VERB") or second.lower_ in _AUX_Q
                                                       or second.tag_ in ("NN", "NNS", "JJ", "RB")):
        return "question"
    if first.lower_ in _AUX_Q and second is not None and second.pos_ in ("PRON", "PROPN", "DET", "NOUN") and \
            first.dep_ in ("aux", "ROOT", "auxpass") and first.i < second.i and second.dep_ in ("nsubj", "nsubjpass", "expl"):
        if first.lower_ in ("can", "could", "would", "will") and second.lower_ == "you":
            return "request"
        return "question"
    if sent.text.rstrip().endswith("?") and not any(t.pos_ in ("VERB", "AUX") for t in sent):
        return "question"  # a verbless fragment asked: "Moose? Moss?"
    root = sent.root
    if sent.text.rstrip().endswith("?") and root.lemma_ == "be" and root.pos_ == "AUX" and any(
            c.dep_ in ("nsubj", "expl") and c.i > root.i for c in root.children):
        return "question"  # "also, completely unrelated, is it normal for a kettle to scream?"
    if sent.text.rstrip().endswith("?") and any(
            a.dep_ in ("aux", "auxpass") and a.lower_ in _AUX_Q and any(
                c.dep_ in ("nsubj", "nsubjpass", "expl") and c.i > a.i for c in root.children)
            for a in root.children):
        return "question"  # "question, do cats get along with radiators?": an auxiliary before its subject
    if first.lemma_ == "let" and second is not None and second.lower_ in ("'s", "’s", "us"):
        return "statement"  # "let's keep chasing our dreams": the speaker's plan
    if first.lower_ == "please" or (not monologue and first.tag_ == "VB" and first.dep_ == "ROOT" and
                                    first.lemma_ not in FEELING_VERBS and
                                    not any(c.dep_ in ("nsubj", "nsubjpass") for c in first.children)):
        return "request"
    return "statement"


def polarity(head: "Token") -> str:
    """``negative`` | ``positive`` for one clause head."""
    if head.dep_ == "xcomp" and (head.head.lemma_ in _UNDONE_VERBS or head.head.lower_ in ("forgot", "forgotten")) \
            and not any(
            c.dep_ == "neg" for c in head.head.children):
        return "negative"  # "I refuse to accept that", "forgot to say": not done ("didn't forget to": done)
    if head.dep_ == "xcomp" and head.head.pos_ in ("VERB", "AUX") and head.head.lemma_ not in _UNDONE_VERBS and \
            any(a.dep_ == "aux" and a.lower_ in ("to", "na") for a in head.children) and \
            any(c.dep_ == "neg" or c.lower_ in ("never", "not", "n't") for c in head.head.children) and \
            not _no_longer(head.head) and not any(t.tag_ in ("WP", "WRB", "WDT") for t in head.children):
        return "negative"  # "I'm not going to apply", "not gonna miss the alarms" (not "don't know what to do")
    if head.dep_ == "ccomp" and head.head.lemma_ in _BELIEF_VERBS and any(
            c.dep_ == "neg" for c in head.head.children):
        return "negative"  # "i don't think i'll miss the alarms", "I'm not convinced it was the slippers"
    for c in head.children:
        if c.dep_ == "neg" or c.lower_ in ("never", "n't", "not"):
            if any(k.dep_ in ("attr", "acomp", "dobj", "oprd") and k.i < c.i
                   and k.pos_ in ("NOUN", "PROPN", "NUM", "ADJ") for k in head.children):
                continue  # "it's 1,590 not 1,650": the value after "not" is denied, the clause is not
            if not _no_longer(head):
                return "negative"
        if c.dep_ == "advmod" and c.lower_ in ("nearly", "almost"):
            return "negative"  # "I nearly dropped the phone": it did not happen
        if c.dep_ in ("dobj", "attr", "pobj") and any(d.lower_ == "no" and d.dep_ == "det" for d in c.children) \
                and head.lemma_ not in _SAYING_VERBS:  # "the landlord said no pets": he did say it
            return "negative"
    return "positive"


def _no_longer(head: "Token") -> bool:
    words = {c.lower_ for c in head.children}
    subtree = " ".join(t.lower_ for t in head.subtree)
    return "anymore" in words or "no longer" in subtree or "any longer" in subtree or "any more" in subtree


def modality(head: "Token") -> str:
    """``asserted`` | ``plan`` | ``hypothetical`` | ``ended`` for one clause head."""
    if _no_longer(head):
        return "ended"
    if head.dep_ == "ccomp" and head.head.lemma_ in _BELIEF_VERBS and head.head.dep_ == "xcomp" and \
            head.head.head.lower_ == "used":
        return "ended"  # "I used to think I was a city person": a belief given up
    node: "Token" | None = head
    via = None
    for _ in range(4):  # walk up through xcomp / advcl / conj chains
        if node is None:
            break
        kids = list(node.children)
        if any(c.dep_ in ("aux", "auxpass") and c.lower_ == "used" for c in kids) or \
                (node.lower_ == "used" and any(c.dep_ == "xcomp" for c in kids)):
            return "ended"
        if any(c.dep_ == "mark" and c.lower_ in ("if", "unless", "whether") for c in kids):
            return "hypothetical"
        if any(c.dep_ == "aux" and c.lower_ in _HYPOTHETICAL_AUX and not (c.lower_ == "'d" and node.tag_ == "VBN")
               and not (c.lower_ in ("would", "could", "'d") and any(k.dep_ == "neg" for k in kids))
               for c in kids) or any(c.lower_ in _HEDGES for c in kids):
            return "hypothetical"  # ("I'd already booked" is "had"; "wouldn't take any money", a refusal: asserted)
        if any(c.dep_ == "aux" and c.lower_ in ("can", "could") for c in kids) and \
                any(c.lower_ == "so" and c.dep_ in ("advmod", "mark") for c in kids):
            return "hypothetical"  # "so we can video call Kenji": a purpose, not done
        if node.dep_ == "advcl" and node.tag_ == "VB" and any(c.dep_ == "aux" and c.lower_ == "to" for c in kids):
            return "plan"  # "went for a run to stop myself saying ...": a purpose, not done
        if node.dep_ == "ccomp" and node.head.lemma_ in _WISH_VERBS and \
                any(c.dep_ == "aux" and c.lower_ == "to" for c in kids):
            return "plan"  # "Deepa wants me to do the next level": her wish, not done
        if node.dep_ == "xcomp" and node.head.lemma_ in _WISH_VERBS and \
                any(c.dep_ == "aux" and c.lower_ == "to" for c in kids) and \
                any(c.dep_ == "dobj" and c.i < node.i for c in node.head.children):
            return "plan"  # "she told me to take the job", "asked Sam to cover": asked for, not done
        if any(c.dep_ == "aux" and c.lower_ in _PLAN_AUX for c in kids):
            return "plan"
        if node.dep_ == "acl" and node.tag_ == "VB" and any(c.dep_ == "aux" and c.lower_ == "to" for c in kids):
            return "plan"  # "one week to find a flat": still to do
        if node != head and node.lemma_ == "have" and head.dep_ == "xcomp" and node == head.head and node.tag_ != "VBD":
            return "plan"  # "i have to tell maud": still to do ("had to lead a session": done)
        if node != head and node.lemma_ in _PLAN_VERBS and via != "conj" and (node.lemma_ != "think" or any(
                c.dep_ == "prep" and c.lower_ in ("about", "of") for c in kids)):
            return "plan"  # "thinking about quitting", not "she thinks it's a disc thing"
        if node.lemma_ == "go" and node.tag_ == "VBG" and any(c.dep_ == "xcomp" for c in kids) and node != head:
            return "plan"
        if node.dep_ == "conj" and any(c.dep_ in ("nsubj", "nsubjpass", "expl") for c in kids):
            break  # "I'd half made up my mind, but the survey found subsidence": a clause of its own
        if node.dep_ in ("xcomp", "pcomp", "conj", "advcl") or (node.dep_ == "pobj" and node.tag_ == "VBG") or \
                (node.dep_ == "ccomp" and node.head.lemma_ == "let"):
            via = node.dep_  # a conjunct is a deed of its own, no content of a plan verb it is coordinated with
            node = node.head if node.head != node else None
            if node is not None and node.dep_ == "prep":
                node = node.head
            continue
        break
    return "asserted"


def is_correction(sent: "Span") -> bool:
    """True when the sentence corrects an earlier statement."""
    toks = [t.lower_ for t in sent if not t.is_punct]
    if not toks:
        return False
    text = " ".join(toks)
    if any(t.lower_ == "wrong" and t.dep_ in ("oprd", "acomp", "advmod", "ccomp", "xcomp") and
           t.head.lemma_ in _MISTAKE_VERBS for t in sent):  # "I got the rent wrong", "wrote it down wrong"
        return True
    if any(t.lower_ == "wrong" and t.dep_ == "amod" and t.head.dep_ == "dobj" and
           t.head.head.lemma_ in _MISTAKE_VERBS | {"give"} for t in sent):  # "i gave you the wrong number"
        return True
    if toks[0] in _CORRECTION_OPENERS or (len(toks) > 1 and toks[0] in FILLERS and toks[1] in _CORRECTION_OPENERS):
        return True
    return any(p in text for p in _CORRECTION_PHRASES)


def valence(lemma: str) -> float | None:
    """Valence of an emotion word, ``None`` for any other word."""
    return _VALENCE.get(lemma.lower())


def shown_valence(lemma: str) -> float | None:
    """Valence of an emotion word or of a verb that shows a feeling (grin, cry), ``None`` for any other word."""
    v = _VALENCE.get(lemma.lower())
    return v if v is not None else _SHOWN.get(lemma.lower())


def asserts_nothing(head: "Token") -> bool:
    """Whether the clause of ``head`` asserts no triple of its own: an existential ("there's a studio near the
    house": :func:`~tracelake.operators.nominals.introduced` says what exists), a sentential ", which is ...", an
    embedded wh-question, or an indirect question under a verb of knowing ("I don't know if that's a pun", "wonder
    whether it hurts"). An offer asked about ("she asked if I'd be the trainer") stays: a hypothetical."""
    kids = list(head.children)
    if any(c.dep_ in ("expl", "nsubj") and c.tag_ == "EX" for c in kids):
        return True  # an existential: its content is :func:`~tracelake.operators.nominals.introduced`'s
    which = next((c for c in kids if c.lower_ == "which" and c.dep_ in ("nsubj", "nsubjpass")), None)
    if head.lemma_ == "be" and head.dep_ == "relcl" and which is not None and which.i > 0 and \
            which.doc[which.i - 1].text in (",", "-", "—", "...", "'", "’", '"', ")"):
        return True  # ", which is the nicest thing": about the whole clause before, no noun's fact
    if head.lemma_ == "be" and head.dep_ != "relcl" and any(c.tag_ in ("WP", "WP$") and c.dep_ in ("nsubj", "attr")
                                                         and c.i < head.i for c in kids):
        return True  # an embedded question: "gave him the cross-examination, what's your five year plan"
    return (head.dep_ == "ccomp" and head.head.lemma_ in _KNOWING_VERBS and any(
        c.dep_ == "mark" and c.lower_ in ("if", "whether") for c in kids))
