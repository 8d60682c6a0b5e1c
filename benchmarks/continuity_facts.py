"""``continuity.py --facts``: does consolidation derive, from each turn, the facts a careful reader wrote down?

Method (one run, public API only):

1. Every story is its own tenant (isolated): one event per turn (:func:`continuity_corpus.to_events`), one
   ``lake.ingest``, one ``lake.consolidate(now=the corpus' last turn + 1 day)`` (decay relative to the stories'
   own time, not the wall clock).
2. Every fact row of those tenants, history included (``lake.sql`` over the ``facts`` view: superseded and
   closed rows count, a fact is derived from a turn when the turn's ``event_id`` is in its
   ``source_event_ids``).
3. A gold triple is **found** when one fact derived from its turn has an object whose words contain every
   content word of the gold object (:func:`continuity_corpus.content_words`: tracelake's stopwords dropped,
   numbers like ``1,450`` kept whole; an object of stopwords only keeps all its words). An object longer than 12 words, or equal to the whole statement or turn,
   never counts. Reported: recall over all gold, over the *oracle* gold (every content word of the object occurs
   in the turn text — the ceiling of an extractor that copies phrases), per predicate, for negated and planned
   gold, and ``polarity_ok`` (the matching fact also carries the gold's polarity/modality, when the lake's
   facts have those columns); facts per turn (distinct facts citing the turn, averaged over turns).
4. ``--sample N``: N produced facts drawn with a seeded RNG, with their turn text, written next to the result
   (``*_sample.json``) for a hand audit of precision (``audit`` fields to fill: ``ok`` true/false).
"""

from __future__ import annotations

import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

from continuity_corpus import SHARED_TENANT, Story, content_words, provenance, to_events, words

__all__ = ["run_facts", "build_lake", "fact_rows", "match_gold"]

MAX_OBJECT_WORDS = 12
CANONICAL = {"lives_in", "moved_to", "moved_from", "works_at", "worked_at", "job_title", "manager", "colleague",
             "partner", "friend", "has_pet", "pet_name", "salary", "rent", "price", "age", "from", "studies",
             "hobby", "feels", "plans", "health", "diagnosis", "medication", "doctor", "date", "schedule",
             "likes", "dislikes", "owns", "name"}
FACT_COLUMNS = ("fact_id", "subject", "predicate", "object", "statement", "source_event_ids", "valid_from",
                "valid_to", "superseded_by", "polarity", "modality")


def _log(msg: str) -> None:
    print(f"[continuity] {msg}", file=sys.stderr, flush=True)


def build_lake(stories: list[Story], workdir: Path, embedder: str, *, isolated: bool = True,
               cumulative: bool = False, shared: bool = False) -> tuple[Any, dict[str, float]]:
    """A fresh lake under ``workdir`` with the stories ingested (isolated tenants, one tenant per person, and/or
    one tenant ``shared`` for all persons) and consolidated; returns it with the seconds each phase took."""
    import tracelake

    if workdir.exists():
        shutil.rmtree(workdir)
    lake = tracelake.connect(str(workdir), embedder=embedder)
    events = (to_events(stories, cumulative=False) if isolated else []) + \
        (to_events(stories, cumulative=True) if cumulative else []) + \
        (to_events(stories, cumulative=True, tenant=SHARED_TENANT) if shared else [])
    t0 = time.perf_counter()
    res = lake.ingest(events)
    if res.rejected:
        raise SystemExit(f"ingest rejected {len(res.rejected)} events: {res.rejected[:3]}")
    t1 = time.perf_counter()
    now = max(s.end for s in stories) + timedelta(days=1)
    lake.consolidate(now=now)
    t2 = time.perf_counter()
    _log(f"{len(events)} events ingested in {t1 - t0:.1f}s, consolidated in {t2 - t1:.1f}s")
    return lake, {"ingest": round(t1 - t0, 2), "consolidate": round(t2 - t1, 2), "events": len(events)}


def fact_rows(lake: Any, tenants: list[str]) -> list[dict[str, Any]]:
    """Every fact row (history included) of ``tenants``, one dict per distinct ``fact_id``, with the columns of
    :data:`FACT_COLUMNS` that the lake has."""
    have = set(lake.sql("select * from facts limit 0").column_names)
    cols = [c for c in FACT_COLUMNS if c in have]
    quoted = ", ".join("'" + t.replace("'", "''") + "'" for t in tenants)
    rows = lake.sql(f"select tenant, {', '.join(cols)} from facts where tenant in ({quoted})").to_pylist()
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        key = (r["tenant"], r["fact_id"])
        if key in out:  # several row versions of one assertion: keep the union of its sources
            out[key]["source_event_ids"] = sorted(set(out[key]["source_event_ids"]) | set(r["source_event_ids"]))
        else:
            out[key] = {**r, "source_event_ids": sorted(r["source_event_ids"] or [])}
    return list(out.values())


def _norm(text: str | None) -> str:
    return " ".join((text or "").lower().split())


def countable(fact: dict[str, Any], turn_text: str) -> bool:
    """An object counts when it is a phrase: at most 12 words and not the whole statement or turn."""
    obj = _norm(fact.get("object"))
    return bool(obj) and len(obj.split()) <= MAX_OBJECT_WORDS and obj != _norm(turn_text) and \
        obj != _norm(fact.get("statement"))


def _stance_ok(gold: Any, fact: dict[str, Any]) -> bool:
    neg = str(fact.get("polarity") or "positive") == "negative"
    plan = str(fact.get("modality") or "asserted") in ("plan", "hypothetical")
    return neg == gold.neg and plan == (gold.modality == "plan")


def match_gold(gold: Any, facts: list[dict[str, Any]], turn_text: str) -> dict[str, Any] | None:
    """The first fact (stance-matching ones first) whose object words contain every content word of the gold
    object, or ``None``."""
    want = content_words(gold.o)
    found = [f for f in facts if countable(f, turn_text) and want <= words(f["object"])]
    found.sort(key=lambda f: not _stance_ok(gold, f))
    return found[0] if found else None


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def evaluate(stories: list[Story], facts: list[dict[str, Any]]) -> dict[str, Any]:
    """Recall (all, oracle, by predicate, negated, planned), stance agreement and facts per turn."""
    by_event: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in facts:
        for e in f["source_event_ids"]:
            by_event[e].append(f)
    has_stance = bool(facts) and "polarity" in facts[0]
    tally: Counter = Counter()
    per_pred: dict[str, Counter] = defaultdict(Counter)
    per_area: dict[str, Counter] = defaultdict(Counter)
    misses: list[dict[str, Any]] = []
    facts_per_turn: list[int] = []
    for s in stories:
        for i, t in enumerate(s.turns):
            mine = by_event.get(s.event_id(i), [])
            facts_per_turn.append(len(mine))
            turn_words = words(t.text)
            for g in t.gold:
                hit = match_gold(g, mine, t.text)
                oracle = content_words(g.o) <= turn_words
                groups = ["all"] + (["oracle"] if oracle else []) + (["negated"] if g.neg else []) + \
                    (["planned"] if g.modality == "plan" else [])
                for grp in groups:
                    tally[grp] += 1
                    tally[grp + "_found"] += hit is not None
                tally["stance_ok"] += hit is not None and _stance_ok(g, hit)
                pred = g.p if g.p in CANONICAL else "(open predicate)"
                per_pred[pred]["gold"] += 1
                per_pred[pred]["found"] += hit is not None
                per_area[s.area]["gold"] += 1
                per_area[s.area]["found"] += hit is not None
                if hit is None:
                    misses.append({"turn": s.event_id(i), "gold": [g.s, g.p, g.o], "text": t.text,
                                   "facts": [[f["subject"], f["predicate"], f["object"]] for f in mine]})
    n_turns = len(facts_per_turn)
    return {
        "turns": n_turns, "gold": tally["all"], "facts": len(facts),
        "recall": _ratio(tally["all_found"], tally["all"]),
        "oracle_gold": tally["oracle"], "recall_oracle": _ratio(tally["oracle_found"], tally["oracle"]),
        "recall_negated": _ratio(tally["negated_found"], tally["negated"]), "negated_gold": tally["negated"],
        "recall_planned": _ratio(tally["planned_found"], tally["planned"]), "planned_gold": tally["planned"],
        "found_with_stance": _ratio(tally["stance_ok"], tally["all"]) if has_stance else None,
        "facts_per_turn": round(sum(facts_per_turn) / max(n_turns, 1), 3),
        "distinct_facts_per_turn": round(len(facts) / max(n_turns, 1), 3),
        "max_facts_per_turn": max(facts_per_turn, default=0),
        "by_predicate": {p: {**c, "recall": _ratio(c["found"], c["gold"])} for p, c in sorted(per_pred.items())},
        "by_area": {a: {**c, "recall": _ratio(c["found"], c["gold"])} for a, c in sorted(per_area.items())},
        "misses": misses,
    }


def sample_facts(stories: list[Story], facts: list[dict[str, Any]], n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` facts drawn with ``random.Random(seed)`` (sorted by id first: same lake, same sample), each with
    the text of the turns it cites, and empty ``audit`` fields for the hand audit."""
    text = {s.event_id(i): t.text for s in stories for i, t in enumerate(s.turns)}
    pool = sorted(facts, key=lambda f: (f["tenant"], f["fact_id"]))
    picked = random.Random(seed).sample(pool, min(n, len(pool)))
    return [{"tenant": f["tenant"], "fact_id": f["fact_id"], "subject": f["subject"], "predicate": f["predicate"],
             "object": f["object"], **{k: f[k] for k in ("polarity", "modality") if k in f},
             "turns": {e: text.get(e) for e in f["source_event_ids"]}, "audit": {"ok": None, "note": ""}}
            for f in picked]


def markdown(res: dict[str, Any]) -> str:
    r = res["result"]
    lines = ["| measure | value |", "|---|---|",
             f"| stories / turns / gold facts | {res['stories']} / {r['turns']} / {r['gold']} |",
             f"| fact recall (all gold) | **{r['recall']}** |",
             f"| fact recall (oracle: object words in the turn, {r['oracle_gold']} gold) | {r['recall_oracle']} |",
             f"| recall of negated / planned gold | {r['recall_negated']} / {r['recall_planned']} |",
             f"| found with the gold's polarity and modality | {r['found_with_stance']} |",
             f"| facts per turn (citing it) / distinct facts per turn / max | {r['facts_per_turn']} / "
             f"{r['distinct_facts_per_turn']} / {r['max_facts_per_turn']} |",
             "", "| predicate | gold | recall |", "|---|---|---|"]
    lines += [f"| {p} | {c['gold']} | {c['recall']} |" for p, c in r["by_predicate"].items()]
    return "\n".join(lines)


def run_facts(stories: list[Story], args: Any, out: Path) -> int:
    """The ``--facts`` measurement; writes ``out`` (and ``*_sample.json`` with ``--sample``)."""
    started = time.perf_counter()
    tmp = None if args.workdir else tempfile.mkdtemp(prefix="tl-continuity-")
    workdir = Path(args.workdir or tmp) / "facts-lake"
    try:
        lake, timings = build_lake(stories, workdir, args.embedder or "hash")
        facts = fact_rows(lake, [s.id for s in stories])
        result = evaluate(stories, facts)
        res = {"mode": "facts", "provenance": provenance(), "stories": len(stories), "embedder": args.embedder or "hash",
               "turns_per_event": getattr(args, "turns_per_event", 1), "result": result,
               "timings_s": {**timings, "total": round(time.perf_counter() - started, 2)}}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(res, indent=1, default=str))
        if args.sample:
            sample = sample_facts(stories, facts, args.sample, args.seed)
            path = out.with_name(out.stem + "_sample.json")
            path.write_text(json.dumps({"seed": args.seed, "facts": sample}, indent=1, ensure_ascii=False))
            _log(f"{len(sample)} sampled facts written to {path}")
        print(markdown(res))
        _log(f"result written to {out}")
        lake.close()
        return 0
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
