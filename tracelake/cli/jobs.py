"""``jobs …`` and ``scheduler``: schedules and runs of consolidation jobs (docs/jobs.md)."""

from __future__ import annotations

import argparse
import sys

import pyarrow as pa

from tracelake.cli._common import (EXIT_OK, EXIT_PARTIAL, Actions, Command, consolidate_with_progress, emit,
                                   open_lake, print_report, print_table, settings)

__all__ = ["register"]


def register(command: Command, actions: Actions) -> None:
    p = command("jobs", "schedule, list, run and inspect consolidation jobs")
    job_action = actions(p, "jobs_command")

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


def cmd_jobs_schedule(args: argparse.Namespace) -> int:
    from tracelake.jobs.scheduler import JobSpec, parse_every, schedule

    s = settings(args)
    spec = JobSpec(args.name, args.kind, s.data, args.tenant, parse_every(args.every) if args.every else None,
                   args.cron)
    job = schedule(s, spec)
    emit(job, args.json, lambda: print(f"scheduled {job['name']}: {job['trigger']}, next {job['next_run_at']}",
                                       file=sys.stderr))
    return EXIT_OK


def cmd_jobs_list(args: argparse.Namespace) -> int:
    from tracelake.jobs.scheduler import list_jobs

    jobs = list_jobs(settings(args))
    emit(jobs, args.json, lambda: print_table(pa.Table.from_pylist(jobs)) if jobs else print("(no schedules)"))
    return EXIT_OK


def cmd_jobs_remove(args: argparse.Namespace) -> int:
    from tracelake.jobs.scheduler import remove

    remove(settings(args), args.name)
    emit({"removed": args.name}, args.json, lambda: print(f"removed {args.name}", file=sys.stderr))
    return EXIT_OK


def cmd_jobs_run(args: argparse.Namespace) -> int:
    from tracelake.jobs.runner import JOB_KINDS
    from tracelake.jobs.scheduler import get_job_kwargs

    s = settings(args)
    if args.name in JOB_KINDS:
        kind, tenant = args.name, args.tenant
    else:
        kwargs = get_job_kwargs(s, args.name)
        kind, tenant = kwargs.get("kind", "consolidate"), args.tenant or kwargs.get("tenant")
    report = consolidate_with_progress(open_lake(args), tenant, list(JOB_KINDS[kind]))
    emit(report.to_dict(), args.json, lambda: print_report(report))
    return EXIT_OK if report.status != "failed" else EXIT_PARTIAL


def cmd_jobs_status(args: argparse.Namespace) -> int:
    table = open_lake(args).sql(
        "SELECT run_id, job, tenant, status, started_at, finished_at, events_in, error FROM job_runs "
        f"ORDER BY started_at DESC LIMIT {int(args.limit)}")
    emit(table.to_pylist(), args.json, lambda: print_table(table))
    return EXIT_OK


def cmd_jobs_submit(args: argparse.Namespace) -> int:
    from tracelake.jobs.submit import submit_consolidation

    out = submit_consolidation(args.address, settings(args).data, tenant=args.tenant, steps=args.steps,
                               wait=args.wait)
    emit(out, args.json, lambda: print(f"submitted Ray job {out['job_id']} ({out['status']})", file=sys.stderr))
    return EXIT_OK if out["status"] in {"SUBMITTED", "SUCCEEDED"} else EXIT_PARTIAL


def cmd_scheduler(args: argparse.Namespace) -> int:
    from tracelake.jobs.scheduler import jobstore_url, run_scheduler

    s = settings(args)
    print(f"tracelake scheduler: job store {jobstore_url(s)}; Ctrl-C to stop", file=sys.stderr)
    run_scheduler(s)
    return EXIT_OK
