"""Query a lake from your own DuckDB session.

The DuckDB ``lance`` extension cannot be installed everywhere (and PyPI's build only exists for DuckDB 1.5), so
tracelake registers the Lance datasets themselves with a DuckDB connection — DuckDB scans them through Arrow with
filter and projection pushdown into Lance — and creates the same views and time-aware macros ``tracelake sql``
has::

    import duckdb
    from tracelake.query.duck import register_lake

    con = duckdb.connect()
    register_lake(con, "./tracelake-data")                 # or "s3://bucket/prefix", storage_options={...}
    con.sql("SELECT * FROM facts_at('t1', '2023-06-01T00:00:00Z')").show()

Consolidated tables (``traces``, ``entities``, ``facts``, ``ledger``) are pinned to the versions published by the
last committed consolidation; ``events``, ``rejects`` and ``job_runs`` to their latest versions. Call
``register_lake`` again to move the views to newer versions.
"""

from __future__ import annotations

from typing import Any

import duckdb

from tracelake import schemas
from tracelake.storage import LakeStore

from .macros import install_macros
from .sql import VIEWS

__all__ = ["register_lake"]


def register_lake(con: duckdb.DuckDBPyConnection, lake: Any, storage_options: dict[str, str] | None = None, *,
                  prefix: str = "", macros: bool = True) -> dict[str, int]:
    """Create views ``<prefix>events`` … ``<prefix>job_runs`` (and the macros) on ``con``.

    ``lake`` is a URI, a :class:`~tracelake.storage.LakeStore` or a :class:`tracelake.api.Lake`. The macros
    refer to the unprefixed view names, so they are installed only when ``prefix`` is empty. Returns
    ``{view: version}``.
    """
    store = lake if isinstance(lake, LakeStore) else getattr(lake, "store", None) or LakeStore(str(lake),
                                                                                               storage_options)
    published = store.published_versions()
    versions: dict[str, int] = {}
    for name in VIEWS:
        version = published.get(name) if name in schemas.CONSOLIDATED_TABLES else None
        ds = store.dataset(name, version)
        con.register(f"_tracelake_{prefix}{name}", ds)
        con.execute(f"CREATE OR REPLACE VIEW {prefix}{name} AS SELECT * FROM _tracelake_{prefix}{name}")
        versions[name] = ds.version
    if macros and not prefix:
        install_macros(con)
    return versions
