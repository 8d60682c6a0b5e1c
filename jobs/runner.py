"""What a scheduled job runs. Referenced by the scheduler as ``tracelake.jobs.runner:run_job`` so a
schedule persisted in the job store survives restarts and code reloads."""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["run_job", "JOB_KINDS"]

log = logging.getLogger("tracelake.jobs")

#: Job kinds and the consolidation steps each runs.
JOB_KINDS: dict[str, tuple[str, ...]] = {
    "consolidate": ("decompose", "merge", "decay", "reindex"),
    "reindex": ("reindex",),
    "decay": ("decay",),
}


def run_job(data: str, kind: str = "consolidate", tenant: str | None = None, steps: list[str] | None = None,
            storage_options: dict[str, str] | None = None, ray_address: str | None = None) -> dict[str, Any]:
    """Run one job now; returns the run report (also recorded in ``job_runs``, failures included)."""
    import tracelake

    lake = tracelake.connect(data, storage_options=storage_options, ray_address=ray_address)
    report = lake.consolidate(tenant, steps=steps or JOB_KINDS[kind])
    log.info("job %s on %s: %s (%d events)", kind, data, report.status, report.events_in)
    return report.to_dict()
