"""DuckDB over the lake: one long-lived connection with a view per table.

Views always reflect the latest *committed* state: before each statement the engine checks each table's
latest version (consolidated tables: the latest *published* version, see
:meth:`tracelake.storage.LakeStore.published_versions`) and re-registers the ones that moved. Filters and
projections are pushed down into the Lance scan.

The check is cheap: versions are read through held dataset handles and ``job_runs`` is only re-read when its
own version moved (:class:`tracelake.query.snapshot.PublishedVersions`). The session time zone is UTC, and the
time-aware table macros of :mod:`tracelake.query.macros` (``facts_at``, ``facts_known``, ``traces_at``,
``timeline_of``, ``timeline_at``, ``entity_names``) and their scalar function ``tracelake_trace_id`` are
installed on the connection.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from tracelake import schemas
from tracelake.errors import QueryError
from tracelake.storage import LakeStore

if TYPE_CHECKING:
    from tracelake.query.snapshot import PublishedVersions

__all__ = ["SqlEngine", "VIEWS"]

#: Tables exposed as views, in the order they are registered.
VIEWS = ("events", "rejects", "traces", "entities", "facts", "ledger", "job_runs", "erasures", "tombstones")


class SqlEngine:
    """Thread-safe wrapper of one DuckDB connection bound to one lake."""

    def __init__(self, store: LakeStore, published: "PublishedVersions | None" = None) -> None:
        from tracelake.query.snapshot import PublishedVersions

        self.store = store
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self._registered: dict[str, int] = {}
        self._lock = threading.RLock()
        self._published = published or PublishedVersions(store)
        self._macros = False

    def refresh(self) -> dict[str, int]:
        """Point every view at the current committed version; returns ``{view: version}``."""
        with self._lock:
            published = self._published.get()
            for name in VIEWS:
                version = published.get(name) if name in schemas.CONSOLIDATED_TABLES else None
                if version is None:
                    version = self._published.latest(name)
                if self._registered.get(name) != version:
                    ds = self.store.dataset(name, version)
                    self.con.register(f"_lance_{name}", ds)
                    self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM _lance_{name}")
                    self._registered[name] = ds.version
            if not self._macros:
                from tracelake.query.macros import install_macros

                install_macros(self.con)
                self._macros = True
            return dict(self._registered)

    def query(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        """Run one statement over fresh views; returns Arrow. SQL errors raise :class:`QueryError`."""
        with self._lock:
            self.refresh()
            try:
                rel = self.con.sql(sql, params=params) if params else self.con.sql(sql)
                return pa.table({}) if rel is None else rel.to_arrow_table()
            except duckdb.Error as exc:
                raise QueryError(f"SQL error: {exc}", sql=sql[:200]) from None

    def close(self) -> None:
        self.con.close()
