"""Schedules: persisted, listed, removed; runs missed while the scheduler was down coalesce into one."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tracelake.errors import ConfigError
from tracelake.jobs.scheduler import JobSpec, list_jobs, parse_every, remove, run_scheduler, schedule
from tracelake.settings import Settings


def _runs(lake) -> int:
    return lake.sql("select count(*) as n from job_runs")["n"][0].as_py()


def test_parse_every_and_bad_specs(tmp_path: Path) -> None:
    assert parse_every("10m") == 600 and parse_every("30") == 30 and parse_every("1.5h") == 5400
    with pytest.raises(ConfigError):
        parse_every("soon")
    settings = Settings.from_env(data=str(tmp_path / "lake"))
    with pytest.raises(ConfigError, match="exactly one"):
        schedule(settings, JobSpec("x"))
    with pytest.raises(ConfigError, match="kind"):
        schedule(settings, JobSpec("x", kind="nope", every_s=60))
    with pytest.raises(ConfigError, match="cron"):
        schedule(settings, JobSpec("x", cron="not a cron"))


def test_schedules_persist_list_and_remove(tmp_path: Path) -> None:
    settings = Settings.from_env(data=str(tmp_path / "lake"))
    schedule(settings, JobSpec("every-10m", data=settings.data, every_s=600))
    schedule(settings, JobSpec("nightly", kind="reindex", data=settings.data, cron="0 3 * * *"))
    schedule(settings, JobSpec("every-10m", data=settings.data, every_s=300))  # replaces, not duplicates
    jobs = {j["name"]: j for j in list_jobs(settings)}
    assert set(jobs) == {"every-10m", "nightly"}
    assert "0:05:00" in jobs["every-10m"]["trigger"] and jobs["nightly"]["kind"] == "reindex"
    remove(settings, "nightly")
    assert [j["name"] for j in list_jobs(settings)] == ["every-10m"]
    with pytest.raises(ConfigError, match="no such schedule"):
        remove(settings, "nightly")


def test_scheduler_restart_coalesces_missed_runs(local_lake) -> None:
    settings = Settings.from_env(data=local_lake.uri)
    schedule(settings, JobSpec("tick", data=local_lake.uri, every_s=4))
    t0 = time.monotonic()
    run_scheduler(settings, stop=threading.Event(), max_seconds=5)  # one run at ~t0+4
    first = _runs(local_lake)
    assert first == 1
    time.sleep(max(0.0, t0 + 12.5 - time.monotonic()))  # down while runs at t0+8 and t0+12 fall due
    run_scheduler(settings, stop=threading.Event(), max_seconds=1.5)
    assert _runs(local_lake) == first + 1  # the missed runs coalesced into one
    statuses = local_lake.sql("select distinct status from job_runs")["status"].to_pylist()
    assert statuses == ["noop"]
