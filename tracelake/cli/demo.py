"""``demo``: the main job end to end on the bundled sample story, with time-aware answers."""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from typing import Any

from tracelake.cli._common import EXIT_OK, Actions, Command, consolidate_with_progress, open_lake, print_json

__all__ = ["register", "DEMO_MOMENTS"]

DEMO_MOMENTS = ("2023-05-15T00:00:00Z", "2023-07-01T00:00:00Z", "2023-10-01T00:00:00Z")


def register(command: Command, actions: Actions) -> None:
    p = command("demo", "the main job end to end on a bundled sample stream")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    """Ingest the bundled story, consolidate it, and answer a few time-aware questions."""
    sample = resources.files("tracelake").joinpath("samples/demo.jsonl")
    lake = open_lake(args)
    say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    say(f"lake: {lake.uri}")
    with resources.as_file(sample) as path:
        result = lake.ingest(str(path), source="demo")
    say(f"\n1. ingest: accepted {result.accepted}, duplicates {result.duplicates}, rejected {len(result.rejected)}")
    for line, reason in result.rejected:
        say(f"   rejected line {line}: {reason}")
    report = consolidate_with_progress(lake, None, ["decompose", "merge", "decay", "reindex"])
    merge = report.steps.get("merge", {})
    say(f"\n2. consolidate: {report.status}, {report.events_in} events -> {merge.get('traces_new', 0)} traces, "
        f"{merge.get('facts_inserted', 0)} fact versions, {merge.get('entities_upserted', 0)} entities")
    answers: dict[str, Any] = {"ingest": result.to_dict(), "consolidate": report.to_dict()}

    history = lake.sql(
        "SELECT object, valid_from, valid_to, modality, statement FROM facts WHERE tenant = 'alice' AND "
        "subject = 'Alice' AND predicate = 'lives_in' AND retracted_at IS NULL ORDER BY valid_from")
    say("\n3. where Alice lived — the full history (a superseded fact is closed, never deleted; a plan is no state):")
    for row in history.to_pylist():
        plan = f" [{row['modality']}]" if row.get("modality") in ("plan", "hypothetical") else ""
        say(f"   {row['object']:<8} valid {_day(row['valid_from'])} .. {_day(row['valid_to']) or 'now'}{plan}"
            f"   ({row['statement']})")
    answers["lives_in_history"] = history.to_pylist()

    say("\n4. what was true at each moment (facts as_of):")
    answers["as_of"] = {}
    for moment in DEMO_MOMENTS:
        rows = lake.facts("alice", subject="Alice", as_of=moment).to_pylist()
        current = {r["predicate"]: r["object"] for r in rows}
        answers["as_of"][moment] = current
        say(f"   {moment[:10]}: lives_in={current.get('lives_in')}, works_at={current.get('works_at')}, "
            f"offered={current.get('offered')}")

    question = "Where does Alice live and work?"
    say(f"\n5. search {question!r} as of 2023-06-01 vs now (each hit cites its events):")
    answers["search"] = {}
    for as_of in ("2023-06-01T00:00:00Z", None):
        hits = lake.search(question, tenant="alice", as_of=as_of, k=3)
        answers["search"][as_of or "now"] = [h.to_dict() for h in hits]
        say(f"   as of {as_of or 'now'}:")
        for h in hits:
            say(f"     {h.score:.3f}  {h.text}  {list(h.source_event_ids)}")
    bob = lake.facts("bob", subject="Sarah").to_pylist()
    say("\n6. tenants stay apart: bob's Sarah -> " + ", ".join(f"{r['predicate']}={r['object']}" for r in bob))
    answers["bob_sarah"] = bob
    if args.json:
        print_json(answers)
    return EXIT_OK


def _day(value: Any) -> str:
    return value.date().isoformat() if value is not None else ""
