"""Durable idempotency records: the response a request got, keyed by ``(key_id, Idempotency-Key)``.

Stored in SQLite (``<service_dir>/idempotency.sqlite``, WAL, ``synchronous=NORMAL``: a committed record
survives the service being killed, like the lake's own local commits; an OS crash may lose the last few),
written in the same worker thread as the ingest, *after* the ingest returned (events durable) and *before*
the response is sent. So a response a client received is replayable, across restarts.

A record also holds a fingerprint of the request (path, content type, body): the same key with a different
request is refused (422) rather than answered with another request's response (as the IETF
``Idempotency-Key`` draft says). Records older than ``service_idempotency_ttl_hours`` are purged.

The one window: the service dies after the ingest committed but before the record is written. A replay then
runs again, and the lake's ``(tenant, event_id)`` de-duplication makes it a no-op — its events come back as
``duplicate`` rather than ``accepted``; still exactly once in the lake.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["IdempotencyStore", "StoredResponse", "fingerprint"]

#: A JSON string literal's content (ids in a stored response body are matched against it).
_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key_id      TEXT    NOT NULL,
    idem_key    TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    status      INTEGER NOT NULL,
    body        BLOB    NOT NULL,
    created_at  REAL    NOT NULL,
    PRIMARY KEY (key_id, idem_key)
);
CREATE INDEX IF NOT EXISTS responses_created ON responses (created_at);
"""


def fingerprint(path: str, content_type: str, body: bytes) -> str:
    """What makes two requests "the same request" for an idempotency key."""
    h = hashlib.sha256()
    for part in (path.encode(), b"\0", content_type.encode(), b"\0", body):
        h.update(part)
    return h.hexdigest()


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: str
    status: int
    body: bytes


class IdempotencyStore:
    """Thread-safe (one SQLite connection per thread)."""

    def __init__(self, path: str | Path, ttl_hours: float = 24.0) -> None:
        self.path = Path(path)
        self.ttl_s = ttl_hours * 3600
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as conn:
            conn.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def get(self, key_id: str, idem_key: str) -> StoredResponse | None:
        row = self._conn().execute(
            "SELECT fingerprint, status, body, created_at FROM responses WHERE key_id = ? AND idem_key = ?",
            (key_id, idem_key)).fetchone()
        if row is None or row[3] < time.time() - self.ttl_s:
            return None
        return StoredResponse(row[0], int(row[1]), bytes(row[2]))

    def put(self, key_id: str, idem_key: str, fp: str, status: int, body: bytes) -> None:
        self._conn().execute(
            "INSERT OR REPLACE INTO responses (key_id, idem_key, fingerprint, status, body, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", (key_id, idem_key, fp, status, body, time.time()))

    def purge(self) -> int:
        """Delete expired records; returns how many."""
        cur = self._conn().execute("DELETE FROM responses WHERE created_at < ?", (time.time() - self.ttl_s,))
        return cur.rowcount

    def forget_events(self, event_ids: set[str]) -> int:
        """Delete every record whose stored response names one of ``event_ids`` (an erase: ``lake.forget``);
        returns how many. Freed pages are zeroed (``secure_delete``) and the WAL truncated, so the bytes go."""
        if not event_ids:
            return 0
        conn = self._conn()
        doomed = []
        for key_id, idem_key, body in conn.execute("SELECT key_id, idem_key, body FROM responses"):
            strings = set(_JSON_STRING.findall(bytes(body).decode("utf-8", "replace")))
            if not strings.isdisjoint(event_ids):
                doomed.append((key_id, idem_key))
        conn.execute("PRAGMA secure_delete = ON")
        conn.executemany("DELETE FROM responses WHERE key_id = ? AND idem_key = ?", doomed)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return len(doomed)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
