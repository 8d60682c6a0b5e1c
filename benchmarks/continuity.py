"""Continuity benchmark over the story corpus in ``benchmarks/continuity/`` (issues 10 and 11).

Run (from the repo root)::

    .venv/bin/python benchmarks/continuity.py --validate [FILES...]   # check the corpus format
    .venv/bin/python benchmarks/continuity.py --facts [--sample 100]   # fact recall, facts per turn, audit dump
    .venv/bin/python benchmarks/continuity.py --context                # pass rate of lake.context vs baselines

``--stories p01-s01,p02-s03`` restricts a run to some stories (``--persons p01`` to some persons). Each
measurement writes JSON under ``benchmarks/results/`` and prints a markdown table; the method is in
``docs/continuity.md`` and the format in ``benchmarks/continuity/README.md``. Tracelake is driven only
through its public API (``tracelake.connect``, ``ingest``, ``consolidate``, ``facts``, ``search``,
``context``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from continuity_corpus import grouped_turns, load_corpus, story_files, validate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def _validate(paths: list[Path]) -> int:
    """Validate the files under ``paths`` together (a file's earlier stories are added for cross checks)."""
    given = [p.resolve() for p in story_files(paths or None)]
    tenants, names = {p.name[:3] for p in given}, {p.name for p in given}
    folders = {p.parent for p in given}
    context = [p for p in story_files(sorted(folders)) if p.name[:3] in tenants and p.name not in names]
    stories, errors = validate(given + context)
    for line in errors:
        print(line)
    n_q = sum(len(s.questions) for s in stories)
    n_t = sum(len(s.turns) for s in stories)
    print(f"{len(given)} file(s) checked ({len(context)} more of the same persons for cross checks): "
          f"{len(stories)} valid stories, {n_t} turns, {n_q} questions, {len(errors)} problem(s)")
    return 1 if errors else 0


def _select(args: argparse.Namespace) -> list:
    ids = [s for s in (args.stories or "").split(",") if s]
    persons = [p for p in (args.persons or "").split(",") if p]
    return load_corpus(ids or None, persons or None, skip_invalid=args.skip_invalid, folder=args.corpus)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--validate", nargs="*", type=Path, metavar="FILE", help="check story files (default: all)")
    mode.add_argument("--facts", action="store_true", help="fact recall and facts per turn")
    mode.add_argument("--context", action="store_true", help="pass rate of lake.context next to baselines")
    mode.add_argument("--from-rows", type=Path, metavar="JSONL", help="summarize a --context run's question rows")
    ap.add_argument("--corpus", type=Path, help="story folder (default: benchmarks/continuity/stories; the held-out "
                    "sets: benchmarks/continuity/holdout, benchmarks/continuity/holdout2)")
    ap.add_argument("--stories", help="comma-separated story ids (default: all)")
    ap.add_argument("--persons", help="comma-separated tenants pNN (default: all)")
    ap.add_argument("--skip-invalid", action="store_true", help="leave out persons whose stories have problems")
    ap.add_argument("--sample", type=int, default=0, help="--facts: dump N produced facts (seeded) for an audit")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--embedder", help="tracelake embedder alias (default: hash for --facts, minilm for --context)")
    ap.add_argument("--budgets", default="30,60,120", help="--context: word budgets")
    ap.add_argument("--turn-budgets", default="5,10,25,50", help="--context: turn budgets of evidence recall")
    ap.add_argument("--modes", default="isolated,cumulative", help="--context: isolated, cumulative, shared")
    ap.add_argument("--turns-per-event", type=int, default=1, metavar="N",
                    help="tell every N consecutive turns of a story as one event (long turns; --facts and --context)")
    ap.add_argument("--out", type=Path, help="JSON result (default: benchmarks/results/continuity_<mode>.json)")
    ap.add_argument("--workdir", type=Path, help="lake folder (default: a temporary one, removed)")
    args = ap.parse_args(argv)
    if args.validate is not None:
        return _validate(args.validate)
    if args.from_rows:
        from continuity_context import summarize_rows_file

        return summarize_rows_file(args.from_rows, args.out or RESULTS / "continuity_context_rows.json")
    if args.turns_per_event < 1:
        ap.error("--turns-per-event must be >= 1")
    stories = grouped_turns(_select(args), args.turns_per_event)
    if args.facts:
        from continuity_facts import run_facts

        return run_facts(stories, args, args.out or RESULTS / "continuity_facts.json")
    from continuity_context import run_context

    return run_context(stories, args, args.out or RESULTS / "continuity_context.json")


if __name__ == "__main__":
    sys.exit(main())
