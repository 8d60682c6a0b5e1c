"""The ``tracelake`` command line (see ../shared/INTERFACE.md §2 and docs/cli.md).

Global options (``--data``, ``--ray-address``, ``--json``) are accepted before or after the command name.
Machine output goes to stdout (``--json``); human output, progress bars and errors go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys

from importlib import resources
from typing import Any, Callable, Sequence

import pyarrow as pa

from tracelake.errors import ConfigError, QueryError, TracelakeError, ValidationError
from tracelake.query.results import jsonable

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


def _actions(parser: argparse.ArgumentParser, dest: str) -> Callable[[str, str], argparse.ArgumentParser]:
    """Sub-actions of a command (``jobs list``, ``keys create``), each accepting the global options."""
    sub = parser.add_subparsers(dest=dest, metavar="ACTION")
    sub.required = True

    def action(name: str, help: str) -> argparse.ArgumentParser:
        q = sub.add_parser(name, help=help, description=help)
        _global_options(q, suppress=True)
        return q

    return action


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

    p = command("consolidate", "consolidate what is new: decompose, merge, decay, reindex")
    p.add_argument("--tenant")
    p.add_argument("--steps", default="decompose,merge,decay,reindex",
                   help="comma-separated subset of decompose,merge,decay,reindex")
    p.set_defaults(func=cmd_consolidate)

    p = command("jobs", "schedule, list, run and inspect consolidation jobs")
    job_action = _actions(p, "jobs_command")

    q = job_action("schedule", "create or replace a schedule (persisted; run by `tracelake scheduler`)")
    q.add_argument("name")
    q.add_argument("--kind", default="consolidate", help="consolidate (default), reindex or decay")
    q.add_argument("--every", help="interval, e.g. 10m, 1h")
    q.add_argument("--cron", help="crontab expression (UTC), e.g. '0 3 * * *'")
    q.add_argument("--tenant")
    q.set_defaults(func=cmd_jobs_schedule)
    q = job_action("list", "list schedules")
    q.set_defaults(func=cmd_jobs_list)
    q = job_action("remove", "delete a schedule")
    q.add_argument("name")
    q.set_defaults(func=cmd_jobs_remove)
    q = job_action("run", "run a scheduled job (or a job kind) now, in this process")
    q.add_argument("name", help="a schedule name, or a job kind: consolidate, reindex, decay")
    q.add_argument("--tenant")
    q.set_defaults(func=cmd_jobs_run)
    q = job_action("status", "recent runs from the job_runs table")
    q.add_argument("--limit", type=int, default=20)
    q.set_defaults(func=cmd_jobs_status)
    q = job_action("submit", "send a consolidation to a Ray cluster as a Ray job (ships the wheel)")
    q.add_argument("--address", required=True, help="Ray job server, e.g. http://head:8265")
    q.add_argument("--tenant")
    q.add_argument("--steps")
    q.add_argument("--wait", action="store_true", help="wait for the job and print its logs")
    q.set_defaults(func=cmd_jobs_submit)

    p = command("scheduler", "run the scheduler process (APScheduler, persistent job store)")
    p.set_defaults(func=cmd_scheduler)

    _query_commands(command)
    _service_commands(command)

    p = command("sql", "DuckDB SQL over the lake's views; interactive without QUERY")
    p.add_argument("query", nargs="?")
    p.set_defaults(func=cmd_sql)

    p = command("demo", "the main job end to end on a bundled sample stream")
    p.set_defaults(func=cmd_demo)
    return parser


# -- output helpers ---------------------------------------------------------------------------------------
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


def cmd_consolidate(args: argparse.Namespace) -> int:
    report = _consolidate(_lake(args), args.tenant, [s.strip() for s in args.steps.split(",") if s.strip()])
    if args.json:
        print_json(report.to_dict())
    else:
        _print_report(report)
    return EXIT_OK if report.status != "failed" else EXIT_PARTIAL


def _consolidate(lake: Any, tenant: str | None, steps: list[str]) -> Any:
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def progress(step: str, done: int, total: int) -> None:
        bar = bars.get(step)
        if bar is None:
            bar = bars[step] = tqdm(total=total, desc=step, unit=" tasks", file=sys.stderr, disable=None)
        bar.update(done - bar.n)

    try:
        return lake.consolidate(tenant, steps=steps, progress=progress)
    finally:
        for bar in bars.values():
            bar.close()


def _print_report(report: Any) -> None:
    print(f"consolidate {report.status}: {report.events_in} new events (run {report.run_id})", file=sys.stderr)
    for step, counts in report.steps.items():
        if counts:
            shown = ", ".join(f"{k} {v}" for k, v in counts.items() if not isinstance(v, dict))
            print(f"  {step}: {shown or json.dumps(counts, default=str)[:200]}", file=sys.stderr)


def _settings(args: argparse.Namespace) -> Any:
    from tracelake.settings import Settings

    return Settings.from_env(data=args.data, ray_address=args.ray_address)


def _emit(value: Any, as_json: bool, human: Callable[[], None]) -> None:
    if as_json:
        print_json(value)
    else:
        human()


def cmd_jobs_schedule(args: argparse.Namespace) -> int:
    from tracelake.jobs.scheduler import JobSpec, parse_every, schedule

    settings = _settings(args)
    spec = JobSpec(args.name, args.kind, settings.data, args.tenant,
                   parse_every(args.every) if args.every else None, args.cron)
    job = schedule(settings, spec)
    _emit(job, args.json, lambda: print(f"scheduled {job['name']}: {job['trigger']}, next {job['next_run_at']}",
                                        file=sys.stderr))
    return EXIT_OK


def cmd_jobs_list(args: argparse.Namespace) -> int:
    from tracelake.jobs.scheduler import list_jobs

    jobs = list_jobs(_settings(args))
    _emit(jobs, args.json, lambda: print_table(pa.Table.from_pylist(jobs)) if jobs else print("(no schedules)"))
    return EXIT_OK


def cmd_jobs_remove(args: argparse.Namespace) -> int:
    from tracelake.jobs.scheduler import remove

    remove(_settings(args), args.name)
    _emit({"removed": args.name}, args.json, lambda: print(f"removed {args.name}", file=sys.stderr))
    return EXIT_OK


def cmd_jobs_run(args: argparse.Namespace) -> int:
    from tracelake.jobs.runner import JOB_KINDS
    from tracelake.jobs.scheduler import get_job_kwargs

    settings = _settings(args)
    if args.name in JOB_KINDS:
        kind, tenant = args.name, args.tenant
    else:
        kwargs = get_job_kwargs(settings, args.name)
        kind, tenant = kwargs.get("kind", "consolidate"), args.tenant or kwargs.get("tenant")
    report = _consolidate(_lake(args), tenant, list(JOB_KINDS[kind]))
    _emit(report.to_dict(), args.json, lambda: _print_report(report))
    return EXIT_OK if report.status != "failed" else EXIT_PARTIAL


def cmd_jobs_status(args: argparse.Namespace) -> int:
    table = _lake(args).sql(
        "SELECT run_id, job, tenant, status, started_at, finished_at, events_in, error FROM job_runs "
        f"ORDER BY started_at DESC LIMIT {int(args.limit)}")
    _emit(table.to_pylist(), args.json, lambda: print_table(table))
    return EXIT_OK


def cmd_jobs_submit(args: argparse.Namespace) -> int:
    from tracelake.jobs.submit import submit_consolidation

    out = submit_consolidation(args.address, _settings(args).data, tenant=args.tenant, steps=args.steps,
                               wait=args.wait)
    _emit(out, args.json, lambda: print(f"submitted Ray job {out['job_id']} ({out['status']})", file=sys.stderr))
    return EXIT_OK if out["status"] in {"SUBMITTED", "SUCCEEDED"} else EXIT_PARTIAL


def cmd_scheduler(args: argparse.Namespace) -> int:
    from tracelake.jobs.scheduler import jobstore_url, run_scheduler

    settings = _settings(args)
    print(f"tracelake scheduler: job store {jobstore_url(settings)}; Ctrl-C to stop", file=sys.stderr)
    run_scheduler(settings)
    return EXIT_OK


# -- time-aware queries (tracelake.query; docs/queries.md) --------------------------------------------------
def _query_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
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


def _short(text: str | None, width: int = 100) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def cmd_search(args: argparse.Namespace) -> int:
    hits = _lake(args).search(args.query, args.tenant, as_of=args.as_of, k=args.k,
                              include_archived=args.include_archived, context_turns=args.context)
    if args.json:
        print_json([h.to_dict() for h in hits])
        return EXIT_OK
    if not hits:
        print("(no hits)", file=sys.stderr)
    for i, h in enumerate(hits, 1):
        d = h.to_dict()
        print(f"{i:3d}. {h.score:.4f}  {d['occurred_at']}  [{h.stream}] {_short(h.text)}")
        print(f"      trace {h.trace_id}  events {', '.join(h.source_event_ids)}")
        for ev, text in zip(h.context_event_ids, h.context):
            print(f"      context {ev}: {_short(text, 90)}")
    return EXIT_OK


def cmd_reconstruct(args: argparse.Namespace) -> int:
    bundle = _lake(args).reconstruct(args.question, args.tenant, as_of=args.as_of, k=args.k,
                                     known_at=args.known_at)
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
            print(f"    - {h['occurred_at']} {_short(h['text'], 90)}  (events {', '.join(h['source_event_ids'])})")
    print("\nfacts:")
    for f in data["facts"]:
        print(f"  {f['subject']} {f['predicate']} {f['object']}  since {f['valid_from']}"
              f"  (events {', '.join(f['source_event_ids'] or [])})")
        for old in f["history"]:
            print(f"      {old['status']}: {old['object']} [{old['valid_from']}, {old['valid_to'] or '…'})")
    print("\ntimeline:")
    for r in data["timeline"]:
        print(f"  {r['occurred_at']} [{r['stream']}] {_short(r['text'], 90)}")
    return EXIT_OK


def cmd_timeline(args: argparse.Namespace) -> int:
    table = _lake(args).timeline(args.entity, args.tenant, args.start, args.end, as_of=args.as_of,
                                 limit=args.limit)
    if args.json:
        print_json(table.to_pylist())
    else:
        print_table(table.select(["occurred_at", "stream", "actor", "text", "trace_id", "source_event_ids"]))
    return EXIT_OK


def cmd_facts(args: argparse.Namespace) -> int:
    table = _lake(args).facts(args.tenant, args.subject, args.as_of, args.known_at, predicate=args.predicate)
    if args.json:
        print_json(table.to_pylist())
    else:
        print_table(table.select(["subject", "predicate", "object", "valid_from", "valid_to", "occurred_at",
                                  "recorded_at", "source_event_ids"]))
    return EXIT_OK


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


DEMO_MOMENTS = ("2023-05-15T00:00:00Z", "2023-07-01T00:00:00Z", "2023-10-01T00:00:00Z")


def cmd_demo(args: argparse.Namespace) -> int:
    """Ingest the bundled story, consolidate it, and answer a few time-aware questions."""
    sample = resources.files("tracelake").joinpath("samples/demo.jsonl")
    lake = _lake(args)
    say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    say(f"lake: {lake.uri}")
    with resources.as_file(sample) as path:
        result = lake.ingest(str(path), source="demo")
    say(f"\n1. ingest: accepted {result.accepted}, duplicates {result.duplicates}, rejected {len(result.rejected)}")
    for line, reason in result.rejected:
        say(f"   rejected line {line}: {reason}")
    report = _consolidate(lake, None, ["decompose", "merge", "decay", "reindex"])
    merge = report.steps.get("merge", {})
    say(f"\n2. consolidate: {report.status}, {report.events_in} events -> {merge.get('traces_new', 0)} traces, "
        f"{merge.get('facts_inserted', 0)} fact versions, {merge.get('entities_upserted', 0)} entities")
    answers: dict[str, Any] = {"ingest": result.to_dict(), "consolidate": report.to_dict()}

    history = lake.sql(
        "SELECT object, valid_from, valid_to, statement FROM facts WHERE tenant = 'alice' AND subject = 'Alice' "
        "AND predicate = 'lives_in' AND retracted_at IS NULL ORDER BY valid_from")
    say("\n3. where Alice lived — the full history (a superseded fact is closed, never deleted):")
    for row in history.to_pylist():
        say(f"   {row['object']:<8} valid {_day(row['valid_from'])} .. {_day(row['valid_to']) or 'now'}"
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


# -- the HTTP service (tracelake.service; docs/service.md) ----------------------------------------------------
def _service_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    p = command("serve", "the HTTP service for apps: ingest, query, health, metrics (docs/service.md)")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8600, help="port (default 8600)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.add_argument("--no-access-log", dest="access_log", action="store_false", help="do not log each request")
    p.set_defaults(func=cmd_serve)

    p = command("keys", "API keys of the HTTP service: create, list, revoke")
    key_action = _actions(p, "keys_command")

    q = key_action("create", "create a key bound to tenants; its secret is printed once, on stdout")
    q.add_argument("--tenant", action="append", default=[], metavar="T", help="a tenant the key may write and read "
                   "(repeatable)")
    q.add_argument("--all-tenants", action="store_true", help="the key may access every tenant")
    q.add_argument("--admin", action="store_true", help="may also call /v1/admin/* and /metrics")
    q.add_argument("--name", help="a label for the key")
    q.set_defaults(func=cmd_keys_create)
    q = key_action("list", "list keys (never their secrets)")
    q.set_defaults(func=cmd_keys_list)
    q = key_action("revoke", "revoke a key (takes effect on the service's next request)")
    q.add_argument("key_id", metavar="KEY_ID")
    q.set_defaults(func=cmd_keys_revoke)


def _keystore(args: argparse.Namespace) -> Any:
    from tracelake.service import KeyStore, service_dir

    return KeyStore(service_dir(_settings(args)) / "keys.json")


def cmd_serve(args: argparse.Namespace) -> int:
    from tracelake.service import serve

    lake = _lake(args)
    print(f"tracelake serve: lake {lake.uri} on http://{args.host}:{args.port} (OpenAPI at /docs); Ctrl-C to stop",
          file=sys.stderr)
    serve(lake, args.host, args.port, log_level=args.log_level, access_log=args.access_log)
    return EXIT_OK


def cmd_keys_create(args: argparse.Namespace) -> int:
    store = _keystore(args)
    tenants = list(args.tenant) + (["*"] if args.all_tenants else [])
    key, secret = store.create(tenants, admin=args.admin, name=args.name)
    if args.json:
        print_json({**key.public(), "secret": secret})
    else:
        print(f"created key {key.key_id} for tenants {', '.join(key.tenants) or '(none)'}"
              f"{' (admin)' if key.admin else ''} in {store.path}; the secret is shown only now:", file=sys.stderr)
        print(secret)
    return EXIT_OK


def cmd_keys_list(args: argparse.Namespace) -> int:
    keys = [k.public() for k in _keystore(args).list()]
    rows = [{**k, "tenants": ",".join(k["tenants"])} for k in keys]
    _emit(keys, args.json, lambda: print_table(pa.Table.from_pylist(rows)) if rows else print("(no keys)"))
    return EXIT_OK


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    key = _keystore(args).revoke(args.key_id)
    _emit(key.public(), args.json, lambda: print(f"revoked {key.key_id} at {key.revoked_at}", file=sys.stderr))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
