"""LoCoMo observation coverage: do the facts derived from a turn carry what LoCoMo's annotators observed in it?

Run (from the repo root)::

    .venv/bin/python benchmarks/locomo_observations.py             # 10 conversations (2,541 observations)
    .venv/bin/python benchmarks/locomo_observations.py --limit 1   # quick

LoCoMo (``data/locomo10.json``, CC BY-NC 4.0) is read by path, never copied into the repository (``--data``,
default ``../shared/data/locomo/locomo10.json``). Method:

1. One event per turn, exactly as ``benchmarks/locomo.py`` converts them (tenant = sample id, event id =
   ``dia_id``, photo captions appended); one ``lake.ingest``, one ``lake.consolidate``.
2. Every fact row of those tenants, history included (``lake.sql`` over ``facts``; a fact is derived from a
   turn when its ``source_event_ids`` hold the turn's ``dia_id``).
3. For each per-session observation (``observation.session_N_observation[speaker] = [[text, evidence], ...]``):
   its content words (``continuity_corpus.content_words``: tracelake's stopwords and one-letter words dropped,
   and the words of the speaker's name) and the share of them found among the words of the subject, predicate
   (split on ``_``) and object of the facts derived from its evidence turns. Reported: the mean and the share
   of observations at ≥ 0.5, next to the same for the evidence turns' raw text (the ceiling), exact lower-cased
   words and (secondary) Snowball stems; facts per turn. Observations whose evidence names no turn of the
   conversation are skipped (counted).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from continuity_corpus import content_words, provenance, words  # noqa: E402
from continuity_facts import fact_rows  # noqa: E402
from locomo import DEFAULT_DATA, SOURCE_NOTE, Conversation, _norm_id, load  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _log(msg: str) -> None:
    print(f"[locomo-observations] {msg}", file=sys.stderr, flush=True)


def observations(samples: list[dict[str, Any]], convs: list[Conversation]) -> tuple[list[dict[str, Any]], int]:
    """``([{tenant, speaker, text, evidence}], skipped)`` for every per-session observation."""
    out, skipped = [], 0
    for sample, conv in zip(samples, convs):
        for per in sample.get("observation", {}).values():
            for speaker, items in per.items():
                for text, evidence in items:
                    raw = evidence if isinstance(evidence, list) else [evidence]
                    ids = [_norm_id(p) for r in raw for p in re.split(r"[;,\s]+", str(r)) if p]
                    ids = list(dict.fromkeys(i for i in ids if i in conv.turns))
                    if not ids:
                        skipped += 1
                        continue
                    out.append({"tenant": conv.tenant, "speaker": speaker, "text": text, "evidence": ids})
    return out, skipped


def fact_words(fact: dict[str, Any]) -> set[str]:
    """The words of a fact's subject, predicate (``move_to`` -> move, to) and object."""
    return words(f"{fact['subject']} {fact['predicate'].replace('_', ' ')} {fact['object']}")


def _stems(ws: set[str]) -> set[str]:
    import snowballstemmer

    return set(snowballstemmer.stemmer("english").stemWords(sorted(ws)))


def coverage(obs: list[dict[str, Any]], convs: list[Conversation], facts: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean coverage and share ≥ 0.5 of the observations' content words, by facts and by raw turn text."""
    by_turn: dict[tuple[str, str], set[str]] = defaultdict(set)
    count: dict[tuple[str, str], int] = defaultdict(int)
    for f in facts:
        fw = fact_words(f)
        for e in f["source_event_ids"]:
            by_turn[(f["tenant"], e)] |= fw
            count[(f["tenant"], e)] += 1
    turns = {(c.tenant, d): t.text for c in convs for d, t in c.turns.items()}
    scores: dict[str, list[float]] = defaultdict(list)
    for o in obs:
        want = content_words(o["text"], words(o["speaker"]))
        if not want:
            continue
        got_f = set().union(*(by_turn.get((o["tenant"], e), set()) for e in o["evidence"]))
        got_t = set().union(*(words(turns[(o["tenant"], e)]) for e in o["evidence"]))
        scores["facts"].append(len(want & got_f) / len(want))
        scores["turn_text"].append(len(want & got_t) / len(want))
        ws = _stems(want)
        scores["facts_stemmed"].append(len(ws & _stems(got_f)) / len(ws))
        scores["turn_text_stemmed"].append(len(ws & _stems(got_t)) / len(ws))
    n_turns = len(turns)
    return {
        "observations": len(scores["facts"]), "turns": n_turns, "fact_rows": len(facts),
        "facts_per_turn": round(sum(count.values()) / max(n_turns, 1), 3),
        "turns_with_facts": round(len(count) / max(n_turns, 1), 4),
        **{k: {"mean": round(sum(v) / len(v), 4), "share_ge_0.5": round(sum(x >= 0.5 for x in v) / len(v), 4)}
           for k, v in scores.items() if v},
    }


def markdown(res: dict[str, Any]) -> str:
    c = res["coverage"]
    rows = ["| source of words | mean coverage | share ≥ 0.5 | stemmed mean |", "|---|---|---|---|"]
    for name, key in (("facts derived from the evidence turns", "facts"), ("raw evidence turn text (ceiling)",
                                                                           "turn_text")):
        rows.append(f"| {name} | **{c[key]['mean']}** | {c[key]['share_ge_0.5']} | {c[key + '_stemmed']['mean']} |")
    rows.append(f"\n{c['observations']} observations ({res['skipped_observations']} skipped), {c['turns']} turns, "
                f"{c['fact_rows']} facts, {c['facts_per_turn']} facts per turn, "
                f"{c['turns_with_facts']} of turns with a fact")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT / DEFAULT_DATA)
    ap.add_argument("--limit", type=int, help="first N conversations only")
    ap.add_argument("--embedder", default="hash", help="tracelake embedder alias (facts do not depend on it)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "locomo_observations.json")
    ap.add_argument("--workdir", type=Path, help="lake folder (default: a temporary one, removed)")
    args = ap.parse_args(argv)
    if not args.data.is_file():
        print(SOURCE_NOTE, file=sys.stderr)
        return 2
    import tracelake

    started = time.perf_counter()
    samples = json.loads(args.data.read_text())[: args.limit or None]
    convs = load(args.data, args.limit)
    obs, skipped = observations(samples, convs)
    tmp = None if args.workdir else tempfile.mkdtemp(prefix="tl-locomo-obs-")
    workdir = Path(args.workdir or tmp) / "lake"
    try:
        shutil.rmtree(workdir, ignore_errors=True)
        lake = tracelake.connect(str(workdir), embedder=args.embedder)
        t0 = time.perf_counter()
        lake.ingest([e for c in convs for e in c.events()])
        t1 = time.perf_counter()
        lake.consolidate(now=max(c.end for c in convs))
        t2 = time.perf_counter()
        _log(f"ingested in {t1 - t0:.1f}s, consolidated in {t2 - t1:.1f}s")
        facts = fact_rows(lake, [c.tenant for c in convs])
        res = {"provenance": provenance(), "conversations": len(convs), "skipped_observations": skipped, "embedder": args.embedder,
               "coverage": coverage(obs, convs, facts),
               "timings_s": {"ingest": round(t1 - t0, 1), "consolidate": round(t2 - t1, 1),
                             "total": round(time.perf_counter() - started, 1)}}
        lake.close()
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1))
    print(markdown(res))
    _log(f"result written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
