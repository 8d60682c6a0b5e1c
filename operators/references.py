"""Reference resolution inside one stream: who "she", "they", "my manager" and "there" point to.

Contract of :class:`StreamMemory` (one per ``(tenant, stream)``, fed in event-time order):

- ``I / me / my / myself / we / us / our`` are the speaker (the event's actor).
- ``he / him / his`` and ``she / her / hers`` are the most recent *compatible* person of the stream: a person
  other than the current speaker whose gender is unknown or matches. A person's gender is known from a gendered
  relation noun that named them ("my sister Ines", "Ruth's husband Karl"), a title (Mr, Mrs, Ms), or an earlier
  unambiguous pronoun resolved to them. Organisations and places are never people.
- ``he`` / ``she`` only reach persons mentioned in the last :data:`RECENT_EVENTS` events. With no such person, a
  one-word name of this event or the one before that only the tagger's type made an org or place (no frame,
  suffix or locative slot: "told you about Odessa. she's a vet nurse") is the person, from then on.
- ``they / them / their``: the most recent organisation or person of unknown gender named in this event or
  the one before; a person only when no plural common noun was mentioned after them ("she gave me drops. they
  smell ..." is not about her); else nothing.
- ``you / your``: the latest *other* speaker of the stream (in a dialogue); nobody when the stream has one
  speaker (a person talking to an assistant).
- ``there`` / ``that place``: the most recent place, else the most recent organisation.
- "my manager", "Ruth's husband": the name that relation was last given ("my manager is Priya Raman"), else
  the phrase itself ("Maya's manager").
- ``it / this / that``: the latest non-person noun phrase of the same event ("the flat on Quillon Street ...
  it's 1,340"), else nothing (the fact is dropped: across turns "it" is too often something else). In a
  correction ("no wait, it was 1,200") the caller binds them to the latest fact of the same object type instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tracelake.operators.entities import normalize_name

__all__ = ["StreamMemory", "SPEAKER_WORDS", "gender_of_relation", "split_relation", "RECENT_EVENTS"]

SPEAKER_WORDS = frozenset("i me my mine myself we us our ours ourselves".split())
_HE = frozenset("he him his himself".split())
_SHE = frozenset("she her hers herself".split())
_YOU = frozenset("you your yours yourself".split())
_THEY = frozenset("they them their theirs themselves".split())
_MALE = frozenset("husband brother father dad son uncle nephew boyfriend grandpa grandfather stepdad stepfather "
                  "fiance guy man boy mr sir".split())
_FEMALE = frozenset("wife sister mother mom mum mam daughter aunt niece girlfriend grandma grandmother stepmom "
                    "stepmother fiancee lady woman girl mrs ms miss".split())
#: How many events back "he" / "she" look for a person.
RECENT_EVENTS = 4


def gender_of_relation(word: str) -> str | None:
    """``"m"`` / ``"f"`` for a gendered relation noun or title, else ``None``."""
    w = word.lower().strip(".")
    return "m" if w in _MALE else "f" if w in _FEMALE else None


def split_relation(name: str) -> tuple[str, str | None]:
    """A name phrase that opens with a gendered relation noun, split: ``"my brother declan"`` -> ``("declan", "m")``;
    any other name is returned whole with ``None``."""
    words = name.split()
    k = next((i for i, w in enumerate(words[:-1]) if gender_of_relation(w)), None)
    return (name, None) if k is None else (" ".join(words[k + 1:]), gender_of_relation(words[k]))


@dataclass
class _Referent:
    name: str
    kind: str  # person | org | place | plural (a plural common noun, nameless: it only bars "they")
    gender: str | None = None
    last_event: int = 0
    single: bool = False  # a name the tagger typed a person and nothing marks plural: never "they"
    guessed: bool = False  # an org or place by the tagger's type alone: a person still, when nobody else is


@dataclass
class StreamMemory:
    """What one stream has mentioned so far, most recent last."""

    referents: list[_Referent] = field(default_factory=list)
    relations: dict[tuple[str, str], str] = field(default_factory=dict)
    stand_ins: dict[str, str] = field(default_factory=dict)  # a relation phrase -> the name it was given
    facts: list[tuple[str, str, str]] = field(default_factory=list)  # (subject, predicate, object_type), recent last
    last_thing: str | None = None
    thing_plural: bool = False
    actors: list[str] = field(default_factory=list)
    event_no: int = 0

    def next_event(self) -> None:
        """Mark the start of the stream's next event: "it" never reaches back past it."""
        self.event_no += 1
        self.last_thing, self.thing_plural = None, False

    def spoke(self, actor: str | None) -> None:
        """Record who produced the current event (the next speaker's "you")."""
        if actor and (not self.actors or self.actors[-1] != actor):
            self.actors.append(actor)
            del self.actors[:-8]

    def addressee(self, speaker: str | None) -> str | None:
        """Who "you" is: the latest other speaker of the stream (in a dialogue), else nobody."""
        for a in reversed(self.actors):
            if a != speaker:
                return a
        return None

    def note(self, name: str, kind: str, gender: str | None = None, single: bool = False,
             guessed: bool = False) -> None:
        """Record a mention of ``name`` (``kind`` person | org | place), moving it to the most recent place;
        ``single``: one person by the tagger's own type ("Tobias Reyes-Ward"), no antecedent of "they";
        ``guessed``: a one-word org or place by the tagger's type alone, nothing in the text says so."""
        key = normalize_name(name)
        if kind == "person" and key in self.stand_ins:  # "the teacher is Matthijs": the teacher is he
            name = self.stand_ins[key]
            key = normalize_name(name)
        if not key:
            return
        for i, r in enumerate(self.referents):
            if normalize_name(r.name) == key or (kind == "person" and r.kind == "person" and _alias(r.name, name)):
                if kind != r.kind:
                    r.kind = kind  # a later reading wins ("joined Acme Robotics": an org; "called tamsin": a person)
                    r.guessed = guessed
                else:
                    r.guessed = r.guessed and guessed
                r.gender = r.gender or gender
                r.single = r.single or single
                if len(name) > len(r.name):
                    r.name = name
                r.last_event = self.event_no
                self.referents.append(self.referents.pop(i))
                return
        self.referents.append(_Referent(name, kind, gender, self.event_no, single, guessed))
        del self.referents[:-64]

    def note_plural(self, phrase: str = "") -> None:
        """Record a mention of a plural common noun ("drops", "my parents"): a later "they" is no person before it;
        ``phrase``: the noun phrase of a definite plural ("the drops", "my parents"), what "they" then stands for."""
        last = self.referents[-1] if self.referents else None
        if last is not None and last.kind == "plural" and not phrase and not last.name:
            last.last_event = self.event_no
        else:
            self.referents.append(_Referent(phrase, "plural", None, self.event_no))
            del self.referents[:-64]

    def kind_of(self, name: str) -> str | None:
        """The kind a name was last recorded with, if the stream has seen it; else ``"person"`` when it is an
        alias of a known person ("declan" then "Declan Mulvey", whatever the tagger calls the full name)."""
        key = normalize_name(name)
        for r in reversed(self.referents):
            if normalize_name(r.name) == key:
                return r.kind
        return "person" if any(r.kind == "person" and _alias(r.name, name) for r in self.referents) else None

    def guessed_only(self, name: str) -> bool:
        """No reading of ``name`` so far but the tagger's type made it an org or place (true for a new name)."""
        key = normalize_name(name)
        return all(r.guessed for r in self.referents if normalize_name(r.name) == key)

    def note_thing(self, phrase: str, plural: bool = False) -> None:
        """Record the latest non-person noun phrase ("it" / "this" / "that" point to it; "it" not to a plural one)."""
        self.last_thing, self.thing_plural = phrase, plural

    def thing(self, word: str = "that") -> str | None:
        """What ``word`` ("it", "this", "that") points to: the latest non-person noun phrase of this event, if any;
        "it" is none after a plural one ("for the new hires. it's 2,000 more": not the hires, nor a thing before)."""
        return None if word == "it" and self.thing_plural else self.last_thing

    def relate(self, owner: str, relation: str, name: str) -> None:
        """Remember that ``owner``'s ``relation`` is ``name`` ("my manager is Priya"); the relation noun noted as a
        person of its own ("the teacher is ... Matthijs") is that name from now on, no second antecedent."""
        self.relations[(normalize_name(owner), relation)] = name
        for phrase in (relation.replace("_", " "), f"{owner}'s {relation.replace('_', ' ')}"):
            self.stand_ins[normalize_name(phrase)] = name
        self.referents = [r for r in self.referents if not (r.kind == "person" and
                                                            normalize_name(r.name) in self.stand_ins)]

    def relation(self, owner: str, relation: str) -> str | None:
        """The name last given to ``owner``'s ``relation``, if any."""
        return self.relations.get((normalize_name(owner), relation))

    def pronoun(self, word: str, speaker: str | None) -> str | None:
        """The referent of a third-person pronoun, or ``None``."""
        w = word.lower()
        if w in _YOU:
            return self.addressee(speaker)
        me = normalize_name(speaker) if speaker else None
        if w in _HE or w in _SHE:
            want = "m" if w in _HE else "f"
            for r in reversed(self.referents):
                if self.event_no - r.last_event > RECENT_EVENTS:
                    break  # a person not mentioned for a while is no antecedent
                if r.kind == "person" and normalize_name(r.name) != me and r.gender in (None, want):
                    others = [o for o in self.referents if o.kind == "person" and o is not r and o.gender in (None, want)
                              and normalize_name(o.name) != me and o.last_event == r.last_event]
                    if not others:
                        r.gender = want  # unambiguous: learn the gender
                    return r.name
            for r in reversed(self.referents):  # nobody: a name the tagger took for a place or firm on its own
                if self.event_no - r.last_event > 1:
                    break
                if r.guessed and r.kind in ("org", "place") and normalize_name(r.name) != me:
                    r.kind, r.gender, r.guessed = "person", want, False  # "told you about Odessa. she's a vet nurse"
                    return r.name
            return None
        if w in _THEY:
            plural = False
            for r in reversed(self.referents):
                if self.event_no - r.last_event > 1:
                    break  # "they" reaches back one event at most
                if r.kind == "plural":
                    if r.name and not plural and r.last_event == self.event_no and w == "they":
                        return r.name  # "my parents came over, they ...": the definite plural just named
                    plural = True  # "she gave me drops. they smell ...": the drops, no person before them
                if r.kind == "org" or (r.kind == "person" and not plural and r.gender is None and not r.single and
                                       normalize_name(r.name) != me):
                    return r.name
        return None

    def place(self) -> str | None:
        """The most recent place, else organisation ("there")."""
        for kinds in (("place",), ("org",)):
            for r in reversed(self.referents):
                if r.kind in kinds:
                    return r.name
        return None

    def remember_fact(self, subject: str, predicate: str, object_type: str) -> None:
        """Record a fact's frame so a later correction ("no wait, it was 1,200") can bind to it."""
        self.facts.append((subject, predicate, object_type))
        del self.facts[:-32]

    def last_fact(self, object_type: str) -> tuple[str, str] | None:
        """``(subject, predicate)`` of the most recent fact whose object has ``object_type``."""
        for subject, predicate, otype in reversed(self.facts):
            if otype == object_type:
                return subject, predicate
        return None


def _alias(a: str, b: str) -> bool:
    """"Tomas" and "Tomas Weber": one is the first or last word of the other (a relation phrase, "Helen's
    husband", is nobody's alias)."""
    wa, wb = normalize_name(a).split(), normalize_name(b).split()
    if len(wa) == len(wb) or any(p in x for x in (a, b) for p in ("'s ", "’s ")):  # "Helen's husband" is not Helen
        return False
    short, long_ = (wa, wb) if len(wa) < len(wb) else (wb, wa)
    return len(short) == 1 and short[0] in (long_[0], long_[-1])
