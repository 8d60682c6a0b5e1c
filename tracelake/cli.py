"""The ``tracelake`` command line (see ../shared/INTERFACE.md §2 and docs/cli.md).

Global options (``--data``, ``--ray-address``, ``--json``) are accepted before or after the command name.
Machine output goes to stdout (``--json``); human output, progress bars and errors go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from importlib import resources
from typing import Any, Callable, Sequence

import pyarrow as pa

from tracelake.errors import QueryError, TracelakeError, ValidationError

__all__ = ["main"]

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


def _global_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--data", default=default, metavar="URI",
                        help="lake URI (default $TRACELAKE_DATA, else ./tracelake-data; s3://bucket/prefix allowed)")
    parser.add_argument("--ray-address", default=default, metavar="ADDR",
                        help="Ray cluster to join (default $RAY_ADDRESS, else an embedded local Ray)")
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS if suppress else False,
                        help="machine output (JSON) on stdout")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tracelake", description="Events in, durable time-aware traces out.")
    _global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        _global_options(p, suppress=True)
        return p

    p = command("ingest", "ingest JSONL / Parquet / Arrow events (stdin with -)")
    p.add_argument("path", metavar="PATH|-")
    p.add_argument("--tenant", help="fill records that lack a tenant")
    p.set_defaults(func=cmd_ingest)

    p = command("sql", "DuckDB SQL over the lake's views; interactive without QUERY")
    p.add_argument("query", nargs="?")
    p.set_defaults(func=cmd_sql)

    p = command("demo", "the main job end to end on a bundled sample stream")
    p.set_defaults(func=cmd_demo)
    return parser


# -- output helpers ---------------------------------------------------------------------------------------
def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value


def print_json(value: Any) -> None:
    json.dump(_jsonable(value), sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    sys.stdout.flush()


def print_table(table: pa.Table, out: Any = None) -> None:
    import polars as pl

    out = out or sys.stdout
    with pl.Config(tbl_rows=50, tbl_cols=20, fmt_str_lengths=60, tbl_hide_dataframe_shape=False):
        print(pl.from_arrow(table) if table.num_columns else "(no result)", file=out)


def err(message: str) -> None:
    print(f"tracelake: {message}", file=sys.stderr)


def _lake(args: argparse.Namespace) -> Any:
    import tracelake

    return tracelake.connect(args.data, ray_address=args.ray_address)


# -- commands -------------------------------------------------------------------------------------------
def cmd_ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    lake = _lake(args)
    bar = tqdm(unit=" events", file=sys.stderr, disable=None, desc="ingest")
    source = "-" if args.path == "-" else args.path
    result = lake.ingest(args.path, tenant=args.tenant, source=source,
                         on_ack=lambda ack: bar.update(ack.num_rows))
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


def cmd_sql(args: argparse.Namespace) -> int:
    lake = _lake(args)
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


def cmd_demo(args: argparse.Namespace) -> int:
    sample = resources.files("tracelake").joinpath("samples/demo.jsonl")
    lake = _lake(args)
    print(f"lake: {lake.uri}", file=sys.stderr)
    with resources.as_file(sample) as path:
        result = lake.ingest(str(path), source="demo")
    print(f"ingested: accepted {result.accepted}, duplicates {result.duplicates}, "
          f"rejected {len(result.rejected)}", file=sys.stderr)
    for line, reason in result.rejected:
        print(f"  rejected line {line}: {reason}", file=sys.stderr)
    landed = lake.sql("SELECT tenant, count(*) AS events, min(occurred_at) AS first, max(occurred_at) AS last "
                      "FROM events GROUP BY tenant ORDER BY tenant")
    if args.json:
        print_json({"ingest": result.to_dict(), "events": landed.to_pylist()})
    else:
        print_table(landed)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ValidationError as exc:
        err(str(exc))
        return EXIT_USAGE
    except TracelakeError as exc:
        err(str(exc))
        return EXIT_PARTIAL
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
