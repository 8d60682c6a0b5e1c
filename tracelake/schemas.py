"""Arrow schemas of every lake table, versioned in one place.

``SCHEMA_VERSION`` is stamped into each table's schema metadata when a lake is created. Opening a lake
whose tables carry another version raises :class:`~tracelake.errors.SchemaVersionError` naming the table,
the version found and the version this build reads. Bump it (and add a migration note to
``docs/schemas.md``) whenever a column is added, removed or changes type.

Time columns are ``timestamp[us, tz=UTC]``. Semantics (see ``docs/time.md``):

- ``occurred_at`` — event time; for derived rows, the event time of their earliest source.
- ``valid_from`` / ``valid_to`` — valid time of a fact, half-open ``[valid_from, valid_to)``.
- ``invalidated_at`` — event time of the statement that closed ``valid_to`` (so an ``as_of`` earlier than
  that statement still sees the fact open: zero future leakage).
- ``recorded_at`` / ``retracted_at`` — transaction time: when the lake learned / withdrew a row version.
"""

from __future__ import annotations

import pyarrow as pa

from tracelake.timeutil import TS

__all__ = [
    "SCHEMA_VERSION",
    "TABLES",
    "CONSOLIDATED_TABLES",
    "EVENTS",
    "REJECTS",
    "TRACES",
    "ENTITIES",
    "FACTS",
    "JOB_RUNS",
    "LEDGER",
    "ERASURES",
    "TOMBSTONES",
    "traces_schema",
    "schema_for",
    "TIMELINE_SCHEMA",
    "TENANT_PATTERN",
    "MAX_ID_CHARS",
    "MAX_NAME_CHARS",
]

#: What a tenant name may be (INTERFACE.md §1); validation, the service and API keys all check this one pattern.
TENANT_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
#: Longest ``event_id`` / ``stream``, ``actor``, ``kind`` accepted.
MAX_ID_CHARS = 256
MAX_NAME_CHARS = 256

SCHEMA_VERSION = 2
META_VERSION = b"tracelake.schema_version"
META_TABLE = b"tracelake.table"
META_EMBED_DIM = b"tracelake.embedding_dim"

_ids = pa.list_(pa.string())
_times = pa.list_(TS)

EVENTS = pa.schema(
    [
        pa.field("tenant", pa.string(), nullable=False),
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("stream", pa.string(), nullable=False),
        pa.field("actor", pa.string()),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("text", pa.string()),
        pa.field("attrs", pa.string()),  # JSON text, verbatim
        pa.field("occurred_at", TS, nullable=False),
        pa.field("recorded_at", TS, nullable=False),
        pa.field("batch_id", pa.string(), nullable=False),
    ]
)

REJECTS = pa.schema(
    [
        pa.field("tenant", pa.string()),
        pa.field("source", pa.string()),  # input name: a path, "-", "api", ...
        pa.field("line", pa.int64()),  # 1-based line (JSONL) or 0-based row index (tables, API)
        pa.field("field", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("raw", pa.string()),  # the offending record, truncated to 4 KiB
        pa.field("recorded_at", TS, nullable=False),
        pa.field("batch_id", pa.string(), nullable=False),
    ]
)

_TRACE_FIELDS = [
    pa.field("tenant", pa.string(), nullable=False),
    pa.field("trace_id", pa.string(), nullable=False),
    pa.field("kind", pa.string(), nullable=False),  # episodic | entity | temporal | fact
    pa.field("stream", pa.string()),
    pa.field("actor", pa.string()),
    pa.field("text", pa.string(), nullable=False),
    pa.field("occurred_at", TS, nullable=False),  # earliest source's event time
    pa.field("last_source_at", TS, nullable=False),  # latest source's event time
    pa.field("valid_from", TS),
    pa.field("valid_to", TS),
    pa.field("time_start", TS),  # resolved time expression mentioned by the trace, if any
    pa.field("time_end", TS),
    pa.field("entities", _ids),  # canonical entity names
    pa.field("keywords", _ids),
    pa.field("source_event_ids", _ids),
    pa.field("source_times", _times),  # occurred_at of each source, parallel to source_event_ids
    pa.field("merged_from", _ids),  # lineage: trace_ids that converged into this one
    pa.field("merged_into", pa.string()),  # set when this trace converged into another
    pa.field("stability", pa.float64(), nullable=False),  # days
    pa.field("last_reinforced_at", TS, nullable=False),
    pa.field("reinforcement_count", pa.int32(), nullable=False),
    pa.field("strength", pa.float64(), nullable=False),  # as of the last decay run
    pa.field("pinned", pa.bool_(), nullable=False),
    pa.field("archived", pa.bool_(), nullable=False),
    pa.field("recorded_at", TS, nullable=False),
    pa.field("updated_at", TS, nullable=False),
    # v2: statement | question | request | greeting (questions assert no fact: weak evidence for the read path)
    pa.field("speech_act", pa.string()),
    # v2: characters of the event that were analysed when it was longer than the decomposer reads (else null)
    pa.field("analysed_chars", pa.int32()),
]


def traces_schema(embedding_dim: int) -> pa.Schema:
    """The traces schema for an embedder of ``embedding_dim`` dimensions."""
    fields = list(_TRACE_FIELDS)
    fields.insert(14, pa.field("embedding", pa.list_(pa.float32(), embedding_dim)))
    return pa.schema(fields, metadata={META_EMBED_DIM: str(embedding_dim).encode()})


TRACES = traces_schema(384)

ENTITIES = pa.schema(
    [
        pa.field("tenant", pa.string(), nullable=False),
        pa.field("entity_id", pa.string(), nullable=False),
        pa.field("name", pa.string(), nullable=False),  # canonical name
        pa.field("kind", pa.string(), nullable=False),  # person | place | org | thing | time
        pa.field("aliases", _ids),
        pa.field("first_seen", TS, nullable=False),
        pa.field("last_seen", TS, nullable=False),
        pa.field("mention_count", pa.int64(), nullable=False),
        pa.field("source_event_ids", _ids),
        pa.field("recorded_at", TS, nullable=False),
        pa.field("updated_at", TS, nullable=False),
    ]
)

FACTS = pa.schema(
    [
        pa.field("tenant", pa.string(), nullable=False),
        pa.field("fact_id", pa.string(), nullable=False),  # stable id of the assertion
        pa.field("row_id", pa.string(), nullable=False),  # id of this row version
        pa.field("subject", pa.string(), nullable=False),  # canonical entity name
        pa.field("predicate", pa.string(), nullable=False),
        pa.field("object", pa.string(), nullable=False),
        pa.field("object_type", pa.string(), nullable=False),  # entity | text | money | number | time
        pa.field("value_num", pa.float64()),
        pa.field("value_time", TS),
        pa.field("statement", pa.string()),  # the sentence it was read from
        pa.field("stream", pa.string()),
        pa.field("actor", pa.string()),
        pa.field("occurred_at", TS, nullable=False),
        pa.field("valid_from", TS, nullable=False),
        pa.field("valid_to", TS),
        pa.field("invalidated_at", TS),
        pa.field("superseded_by", pa.string()),
        pa.field("source_event_ids", _ids),
        pa.field("source_times", _times),
        pa.field("reinforcement_count", pa.int32(), nullable=False),
        pa.field("stability", pa.float64(), nullable=False),
        pa.field("last_reinforced_at", TS, nullable=False),
        pa.field("strength", pa.float64(), nullable=False),
        pa.field("pinned", pa.bool_(), nullable=False),
        pa.field("archived", pa.bool_(), nullable=False),
        pa.field("recorded_at", TS, nullable=False),
        pa.field("retracted_at", TS),
        # v2. polarity: positive | negative; modality: asserted | corrected | plan | hypothetical | ended.
        # Only positive asserted/corrected facts are current state; the others are stored with an empty valid
        # interval (valid_to = valid_from) so no "as of" read asserts them. Null (older rows): positive, asserted.
        pa.field("polarity", pa.string()),
        pa.field("modality", pa.string()),
    ]
)

JOB_RUNS = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("job", pa.string(), nullable=False),  # consolidate | reindex | ...
        pa.field("tenant", pa.string()),  # null: all tenants
        pa.field("status", pa.string(), nullable=False),  # committed | noop | failed
        pa.field("started_at", TS, nullable=False),
        pa.field("finished_at", TS),
        pa.field("events_in", pa.int64()),
        pa.field("report", pa.string()),  # JSON: what each step did
        pa.field("versions", pa.string()),  # JSON: table -> Lance version published by this run
        pa.field("error", pa.string()),
    ]
)

LEDGER = pa.schema(
    [
        pa.field("tenant", pa.string(), nullable=False),
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("recorded_at", TS, nullable=False),  # the event's recorded_at (bounds the next scan)
    ]
)

ERASURES = pa.schema(
    [  # one row per completed forget: the audit trail. Never content: counts, hashes, times.
        pa.field("erasure_id", pa.string(), nullable=False),
        pa.field("tenant", pa.string(), nullable=False),
        pa.field("selector", pa.string(), nullable=False),  # JSON: kind (event_ids|entity|before|all) + hashes
        pa.field("requested_by", pa.string()),  # api | cli | http:<key_id> | mcp:<key_id>
        pa.field("events", pa.int64(), nullable=False),  # events erased
        pa.field("ids_hash", pa.string(), nullable=False),  # sha256 of the sorted erased event ids
        pa.field("removed", pa.string(), nullable=False),  # JSON: table -> rows removed or rewritten
        pa.field("versions_cleaned", pa.string(), nullable=False),  # JSON: table -> old versions deleted
        pa.field("bytes_removed", pa.int64(), nullable=False),
        pa.field("started_at", TS, nullable=False),
        pa.field("finished_at", TS, nullable=False),
    ]
)

TOMBSTONES = pa.schema(
    [  # one row per erased event: ingest refuses these ids again (unless asked). Ids and hashes only.
        pa.field("tenant", pa.string(), nullable=False),
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("text_sha256", pa.string()),  # of the erased text: proves what was erased without keeping it
        pa.field("erasure_id", pa.string(), nullable=False),
        pa.field("forgotten_at", TS, nullable=False),
    ]
)

#: Tables a consolidation run rewrites and publishes together.
#: Rows of an entity timeline (``Lake.timeline``; also what the HTTP client decodes ``/v1/timeline`` into).
TIMELINE_SCHEMA = pa.schema([
    ("tenant", pa.string()), ("trace_id", pa.string()), ("kind", pa.string()), ("stream", pa.string()),
    ("actor", pa.string()), ("text", pa.string()), ("occurred_at", TS), ("last_source_at", TS),
    ("valid_from", TS), ("valid_to", TS), ("time_start", TS), ("time_end", TS), ("entities", _ids),
    ("source_event_ids", _ids), ("strength", pa.float64()),
])

CONSOLIDATED_TABLES = ("traces", "entities", "facts", "ledger")
TABLES: dict[str, pa.Schema] = {
    "events": EVENTS,
    "rejects": REJECTS,
    "traces": TRACES,
    "entities": ENTITIES,
    "facts": FACTS,
    "ledger": LEDGER,
    "job_runs": JOB_RUNS,
    "erasures": ERASURES,
    "tombstones": TOMBSTONES,
}


def schema_for(table: str, embedding_dim: int = 384) -> pa.Schema:
    """The stamped schema of ``table`` (``traces`` depends on the embedder's dimension)."""
    schema = traces_schema(embedding_dim) if table == "traces" else TABLES[table]
    meta = dict(schema.metadata or {})
    meta[META_VERSION] = str(SCHEMA_VERSION).encode()
    meta[META_TABLE] = table.encode()
    return schema.with_metadata(meta)
