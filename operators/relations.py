"""Pattern-based subject-predicate-object extraction with typed values (no model, no LLM).

:func:`extract_facts` reads each sentence independently and returns :class:`FactCandidate` rows. Subjects are
the speaker for first-person sentences (skipped when no speaker is known), or a capitalised name, possibly
introduced as "my friend Sarah" (which also yields ``(speaker, friend, Sarah)``). Pronoun subjects other than
"I" are not resolved, except "they/he/she offered me $X" which is recorded as the speaker's offer.

Canonical predicates (snake_case): ``works_at worked_at occupation lives_in lived_in from grew_up_in born_in
visited studies_at graduated_from name is_a age relationship_status spouse partner has_pet has_<count noun>
likes dislikes favorite_<category> speaks offered salary paid spent`` and family/social relations (``friend
sister brother mother father wife husband boyfriend girlfriend son daughter cousin colleague boss ...``).
Negated statements ("I don't live in X", "I'm not married") yield nothing, except ``dislikes``.

:func:`is_single_valued` says whether a newer value of ``(subject, predicate)`` supersedes the older one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

from tracelake.operators.lexicon import FIRST_NAMES, NUMBER_WORDS, ORGS, PLACES, STOP_CAPITALS, STOPWORDS
from tracelake.operators.text import sentence_spans

__all__ = ["FactCandidate", "extract_facts", "is_single_valued", "predicate_phrase", "parse_money"]


@dataclass(frozen=True)
class FactCandidate:
    """One extracted assertion. ``start``/``end`` locate the matched phrase in the input text."""

    subject: str
    predicate: str
    object: str
    object_type: str  # entity | text | money | number
    value_num: float | None
    statement: str
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


# ------------------------------------------------------------------------------------------------- vocabulary
_REL_CANON = {
    "friend": "friend", "best friend": "friend", "buddy": "friend", "pal": "friend", "sister": "sister",
    "brother": "brother", "mom": "mother", "mum": "mother", "mother": "mother", "dad": "father",
    "father": "father", "wife": "wife", "husband": "husband", "partner": "partner", "boyfriend": "boyfriend",
    "girlfriend": "girlfriend", "son": "son", "daughter": "daughter", "cousin": "cousin", "aunt": "aunt",
    "uncle": "uncle", "grandma": "grandmother", "grandmother": "grandmother", "grandpa": "grandfather",
    "grandfather": "grandfather", "boss": "boss", "manager": "manager", "colleague": "colleague",
    "coworker": "colleague", "co-worker": "colleague", "roommate": "roommate", "neighbor": "neighbor",
    "neighbour": "neighbor", "fiance": "fiance", "fiancé": "fiance", "fiancee": "fiance", "fiancée": "fiance",
    "niece": "niece", "nephew": "nephew", "teacher": "teacher", "coach": "coach", "mentor": "mentor",
    "therapist": "therapist", "doctor": "doctor", "kid": "child", "child": "child",
}
_REL = "|".join(sorted((re.escape(k) for k in _REL_CANON), key=len, reverse=True)).replace(r"\ ", r"\s+")

_COUNT_NOUNS = {
    "kids": "kids", "kid": "kids", "children": "kids", "child": "kids", "sons": "sons", "son": "sons",
    "daughters": "daughters", "daughter": "daughters", "siblings": "siblings", "sibling": "siblings",
    "brothers": "brothers", "brother": "brothers", "sisters": "sisters", "sister": "sisters",
    "grandchildren": "grandchildren", "grandkids": "grandchildren", "grandchild": "grandchildren",
    "cats": "cats", "cat": "cats", "dogs": "dogs", "dog": "dogs", "pets": "pets", "pet": "pets", "cars": "cars",
    "car": "cars", "roommates": "roommates", "roommate": "roommates", "jobs": "jobs", "job": "jobs",
}
_COUNT = "|".join(sorted(_COUNT_NOUNS, key=len, reverse=True))
_PETS = r"dogs?|pupp(?:y|ies)|cats?|kittens?|kitty|hamsters?|rabbits?|bunn(?:y|ies)|parrots?|birds?|fish|turtles?|tortoises?|horses?|guinea\s+pigs?|snakes?|lizards?|ferrets?|pets?"

_SINGLE_VALUED = frozenset(
    {
        "lives_in", "works_at", "occupation", "age", "name", "relationship_status", "salary", "offered", "from",
        "born_in", "grew_up_in", "studies_at", "spouse", "partner", "wife", "husband", "boyfriend", "girlfriend",
        "fiance", "mother", "father", "boss", "manager",
    }
    | {f"has_{v}" for v in _COUNT_NOUNS.values()}
)


def is_single_valued(predicate: str) -> bool:
    """True when ``predicate`` holds one value at a time (a newer value supersedes the older)."""
    return predicate in _SINGLE_VALUED or predicate.startswith("favorite_")


def predicate_phrase(predicate: str) -> str:
    """Human-readable form: ``works_at`` -> ``works at``, ``has_pet`` -> ``has pet``."""
    return predicate.replace("_", " ")


# ---------------------------------------------------------------------------------------------- regex pieces
_CAP_STOP = sorted((w for w in STOP_CAPITALS if w.isalpha()), key=len, reverse=True)
_NEG_STOP = r"(?!(?:" + "|".join(_CAP_STOP) + r")\b)"
_CAPWORD = r"(?=[A-ZÀ-ÖØ-Þ])" + _NEG_STOP + r"[A-ZÀ-ÖØ-Þ][\w\-]*(?:['’][A-Za-z]+)?"
_NAME = _CAPWORD + r"(?:[ ](?:(?:of|de|da|del|van|von|der|la|le|du)[ ])?" + _CAPWORD + r"){0,4}"
_I = r"(?<![\w'’])[Ii](?![\w])"
_SUBJ = r"(?P<subj>" + _I + r"|(?:(?i:my)\s+(?P<srel>(?i:" + _REL + r"))\s*,?\s+)?(?P<sname>" + _NAME + r"))"
_ME = r"(?:" + _I + r"(?:['’]m|\s+am)|" + _I + r"\s+was)"
_GAP = r"(?:\s+|(?=['’]))"
_NUMW = r"\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_MONEY = (
    r"(?P<money>[$€£]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:k|K|mm|MM|m|M|bn|b|million|thousand|grand|billion))?\b"
    r"|\d[\d,]*(?:\.\d+)?\s?(?:k|K|million|thousand|grand)?\s?(?:dollars|bucks|usd|USD|euros?|EUR|pounds|GBP)\b)"
)
_ADV = r"(?i:(?:currently|now|still|also|just|recently|finally|actually|really|absolutely|totally|truly|especially|do)\s+)*"

_BOUNDARY_WORDS = frozenset(
    "but because since so when which who whom that while if though although as now today yesterday tomorrow "
    "last next this these every too also really very lately recently anymore nowadays then there here".split()
)
_PREP_WORDS = frozenset("at for in with from to on of by about".split())
_DETERMINERS = frozenset("a an the some any".split())
_BAD_OBJECTS = frozenset(
    "it that this you them him her those these one everything anything something nothing how what when where "
    "why who being doing there here myself yourself ya u".split()
)
_NEGATION = re.compile(r"n['’]t\b|\bnot\b|\bnever\b|\bno\s+longer\b", re.IGNORECASE)


def _clean_np(text: str, *, cut_preps: bool) -> str:
    """A short noun phrase from the start of ``text``: determiners dropped, cut at clause words, <= 6 words."""
    words = text.replace("’", "'").split()
    while words and words[0].lower() in _DETERMINERS:
        words = words[1:]
    out: list[str] = []
    for w in words:
        lw = w.lower().strip("\"'()")
        if lw in _BOUNDARY_WORDS or (cut_preps and lw in _PREP_WORDS) or lw in ("to", "and", "or"):
            if not (lw == "to" and not out):
                break
            continue
        out.append(w.strip("\"'()"))
        if len(out) >= 6:
            break
    while out and out[-1].lower() in STOPWORDS:
        out.pop()
    phrase = " ".join(out).strip(" -")
    if not phrase or phrase.lower() in _BAD_OBJECTS or phrase.lower().split()[0] in _BAD_OBJECTS:
        return ""
    return phrase


def _split_list(text: str) -> list[str]:
    return [p for p in re.split(r"\s*,\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+|\s*&\s*", text) if p.strip()]


def _strip_poss(name: str) -> str:
    return re.sub(r"['’]s?$", "", name.strip())


def _num(text: str) -> int | None:
    key = text.lower()
    if key.isdigit():
        return int(key)
    return NUMBER_WORDS.get(key)


_MULT = {"k": 1e3, "thousand": 1e3, "grand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}


def parse_money(text: str) -> float | None:
    """``$195k`` -> 195000.0, ``1.2M`` -> 1200000.0, ``195,000 dollars`` -> 195000.0; ``None`` if unparseable."""
    m = re.search(r"(\d[\d,]*(?:\.\d+)?)\s?(k|mm|m|bn|b|million|thousand|grand|billion)?\b", text, re.IGNORECASE)
    if not m:
        return None
    try:
        value = float(m.group(1).replace(",", ""))
    except ValueError:
        return None
    mult = (m.group(2) or "").lower()
    return value * _MULT.get(mult, 1.0)


def _fmt_num(value: float) -> str:
    return str(int(value)) if value == int(value) and abs(value) < 1e18 else repr(value)


# ------------------------------------------------------------------------------------------------------ rules
class _Ctx:
    def __init__(self, sentence: str, speaker: str | None, offset: int) -> None:
        self.sentence = sentence
        self.speaker = speaker
        self.offset = offset

    def fact(self, m: re.Match[str], subject: str | None, predicate: str, obj: str, otype: str, num: float | None = None) -> FactCandidate | None:
        if not subject or not obj:
            return None
        return FactCandidate(subject, predicate, obj, otype, num, self.sentence, self.offset + m.start(), self.offset + m.end())

    def subject(self, m: re.Match[str]) -> str | None:
        subj = m.groupdict().get("subj")
        if subj is None:
            return None
        if subj in ("I", "i"):
            return self.speaker
        name = _strip_poss(m["sname"] or "")
        return name or None

    def subject_extras(self, m: re.Match[str]) -> Iterator[FactCandidate | None]:
        srel = m.groupdict().get("srel")
        if srel and m["sname"]:
            rel = _REL_CANON.get(" ".join(srel.lower().split()))
            if rel:
                yield self.fact(m, self.speaker, rel, _strip_poss(m["sname"]), "entity")


Handler = Callable[[re.Match[str], _Ctx], Iterator["FactCandidate | None"]]
_RULES: list[tuple[re.Pattern[str], re.Pattern[str], Handler]] = []


def _rule(pattern: str, trigger: str) -> Callable[[Handler], Handler]:
    """Register a rule; ``trigger`` is a cheap regex a sentence must contain before ``pattern`` is tried."""

    def register(fn: Handler) -> Handler:
        _RULES.append((re.compile(trigger, re.IGNORECASE), re.compile(pattern), fn))
        return fn

    return register


@_rule(r"(?i:\bmy)\s+(?P<rel>(?i:" + _REL + r"))\s*,?\s+(?P<name>" + _NAME + r")", r"\bmy\s")
def _r_relation(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    rel = _REL_CANON.get(" ".join(m["rel"].lower().split()))
    if rel:
        yield c.fact(m, c.speaker, rel, _strip_poss(m["name"]), "entity")


@_rule(r"(?P<name>" + _NAME + r")\s+(?i:is|was|['’]s)\s+(?i:my)\s+(?P<rel>(?i:" + _REL + r"))\b", r"\bmy\s")
def _r_relation_rev(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    rel = _REL_CANON.get(" ".join(m["rel"].lower().split()))
    if rel:
        yield c.fact(m, c.speaker, rel, _strip_poss(m["name"]), "entity")


_WORK_NOW = (
    r"work|works|working|am\s+working|['’]m\s+working|is\s+working|have\s+been\s+working|['’]ve\s+been\s+working"
    r"|has\s+been\s+working|started\s+working|started\s+(?:a\s+)?(?:new\s+)?job|got\s+a\s+(?:new\s+)?job|landed\s+a\s+job"
    r"|took\s+a\s+job|accepted\s+a\s+job|am\s+employed|['’]m\s+employed|is\s+employed|intern|am\s+interning|['’]m\s+interning"
)
_WORK_PAST = r"worked|used\s+to\s+work|was\s+working"


@_rule(
    _SUBJ + _GAP + _ADV + r"(?P<vp>(?i:" + _WORK_NOW + "|" + _WORK_PAST + r"))"
    r"(?:\s+(?i:as)\s+(?i:an?)\s+(?P<role>[a-z][a-z\- ]{1,40}?))?"
    r"\s+(?i:at|for|with|by)\s+(?:(?i:the)\s+)?(?:(?P<obj>" + _NAME + r")|(?P<np>(?i:an?)\s+[^.!?;,]+))"
, r"work|job|employ|intern")
def _r_works(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    subj = c.subject(m)
    yield from c.subject_extras(m)
    past = re.match(r"(?i:" + _WORK_PAST + r")$", m["vp"]) is not None
    pred = "worked_at" if past else "works_at"
    if m["obj"]:
        yield c.fact(m, subj, pred, _strip_poss(m["obj"]), "entity")
    elif m["np"]:
        yield c.fact(m, subj, pred, _clean_np(m["np"], cut_preps=True), "text")
    if m["role"] and not past:
        yield c.fact(m, subj, "occupation", _clean_np(m["role"], cut_preps=True), "text")


@_rule(_SUBJ + r"\s+" + _ADV + r"(?i:joined)\s+(?P<obj>" + _NAME + r")", r"joined")
def _r_joined(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    obj = _strip_poss(m["obj"])
    if obj.split()[0].lower() not in FIRST_NAMES:
        yield from c.subject_extras(m)
        yield c.fact(m, c.subject(m), "works_at", obj, "entity")


@_rule(r"(?<![\w'’])[Ii]\s+" + _ADV + r"(?i:work|works|am\s+working|['’]m\s+working)\s+(?i:as)\s+(?P<role>[^.!?;,]+)", r"work")
def _r_work_as(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    yield c.fact(m, c.speaker, "occupation", _clean_np(m["role"], cut_preps=True), "text")


_LIVE_NOW = (
    r"live|lives|living|am\s+living|['’]m\s+living|is\s+living|moved|move|moving|am\s+moving|['’]m\s+moving"
    r"|['’]ve\s+moved|have\s+moved|has\s+moved|relocated|am\s+based|['’]m\s+based|is\s+based|reside|resides|settled"
)


@_rule(
    _SUBJ + _GAP + _ADV + r"(?P<vp>(?i:" + _LIVE_NOW + r"|lived|used\s+to\s+live))\s+(?i:(?:back\s+|over\s+|out\s+|here\s+)?"
    r"(?:to|in))\s+(?:(?i:the)\s+)?(?P<obj>" + _NAME + r")"
, r"liv|mov|relocat|based|resid|settled")
def _r_lives(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    yield from c.subject_extras(m)
    past = re.match(r"(?i:lived|used\s+to\s+live)$", m["vp"]) is not None
    yield c.fact(m, c.subject(m), "lived_in" if past else "lives_in", _strip_poss(m["obj"]), "entity")


@_rule(
    _SUBJ + _GAP + _ADV + r"(?P<vp>(?i:am\s+from|['’]m\s+from|is\s+from|come\s+from|comes\s+from|grew\s+up\s+in|was\s+born\s+in"
    r"|were\s+born\s+in|born\s+in))\s+(?:(?i:the)\s+)?(?P<obj>" + _NAME + r")"
, r"from|grew|born")
def _r_origin(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    vp = " ".join(m["vp"].lower().replace("’", "'").split())
    pred = "grew_up_in" if vp.startswith("grew") else "born_in" if "born" in vp else "from"
    yield from c.subject_extras(m)
    yield c.fact(m, c.subject(m), pred, _strip_poss(m["obj"]), "entity")


@_rule(r"(?P<obj>" + _NAME + r")\s+(?i:is\s+where)\s+(?:" + _I + r"(?:['’]m|\s+am)\s+from|" + _I + r"\s+grew\s+up)\b", r"where")
def _r_origin_rev(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    pred = "grew_up_in" if "grew" in m.group().lower() else "from"
    yield c.fact(m, c.speaker, pred, _strip_poss(m["obj"]), "entity")


@_rule(
    _SUBJ + _GAP + _ADV + r"(?i:visited|went\s+to|traveled\s+to|travelled\s+to|flew\s+to|drove\s+to|took\s+a\s+trip\s+to"
    r"|went\s+on\s+a\s+trip\s+to|have\s+been\s+to|['’]ve\s+been\s+to|has\s+been\s+to|was\s+in|spent\s+\w+\s+\w+\s+in"
    r"|am\s+visiting|['’]m\s+visiting)\s+(?:(?i:the)\s+)?(?P<obj>" + _NAME + r")"
, r"visit|went|travel|flew|drove|trip|been|was\s+in|spent")
def _r_visited(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    yield from c.subject_extras(m)
    yield c.fact(m, c.subject(m), "visited", _strip_poss(m["obj"]), "entity")


@_rule(
    _SUBJ + _GAP + _ADV + r"(?P<vp>(?i:study|studies|am\s+studying|['’]m\s+studying|attend|attends|am\s+a\s+student"
    r"|['’]m\s+a\s+student|go\s+to\s+school|graduated|graduated\s+from|studied))\s+(?:(?i:at|from|in)\s+)?(?:(?i:the)\s+)?"
    r"(?P<obj>" + _NAME + r")"
, r"stud|attend|school|graduat")
def _r_study(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    vp = m["vp"].lower()
    pred = "graduated_from" if vp.startswith("graduated") or vp == "studied" else "studies_at"
    yield from c.subject_extras(m)
    yield c.fact(m, c.subject(m), pred, _strip_poss(m["obj"]), "entity")


@_rule(r"(?i:\bmy\s+name\s+is|\bmy\s+name['’]s|\bcall\s+me|\bI\s+go\s+by|\bI['’]m\s+called)\s+(?P<obj>" + _NAME + r")", r"name|call|go\s+by")
def _r_name(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    yield c.fact(m, c.speaker, "name", _strip_poss(m["obj"]), "entity")


_NOT_ROLES = frozenset(
    "bit little lot while few couple kind sort part fan huge big total bad good great real fast slow quick long "
    "lucky happy proud new old".split()
)


@_rule(_ME + r"\s+(?P<adv>(?i:(?:also|now|still|actually|currently|just|really)\s+)*)(?i:an?)\s+(?P<np>[^.!?;,]+)", r"\b(?:am|was)\b|['’]m\b")
def _r_is_a(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    raw = m["np"]
    fan = re.match(r"(?i:(?:big|huge|massive|great)\s+)?fan\s+of\s+(.+)", raw)
    if fan:
        for part in _split_list(fan.group(1)):
            yield c.fact(m, c.speaker, "likes", _clean_np(part, cut_preps=False), "text")
        return
    age = re.match(r"(\d{1,3})[-\s]year[-\s]old\b", raw)
    if age:
        yield c.fact(m, c.speaker, "age", age.group(1), "number", float(age.group(1)))
        return
    np = _clean_np(raw, cut_preps=True)
    if np and np.split()[0].lower() not in _NOT_ROLES:
        yield c.fact(m, c.speaker, "is_a", np.lower(), "text")
        at = re.search(r"\s(?:at|for)\s+(?:the\s+)?(" + _NAME + r")", raw)
        if at:
            yield c.fact(m, c.speaker, "occupation", np.lower(), "text")
            yield c.fact(m, c.speaker, "works_at", _strip_poss(at.group(1)), "entity")


@_rule(
    _ME + r"\s+(?i:(?:now|currently|still|happily|recently|newly|finally)\s+)?(?P<st>(?i:single|married|divorced|engaged"
    r"|widowed|separated|in\s+a\s+relationship))\b(?:\s+(?i:to)\s+(?P<obj>" + _NAME + r"))?"
, r"single|married|divorced|engaged|widowed|separated|relationship")
def _r_status(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    status = " ".join(m["st"].lower().split())
    yield c.fact(m, c.speaker, "relationship_status", status, "text")
    if m["obj"]:
        pred = "fiance" if status == "engaged" else "spouse"
        yield c.fact(m, c.speaker, pred, _strip_poss(m["obj"]), "entity")


@_rule(_SUBJ + _GAP + r"(?i:(?:am|is|['’]m)\s+)?(?i:dating|seeing)\s+(?P<obj>" + _NAME + r")", r"dating|seeing")
def _r_dating(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    yield c.fact(m, c.subject(m), "partner", _strip_poss(m["obj"]), "entity")


@_rule(
    _SUBJ + r"\s+(?i:have|has|had|got|adopted|bought|rescued|['’]ve\s+got|have\s+got|just\s+got|just\s+adopted)\s+"
    r"(?:(?i:a|an|another|my|our|new|little|cute|sweet|old|young|adorable|rescue|\d+|two|three)\s+)*"
    r"(?:(?P<breed>[\w\-]+)\s+)?(?P<pet>(?i:" + _PETS + r"))\b"
    r"(?:\s*,?\s*(?i:named|called|whose\s+name\s+is)\s+(?P<name>" + _NAME + r"))?"
, r"dog|pupp|cat|kit|hamster|rabbit|bunn|parrot|bird|fish|turtle|tortoise|horse|guinea|snake|lizard|ferret|pet")
def _r_pet(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    yield from c.subject_extras(m)
    if m["name"]:
        yield c.fact(m, c.subject(m), "has_pet", _strip_poss(m["name"]), "entity")
    else:
        kind = " ".join(m["pet"].lower().split())
        kind = kind[:-3] + "y" if kind.endswith("ies") else kind[:-1] if kind.endswith("s") else kind
        yield c.fact(m, c.subject(m), "has_pet", kind if not m["breed"] else f"{m['breed'].lower()} {kind}", "text")


@_rule(
    r"(?i:\bmy)\s+(?:[\w\-]+\s+)?(?P<pet>(?i:" + _PETS + r"))(?:['’]s\s+name\s+is\s+|\s*,\s*|\s+)(?P<name>" + _NAME + r")"
, r"\bmy\s")
def _r_pet_named(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    yield c.fact(m, c.speaker, "has_pet", _strip_poss(m["name"]), "entity")


def _favorite_predicate(category: str) -> str:
    words = [w for w in re.findall(r"[a-z0-9]+", category.lower()) if w not in _DETERMINERS]
    if not words:
        return ""
    last = words[-1]
    irregular = {"movies": "movie", "series": "series", "cookies": "cookie", "species": "species", "clothes": "clothes"}
    if last in irregular:
        last = irregular[last]
    elif last.endswith("ies") and len(last) > 4:
        last = last[:-3] + "y"
    elif last.endswith("s") and not last.endswith("ss") and len(last) > 3:
        last = last[:-1]
    return "favorite_" + "_".join(words[:-1] + [last])


def _typed(obj: str) -> tuple[str, str]:
    """``(object, object_type)``: a capitalised multi-letter phrase is an entity, anything else text."""
    first = obj.split()[0] if obj.split() else ""
    if first[:1].isupper() and first not in STOP_CAPITALS:
        return _strip_poss(obj), "entity"
    return obj.lower(), "text"


@_rule(
    r"(?i:\bmy\s+(?:(?:all[-\s]time|absolute|new)\s+)?favou?rite)\s+(?P<cat>[A-Za-z][\w\- ]{0,30}?)\s+"
    r"(?i:is|are|was|were|has\s+to\s+be|would\s+be|['’]s)\s+(?P<obj>[^.!?;]+)"
, r"favou?rite")
def _r_favorite(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    pred = _favorite_predicate(m["cat"])
    if not pred:
        return
    for part in _split_list(m["obj"]):
        obj = _clean_np(part, cut_preps=False)
        if obj:
            yield c.fact(m, c.speaker, pred, *_typed(obj))


@_rule(
    r"^(?:(?i:the)\s+)?(?P<obj>[\w'’\- ]{1,40}?)\s+(?i:is|are)\s+(?i:my\s+(?:(?:all[-\s]time|absolute)\s+)?favou?rite)\s+"
    r"(?P<cat>[A-Za-z][\w\-]*(?:\s+[a-z]+)?)"
, r"favou?rite")
def _r_favorite_rev(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    pred = _favorite_predicate(_clean_np(m["cat"], cut_preps=True) or m["cat"])
    obj = _clean_np(m["obj"], cut_preps=False)
    if pred and obj:
        # the object opens the sentence: its capital proves nothing unless it is a known name
        head = obj.split()[0].lower()
        if head in FIRST_NAMES or head in PLACES or head in ORGS or (len(obj.split()) > 1 and obj.istitle()):
            yield c.fact(m, c.speaker, pred, *_typed(obj))
        else:
            yield c.fact(m, c.speaker, pred, obj.lower(), "text")


_LIKE = (
    r"like|likes|liked|love|loves|loved|enjoy|enjoys|enjoyed|adore|adores|am\s+into|['’]m\s+into|is\s+into"
    r"|am\s+passionate\s+about|['’]m\s+passionate\s+about|am\s+obsessed\s+with|['’]m\s+obsessed\s+with"
    r"|am\s+keen\s+on|['’]m\s+keen\s+on|am\s+interested\s+in|['’]m\s+interested\s+in"
)
_DISLIKE = (
    r"hate|hates|hated|dislike|dislikes|can['’]t\s+stand|cannot\s+stand|don['’]t\s+like|do\s+not\s+like"
    r"|doesn['’]t\s+like|didn['’]t\s+like|don['’]t\s+enjoy|detest|detests"
)


@_rule(_SUBJ + _GAP + _ADV + r"(?P<verb>(?i:" + _DISLIKE + "|" + _LIKE + r"))\s+(?P<obj>[^.!?;]+)", r"lik|lov|enjoy|ador|into|passionate|obsessed|hat|stand|detest|keen|interested")
def _r_likes(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    verb = m["verb"].lower()
    pred = "dislikes" if re.match(r"(?i:" + _DISLIKE + r")$", verb) else "likes"
    if pred == "likes" and _NEGATION.search(verb):
        return
    subj = c.subject(m)
    yield from c.subject_extras(m)
    for part in _split_list(m["obj"]):
        obj = _clean_np(part, cut_preps=False)
        if obj:
            yield c.fact(m, subj, pred, *_typed(obj))


@_rule(
    r"(?P<who>" + _SUBJ + r"|(?i:they|he|she|we|the\s+company|the\s+firm|the\s+team))" + _GAP
    + r"(?P<verb>(?i:offered|offer|offers|are\s+offering|is\s+offering|['’]re\s+offering|make|makes|made|earn|earns|earned"
    r"|am\s+making|['’]m\s+making|am\s+earning|['’]m\s+earning|spent|spend|paid|pay|pays))\s+"
    r"(?:(?i:me|us|him|her|them)\s+)?(?:(?i:an?|the|about|around|almost|over|nearly)\s+)*"
    r"(?:(?i:base\s+salary|salary|base|raise|bonus|offer|package|signing\s+bonus|total)\s+(?i:of)\s+)?" + _MONEY
, r"[$€£]|dollar|buck|usd|euro|eur|pound|gbp")
def _r_money(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    value = parse_money(m["money"])
    if value is None:
        return
    verb = " ".join(m["verb"].lower().replace("’", "'").split())
    first_person = m.groupdict().get("subj") in ("I", "i")
    if "offer" in verb:
        if first_person:
            return
        pred, subj = "offered", c.speaker
    elif verb in ("spent", "spend"):
        pred, subj = "spent", c.subject(m) if m["subj"] else None
    elif verb in ("paid", "pay", "pays"):
        pred, subj = ("paid", c.subject(m)) if first_person or m["sname"] else ("offered", c.speaker)
    else:
        if not (first_person or m["sname"]):
            return
        pred, subj = "salary", c.subject(m)
    yield c.fact(m, subj, pred, _fmt_num(value), "money", value)


@_rule(
    r"(?i:\bmy\s+(?:annual\s+|base\s+|new\s+)?(?:salary|pay|income|compensation)\s+(?:is|was|will\s+be)|\b(?:an?\s+)?offer\s+"
    r"(?:of|for))\s+(?:(?i:about|around|almost|nearly)\s+)?" + _MONEY
, r"[$€£]|dollar|buck|usd|euro|eur|pound|gbp")
def _r_money_noun(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    value = parse_money(m["money"])
    if value is not None:
        pred = "offered" if "offer" in m.group().lower() else "salary"
        yield c.fact(m, c.speaker, pred, _fmt_num(value), "money", value)


@_rule(
    _SUBJ + r"\s+(?i:have|has|['’]ve\s+got|have\s+got|got)\s+(?P<n>(?i:" + _NUMW + r"))\s+(?P<noun>(?i:" + _COUNT + r"))\b"
, r"ha(?:ve|s)|got")
def _r_count(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    n = _num(m["n"])
    noun = _COUNT_NOUNS[m["noun"].lower()]
    if n is not None:
        yield from c.subject_extras(m)
        yield c.fact(m, c.subject(m), f"has_{noun}", str(n), "number", float(n))


@_rule(r"(?i:\b(?:mother|father|mom|mum|dad|parent)\s+of)\s+(?P<n>(?i:" + _NUMW + r"))\b", r"\bof\b")
def _r_parent_of(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    if re.search(r"(?<![\w'’])I(?:['’]m|\s+am)\s+(?:a\s+)?(?:proud\s+)?$", c.sentence[: m.start()]):
        n = _num(m["n"])
        if n is not None:
            yield c.fact(m, c.speaker, "has_kids", str(n), "number", float(n))


@_rule(
    r"(?:" + _SUBJ + r"(?:['’]s|['’]m|\s+am|\s+is|\s+was)\s+(?P<n>\d{1,3})\s*(?i:years?[\s-]old|yrs?\s+old|y/?o)\b"
    r"|" + r"(?P<subj2>" + _I + r"|" + _NAME + r")\s+(?i:just\s+)?(?i:turned|turns|will\s+turn|am\s+turning|['’]m\s+turning)"
    r"\s+(?P<n2>\d{1,3})\b(?!\s*(?:%|percent|minutes|hours|degrees|dollars))" + r")"
, r"old|\by/?o\b|yrs|turn")
def _r_age(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    if m["n"]:
        subj, n = c.subject(m), m["n"]
    else:
        raw = m["subj2"]
        subj, n = (c.speaker if raw in ("I", "i") else _strip_poss(raw)), m["n2"]
    if 0 < int(n) < 130:
        yield c.fact(m, subj, "age", str(int(n)), "number", float(int(n)))


@_rule(_SUBJ + r"\s+(?i:speak|speaks|am\s+fluent\s+in|['’]m\s+fluent\s+in)\s+(?P<obj>" + _NAME + r"(?:\s*(?:,|and|&)\s*" + _NAME + r")*)", r"speak|fluent")
def _r_speaks(m: re.Match[str], c: _Ctx) -> Iterator[FactCandidate | None]:
    for part in _split_list(m["obj"]):
        yield c.fact(m, c.subject(m), "speaks", _strip_poss(part), "entity")


# ---------------------------------------------------------------------------------------------------- public
def extract_facts(text: str, speaker: str | None) -> list[FactCandidate]:
    """Fact candidates of every sentence of ``text``, in text order, deduplicated per sentence.

    First-person facts need ``speaker``; without one they are skipped. Never raises on odd input.
    """
    out: list[FactCandidate] = []
    if not text:
        return out
    for s, e in sentence_spans(text):
        sentence = text[s:e]
        ctx = _Ctx(sentence, speaker, s)
        seen: set[tuple[str, str, str]] = set()
        found: list[FactCandidate] = []
        for trigger, pattern, handler in _RULES:
            if trigger.search(sentence) is None:
                continue
            for m in pattern.finditer(sentence):
                for fact in handler(m, ctx):
                    if fact is None or not fact.subject.strip() or not fact.object.strip():
                        continue
                    key = (fact.subject.casefold(), fact.predicate, fact.object.casefold())
                    if key in seen:
                        continue
                    seen.add(key)
                    found.append(fact)
        found.sort(key=lambda f: (f.start, f.end, f.predicate, f.object))
        out.extend(found)
    return out
