"""Pydantic models that *document* the HTTP API in its OpenAPI document.

Request bodies are parsed by hand (they are JSON arrays or NDJSON, validated per item by the ingest
pipeline so one bad record never sinks its batch), and responses are built as plain JSON for speed; these
models describe both.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tracelake.schemas import MAX_ID_CHARS, MAX_NAME_CHARS, TENANT_PATTERN

__all__ = ["OCCURRED_AT_SCHEMA", "MAX_TEXT_CHARS", "Event", "ItemResult", "AckColumns", "BatchResult", "EventResult",
           "ErrorBody", "RejectedItem", "KeyInfo"]


#: ``text`` is limited to 1 MiB of UTF-8 (a per-item rejection): a longer string of characters never fits.
MAX_TEXT_CHARS = 1 << 20
#: ``occurred_at`` as published: an RFC 3339 time (ISO-8601 with offset) or epoch milliseconds (years 1-9999).
OCCURRED_AT_SCHEMA: dict[str, Any] = {"anyOf": [
    {"type": "string", "format": "date-time", "pattern": "^[1-9][0-9]{3}-"},
    {"type": "integer", "minimum": -62135596800000, "maximum": 253402300799999},
]}


class Event(BaseModel):
    """One event (INTERFACE.md §1). ``text`` is required unless ``attrs`` is given; unknown top-level fields
    are folded into ``attrs``. A record breaking a constraint is that item's rejection (``field``, ``reason``)."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["text"], "properties": {"text": {"type": "string"}}},
        {"required": ["attrs"], "properties": {"attrs": {"type": "object"}}},
    ]})

    tenant: str | None = Field(None, description="Optional when the API key has exactly one tenant.",
                               pattern=TENANT_PATTERN)
    occurred_at: str | int = Field(..., description="ISO-8601 with offset, or epoch milliseconds.",
                                   examples=["2023-05-08T13:56:00Z"], json_schema_extra=OCCURRED_AT_SCHEMA)
    text: str | None = Field(None, max_length=MAX_TEXT_CHARS,
                             description="Required unless attrs is given; at most 1 MiB of UTF-8.")
    event_id: str | None = Field(None, min_length=1, max_length=MAX_ID_CHARS,
                                 description="Idempotency key of the event (derived from content when absent).")
    stream: str | None = Field("default", max_length=MAX_NAME_CHARS)
    actor: str | None = Field(None, max_length=MAX_NAME_CHARS)
    kind: str | None = Field("message", max_length=MAX_NAME_CHARS)
    attrs: dict[str, Any] | None = None


class ItemResult(BaseModel):
    """Outcome of one item of a batch."""

    line: int = Field(..., description="0-based index in a JSON array; 1-based line number in NDJSON.")
    event_id: str | None = None
    status: Literal["accepted", "duplicate", "rejected"]
    field: str | None = Field(None, description="The offending field of a rejected item.")
    reason: str | None = Field(None, description="Why the item was rejected.")


class RejectedItem(BaseModel):
    line: int
    field: str | None = None
    reason: str


class AckColumns(BaseModel):
    """The per-item outcomes as one list per field (``?results=columns``), all of the same length."""

    line: list[int]
    event_id: list[str | None]
    status: list[Literal["accepted", "duplicate", "rejected"]]
    field: list[str | None]
    reason: list[str | None]


class BatchResult(BaseModel):
    """Every accepted item is durable when this is returned; duplicates were already in the lake.

    Per-item outcomes in line order: ``items`` (default) or ``acks`` (with ``?results=columns``)."""

    accepted: int
    duplicates: int
    rejected: list[RejectedItem]
    items: list[ItemResult] | None = None
    acks: AckColumns | None = None


class EventResult(BaseModel):
    status: Literal["accepted", "duplicate"]
    event_id: str


class ErrorBody(BaseModel):
    error: str = Field(..., description="A short, stable summary (e.g. 'invalid API key').")
    detail: Any = Field(None, description="Specifics: the limit hit, the position of a JSON error, ...")


class KeyInfo(BaseModel):
    key_id: str
    name: str | None = None
    tenants: list[str]
    admin: bool
