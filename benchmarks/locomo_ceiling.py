"""Where LoCoMo's evidence turns are lost: in the ranking, or before it (``benchmarks/locomo_ceiling.py``).

For every question, each evidence turn is placed in one bin of the lake's search list (``search(q, k=50)`` of
the lake's query engine with batch-embedded questions — the same lists as ``lake.search``, as ``locomo.py`` checks —
the hits' own turns in rank order, as ``locomo_turns.turn_sequence`` reads them): ``top10`` (what recall@10 turns
counts), ``11-25``, ``26-50`` or ``missed`` (not among the 50 hits' turns). A missed turn is then placed by its
rank in a **dense-only** ordering of the conversation's turns — the cosine of the lake's query embedder between
the question and ``"speaker: text"``, the fusion baseline's dense side — in ``dense<50``, ``dense<100``,
``dense<200`` or ``dense>=200``. A turn the dense reader puts beyond rank 200 of ~600 shares neither words nor
meaning with the question that a bi-encoder sees ("What is Caroline's relationship status?" ← "It'll be tough as
a single parent"): no re-ranking of candidates brings it back; only a reader that infers does. The bins are
reported per category, as shares of the evidence turns.

```sh
.venv/bin/python benchmarks/locomo_ceiling.py                          # 10 conversations, minilm, ~4 min
.venv/bin/python benchmarks/locomo_ceiling.py --workdir /tmp/loc-lake   # keep the lake; a second run reuses it
```
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from locomo import CATEGORIES, DEFAULT_DATA, ROOT, SOURCE_NOTE, Engines, load  # noqa: E402
from locomo_turns import dense_similarities, turn_sequence  # noqa: E402

__all__ = ["SEARCH_BINS", "DENSE_BINS", "search_bin", "dense_bin", "tally", "markdown", "main"]

SEARCH_BINS = ("top10", "11-25", "26-50", "missed")
DENSE_BINS = ("dense<50", "dense<100", "dense<200", "dense>=200")
SEARCH_K = 50


def search_bin(turn: str, shown: Sequence[str]) -> str:
    """The bin of ``turn`` in ``shown`` (the distinct turns of a result list, in order)."""
    if turn not in shown:
        return "missed"
    rank = list(shown).index(turn) + 1
    return "top10" if rank <= 10 else "11-25" if rank <= 25 else "26-50"


def dense_bin(rank: int) -> str:
    """The bin of a 1-based dense rank."""
    return "dense<50" if rank <= 50 else "dense<100" if rank <= 100 else "dense<200" if rank <= 200 else \
        "dense>=200"


def tally(rows: list[tuple[str, str, str | None]]) -> dict[str, Any]:
    """``rows``: ``(category, search bin, dense bin of a missed turn or None)`` per evidence turn -> per
    category (and ``overall``): the turn count and each bin's share of the turns."""
    groups: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    for cat, s, d in rows:
        groups[cat].append((s, d))
        groups["overall"].append((s, d))
    out: dict[str, Any] = {}
    for cat, items in groups.items():
        n = len(items)
        s_count = Counter(s for s, _ in items)
        d_count = Counter(d for _, d in items if d is not None)
        out[cat] = {"evidence_turns": n, **{b: round(s_count[b] / n, 4) for b in SEARCH_BINS},
                    **{b: round(d_count[b] / n, 4) for b in DENSE_BINS}}
    return out


def markdown(res: dict[str, Any]) -> str:
    cols = [*SEARCH_BINS, *(f"missed, {b}" for b in DENSE_BINS)]
    lines = ["| category | evidence turns | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(cols)]
    for cat in ["overall", *CATEGORIES.values()]:
        if cat in res:
            r = res[cat]
            lines.append(f"| {cat} | {r['evidence_turns']} | "
                         + " | ".join(f"{r[b]:.3f}" for b in (*SEARCH_BINS, *DENSE_BINS)) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=DEFAULT_DATA, help="locomo10.json (relative paths: to the repo root)")
    ap.add_argument("--embedder", default="minilm", help="minilm | static | hash")
    ap.add_argument("--conversations", type=int, default=None, help="only the first N conversations")
    ap.add_argument("--workdir", default=None, help="keep the lake here (reused when it was built before)")
    ap.add_argument("--out", default="benchmarks/results/locomo_ceiling.json", help="JSON result")
    args = ap.parse_args(argv)
    data = Path(args.data) if Path(args.data).is_absolute() else ROOT / args.data
    if not data.is_file():
        print(f"error: LoCoMo data not found at {data.resolve()}\n{SOURCE_NOTE}", file=sys.stderr)
        return 2
    import shutil
    import tempfile

    import tracelake

    started = time.perf_counter()
    convs = load(data, args.conversations)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="tl-locomo-ceiling-"))
    lake = tracelake.connect(str(workdir / "lake"), embedder=args.embedder)
    try:
        return _measure(lake, workdir / "built", convs, args, started)
    finally:
        lake.close()
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def _measure(lake: Any, built: Path, convs: list[Any], args: argparse.Namespace, started: float) -> int:
    """Builds the lake unless ``built`` marks it done (for the same conversations and embedder; another one is an
    error, not a silent mix), bins every evidence turn, writes ``--out``."""
    marker = f"{len(convs)} conversations, {args.embedder}"
    if not built.exists():
        lake.ingest([e for c in convs for e in c.events("plain")])
        lake.consolidate()
        built.write_text(marker)
    elif built.read_text() != marker:
        raise SystemExit(f"--workdir {built.parent} holds a lake of {built.read_text()!r}, not {marker!r}: "
                         "use another --workdir")
    questions = [q for c in convs for q in c.questions]
    engines = Engines(lake, [q.text for q in questions])
    engine = engines.engine()
    rows: list[tuple[str, str, str | None]] = []
    for c in convs:
        ids = list(c.turns)
        sims = dense_similarities([f"{c.turns[i].speaker}: {c.turns[i].text}" for i in ids],
                                  [q.text for q in c.questions], engines.embedder.embed)
        for q, q_sims in zip(c.questions, sims):
            shown = turn_sequence(h.source_event_ids for h in engine.search(q.text, q.tenant, c.end, SEARCH_K))
            order = np.argsort(-q_sims, kind="stable")
            dense_rank = {ids[j]: r + 1 for r, j in enumerate(order.tolist())}
            for e in q.evidence:
                s = search_bin(e, shown)
                rows.append((CATEGORIES.get(q.category, str(q.category)), s,
                             dense_bin(dense_rank.get(e, len(ids) + 1)) if s == "missed" else None))
    res = {"conversations": len(convs), "questions": len(questions), "embedder": args.embedder,
           "search_k": SEARCH_K, "bins": tally(rows), "seconds": round(time.perf_counter() - started, 1)}
    out = Path(args.out) if Path(args.out).is_absolute() else ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    print(markdown(res["bins"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
