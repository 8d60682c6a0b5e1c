"""``search``, ``reconstruct``, ``timeline``, ``facts``, ``sql``: the read side (docs/queries.md)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tracelake.cli._common import EXIT_OK, EXIT_PARTIAL, Actions, Command, err, open_lake, print_json, print_table, short
from tracelake.errors import QueryError

__all__ = ["register"]


def register(command: Command, actions: Actions) -> None:
    p = command("search", "ranked traces for a question (vector + full text + entities + time + strength)")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--tenant", required=True)
    p.add_argument("--as-of", metavar="TIME", help="nothing derived from events after TIME (ISO-8601 or epoch ms)")
    p.add_argument("--k", type=int, default=10, help="number of hits (default 10)")
    p.add_argument("--include-archived", action="store_true", help="also return archived (faded) traces")
    p.add_argument("--context", type=int, default=0, metavar="N",
                   help="show up to N neighbouring events of each hit's stream on each side (default 0)")
    p.set_defaults(func=cmd_search)

    p = command("reconstruct", "a situation-level bundle: episodes, entities, facts with history, timeline")
    p.add_argument("question", metavar="QUESTION")
    p.add_argument("--tenant", required=True)
    p.add_argument("--as-of", metavar="TIME")
    p.add_argument("--known-at", metavar="TIME", help="facts as the lake knew them at TIME (default now)")
    p.add_argument("--k", type=int, default=12, help="number of hits to build the bundle from (default 12)")
    p.add_argument("--budget", type=int, default=None, metavar="WORDS", help="cut the bundle's texts to WORDS words")
    p.set_defaults(func=cmd_reconstruct)

    p = command("timeline", "the entity's traces in time order (aliases resolved)")
    p.add_argument("entity", metavar="ENTITY")
    p.add_argument("--tenant", required=True)
    p.add_argument("--from", dest="start", metavar="TIME", help="inclusive lower bound on occurred_at")
    p.add_argument("--to", dest="end", metavar="TIME", help="exclusive upper bound on occurred_at")
    p.add_argument("--as-of", metavar="TIME", help="as known at TIME: later traces out, later sources trimmed")
    p.add_argument("--limit", type=int)
    p.set_defaults(func=cmd_timeline)

    p = command("facts", "facts valid at --as-of as the lake knew them at --known-at (both default to now)")
    p.add_argument("--tenant", required=True)
    p.add_argument("--subject", metavar="S", help="an entity name or alias")
    p.add_argument("--predicate", metavar="P")
    p.add_argument("--as-of", metavar="TIME")
    p.add_argument("--known-at", metavar="TIME")
    p.set_defaults(func=cmd_facts)

    p = command("sql", "DuckDB SQL over the lake's views; interactive without QUERY")
    p.add_argument("query", nargs="?")
    p.set_defaults(func=cmd_sql)


def cmd_search(args: argparse.Namespace) -> int:
    hits = open_lake(args).search(args.query, args.tenant, as_of=args.as_of, k=args.k,
                                  include_archived=args.include_archived, context_turns=args.context)
    if args.json:
        print_json([h.to_dict() for h in hits])
        return EXIT_OK
    if not hits:
        print("(no hits)", file=sys.stderr)
    for i, h in enumerate(hits, 1):
        d = h.to_dict()
        print(f"{i:3d}. {h.score:.4f}  {d['occurred_at']}  [{h.stream}] {short(h.text)}")
        print(f"      trace {h.trace_id}  events {', '.join(h.source_event_ids)}")
        for ev, text in zip(h.context_event_ids, h.context):
            print(f"      context {ev}: {short(text, 90)}")
    return EXIT_OK


def cmd_reconstruct(args: argparse.Namespace) -> int:
    bundle = open_lake(args).reconstruct(args.question, args.tenant, as_of=args.as_of, k=args.k,
                                         known_at=args.known_at, budget_words=args.budget)
    data = bundle.to_dict()
    if args.json:
        print_json(data)
        return EXIT_OK
    print(f"question: {bundle.question}   tenant: {bundle.tenant}   as of: {data['as_of'] or 'now'}")
    if data["time_spans"]:
        print("time: " + "; ".join(f"{s['expr']} = [{s['start']}, {s['end']})" for s in data["time_spans"]))
    print("entities: " + (", ".join(bundle.entities) or "-"))
    print("\nepisodes:")
    for ep in data["episodes"]:
        print(f"  [{ep['stream']}] {ep['start']} .. {ep['end']}  score {ep['score']:.4f}")
        for h in ep["hits"]:
            print(f"    - {h['occurred_at']} {short(h['text'], 90)}  (events {', '.join(h['source_event_ids'])})")
    print("\nfacts:")
    for f in data["facts"]:
        print(f"  {f['subject']} {f['predicate']} {f['object']}  since {f['valid_from']}"
              f"  (events {', '.join(f['source_event_ids'] or [])})")
        for old in f["history"]:
            print(f"      {old['status']}: {old['object']} [{old['valid_from']}, {old['valid_to'] or '…'})")
    print("\ntimeline:")
    for r in data["timeline"]:
        print(f"  {r['occurred_at']} [{r['stream']}] {short(r['text'], 90)}")
    return EXIT_OK


def cmd_timeline(args: argparse.Namespace) -> int:
    table = open_lake(args).timeline(args.entity, args.tenant, args.start, args.end, as_of=args.as_of,
                                     limit=args.limit)
    if args.json:
        print_json(table.to_pylist())
    else:
        print_table(table.select(["occurred_at", "stream", "actor", "text", "trace_id", "source_event_ids"]))
    return EXIT_OK


def cmd_facts(args: argparse.Namespace) -> int:
    table = open_lake(args).facts(args.tenant, args.subject, args.as_of, args.known_at, predicate=args.predicate)
    if args.json:
        print_json(table.to_pylist())
    else:
        print_table(table.select(["subject", "predicate", "object", "valid_from", "valid_to", "occurred_at",
                                  "recorded_at", "source_event_ids"]))
    return EXIT_OK


def cmd_sql(args: argparse.Namespace) -> int:
    lake = open_lake(args)
    if args.query is not None:
        return _run_sql(lake, args.query, args.json)
    return _sql_repl(lake, args.json)


def _run_sql(lake: Any, query: str, as_json: bool) -> int:
    try:
        table = lake.sql(query)
    except QueryError as exc:
        err(str(exc))
        return EXIT_PARTIAL
    if as_json:
        print_json(table.to_pylist())
    else:
        print_table(table)
    return EXIT_OK


def _sql_repl(lake: Any, as_json: bool) -> int:
    interactive = sys.stdin.isatty()
    if interactive:
        print("tracelake sql — views: events rejects traces entities facts ledger job_runs; end with ';', "
              "quit with Ctrl-D", file=sys.stderr)
    buffer: list[str] = []
    status = EXIT_OK
    while True:
        if interactive:
            print("... " if buffer else "sql> ", end="", file=sys.stderr, flush=True)
        line = sys.stdin.readline()
        if not line:
            break
        buffer.append(line)
        if line.rstrip().endswith(";"):
            status = max(status, _run_sql(lake, "".join(buffer), as_json))
            buffer = []
    if "".join(buffer).strip():
        status = max(status, _run_sql(lake, "".join(buffer), as_json))
    return status
