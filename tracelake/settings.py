"""All settings in one typed object, each overridable by a ``TRACELAKE_<NAME>`` environment variable.

``Settings.from_env()`` reads the environment once, when called (never at import time); explicit
keyword arguments win over the environment, which wins over the defaults below.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from typing import Any

from tracelake.errors import ConfigError

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    """Typed configuration. Field ``foo_bar`` is overridden by ``TRACELAKE_FOO_BAR``."""

    #: Lake URI: a local path or ``s3://bucket/prefix``.
    data: str = "./tracelake-data"
    #: Ray cluster address; empty means an embedded local Ray started on demand.
    ray_address: str = ""
    #: CPUs given to the embedded local Ray (0 = all of the machine's).
    ray_num_cpus: int = 0
    #: Most events in one decomposition task of a consolidation run.
    consolidate_chunk_events: int = 512
    #: Decomposition tasks a run aims for (0 = one per CPU Ray reports), see ``pipelines/decomposition.py``.
    consolidate_tasks: int = 0
    #: Number of ingest actors; tenants are hash-partitioned across them.
    ingest_actors: int = 2
    #: An actor flushes its buffer once it holds this many rows ...
    ingest_flush_rows: int = 100_000
    #: ... or once its oldest buffered row has waited this long (seconds).
    ingest_flush_seconds: float = 0.25
    #: Rows per chunk the driver sends to an actor.
    ingest_chunk_rows: int = 50_000
    #: Chunks in flight per ingest call (bounds driver memory).
    ingest_max_inflight: int = 16
    #: Largest accepted event text, in UTF-8 bytes.
    max_text_bytes: int = 1 << 20
    #: Embedder alias (see ``tracelake.embedding``): ``minilm``, ``static`` or ``hash``.
    embedder: str = "minilm"
    #: Where the embedder's model runs: ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` (static/hash: always the CPU).
    embed_device: str = "cpu"
    #: Embed, at consolidation, each clause the read path quotes (``lake.context`` compares them with the
    #: question) into the lake's vector cache: context calls embed none (p50 ~25 % faster) for about twice the
    #: embedding work per event. Off (default): a query embeds the clauses it lacks and keeps them in memory;
    #: the answers are the same either way.
    clause_vectors: bool = False
    #: Run the spaCy parser on a GPU when one is there (``spacy.prefer_gpu``; falls back to the CPU).
    parse_gpu: bool = False
    #: Forgetting curve: initial stability of a new trace, in days. With the default threshold an
    #: unreinforced trace is archived after ~2.3 years of its tenant's time (180 × ln(1/0.01) days).
    decay_initial_stability_days: float = 180.0
    #: Each reinforcement multiplies stability by this factor.
    decay_stability_growth: float = 2.0
    #: Strength below which a trace is archived (out of default search, still queryable).
    decay_archive_threshold: float = 0.01
    #: Table versions younger than this many hours are kept by version cleanup (time travel window).
    version_retention_hours: float = 24.0 * 7
    #: Seconds the lake's lease (one consolidation or forget at a time) stays valid without renewal; the
    #: holder renews it every third of that, so a dead holder's lease can be taken over this long after.
    lease_ttl_seconds: float = 60.0
    #: Traces needed before an ANN vector index is built.
    vector_index_min_rows: int = 100_000
    #: Scheduler job store (SQLAlchemy URL); empty: ``sqlite:///<lake>/_scheduler.sqlite`` for a local lake,
    #: else ``sqlite:///~/.tracelake/scheduler.sqlite``.
    jobstore: str = ""
    #: HTTP service state (``keys.json``, ``idempotency.sqlite``); empty: ``<lake>/_service`` for a local lake,
    #: else ``~/.tracelake/service/<hash of the lake URI>``. Always a local directory.
    service_dir: str = ""
    #: Largest accepted request body, in bytes (413 above it).
    service_max_body_bytes: int = 16 << 20
    #: Largest accepted single event (its JSON), in bytes; a larger one is rejected (413 alone, per item in a batch).
    service_max_event_bytes: int = 2 << 20
    #: Most events in one ``POST /v1/events:batch`` (413 above it).
    service_max_batch_events: int = 10_000
    #: Ingest calls the service runs at once ...
    service_max_inflight: int = 8
    #: ... and requests allowed to wait for a slot; beyond that the service answers 503 with Retry-After.
    service_max_queued: int = 32
    #: Idempotency records (stored responses) are kept this many hours.
    service_idempotency_ttl_hours: float = 24.0
    #: Serve ``/metrics`` without an API key (default: an admin key is required).
    service_public_metrics: bool = False
    #: Extra Lance ``storage_options`` (e.g. for S3), given as JSON in the environment.
    storage_options: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> "Settings":
        """Build settings from defaults, then ``TRACELAKE_*`` variables, then ``overrides``."""
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"TRACELAKE_{f.name.upper()}")
            if f.name == "ray_address" and raw is None:
                raw = env.get("RAY_ADDRESS")
            if raw is not None:
                values[f.name] = _coerce(f, raw)
        for key, value in overrides.items():
            if value is None:
                continue
            if key not in {f.name for f in fields(cls)}:
                raise ConfigError("unknown setting", setting=key)
            values[key] = value
        return cls(**values)

    def replace(self, **changes: Any) -> "Settings":
        """A copy with some fields changed."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def _coerce(f: dataclasses.Field[Any], raw: str) -> Any:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if kind.startswith("dict"):
            import json

            value = json.loads(raw)
            if not isinstance(value, dict):
                raise ValueError("expected a JSON object")
            return {str(k): str(v) for k, v in value.items()}
    except ValueError as exc:
        raise ConfigError(f"invalid value for TRACELAKE_{f.name.upper()}: {exc}", value=raw) from None
    return raw
