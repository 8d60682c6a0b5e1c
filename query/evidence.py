"""Evidence for ``lake.context``: the clauses of the retrieved turns that best answer the question, within a
word budget.

A turn is split into *pieces* (clauses: a sentence, or the part of it between clause punctuation and the
conjunctions that open a clause; pieces under ``min_piece`` words join a neighbour, pieces over ``max_piece``
words are cut where a phrase starts, into parts of about equal size). Each piece of the turns of the top hits is scored

``value = turn × (base + match + near·neighbour + asked·[asks] + stated·[states] + semantic·cos
+ clause_semantic·ccos)``

(the columns of :func:`score_pieces`' feature matrix, :data:`FEATURES`; the weights, :meth:`EvidenceConfig.weights`,
were fitted on our story corpus — a listwise loss over the candidate pieces of each question, the pieces that hold
an expected keyword as the targets, persons split three ways for cross-validation — then rounded)

- ``turn``: the hit's search score relative to the best hit, to the power ``rank_power`` (0.1: the candidate
  set matters much more than its order);
- ``match``: the share of the question's IDF weight whose stems the piece contains (the tenant-local BM25
  statistics of the traces visible at ``as_of`` when the tenant has them, else the candidate pieces');
  A turn's *names* (the subjects of the facts read from its event: "he grew up in Marrow Falls"
  -> ``Ezra Lindqvist from Marrow Falls``) count for every piece of the turn, times ``coref``: the
  decomposition resolved the pronoun, so the turn is about Ezra even where no piece says so;
- ``neighbour``: the best ``match`` of the pieces next to it (halved two pieces away) — an answer usually sits
  beside the words that repeat the question ("… the new job? starts on the 12th");
- ``asked``: the piece holds what the question word asks for beyond the question's own words (a capitalised
  name for *who* / *which* / *where*, a number, date or frequency for *how much* / *how old* / *when*, a clause
  that opens with or carries a reason for *why*, "is a …" for *what does … do for a living*);
- ``stated``: the piece holds the object of a fact read from its turn that answers the question (its subject is
  named in the question, its predicate or object type is what is asked: ``Helen is_a vet nurse`` marks "she's a
  vet nurse,");
- ``cos``: the cosine between the question's vector and the stored vector of the piece's sentence unit;
- ``ccos``: the cosine between the question's vector and the piece's own vector (``clause_vectors``: the lake's
  vector cache holds one for every quoted clause, :mod:`.clause_vectors`), for the first
  :data:`~tracelake.operators.clause_pieces.VECTOR_PIECES` pieces of a turn: which clause of a long sentence
  answers, where its words differ from the question's ("which city" -> "moved to Porto"). Negative cosines
  count 0.

A *correction* (a piece that opens with or carries "actually it's", "wait", "scratch that", "got it wrong",
"misread", "X, not Y", :data:`_CORRECTS`) and the piece after it are worth at least ``correction`` times the best
value of what they take back (:func:`taken_back`): the two pieces before it, and the pieces of earlier candidate
turns that name one of its values (a word with a digit or a capitalised word: "Tuesday 19th March" <- "correction,
it's Thursday the 21st, not the 19th"). The question's words sit in what was wrong; the answer in what corrects it.

For a question about the present (``present=True``) ``turn`` is multiplied by ``1 + recency × r``, ``r`` the
turn's time rank among the candidate turns that state something, scaled to 0..1: of two turns that match, the
later one is the news; a turn that only asks gets ``r = 0``. A piece of a unit that only asks (its speech act,
else its text: every sentence ends in ``?``) is worth ``asking`` times its value. When the question names some
of the candidate turns' tellers (:func:`.focus.named_speakers`: "how much is Kwame's rent" where ten people talk)
``turn`` is multiplied by ``other_speaker`` for the other tellers' turns, and the named teller's name is no
word to match (the focus says it; in a tenant of many tellers its weight would drown the question's words).

Pieces are taken best first while they fit; a turn's chosen pieces are rendered in their order in the turn,
non-adjacent ones joined by ``…``; turns in the order of their best piece. Deterministic: ties go to the better
hit, then the earlier piece.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import numpy as np

from tracelake.operators.clause_pieces import MAX_PIECE, MIN_PIECE, VECTOR_PIECES, clause_pieces, piece_text
from tracelake.results import ContextItem, Hit

from .focus import named_speakers, speakers_in_focus
from .lexical import bm25_idf, stems
from .question import asks, is_question, question_stems

__all__ = ["EvidenceConfig", "Unit", "pieces", "select_evidence"]

_NUMBERISH = re.compile(r"\d|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\b(mon|tues|wednes|"
                        r"thurs|fri|satur|sun)day\b|\b(first|second|third|fourth|fifth|[a-z]+teenth|[a-z]+tieth|"
                        r"twentieth|thirtieth)\b|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                        r"twenty|thirty|forty|fifty|hundred|thousand|half|dozen|once|twice)\b", re.I)
#: A question that asks for a reason, and the words that open or carry one ("because …", "so no", "bc").
_WANTS_REASON = re.compile(r"\b(why|how come|what made)\b", re.I)
_REASON_OPENERS = frozenset({"because", "cause", "cuz", "bc", "since", "so", "as", "but"})
_REASON_WORDS = frozenset({"because", "cause", "cuz", "bc", "coz", "due", "since"})
#: A question that asks what someone is or does, and a clause that says it ("she's a vet nurse").
_WANTS_KIND = re.compile(r"\bdo(es)? for (a living|work)\b|\bwhat does \w+(?: \w+)? do\b|\b(job|profession|"
                         r"occupation)\b", re.I)
_SAYS_KIND = re.compile(r"(\b(is|am|was|are|works as|working as|worked as)|'s|'m)\s+(a|an)\b", re.I)
#: Question words that ask for a name (a place, an organisation, a person) besides "who".
_WANTS_NAME = re.compile(r"\b(where|which|what(\'s| is| was)? (the )?name)\b", re.I)
_PRONOUNS = frozenset({"I", "I'm", "I've", "I'd", "I'll", "Im", "OK", "Ok"})
#: A piece that takes back what the turn said before it: a correction opener (after fillers), a mistake named
#: ("got it wrong", "misread"), or a value set against another ("it's the 21st, not the 19th").
_CORRECTS = re.compile(r"^(?:(?:ok|okay|oh|um|uh|ugh|hmm|so|and|but|no|right)\W+)*(?:actually|correction|sorry|"
                       r"oops|scratch that|scrap that|wait|hold on|i mean|i meant)\b"
                       r"|\bgot (?:it|that|this|the \w+) wrong\b|\bmis(?:read|heard|remembered|spoke|typed)\b"
                       r"|\bactually,?\s+(?:it|it's|its|is|was|says|said|not|no)\b|\b(?:it's|its|is|was)\s+actually\b"
                       r"|\w,\s+not\s", re.I)
_GAP = "…"


class Unit(NamedTuple):
    """One sentence unit of a turn: its text, its stored vector (L2-normalised, or ``None``) and its speech act
    (``question`` | ``statement`` | ``request`` | ``greeting``; ``None``: unknown, read from the text)."""

    text: str
    vector: np.ndarray | None = None
    speech_act: str | None = None


@dataclass(frozen=True)
class EvidenceConfig:
    """Knobs of :func:`select_evidence`."""

    #: Pieces shorter than this join a neighbour.
    min_piece: int = MIN_PIECE
    #: Pieces longer than this are cut (``smart_cut``) into parts of at most this many words.
    max_piece: int = MAX_PIECE
    #: Value of a piece that matches nothing, on a turn as relevant as the best hit (the turn's own context).
    base: float = 1.6
    #: Bonus for holding what the question word asks for.
    asked: float = 1.0
    #: Share of a neighbouring piece's match a piece inherits (next to it; half that two pieces away).
    near: float = 1.2
    #: ``turn = (hit score / best score) ** rank_power``: higher trusts the search order more.
    rank_power: float = 0.1
    #: Weight of the cosine between the question and the piece's sentence unit (its stored vector).
    semantic: float = 2.2
    #: Weight of the cosine between the question and the piece's own vector (``clause_vectors``).
    clause_semantic: float = 1.5
    #: For questions about the present: the latest of the candidate turns that state something gets
    #: ``1 + recency`` times the value, the earliest 1 (linear in between); turns that only ask get no bonus.
    recency: float = 0.5
    #: Factor on the value of a piece of a unit that only asks (weak evidence: "what was her name again?").
    asking: float = 0.5
    #: Factor on the pieces of a turn told by someone else when the question names some of the candidate turns'
    #: tellers ("where does Kwame live?" in a tenant where ten people talk): what Kwame said answers, not the others.
    other_speaker: float = 0.5
    #: Share of the match credit a question word earns from the turn's names (the subjects of the facts read
    #: from its event) when the piece itself does not say it.
    coref: float = 0.5
    #: Shortest piece worth taking when cut to the words left.
    min_words: int = 5
    #: Bonus for a piece that states the object of a fact that answers the question (``statements`` of
    #: :func:`select_evidence`).
    stated: float = 0.6
    #: A correction (:data:`_CORRECTS`) and the piece after it are worth at least this share of the best value of
    #: what they take back (:func:`taken_back`): "with meals... no, wait, it's before meals" answers what the first
    #: part was asked for.
    correction: float = 1.0
    #: Cut long pieces where a phrase starts (after clause punctuation, before a preposition, subordinator or
    #: subject pronoun; never between a verb and its particle or after a determiner) rather than evenly.
    smart_cut: bool = True

    def weights(self) -> np.ndarray:
        """The weight of each column of :data:`FEATURES` (``match`` weighs 1: the scale)."""
        return np.array([self.base, 1.0, self.near, self.asked, self.stated, self.semantic, self.clause_semantic])


def pieces(text: str, cfg: EvidenceConfig = EvidenceConfig()) -> list[list[str]]:
    """The clauses of ``text`` as word lists (:func:`~tracelake.operators.clause_pieces.clause_pieces` with the
    config's sizes)."""
    return clause_pieces(text, cfg.min_piece, cfg.max_piece, cfg.smart_cut)


@dataclass
class _Piece:
    turn: int
    index: int
    words: list[str]
    stems: set[str]
    value: float = 0.0
    similarity: float = 0.0
    asking: bool = False


def _asked(words: list[str], q_words: set[str], want_name: bool, want_number: bool, want_reason: bool,
           want_kind: bool) -> bool:
    if want_kind and _SAYS_KIND.search(" ".join(words)):
        return True
    if want_reason and (words[0].lower().strip(",") in _REASON_OPENERS
                        or any(w.lower().strip(".,!?;:") in _REASON_WORDS for w in words)):
        return True
    if want_number and _NUMBERISH.search(" ".join(words)):
        return True
    return want_name and any(w[:1].isupper() and w not in _PRONOUNS and w.strip(".,!?;:'\"").lower() not in q_words
                             for w in words[1:])


def select_evidence(hits: list[Hit], units: list[list[Unit]], question: str, budget: int,
                    idf: dict[str, float] | None = None, query_vector: np.ndarray | None = None,
                    cfg: EvidenceConfig = EvidenceConfig(), *, present: bool = False,
                    names: list[str] | None = None,
                    statements: list[list[frozenset[str]]] | None = None,
                    clause_vectors: Callable[[list[str]], np.ndarray] | None = None) -> list[ContextItem]:
    """Evidence items (one per turn that contributes, best first) of at most ``budget`` words together.

    ``units[i]``: the turn of ``hits[i]`` as its sentence units (:class:`Unit`; plain ``(text, vector)`` pairs
    are read as units of unknown speech act);
    ``idf``: stem -> inverse document frequency (missing stems get the largest known weight; ``None``: computed
    over the candidate pieces); ``query_vector``: the question's (normalised or not) embedding; ``names[i]``:
    the subjects of the facts read from the turn of ``hits[i]``; ``statements[i]``: the object stems of the facts
    read from that turn that answer what is asked about someone the question names — a piece holding all of an
    object's stems is where the turn says it; ``clause_vectors(texts)``: the unit vectors of piece texts
    (:class:`~.clause_vectors.ClauseVectors`; ``None``: no clause cosine)."""
    if budget <= 0 or not hits:
        return []
    scored = score_pieces(hits, units, question, idf, query_vector, cfg, present=present, names=names,
                          statements=statements, clause_vectors=clause_vectors)
    if scored is None:
        return []
    everything, features, factor, corrects = scored
    values = factor * (features @ cfg.weights())
    for i, back in corrects.items():  # a correction is worth what it takes back
        values[i] = max(values[i], cfg.correction * float(values[back].max()))
    for p, value in zip(everything, values):
        p.value = float(value)
    return _items(_choose(everything, budget, cfg), hits, hits[0].score or 1.0)


#: The columns of :func:`score_pieces`' feature matrix, in the order of :meth:`EvidenceConfig.weights`.
FEATURES = ("base", "match", "near", "asked", "stated", "semantic", "clause_semantic")


def score_pieces(hits: list[Hit], units: list[list[Unit]], question: str, idf: dict[str, float] | None = None,
                 query_vector: np.ndarray | None = None, cfg: EvidenceConfig = EvidenceConfig(), *,
                 present: bool = False, names: list[str] | None = None,
                 statements: list[list[frozenset[str]]] | None = None,
                 clause_vectors: Callable[[list[str]], np.ndarray] | None = None
                 ) -> tuple[list["_Piece"], np.ndarray, np.ndarray, dict[int, list[int]]] | None:
    """The pieces of the candidate turns (arguments as :func:`select_evidence`'s), their feature matrix (one row
    per piece, columns :data:`FEATURES`), the factor each row's weighted sum is multiplied by (the turn's
    relevance, times ``asking`` for a piece that only asks) and what the corrections take back
    (:func:`taken_back`); ``None`` when there are no pieces."""
    actors = [h.actor for h in hits]
    # the teller the question names is the focus (below), not a word to match: in a tenant where many people talk
    # the name is rare, and its weight would drown the words that say what is asked
    q_stems = question_stems(question) - stems(" ".join(named_speakers(actors, question)))
    q_words = {w.lower() for w in re.findall(r"[\w']+", question)}
    _, _, want_name, want_number = asks(question)
    want_name = want_name or bool(_WANTS_NAME.search(question))
    want_reason = bool(_WANTS_REASON.search(question))
    want_kind = bool(_WANTS_KIND.search(question))
    top = hits[0].score or 1.0
    q = None
    if query_vector is not None and float(np.linalg.norm(query_vector)) > 0:
        q = np.asarray(query_vector, dtype=np.float32) / float(np.linalg.norm(query_vector))
    turns: list[list[_Piece]] = []
    for t, turn in enumerate(units):
        ps: list[_Piece] = []
        for unit in (Unit(*u) for u in turn):
            vec = unit.vector
            sim = float(vec @ q) if q is not None and vec is not None and len(vec) == len(q) else 0.0
            weak = is_question(unit.text, unit.speech_act)
            for ws in pieces(unit.text, cfg):
                ps.append(_Piece(t, len(ps), ws, stems(" ".join(ws)), similarity=sim, asking=weak))
        turns.append(ps)
    # Time rank among the turns that state something (a later question about it is not the news).
    stating = sorted((t for t, ps in enumerate(turns) if ps and not all(p.asking for p in ps)),
                     key=lambda t: (hits[t].occurred_at, t))
    recent = {t: r / max(1, len(stating) - 1) for r, t in enumerate(stating)}
    in_focus = speakers_in_focus(actors, question)
    everything = [p for ps in turns for p in ps]
    if not everything:
        return None
    clause_sim: dict[int, float] = {}
    if q is not None and clause_vectors is not None and cfg.clause_semantic > 0:
        scored = [p for p in everything if p.index < VECTOR_PIECES]
        vectors = clause_vectors([piece_text(p.words) for p in scored])
        if vectors.shape[1:] == q.shape:
            clause_sim = {id(p): float(s) for p, s in zip(scored, vectors @ q)}
    if idf is None:
        n = len(everything)
        idf = {s: float(bm25_idf(n, sum(s in p.stems for p in everything))) for s in q_stems}
    fallback = max(idf.values(), default=1.0)
    weight = {s: idf.get(s, fallback) for s in q_stems}
    total = sum(weight.values()) or 1.0
    matched: list[list[float]] = []
    for t, ps in enumerate(turns):
        named = stems(names[t]) & q_stems if names and t < len(names) else set()
        matched.append([(sum(weight[s] for s in p.stems & q_stems)
                         + cfg.coref * sum(weight[s] for s in named - p.stems)) / total for p in ps])
    rows: list[list[float]] = []
    factor: list[float] = []
    for t, ps in enumerate(turns):
        rel = max(0.0, hits[t].score / top) ** cfg.rank_power if top > 0 else 1.0 / (t + 1)
        if present and len(stating) > 1:  # current-state questions: the later of two statements is the news
            rel *= 1.0 + cfg.recency * recent.get(t, 0.0)
        if not in_focus[t]:
            rel *= cfg.other_speaker
        matches = matched[t]
        for i, p in enumerate(ps):
            near = max([matches[j] / abs(i - j) for j in range(max(0, i - 2), min(len(ps), i + 3)) if j != i],
                       default=0.0)
            asked = _asked(p.words, q_words, want_name, want_number, want_reason, want_kind)
            said = any(obj <= p.stems for obj in statements[t]) if statements and t < len(statements) else False
            rows.append([1.0, matches[i], near, float(asked), float(said), max(0.0, p.similarity),
                         max(0.0, clause_sim.get(id(p), 0.0))])
            factor.append(rel * (cfg.asking if p.asking else 1.0))
    return everything, np.asarray(rows, dtype=np.float64), np.asarray(factor, dtype=np.float64), \
        taken_back(turns, [h.occurred_at for h in hits])


def _choose(everything: list[_Piece], budget: int, cfg: EvidenceConfig) -> list[_Piece]:
    """Pieces best value first while they fit ``budget`` words (the last one cut to the words left)."""
    chosen: list[_Piece] = []
    for p in sorted(everything, key=lambda p: (-p.value, p.turn, p.index)):
        left = budget - _cost(chosen)
        if left < cfg.min_words:
            break
        if p.value <= 0:
            continue
        trial = chosen + [p]
        over = _cost(trial) - budget
        if over > 0:  # cut the piece to the words left (a piece that ends a clause loses its tail)
            if len(p.words) - over < cfg.min_words:
                continue
            trial[-1] = _Piece(p.turn, p.index, p.words[:len(p.words) - over], p.stems, p.value)
        chosen = trial
    return chosen


def _values(words: list[str]) -> set[str]:
    """The words of a piece that name a value: with a digit, or capitalised after the first word."""
    return {w.strip(".,!?;:'\"()").lower() for i, w in enumerate(words)
            if any(c.isdigit() for c in w) or (i and w[:1].isupper() and w not in _PRONOUNS)} - {""}


def taken_back(turns: list[list[_Piece]], times: list[Any]) -> dict[int, list[int]]:
    """Piece position (in reading order of ``turns``) -> the positions of the pieces it takes back, for the
    pieces at or right after a correction (:data:`_CORRECTS`): the two pieces before it in its turn, and the pieces of
    earlier turns that name one of its values ("Tuesday 19th March" <- "correction, it's Thursday the 21st, not
    the 19th")."""
    start, at = [], 0
    for ps in turns:
        start.append(at)
        at += len(ps)
    out: dict[int, list[int]] = {}
    named: list[list[set[str]]] | None = None
    for t, ps in enumerate(turns):
        for j, p in enumerate(ps):
            if not _CORRECTS.search(piece_text(p.words)):
                continue
            if named is None:
                named = [[_values(q.words) for q in qs] for qs in turns]
            values = named[t][j] | (named[t][j + 1] if j + 1 < len(ps) else set())
            back = [start[t] + i for i in range(max(0, j - 2), j)]
            for u in range(len(turns)):
                if values and u != t and times[u] is not None and times[t] is not None and times[u] < times[t]:
                    back += [start[u] + i for i, v in enumerate(named[u]) if values & v]
            for i in (j, j + 1):
                if i < len(ps) and back:
                    out.setdefault(start[t] + i, []).extend(back)
    return out


def _cost(chosen: list[_Piece]) -> int:
    """Words of the rendering of ``chosen``: the pieces' words plus one ``…`` between non-adjacent pieces of a
    turn."""
    by_turn: dict[int, list[int]] = {}
    for p in chosen:
        by_turn.setdefault(p.turn, []).append(p.index)
    gaps = sum(1 for idx in map(sorted, by_turn.values()) for a, b in zip(idx, idx[1:]) if b != a + 1)
    return sum(len(p.words) for p in chosen) + gaps


def _items(chosen: list[_Piece], hits: list[Hit], top: float) -> list[ContextItem]:
    order: list[int] = []
    by_turn: dict[int, list[_Piece]] = {}
    for p in chosen:
        if p.turn not in by_turn:
            order.append(p.turn)
        by_turn.setdefault(p.turn, []).append(p)
    items = []
    for t in order:
        ps = sorted(by_turn[t], key=lambda p: p.index)
        parts = [" ".join(ps[0].words)]
        for a, b in zip(ps, ps[1:]):
            parts.append(" ".join(b.words) if b.index == a.index + 1 else f"{_GAP} {' '.join(b.words)}")
        h = hits[t]
        items.append(ContextItem("evidence", " ".join(parts), tuple(h.source_event_ids),
                                 round(h.score / top, 4) if top else 0.0, h.valid_from, h.valid_to, h.occurred_at,
                                 h.trace_id))
    return items
