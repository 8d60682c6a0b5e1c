"""The jobs room: schedules and runs pipelines (consolidation, reindex) and records job_runs."""
