"""``context``: the best context for a question as of a time, within a word budget (docs/queries.md#context)."""

from __future__ import annotations

import argparse

from tracelake.cli._common import EXIT_OK, Actions, Command, emit, open_lake

__all__ = ["register"]


def register(command: Command, actions: Actions) -> None:
    p = command("context", "the best context for a question as of a time, never over --budget words: current "
                           "facts first (validity, what they superseded), then evidence turns")
    p.add_argument("question", metavar="QUESTION")
    p.add_argument("--tenant", required=True)
    p.add_argument("--as-of", metavar="TIME", help="answer as of TIME (ISO-8601 or epoch ms; default now)")
    p.add_argument("--known-at", metavar="TIME", help="as the lake knew it at TIME (default now)")
    p.add_argument("--budget", type=int, default=120, metavar="WORDS", help="word budget (default 120)")
    p.set_defaults(func=cmd_context)


def cmd_context(args: argparse.Namespace) -> int:
    ctx = open_lake(args).context(args.question, args.tenant, as_of=args.as_of, known_at=args.known_at,
                                  budget_words=args.budget)
    emit(ctx.to_dict(), args.json, lambda: print(ctx.text or "(nothing known)"))
    return EXIT_OK
