"""What readers read: the consolidated tables at their *published* versions, cheaply kept fresh.

:class:`PublishedVersions` re-reads ``job_runs`` only when its Lance version moved (checking the latest version
of a held dataset handle costs microseconds locally, one small request on S3), so every query sees the latest
published state without restarting and without paying a ``job_runs`` scan each time.

:class:`Snapshot` pins one consistent set of dataset handles (traces, entities, facts at the published versions)
for the length of one query. Handles are reused across queries while the version stays the same, which keeps
Lance's index caches warm.

Also here: Lance-SQL literal helpers shared by the query modules.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tracelake.errors import ValidationError
from tracelake.storage import LakeStore
from tracelake.storage.lake_store import sql_quote
from tracelake.storage.reading import Dataset, indexed_columns

__all__ = ["PublishedVersions", "Snapshot", "SnapshotSource", "check_tenant", "ts_literal", "str_list", "quote"]

_TENANT = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
quote = sql_quote


def check_tenant(tenant: str | None) -> str:
    """Every query is scoped to exactly one tenant: a missing or malformed tenant is a usage error."""
    if not tenant or not isinstance(tenant, str):
        raise ValidationError("tenant is required (every query is scoped to one tenant)")
    if not _TENANT.match(tenant):
        raise ValidationError("tenant must match [A-Za-z0-9._:-]{1,128}", tenant=tenant)
    return tenant


def ts_literal(value: datetime) -> str:
    """A Lance-SQL timestamp literal (UTC, microseconds) comparable with ``timestamp[us, tz=UTC]`` columns."""
    return f"TIMESTAMP '{value.strftime('%Y-%m-%d %H:%M:%S.%f')}'"


def str_list(values: list[str] | tuple[str, ...]) -> str:
    """``('a', 'b')`` as a Lance-SQL list body: ``'a', 'b'``."""
    return ", ".join(quote(v) for v in values)


class PublishedVersions:
    """``{table: version}`` of the latest published consolidation, re-read only when ``job_runs`` moved."""

    def __init__(self, store: LakeStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._handles: dict[str, Dataset] = {}
        self._job_runs_version: int | None = None
        self._published: dict[str, int] = {}

    def latest(self, table: str) -> int:
        """The latest committed version of ``table`` (through a held handle: no re-open)."""
        with self._lock:
            ds = self._handles.get(table)
            if ds is None:
                ds = self._handles[table] = self.store.dataset(table)
        return int(ds.latest_version)

    def get(self) -> dict[str, int]:
        """The published versions (the tables' first versions before any committed run)."""
        latest = self.latest("job_runs")
        with self._lock:
            if latest != self._job_runs_version:
                self._published = self.store.published_versions()
                self._job_runs_version = latest
            return dict(self._published)


@dataclass(frozen=True)
class Snapshot:
    """Handles on the consolidated tables at one published state."""

    versions: dict[str, int]
    traces: Dataset
    entities: Dataset
    facts: Dataset
    indexes: dict[str, frozenset[str]]  # table -> indexed column names

    def has_index(self, table: str, column: str) -> bool:
        return column in self.indexes.get(table, frozenset())


class SnapshotSource:
    """Hands out :class:`Snapshot` objects, reusing dataset handles while versions stay the same."""

    TABLES = ("traces", "entities", "facts")

    def __init__(self, store: LakeStore, published: PublishedVersions | None = None) -> None:
        self.store = store
        self.published = published or PublishedVersions(store)
        self._lock = threading.Lock()
        self._cached: Snapshot | None = None

    def current(self) -> Snapshot:
        versions = self.published.get()
        wanted = {t: versions.get(t) for t in self.TABLES}
        with self._lock:
            snap = self._cached
            if snap is not None and all(snap.versions.get(t) == v for t, v in wanted.items() if v is not None):
                return snap
            handles: dict[str, Any] = {}
            indexes: dict[str, frozenset[str]] = {}
            for t in self.TABLES:
                old = getattr(snap, t) if snap is not None else None
                if old is not None and wanted[t] is not None and old.version == wanted[t]:
                    ds = old
                else:
                    ds = self.store.dataset(t, wanted[t])
                handles[t] = ds
                indexes[t] = indexed_columns(ds)
            snap = Snapshot({t: handles[t].version for t in self.TABLES}, indexes=indexes, **handles)
            self._cached = snap
            return snap

