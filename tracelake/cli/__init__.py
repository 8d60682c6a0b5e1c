"""The ``tracelake`` command line (see ../shared/INTERFACE.md §2 and docs/cli.md).

One module per command group; each exposes ``register(command, actions)`` and is listed in ``GROUPS`` (the
order of ``tracelake --help``). Global options (``--data``, ``--ray-address``, ``--json``) are accepted before or
after the command name. Machine output goes to stdout (``--json``); human output, progress bars and errors go to
stderr. Exit codes: 0 ok, 1 partial failure (some records rejected, a failed run, an SQL error), 2 usage or
input errors (``ValidationError``, ``ConfigError``).
"""

from __future__ import annotations

import argparse
from typing import Callable, Sequence

from tracelake.cli import context, demo, forget, ingest, jobs, mcp, query, service
from tracelake.cli._common import EXIT_PARTIAL, EXIT_USAGE, actions, err, global_options
from tracelake.errors import ConfigError, TracelakeError, ValidationError

__all__ = ["main", "GROUPS"]

GROUPS = [ingest, jobs, query, context, forget, service, mcp, demo]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tracelake", description="Events in, durable time-aware traces out.")
    global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        global_options(p, suppress=True)
        return p

    for group in GROUPS:
        group.register(command, actions)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except (ValidationError, ConfigError) as exc:
        err(str(exc))
        return EXIT_USAGE
    except TracelakeError as exc:
        err(str(exc))
        return EXIT_PARTIAL
    except KeyboardInterrupt:
        return 130
