"""What every command group shares: global options, exit codes, output helpers, opening the lake."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable

import pyarrow as pa

from tracelake.results import jsonable

__all__ = ["EXIT_OK", "EXIT_PARTIAL", "EXIT_USAGE", "Command", "Actions", "global_options", "actions",
           "print_json", "print_table", "err", "emit", "short", "open_lake", "settings", "consolidate_with_progress",
           "print_report"]

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2

#: ``command(name, help)`` adds a top-level command and returns its parser (global options included).
Command = Callable[[str, str], argparse.ArgumentParser]
#: ``actions(parser, dest)`` gives a command sub-actions (``jobs list``) and returns their ``Command`` factory.
Actions = Callable[[argparse.ArgumentParser, str], Command]


def global_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """``--data``, ``--ray-address``, ``--json``; ``suppress`` on sub-parsers so a value given before the
    command name is not overwritten by the sub-parser's default."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--data", default=default, metavar="URI",
                        help="lake URI (default $TRACELAKE_DATA, else ./tracelake-data; s3://bucket/prefix allowed)")
    parser.add_argument("--ray-address", default=default, metavar="ADDR",
                        help="Ray cluster to join (default $RAY_ADDRESS, else an embedded local Ray)")
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS if suppress else False,
                        help="machine output (JSON) on stdout")


def actions(parser: argparse.ArgumentParser, dest: str) -> Command:
    """Sub-actions of a command (``jobs list``, ``keys create``), each accepting the global options."""
    sub = parser.add_subparsers(dest=dest, metavar="ACTION")
    sub.required = True

    def action(name: str, help: str) -> argparse.ArgumentParser:
        q = sub.add_parser(name, help=help, description=help)
        global_options(q, suppress=True)
        return q

    return action


def print_json(value: Any) -> None:
    json.dump(jsonable(value), sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    sys.stdout.flush()


def print_table(table: pa.Table, out: Any = None) -> None:
    import polars as pl

    out = out or sys.stdout
    with pl.Config(tbl_rows=50, tbl_cols=20, fmt_str_lengths=60, tbl_hide_dataframe_shape=False):
        print(pl.from_arrow(table) if table.num_columns else "(no result)", file=out)


def err(message: str) -> None:
    print(f"tracelake: {message}", file=sys.stderr)


def emit(value: Any, as_json: bool, human: Callable[[], None]) -> None:
    """JSON on stdout with ``--json``, else the human rendering."""
    if as_json:
        print_json(value)
    else:
        human()


def short(text: str | None, width: int = 100) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def open_lake(args: argparse.Namespace) -> Any:
    import tracelake

    return tracelake.connect(args.data, ray_address=args.ray_address)


def settings(args: argparse.Namespace) -> Any:
    from tracelake.settings import Settings

    return Settings.from_env(data=args.data, ray_address=args.ray_address)


def consolidate_with_progress(lake: Any, tenant: str | None, steps: list[str], wait: float = 0.0) -> Any:
    """``lake.consolidate`` with one progress bar per step on stderr (``wait``: for the lake's lease)."""
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def progress(step: str, done: int, total: int) -> None:
        bar = bars.get(step)
        if bar is None:
            bar = bars[step] = tqdm(total=total, desc=step, unit=" tasks", file=sys.stderr, disable=None)
        bar.update(done - bar.n)

    try:
        return lake.consolidate(tenant, steps=steps, progress=progress, wait=wait)
    finally:
        for bar in bars.values():
            bar.close()


def print_report(report: Any) -> None:
    print(f"consolidate {report.status}: {report.events_in} new events (run {report.run_id})", file=sys.stderr)
    for step, counts in report.steps.items():
        if counts:
            shown = ", ".join(f"{k} {v}" for k, v in counts.items() if not isinstance(v, dict))
            print(f"  {step}: {shown or json.dumps(counts, default=str)[:200]}", file=sys.stderr)
