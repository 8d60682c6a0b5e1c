"""``forget``: erase a tenant's events and everything derived only from them (docs/forget.md)."""

from __future__ import annotations

import argparse
import sys

from tracelake.cli._common import EXIT_OK, EXIT_USAGE, Actions, Command, err, open_lake, print_json

__all__ = ["register"]


def register(command: Command, actions: Actions) -> None:
    p = command("forget", "erase events of a tenant and everything derived only from them, old versions included")
    p.add_argument("--tenant", required=True)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--event-id", nargs="+", dest="event_ids", metavar="ID", help="these events")
    which.add_argument("--entity", metavar="NAME", help="every event that mentions this entity (aliases too)")
    which.add_argument("--before", metavar="TIME", help="events that occurred before TIME")
    which.add_argument("--all", action="store_true", help="every event of the tenant")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--wait", nargs="?", type=float, const=float("inf"), default=0.0, metavar="SECONDS",
                   help="if a consolidation holds the lake's lease, wait for it (for ever, or SECONDS)")
    p.set_defaults(func=cmd_forget)


def cmd_forget(args: argparse.Namespace) -> int:
    from tracelake.pipelines.forget import count_selected

    lake = open_lake(args)
    selector = dict(event_ids=args.event_ids, entity=args.entity, before=args.before, all=args.all or False)
    if not args.yes:
        n = count_selected(lake.store, args.tenant, **selector)
        if not sys.stdin.isatty():
            err(f"would erase {n} event(s) of tenant {args.tenant!r} and what derives only from them; "
                "pass --yes to confirm (no terminal to ask)")
            return EXIT_USAGE
        print(f"Erase {n} event(s) of tenant {args.tenant!r}, everything derived only from them and every older "
              "version of the lake's tables (time travel ends here)? This cannot be undone. [y/N] ",
              end="", file=sys.stderr, flush=True)
        if sys.stdin.readline().strip().lower() not in {"y", "yes"}:
            err("not confirmed: nothing erased")
            return EXIT_USAGE
    receipt = lake.forget(args.tenant, wait=args.wait, requested_by="cli", **selector)
    if args.json:
        print_json(receipt.to_dict())
    else:
        removed = ", ".join(f"{k} {v}" for k, v in receipt.removed.items()) or "nothing"
        cleaned = sum(receipt.versions_cleaned.values())
        print(f"forgot {receipt.events} event(s) of {receipt.tenant} (erasure {receipt.erasure_id}): {removed}; "
              f"{cleaned} old versions and {receipt.bytes_removed} bytes deleted; ids sha256 {receipt.ids_hash}",
              file=sys.stderr)
    return EXIT_OK
