"""Schedules on APScheduler 3 with a persistent SQLAlchemy (SQLite) job store.

Guarantees: one scheduler process per job store (``tracelake scheduler``); each job runs with
``max_instances=1`` (never overlaps itself) and ``coalesce=True`` with ``misfire_grace_time`` = one interval,
so runs missed while the scheduler was down collapse into a single run at restart. Every run is recorded in
the lake's ``job_runs`` table by the consolidation itself.
"""

from __future__ import annotations

import os
import re
import signal
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tracelake.errors import ConfigError
from tracelake.jobs.runner import JOB_KINDS
from tracelake.settings import Settings

__all__ = ["JobSpec", "jobstore_url", "schedule", "list_jobs", "remove", "get_job_kwargs", "run_scheduler", "parse_every"]

_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$")
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, None: 1}


@dataclass(frozen=True)
class JobSpec:
    """A schedule: run ``kind`` on lake ``data`` every ``every_s`` seconds or on a ``cron`` expression."""

    name: str
    kind: str = "consolidate"
    data: str = "./tracelake-data"
    tenant: str | None = None
    every_s: float | None = None
    cron: str | None = None


def parse_every(text: str) -> float:
    """``"10m"`` → 600.0; units s, m, h, d (default seconds)."""
    m = _EVERY.match(text)
    if not m:
        raise ConfigError("invalid interval (use e.g. 30s, 10m, 1h, 1d)", every=text)
    return float(m.group(1)) * _UNITS[m.group(2)]


def jobstore_url(settings: Settings) -> str:
    if settings.jobstore:
        return settings.jobstore
    if "://" not in settings.data:
        path = Path(settings.data).resolve()
        path.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path / '_scheduler.sqlite'}"
    home = Path(os.path.expanduser("~/.tracelake"))
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'scheduler.sqlite'}"


def _scheduler(settings: Settings, blocking: bool = False) -> Any:
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    cls = BlockingScheduler if blocking else BackgroundScheduler
    return cls(jobstores={"default": SQLAlchemyJobStore(url=jobstore_url(settings))},
               executors={"default": ThreadPoolExecutor(4)},
               job_defaults={"coalesce": True, "max_instances": 1}, timezone="UTC")


def schedule(settings: Settings, spec: JobSpec) -> dict[str, Any]:
    """Create or replace the schedule ``spec.name`` in the persistent job store."""
    if spec.kind not in JOB_KINDS:
        raise ConfigError(f"unknown job kind; kinds are {', '.join(JOB_KINDS)}", kind=spec.kind)
    if (spec.every_s is None) == (spec.cron is None):
        raise ConfigError("give exactly one of --every or --cron", job=spec.name)
    if spec.every_s is not None:
        from apscheduler.triggers.interval import IntervalTrigger

        trigger: Any = IntervalTrigger(seconds=spec.every_s, timezone="UTC")
        grace = max(1, int(spec.every_s))
    else:
        from apscheduler.triggers.cron import CronTrigger

        try:
            trigger = CronTrigger.from_crontab(spec.cron, timezone="UTC")
        except ValueError as exc:
            raise ConfigError(f"invalid cron expression: {exc}", cron=spec.cron) from None
        grace = 3600
    sched = _scheduler(settings)
    sched.start(paused=True)
    try:
        job = sched.add_job(
            "tracelake.jobs.runner:run_job", trigger, id=spec.name, name=spec.name, replace_existing=True,
            kwargs={"data": spec.data, "kind": spec.kind, "tenant": spec.tenant,
                    "storage_options": settings.storage_options or None, "ray_address": settings.ray_address or None},
            coalesce=True, max_instances=1, misfire_grace_time=grace,
        )
        return _describe(job)
    finally:
        sched.shutdown(wait=False)


def list_jobs(settings: Settings) -> list[dict[str, Any]]:
    sched = _scheduler(settings)
    sched.start(paused=True)
    try:
        return [_describe(j) for j in sched.get_jobs()]
    finally:
        sched.shutdown(wait=False)


def remove(settings: Settings, name: str) -> None:
    from apscheduler.jobstores.base import JobLookupError

    sched = _scheduler(settings)
    sched.start(paused=True)
    try:
        sched.remove_job(name)
    except JobLookupError:
        raise ConfigError("no such schedule", job=name) from None
    finally:
        sched.shutdown(wait=False)


def get_job_kwargs(settings: Settings, name: str) -> dict[str, Any]:
    sched = _scheduler(settings)
    sched.start(paused=True)
    try:
        job = sched.get_job(name)
        if job is None:
            raise ConfigError("no such schedule", job=name)
        return dict(job.kwargs)
    finally:
        sched.shutdown(wait=False)


def _describe(job: Any) -> dict[str, Any]:
    nxt: datetime | None = job.next_run_time
    return {"name": job.id, "trigger": str(job.trigger), "kind": job.kwargs.get("kind"),
            "data": job.kwargs.get("data"), "tenant": job.kwargs.get("tenant"),
            "next_run_at": nxt.isoformat() if nxt else None}


def run_scheduler(settings: Settings, stop: threading.Event | None = None,
                  max_seconds: float | None = None) -> None:
    """Run the scheduler until SIGINT/SIGTERM, ``stop`` is set, or ``max_seconds`` pass."""
    sched = _scheduler(settings)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    sched.start()
    try:
        stop.wait(timeout=max_seconds)
    finally:
        sched.shutdown(wait=True)


