"""The continuity story corpus: loading and validation (format: ``benchmarks/continuity/README.md``).

:func:`validate` checks files and returns every problem as one line naming the file, the turn or question and
the field; :func:`load_corpus` returns typed :class:`Story` objects and raises
:class:`tracelake.errors.ValidationError` (listing the problems) when any file is invalid. Cross-file rules
(ascending times across a person's stories, evidence references, keywords stated in earlier stories, six
distinct areas) are checked over the files given together.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from tracelake.errors import TracelakeError, ValidationError
from tracelake.timeutil import parse_time

__all__ = ["STORIES", "Gold", "Turn", "Question", "Story", "validate", "load_corpus", "story_files",
           "person_text_until", "to_events", "words", "content_words", "provenance"]

STORIES = Path(__file__).resolve().parent / "continuity" / "stories"
AREAS = ("work", "home", "relationships", "health", "learning", "daily")
KINDS = ("current", "past", "change", "when", "who", "quantity", "feeling", "detail", "disambiguation")
ID_RE = re.compile(r"^[a-z](\d{2})-s(\d{2})$")  # pNN: the tuning corpus; hNN: the held-out set
PREDICATE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
TURNS, QUESTIONS, GOLD_MAX, KEYWORDS_MAX, OBJECT_MAX_WORDS = (8, 12), (6, 10), 6, 3, 12
STORY_KEYS = {"id", "person", "tenant", "area", "turns", "questions"}
TURN_KEYS = {"at", "text", "gold"}
GOLD_KEYS, GOLD_OPTIONAL = {"s", "p", "o"}, {"neg", "modality"}
QUESTION_KEYS, QUESTION_OPTIONAL = {"q", "keywords", "kind"}, {"evidence", "evidence_ref"}
MODALITIES = ("plan",)


@dataclass(frozen=True)
class Gold:
    """One gold fact of a turn; ``o`` is a phrase of the turn text."""

    s: str
    p: str
    o: str
    neg: bool = False
    modality: str | None = None


@dataclass(frozen=True)
class Turn:
    at: datetime
    text: str
    gold: tuple[Gold, ...]


@dataclass(frozen=True)
class Question:
    q: str
    keywords: tuple[str, ...]
    kind: str
    #: Turn indices of this story.
    evidence: tuple[int, ...]
    #: ``(story id, turn index)`` pairs of earlier stories of the same person.
    evidence_ref: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Story:
    id: str
    person: str
    tenant: str
    area: str
    turns: tuple[Turn, ...]
    questions: tuple[Question, ...] = field(default=())

    @property
    def end(self) -> datetime:
        """The time of the last turn: every question is asked as of this moment."""
        return self.turns[-1].at

    def event_id(self, i: int) -> str:
        """The event id of turn ``i`` (``<story>-t<i>``)."""
        return f"{self.id}-t{i}"


def story_files(paths: list[Path] | None = None) -> list[Path]:
    """The story files under ``paths`` (files or folders; default: the corpus folder), sorted by name."""
    out: list[Path] = []
    for p in paths or [STORIES]:
        out.extend(sorted(p.glob("*.json")) if p.is_dir() else [p])
    return sorted(set(out), key=lambda p: p.name)


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _keys(where: str, obj: Any, required: set[str], optional: set[str], errors: list[str]) -> bool:
    if not isinstance(obj, dict):
        errors.append(f"{where}: expected a JSON object, got {type(obj).__name__}")
        return False
    for k in sorted(required - obj.keys()):
        errors.append(f"{where}.{k}: missing")
    for k in sorted(obj.keys() - required - optional):
        errors.append(f"{where}.{k}: unknown field")
    return required <= obj.keys()


def _text(where: str, value: Any, errors: list[str]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        errors.append(f"{where}: expected a non-empty string, got {value!r}")
        return None
    return value


def _count(where: str, value: Any, bounds: tuple[int, int], errors: list[str]) -> list[Any]:
    if not isinstance(value, list):
        errors.append(f"{where}: expected a list, got {type(value).__name__}")
        return []
    if not bounds[0] <= len(value) <= bounds[1]:
        errors.append(f"{where}: {len(value)} items, expected {bounds[0]}-{bounds[1]}")
    return value


def _gold(where: str, g: Any, text: str, errors: list[str]) -> Gold | None:
    if not _keys(where, g, GOLD_KEYS, GOLD_OPTIONAL, errors):
        return None
    s, p, o = (_text(f"{where}.{k}", g[k], errors) for k in ("s", "p", "o"))
    if p is not None and not PREDICATE_RE.match(p):
        errors.append(f"{where}.p: {p!r} is not a lower snake case predicate")
    if o is not None:
        if _norm(o) not in _norm(text):
            errors.append(f"{where}.o: {o!r} does not occur in the turn text")
        if len(o.split()) > OBJECT_MAX_WORDS:
            errors.append(f"{where}.o: {len(o.split())} words, at most {OBJECT_MAX_WORDS} (a phrase, not a clause)")
    neg = g.get("neg", False)
    if not isinstance(neg, bool):
        errors.append(f"{where}.neg: expected true or false, got {neg!r}")
    modality = g.get("modality")
    if modality is not None and modality not in MODALITIES:
        errors.append(f"{where}.modality: {modality!r} is not one of {MODALITIES}")
    if s is None or p is None or o is None or not isinstance(neg, bool):
        return None
    return Gold(s, p, o, neg, modality)


def _turn(where: str, t: Any, previous: datetime | None, errors: list[str]) -> Turn | None:
    if not _keys(where, t, TURN_KEYS, set(), errors):
        return None
    at = None
    try:
        at = parse_time(t["at"], name=f"{where}.at") if isinstance(t["at"], str) else None
        if at is None:
            errors.append(f"{where}.at: expected an ISO-8601 string with offset, got {t['at']!r}")
    except TracelakeError as exc:
        errors.append(f"{exc.message} ({t['at']!r})")
    if at is not None and previous is not None and at <= previous:
        errors.append(f"{where}.at: {t['at']} is not after the previous turn ({previous.isoformat()})")
    text = _text(f"{where}.text", t["text"], errors)
    if not isinstance(t["gold"], list) or len(t["gold"]) > GOLD_MAX:
        errors.append(f"{where}.gold: expected a list of 0-{GOLD_MAX} facts")
        return None
    gold = [_gold(f"{where}.gold[{j}]", g, text or "", errors) for j, g in enumerate(t["gold"])]
    if at is None or text is None:
        return None
    return Turn(at, text, tuple(g for g in gold if g is not None))


def _refs(where: str, value: Any, errors: list[str]) -> tuple[tuple[str, int], ...]:
    pairs = [value] if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) else value
    ok = isinstance(pairs, list) and all(
        isinstance(r, list) and len(r) == 2 and isinstance(r[0], str) and type(r[1]) is int for r in pairs)
    if not ok:
        errors.append(f"{where}: expected [[story id, turn index], ...], got {value!r}")
        return ()
    return tuple((r[0], r[1]) for r in pairs)


def _question(where: str, q: Any, story: dict[str, Any], n_turns: int, errors: list[str]) -> Question | None:
    if not _keys(where, q, QUESTION_KEYS, QUESTION_OPTIONAL, errors):
        return None
    text = _text(f"{where}.q", q["q"], errors)
    person = story.get("person")
    if text and isinstance(person, str) and person.lower() not in text.lower():
        errors.append(f"{where}.q: does not name the teller {person!r}")
    kws = _count(f"{where}.keywords", q["keywords"], (1, KEYWORDS_MAX), errors)
    kws = [k for i, k in enumerate(kws) if _text(f"{where}.keywords[{i}]", k, errors)]
    if q["kind"] not in KINDS:
        errors.append(f"{where}.kind: {q['kind']!r} is not one of {', '.join(KINDS)}")
    evidence = q.get("evidence", [])
    if not isinstance(evidence, list) or not all(type(i) is int for i in evidence):
        errors.append(f"{where}.evidence: expected a list of turn indices, got {evidence!r}")
        evidence = []
    for i in evidence:
        if not 0 <= i < n_turns:
            errors.append(f"{where}.evidence: turn {i} does not exist (the story has {n_turns} turns)")
    refs = _refs(f"{where}.evidence_ref", q["evidence_ref"], errors) if "evidence_ref" in q else ()
    if not evidence and not refs:
        errors.append(f"{where}: needs evidence (turn indices) or evidence_ref")
    if text is None:
        return None
    return Question(text, tuple(kws), str(q["kind"]), tuple(evidence), refs)


def _story(path: Path, errors: list[str]) -> Story | None:
    where = path.name
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(f"{where}: unreadable: {exc}")
        return None
    except json.JSONDecodeError as exc:
        errors.append(f"{where}: line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}")
        return None
    if not _keys(where, raw, STORY_KEYS, set(), errors):
        return None
    sid = raw["id"]
    if not isinstance(sid, str) or not ID_RE.match(sid) or sid != path.stem:
        errors.append(f"{where}.id: {sid!r} must be pNN-sMM and equal the file name {path.stem!r}")
    elif raw["tenant"] != sid[:3]:
        errors.append(f"{where}.tenant: {raw['tenant']!r}, expected {sid[:3]!r}")
    person = _text(f"{where}.person", raw["person"], errors)
    if raw["area"] not in AREAS:
        errors.append(f"{where}.area: {raw['area']!r} is not one of {', '.join(AREAS)}")
    turns: list[Turn | None] = []
    previous = None
    for i, t in enumerate(_count(f"{where}.turns", raw["turns"], TURNS, errors)):
        turns.append(_turn(f"{where}.turns[{i}]", t, previous, errors))
        previous = turns[-1].at if turns[-1] else previous
    questions = [_question(f"{where}.questions[{k}]", q, raw, len(turns), errors)
                 for k, q in enumerate(_count(f"{where}.questions", raw["questions"], QUESTIONS, errors))]
    if not turns or None in turns or person is None or not isinstance(sid, str):
        errors.append(f"{where}: keyword, evidence_ref and timeline checks skipped until the problems above are fixed")
        return None
    return Story(sid, person, str(raw["tenant"]), str(raw["area"]), tuple(t for t in turns if t),
                 tuple(q for q in questions if q))


def grouped_turns(stories: list[Story], n: int) -> list[Story]:
    """The stories told with every ``n`` consecutive turns as one turn (their texts joined by a space, at the time
    of the last; the gold facts of the group): a stress test of clause and fact selection in long turns. Question
    evidence indices follow (turn ``i`` is in turn ``i // n``); ``n == 1`` returns the stories unchanged."""
    if n < 1:
        raise ValueError(f"turns per event must be >= 1, got {n}")
    if n == 1:
        return stories
    out = []
    for s in stories:
        groups = [s.turns[i:i + n] for i in range(0, len(s.turns), n)]
        turns = tuple(Turn(g[-1].at, " ".join(t.text for t in g), tuple(x for t in g for x in t.gold)) for g in groups)
        questions = tuple(replace(q, evidence=tuple(sorted({i // n for i in q.evidence})),
                                  evidence_ref=tuple(sorted({(ref, i // n) for ref, i in q.evidence_ref})))
                          for q in s.questions)
        out.append(replace(s, turns=turns, questions=questions))
    return out


def person_text_until(stories: list[Story], story: Story) -> str:
    """Lower-cased text of every turn of ``story``'s person up to ``story``'s end (the cumulative timeline)."""
    return "\n".join(t.text.lower() for s in stories if s.tenant == story.tenant and s.id <= story.id
                     for t in s.turns)


def provenance() -> dict[str, Any]:
    """The commit the run measured and whether the working tree differed from it."""
    import subprocess

    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=STORIES, capture_output=True, text=True).stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--", "../../..")),
            "at": datetime.now().astimezone().isoformat(timespec="seconds")}


#: The one tenant of the context benchmark's ``shared`` mode: every person's stories on one timeline.
SHARED_TENANT = "shared"


def to_events(stories: list[Story], *, cumulative: bool, tenant: str | None = None) -> list[dict[str, Any]]:
    """One event per turn: tenant = the story id (isolated), the person's tenant (``cumulative``) or ``tenant``
    for all; stream = story id, actor = the teller, ``occurred_at`` = the turn time, ``event_id`` =
    ``<story>-t<i>``."""
    return [{"tenant": tenant or (s.tenant if cumulative else s.id), "stream": s.id, "actor": s.person, "kind": "message",
             "occurred_at": t.at.isoformat().replace("+00:00", "Z"), "event_id": s.event_id(i), "text": t.text}
            for s in stories for i, t in enumerate(s.turns)]


_WORD = re.compile(r"\d+(?:[.,:]\d+)*[^\W_]*|[^\W\d_]+")  # "1,450", "88k", "5:40" stay one word


def words(text: str) -> set[str]:
    """Every lower-cased word of ``text``."""
    return {w.lower() for w in _WORD.findall(text or "")}


def content_words(text: str, drop: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """:func:`words` minus tracelake's English stopwords, one-letter words and ``drop``; a text made only of
    those keeps all its words but ``drop`` (so "not sure about her yet" or "R" still has something to find)."""
    from tracelake.operators.lexicon import STOPWORDS

    words_ = words(text)
    kept = {w for w in words_ if len(w) > 1 or w.isdigit()} - STOPWORDS - drop
    return kept or (words_ - drop)


def _cross(stories: list[Story], errors: list[str]) -> None:
    by_id = {s.id: s for s in stories}
    by_person: dict[str, list[Story]] = defaultdict(list)
    for s in stories:
        by_person[s.tenant].append(s)
    for tenant, group in by_person.items():
        group.sort(key=lambda s: s.id)
        for a, b in zip(group, group[1:]):
            if b.turns[0].at <= a.end:
                errors.append(f"{b.id}.json.turns[0].at: starts before {a.id} ends ({a.end.isoformat()})")
        if len(group) == 6:
            if len({s.area for s in group}) != 6:
                errors.append(f"{tenant}: areas {[s.area for s in group]} are not six different ones")
            if len({s.person for s in group}) != 1:
                errors.append(f"{tenant}: person names differ across stories: {sorted({s.person for s in group})}")
    for s in stories:
        text = person_text_until(stories, s)
        for k, q in enumerate(s.questions):
            where = f"{s.id}.json.questions[{k}]"
            evidence = [s.turns[i].text.lower() for i in q.evidence if 0 <= i < len(s.turns)] + [
                by_id[r].turns[i].text.lower() for r, i in q.evidence_ref
                if r in by_id and 0 <= i < len(by_id[r].turns)]
            for kw in q.keywords:
                if kw.lower() not in text:
                    errors.append(f"{where}.keywords: {kw!r} occurs in no turn of {s.tenant} up to {s.id}'s end")
                elif not any(kw.lower() in e for e in evidence):
                    errors.append(f"{where}.keywords: {kw!r} occurs in none of the question's evidence turns")
            for ref, i in q.evidence_ref:
                target = by_id.get(ref)
                if target is None or target.tenant != s.tenant or ref >= s.id:
                    errors.append(f"{where}.evidence_ref: {ref!r} is not an earlier story of {s.tenant} "
                                  "given to the validator")
                elif not 0 <= i < len(target.turns):
                    errors.append(f"{where}.evidence_ref: {ref} has no turn {i}")


def validate(paths: list[Path] | None = None) -> tuple[list[Story], list[str]]:
    """``(valid stories, problems)`` for the story files under ``paths`` (default: the whole corpus)."""
    errors: list[str] = []
    files = story_files(paths)
    if not files:
        errors.append(f"no story files under {[str(p) for p in paths or [STORIES]]}")
    stories = [s for s in (_story(p, errors) for p in files) if s is not None]
    _cross(stories, errors)
    return stories, errors


def load_corpus(ids: list[str] | None = None, persons: list[str] | None = None, *,
                skip_invalid: bool = False, folder: Path | None = None) -> list[Story]:
    """The corpus' stories (only ``ids`` / the stories of ``persons`` when given), sorted by id. All stories of
    the persons involved are validated together; a problem raises :class:`ValidationError` listing every
    problem, unless ``skip_invalid``, which drops (and logs) the persons that have one."""
    tenants = {i[:3] for i in ids or []} | set(persons or [])
    files = [p for p in story_files([folder] if folder else None) if not tenants or p.name[:3] in tenants]
    stories, errors = validate(files)
    bad = {e[:3] for e in errors}
    if errors and not skip_invalid:
        raise ValidationError(f"{len(errors)} problem(s) in the story corpus (--validate lists them):\n"
                              + "\n".join(errors))
    if bad:
        print(f"skipping persons with corpus problems: {sorted(bad)} ({len(errors)} problems)", file=sys.stderr)
    stories = [s for s in stories if s.tenant not in bad and (not ids or s.id in ids)
               and (not persons or s.tenant in persons)]
    missing = sorted(set(ids or []) - {s.id for s in stories})
    if missing:
        raise ValidationError("unknown or skipped story ids", ids=missing)
    return sorted(stories, key=lambda s: s.id)
