"""Shared fixtures for the operators tests: a fixed anchor, the hash embedder, an events-table builder."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pyarrow as pa
import pytest

from tracelake.embedding import get_embedder
from tracelake.schemas import EVENTS

UTC = timezone.utc
ANCHOR = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)  # a Monday
NOW = datetime(2023, 6, 1, tzinfo=UTC)


def ts(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def make_events(rows: list[dict[str, Any]]) -> pa.Table:
    """An EVENTS table; each row needs event_id and text, the rest has defaults."""
    full = []
    for i, r in enumerate(rows):
        full.append(
            {
                "tenant": r.get("tenant", "t1"),
                "event_id": r["event_id"],
                "stream": r.get("stream", "chat"),
                "actor": r.get("actor", "Caroline"),
                "kind": r.get("kind", "turn"),
                "text": r.get("text"),
                "attrs": r.get("attrs"),
                "occurred_at": r.get("occurred_at", ANCHOR),
                "recorded_at": r.get("recorded_at", NOW),
                "batch_id": r.get("batch_id", "b1"),
            }
        )
    return pa.Table.from_pylist(full, schema=EVENTS)


@pytest.fixture(scope="session")
def hash_embedder():
    return get_embedder("hash")


@pytest.fixture(scope="session")
def static_embedder():
    return get_embedder("static")
