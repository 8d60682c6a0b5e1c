"""A lake: Lance datasets ``<uri>/<table>.lance`` for every table of :mod:`tracelake.schemas`.

The URI is a local path or ``s3://bucket/prefix`` (``storage_options`` are passed to Lance verbatim).
Writers commit with Lance's optimistic concurrency: appends never conflict, ``read_version`` is given
wherever a writer's decision depended on what it read.

Publication of consolidated state: a consolidation run commits ``traces``, ``entities``, ``facts`` and
``ledger`` one after another, then appends a ``job_runs`` row whose ``versions`` names the version of each.
Readers pin those versions (:meth:`LakeStore.published_versions`), so a run killed half-way is invisible,
and the next run first rolls the tables back to the published versions (:meth:`LakeStore.rollback_unpublished`).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

import lance
import pyarrow as pa
import pyarrow.compute as pc

from tracelake import schemas
from tracelake.errors import SchemaVersionError, StorageError
from tracelake.timeutil import TS

__all__ = ["LakeStore", "TableVersion", "sql_quote"]

_NOT_FOUND = re.compile(r"not found|does not exist|No such file", re.IGNORECASE)


def sql_quote(value: str) -> str:
    """A single-quoted SQL literal (Lance filter and DuckDB syntax)."""
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class TableVersion:
    """One committed version of a table."""

    table: str
    version: int
    timestamp: datetime
    rows: int


class LakeStore:
    """Lance tables of one lake. Cheap to construct; tables are created by :meth:`create_or_open`.

    Instances are picklable (URI and options only) so they travel to Ray tasks and actors.
    """

    def __init__(self, uri: str, storage_options: dict[str, str] | None = None) -> None:
        self.uri = uri.rstrip("/") if uri.startswith("s3://") else str(uri)
        self.storage_options = dict(storage_options or {})

    # -- layout ---------------------------------------------------------------------------------------
    def table_uri(self, table: str) -> str:
        if table not in schemas.TABLES:
            raise StorageError("unknown table", table=table, known=sorted(schemas.TABLES))
        return f"{self.uri}/{table}.lance"

    def __repr__(self) -> str:
        return f"LakeStore({self.uri!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (LakeStore, (self.uri, self.storage_options))

    # -- lifecycle --------------------------------------------------------------------------------------
    def create_or_open(self, embedding_dim: int) -> None:
        """Create missing tables; check the schema version of existing ones. Idempotent, race-safe."""
        for table in schemas.TABLES:
            try:
                ds = self.dataset(table)
            except StorageError:
                schema = schemas.schema_for(table, embedding_dim)
                try:
                    lance.write_dataset(
                        schema.empty_table(),
                        self.table_uri(table),
                        schema=schema,
                        mode="create",
                        storage_options=self.storage_options or None,
                    )
                except OSError as exc:  # created concurrently by another writer
                    if "already exists" not in str(exc):
                        raise StorageError(f"cannot create table: {exc}", table=table, uri=self.uri) from exc
                continue
            self._check_version(table, ds.schema)

    def _check_version(self, table: str, schema: pa.Schema) -> None:
        meta = schema.metadata or {}
        found = meta.get(schemas.META_VERSION)
        if found is None:
            raise SchemaVersionError(
                "table was not written by tracelake (no schema version stamp)", table=table, uri=self.uri
            )
        if int(found) != schemas.SCHEMA_VERSION:
            raise SchemaVersionError(
                f"lake has schema version {int(found)}, this tracelake reads version {schemas.SCHEMA_VERSION};"
                " see docs/schemas.md for migrations",
                table=table,
                uri=self.uri,
            )

    def embedding_dim(self) -> int:
        """The embedding dimension the traces table was created with."""
        meta = self.dataset("traces").schema.metadata or {}
        return int(meta.get(schemas.META_EMBED_DIM, b"384"))

    # -- reading ----------------------------------------------------------------------------------------
    def dataset(self, table: str, version: int | None = None) -> lance.LanceDataset:
        """The table's dataset at ``version`` (latest when ``None``)."""
        try:
            return lance.dataset(
                self.table_uri(table), version=version, storage_options=self.storage_options or None
            )
        except (ValueError, OSError, FileNotFoundError) as exc:
            if _NOT_FOUND.search(str(exc)):
                raise StorageError(
                    "table not found (run `tracelake ingest` or connect() to create the lake)",
                    table=table,
                    uri=self.uri,
                    version=version,
                ) from None
            raise StorageError(f"cannot open table: {exc}", table=table, uri=self.uri) from exc

    def read(
        self,
        table: str,
        *,
        filter: str | None = None,
        columns: list[str] | None = None,
        version: int | None = None,
    ) -> pa.Table:
        """Rows of ``table`` matching a Lance SQL ``filter`` (pushed down into the scan)."""
        ds = self.dataset(table, version)
        return ds.to_table(filter=filter, columns=columns)

    def versions(self, table: str) -> list[TableVersion]:
        """Committed versions, oldest first (within the retention window)."""
        out = []
        for v in self.dataset(table).versions():
            ts = v["timestamp"]
            if ts.tzinfo is None:
                ts = ts.replace(tzinfo=timezone.utc)
            rows = int((v.get("metadata") or {}).get("total_rows", -1))
            out.append(TableVersion(table, int(v["version"]), ts, rows))
        return out

    def version_at(self, table: str, when: datetime) -> int | None:
        """The latest version committed at or before ``when`` (``None`` if the table was younger)."""
        found = None
        for v in self.versions(table):
            if v.timestamp <= when:
                found = v.version
        return found

    # -- writing ----------------------------------------------------------------------------------------
    def append(self, table: str, data: pa.Table, *, read_version: int | None = None) -> int:
        """Append rows in one commit; returns the new version. Empty input commits nothing."""
        return self.append_dataset(table, data, read_version=read_version).version

    def append_dataset(self, table: str, data: pa.Table, *, read_version: int | None = None) -> lance.LanceDataset:
        """:meth:`append`, returning the dataset at the new version (for writers that track its fragments)."""
        ds = self.dataset(table)
        if data.num_rows == 0:
            return ds
        data = _conform(table, data, ds.schema)
        try:
            frags = lance.fragment.write_fragments(
                data, self.table_uri(table), schema=data.schema, storage_options=self.storage_options or None
            )
            ds = lance.LanceDataset.commit(
                self.table_uri(table),
                lance.LanceOperation.Append(frags),
                read_version=read_version if read_version is not None else ds.version,
                storage_options=self.storage_options or None,
            )
        except (OSError, ValueError, RuntimeError) as exc:
            raise StorageError(f"append failed: {exc}", table=table, uri=self.uri, rows=data.num_rows) from exc
        return ds

    def write_fragments(self, table: str, data: pa.Table, *, version: int) -> list[str]:
        """Write ``data`` as new data files of ``table`` *without committing* (phase one of a two-phase write:
        Ray tasks write, the driver commits once). Returns the fragments' metadata as JSON strings (small,
        picklable); nothing is visible until :meth:`commit_fragments`. Files of fragments never committed are
        unreferenced and go with the next :meth:`cleanup`."""
        if data.num_rows == 0:
            return []
        schema = self.dataset(table, version).schema
        try:
            frags = lance.fragment.write_fragments(data.select(schema.names).cast(schema), self.table_uri(table),
                                                   schema=schema, storage_options=self.storage_options or None)
        except (OSError, ValueError, RuntimeError) as exc:
            raise StorageError(f"writing fragments failed: {exc}", table=table, uri=self.uri,
                               rows=data.num_rows) from exc
        return [json.dumps(f.to_json()) for f in frags]

    def commit_fragments(self, table: str, fragments: list[str], *, read_version: int) -> int:
        """Phase two: commit fragments from :meth:`write_fragments` as one append on top of ``read_version``
        (optimistic concurrency: a conflicting commit since then fails). Returns the new version."""
        if not fragments:
            return self.dataset(table).version
        metadata = [lance.fragment.FragmentMetadata.from_json(f) for f in fragments]
        try:
            ds = lance.LanceDataset.commit(self.table_uri(table), lance.LanceOperation.Append(metadata),
                                           read_version=read_version, storage_options=self.storage_options or None)
        except (OSError, ValueError, RuntimeError) as exc:
            raise StorageError(f"commit failed: {exc}", table=table, uri=self.uri, read_version=read_version) from exc
        return ds.version

    def upsert(self, table: str, data: pa.Table, on: list[str]) -> dict[str, int]:
        """Insert rows whose key ``on`` is new, replace rows whose key exists (one commit)."""
        if data.num_rows == 0:
            return {"num_inserted_rows": 0, "num_updated_rows": 0, "num_deleted_rows": 0}
        ds = self.dataset(table)
        data = _conform(table, data, ds.schema)
        try:
            return ds.merge_insert(on).when_matched_update_all().when_not_matched_insert_all().execute(data)
        except (OSError, ValueError, RuntimeError) as exc:
            raise StorageError(f"upsert failed: {exc}", table=table, uri=self.uri, rows=data.num_rows) from exc

    def delete(self, table: str, predicate: str) -> int:
        """Delete rows matching a Lance SQL predicate; returns the new version."""
        ds = self.dataset(table)
        try:
            ds.delete(predicate)
        except (OSError, ValueError, RuntimeError) as exc:
            raise StorageError(f"delete failed: {exc}", table=table, uri=self.uri) from exc
        return ds.version

    # -- publication of consolidated state ------------------------------------------------------------
    def published_versions(self) -> dict[str, int]:
        """Versions of the consolidated tables as published by the last committed run.

        Before any run, the tables' first versions (empty) are published.
        """
        runs = self.read("job_runs", filter="status = 'committed' AND versions IS NOT NULL")
        if runs.num_rows:
            idx = pc.sort_indices(runs, [("finished_at", "descending"), ("run_id", "descending")])[0].as_py()
            return {k: int(v) for k, v in json.loads(runs["versions"][idx].as_py()).items()}
        return {t: self.versions(t)[0].version for t in schemas.CONSOLIDATED_TABLES}

    def record_run(self, *, run_id: str, job: str, tenant: str | None, status: str, started_at: datetime,
                   finished_at: datetime, events_in: int = 0, report: dict[str, Any] | None = None,
                   versions: dict[str, int] | None = None, error: str | None = None) -> None:
        """Append one ``job_runs`` row. A ``committed`` row with ``versions`` **is the publication**: from its
        commit on, readers read every consolidated table at those versions (the only place that writes it)."""
        row = pa.table({
            "run_id": [run_id], "job": [job], "tenant": [tenant], "status": [status],
            "started_at": pa.array([started_at], TS), "finished_at": pa.array([finished_at], TS),
            "events_in": [events_in], "report": [json.dumps(report or {}, default=str)],
            "versions": [json.dumps(versions) if versions is not None else None], "error": [error],
        }, schema=schemas.JOB_RUNS)
        self.append("job_runs", row)

    def publish_current(self, job: str = "publish", when: datetime | None = None) -> dict[str, int]:
        """Publish the latest version of every consolidated table (for writers that build those tables
        directly: benchmarks, test builders). Returns the versions published."""
        versions = {t: self.dataset(t).version for t in schemas.CONSOLIDATED_TABLES}
        at = when or datetime.now(timezone.utc)
        self.record_run(run_id=uuid.uuid4().hex, job=job, tenant=None, status="committed", started_at=at,
                        finished_at=at + timedelta(microseconds=1), versions=versions)
        return versions

    def rollback_unpublished(self) -> dict[str, int]:
        """Restore each consolidated table whose latest version is past its published one.

        Returns ``{table: version restored}`` for the tables that were rolled back (a killed run's residue).
        """
        restored = {}
        for table, version in self.published_versions().items():
            latest = self.dataset(table)
            if latest.version != version:
                self.dataset(table, version).restore()
                restored[table] = version
        return restored

    def dedupe(self, table: str, keys: list[str], where: str | None = None) -> int:
        """Keep one row per ``keys`` (the first found) among the rows matching ``where`` (all when ``None``);
        returns how many duplicate rows were removed.

        Two commits (delete every copy of a duplicated key, append one copy back): callers that publish
        (consolidation) do it before their own publication, so a crash in between is rolled back."""
        ids = self.read(table, columns=keys, filter=where)
        if ids.num_rows == 0:
            return 0
        counts = ids.group_by(keys).aggregate([(keys[0], "count")])
        dup = counts.filter(pc.greater(counts[f"{keys[0]}_count"], 1))
        if dup.num_rows == 0:
            return 0
        last = keys[-1]
        predicate = f"{last} IN (" + ", ".join(sql_quote(v) for v in dup[last].to_pylist()) + ")"
        predicate = f"({where}) AND {predicate}" if where else predicate
        rows = self.read(table, filter=predicate)  # every row sharing a duplicated last key
        import polars as pl

        kept = pl.from_arrow(rows).unique(subset=keys, keep="first", maintain_order=True).to_arrow()
        self.delete(table, predicate)
        self.append(table, kept.cast(rows.schema))
        return rows.num_rows - kept.num_rows

    # -- maintenance ------------------------------------------------------------------------------------
    def compact(self, table: str) -> dict[str, int]:
        """Merge small fragments (keeps row content; time travel to older versions still works)."""
        metrics = self.dataset(table).optimize.compact_files()
        return {"fragments_removed": metrics.fragments_removed, "fragments_added": metrics.fragments_added}

    def cleanup(self, table: str, older_than: timedelta, keep: Iterable[int] = ()) -> int:
        """Delete versions older than ``older_than`` except the latest; returns bytes removed."""
        keep = set(keep)
        ds = self.dataset(table)
        if keep:
            oldest_kept = min(keep)
            cutoff = next((v.timestamp for v in self.versions(table) if v.version == oldest_kept), None)
            if cutoff is not None:
                older_than = max(older_than, datetime.now(timezone.utc) - cutoff + timedelta(seconds=1))
        stats = ds.cleanup_old_versions(older_than=older_than)
        return int(stats.bytes_removed)


def _conform(table: str, data: pa.Table, target: pa.Schema) -> pa.Table:
    """Cast ``data`` to the table's stored schema (column order, types, nullability)."""
    try:
        return data.select(target.names).cast(target)
    except (KeyError, pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as exc:
        raise StorageError(f"rows do not match the table schema: {exc}", table=table) from exc
