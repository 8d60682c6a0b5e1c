"""``ingest`` and ``consolidate``: the write side."""

from __future__ import annotations

import argparse
import sys

from tracelake.cli._common import (EXIT_OK, EXIT_PARTIAL, Actions, Command, consolidate_with_progress, open_lake,
                                   print_json, print_report)

__all__ = ["register"]


def register(command: Command, actions: Actions) -> None:
    p = command("ingest", "ingest JSONL / Parquet / Arrow events (stdin with -)")
    p.add_argument("path", metavar="PATH|-")
    p.add_argument("--tenant", help="fill records that lack a tenant")
    p.add_argument("--allow-reingest", action="store_true",
                   help="ingest events that `tracelake forget` erased (default: skipped as duplicates)")
    p.set_defaults(func=cmd_ingest)

    p = command("consolidate", "consolidate what is new: decompose, merge, decay, reindex")
    p.add_argument("--tenant")
    p.add_argument("--steps", default="decompose,merge,decay,reindex",
                   help="comma-separated subset of decompose,merge,decay,reindex")
    p.add_argument("--wait", nargs="?", type=float, const=float("inf"), default=0.0, metavar="SECONDS",
                   help="if another run holds the lake's lease, wait for it (for ever, or SECONDS) instead of "
                        "exiting at once")
    p.set_defaults(func=cmd_consolidate)


def cmd_ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    lake = open_lake(args)
    bar = tqdm(unit=" events", file=sys.stderr, disable=None, desc="ingest")
    source = "-" if args.path == "-" else args.path
    result = lake.ingest(args.path, tenant=args.tenant, source=source,
                         on_ack=lambda ack: bar.update(ack.num_rows), allow_reingest=args.allow_reingest)
    bar.close()
    if args.json:
        print_json(result.to_dict())
    else:
        print(f"accepted {result.accepted}, duplicates {result.duplicates}, rejected {len(result.rejected)}",
              file=sys.stderr)
        for line, reason in result.rejected[:20]:
            print(f"  line {line}: {reason}", file=sys.stderr)
        if len(result.rejected) > 20:
            print(f"  ... {len(result.rejected) - 20} more in the rejects table", file=sys.stderr)
    return EXIT_PARTIAL if result.rejected else EXIT_OK


def cmd_consolidate(args: argparse.Namespace) -> int:
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    report = consolidate_with_progress(open_lake(args), args.tenant, steps, wait=args.wait)
    if args.json:
        print_json(report.to_dict())
    else:
        print_report(report)
    return EXIT_OK if report.status != "failed" else EXIT_PARTIAL
