"""What a question pins down, applied to search's pool of candidates (:mod:`.retrieval`).

- **The speaker asked about** (:func:`speaker_focus`): a question that names one of the speakers of the
  candidate turns ("what does Joanna write?") is answered by what that speaker said, not by what the others said
  to or about them; the others' turns are multiplied by ``other_speaker_factor``.
- **The time asked about** (:func:`time_focus`): a question that names a window of at most a month ("on 9
  October 2022", "in August 2023", "last week") is answered by what happened in it — a turn that occurred in the
  window or mentions a time inside it; the other candidates are multiplied by ``other_time_factor``. Vaguer
  spans ("recently", a year, a season) pin nothing down.

Both change nothing when no candidate, or every candidate, is in focus (a single teller asked about by name; a
window nothing falls in), so a question is never left without its best matches. Both re-sort best first, ties by
``trace_id``.
"""

from __future__ import annotations

from dataclasses import replace

from tracelake.operators.entities import normalize_name
from tracelake.operators.temporal import TimeSpan
from tracelake.results import Hit

__all__ = ["speaker_focus", "named_speakers", "speakers_in_focus", "time_focus", "FOCUS_GRANULARITIES"]

#: Granularities of a resolved time expression precise enough to focus on (at most a month).
FOCUS_GRANULARITIES = frozenset({"day", "part_of_day", "week", "weekend", "month"})


def _focused(hits: list[Hit], inside: list[bool], factor: float) -> list[Hit]:
    """``hits`` with those not ``inside`` multiplied by ``factor``, best first — unchanged when all or none are."""
    if factor >= 1.0 or all(inside) or not any(inside):
        return hits
    out = [h if keep else replace(h, score=h.score * factor) for h, keep in zip(hits, inside)]
    out.sort(key=lambda h: (-h.score, h.trace_id))
    return out


def named_speakers(actors: list[str | None], question: str) -> set[str]:
    """The ``actors`` the question names: an actor's normalised name as a whole phrase of the normalised question."""
    q_norm = f" {normalize_name(question)} "
    return {a for a in set(actors) if a and (n := normalize_name(a)) and f" {n} " in q_norm}


def speakers_in_focus(actors: list[str | None], question: str) -> list[bool]:
    """Per actor: ``False`` when the question names some of ``actors`` (:func:`named_speakers`) and not this one;
    ``True`` otherwise (no actor, a named one, or a question that names none of them)."""
    named = named_speakers(actors, question)
    return [not named or not a or a in named for a in actors]


def speaker_focus(hits: list[Hit], question: str, factor: float) -> list[Hit]:
    """When the question names the actor of some of ``hits`` (:func:`speakers_in_focus`), every hit whose actor
    is another one is multiplied by ``factor``; hits without an actor are kept as they are."""
    if factor >= 1.0 or not hits:
        return hits
    return _focused(hits, speakers_in_focus([h.actor for h in hits], question), factor)


def time_focus(hits: list[Hit], spans: list[TimeSpan], factor: float) -> list[Hit]:
    """When the question names a window of at most a month (``FOCUS_GRANULARITIES``), every hit that neither
    occurred in one (``[start, end)``) nor mentions a time overlapping one (``[time_start, time_end)``) is
    multiplied by ``factor``."""
    windows = [(s.start, s.end) for s in spans if s.granularity in FOCUS_GRANULARITIES]
    if factor >= 1.0 or not windows or not hits:
        return hits

    def inside(h: Hit) -> bool:
        return any(lo <= h.occurred_at < hi or (h.time_start is not None and h.time_end is not None and
                                                h.time_start < hi and h.time_end > lo) for lo, hi in windows)

    return _focused(hits, [inside(h) for h in hits], factor)
