"""The lake's lease: one consolidation (or forget) at a time, on local disk and on ``s3://`` alike.

Mechanism
---------
A dedicated one-row Lance table, ``<lake>/_lease.lance``. Every change of the lease (take, renew, release)
is a Lance ``Overwrite`` commit with ``read_version`` = the version its writer read. Lance refuses an
Overwrite preempted by any commit made after that version (``CommitConflictError``), and the manifest
of a version is written with put-if-absent (a no-replace rename locally; ``If-None-Match: *`` on S3,
which SeaweedFS and AWS honour), so exactly one of two concurrent writers wins: a compare-and-swap.

Contract
--------
- :meth:`Lease.acquire` takes the lease when it is free (no row, released, or expired) or raises
  :class:`~tracelake.errors.LeaseHeldError` naming the holder (host, pid, run id, purpose, expiry). With
  ``wait`` it polls until the lease is free or ``wait`` seconds have passed.
- While held, a heartbeat thread renews the expiry every ``ttl / 3`` seconds. A holder that dies (even
  SIGKILL) stops renewing; ``ttl`` seconds later anyone may take the lease over.
- A holder whose renewal was preempted (it stalled past its expiry and was taken over) has *lost* the
  lease: :meth:`Lease.check` raises :class:`~tracelake.errors.LeaseLostError`. Holders call it right
  before publishing, so a stalled run never publishes over its successor.
- Expiry compares the holder's clock with the taker's: clocks must agree to well within ``ttl``.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import lance
import pyarrow as pa
from lance.commit import CommitConflictError

from tracelake.errors import LeaseHeldError, LeaseLostError, StorageError
from tracelake.storage.lake_store import LakeStore
from tracelake.timeutil import TS, iso, now_utc

__all__ = ["Lease", "LeaseInfo", "current_lease"]

LEASE_SCHEMA = pa.schema([
    pa.field("holder", pa.string(), nullable=False),  # host:pid
    pa.field("run_id", pa.string(), nullable=False),
    pa.field("purpose", pa.string(), nullable=False),  # consolidate | forget
    pa.field("acquired_at", TS, nullable=False),
    pa.field("expires_at", TS, nullable=False),
])
#: Seconds between polls of a waiting acquirer (at most).
_POLL_S = 1.0


@dataclass(frozen=True)
class LeaseInfo:
    """Who holds (or last held) the lease, and until when."""

    holder: str
    run_id: str
    purpose: str
    acquired_at: datetime
    expires_at: datetime

    def expired(self, now: datetime | None = None) -> bool:
        return (now or now_utc()) >= self.expires_at

    def to_dict(self) -> dict[str, Any]:
        return {"holder": self.holder, "run_id": self.run_id, "purpose": self.purpose,
                "acquired_at": iso(self.acquired_at), "expires_at": iso(self.expires_at)}


def _uri(store: LakeStore) -> str:
    return f"{store.uri}/_lease.lance"


def _open(store: LakeStore) -> lance.LanceDataset:
    """The lease table (created empty on first use; a concurrent creation is fine)."""
    opts = store.storage_options or None
    try:
        return lance.dataset(_uri(store), storage_options=opts)
    except (ValueError, OSError, FileNotFoundError):
        pass
    try:
        return lance.write_dataset(LEASE_SCHEMA.empty_table(), _uri(store), schema=LEASE_SCHEMA, mode="create",
                                   storage_options=opts)
    except (OSError, ValueError, CommitConflictError) as exc:  # created (and maybe taken) concurrently
        try:
            return lance.dataset(_uri(store), storage_options=opts)
        except (ValueError, OSError, FileNotFoundError):
            raise StorageError(f"cannot create the lease table: {exc}", uri=_uri(store)) from exc


def _read(ds: lance.LanceDataset) -> LeaseInfo | None:
    rows = ds.to_table().to_pylist()
    return LeaseInfo(**rows[0]) if rows else None


def current_lease(store: LakeStore) -> LeaseInfo | None:
    """The lease row (``None`` when never taken or released); check :meth:`LeaseInfo.expired`."""
    return _read(_open(store))


class Lease:
    """One holder's handle on the lake's lease. Use as a context manager (acquire on enter, release on exit).

    ``ttl_s``: seconds a lease stays valid without renewal. ``wait_s``: how long :meth:`acquire` waits
    for a held lease (``0`` fails at once; ``float('inf')`` waits for ever).
    """

    def __init__(self, store: LakeStore, purpose: str, *, ttl_s: float = 60.0, wait_s: float = 0.0,
                 run_id: str | None = None) -> None:
        if ttl_s <= 0:
            raise StorageError("lease ttl must be positive", ttl_s=ttl_s)
        self.store = store
        self.purpose = purpose
        self.ttl_s = float(ttl_s)
        self.wait_s = max(0.0, float(wait_s))
        self.run_id = run_id or uuid.uuid4().hex
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self.info: LeaseInfo | None = None
        self._version: int | None = None
        self._lost: str | None = None
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- taking and giving back -----------------------------------------------------------------------
    def acquire(self) -> "Lease":
        """Take the lease (waiting up to ``wait_s``); raises :class:`LeaseHeldError` naming the holder."""
        deadline = time.monotonic() + self.wait_s
        while True:
            ds = _open(self.store)
            current = _read(ds)
            if current is None or current.expired():
                if self._swap(ds.version, acquired_at=now_utc()):
                    self._start_heartbeat()
                    return self
                continue  # someone else changed it between our read and our commit: look again
            left = deadline - time.monotonic()
            if left <= 0:
                raise LeaseHeldError(
                    f"the lake is busy: {current.purpose} run {current.run_id} of {current.holder} holds its "
                    f"lease until {iso(current.expires_at)} (renewed while it runs); retry later or pass --wait",
                    **current.to_dict())
            time.sleep(min(_POLL_S, self.ttl_s / 4, left))

    def release(self) -> None:
        """Give the lease back (if still ours) and prune the lease table's old versions. Idempotent."""
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
            self._beat = None
        with self._lock:
            if self._version is None or self._lost:
                return
            try:
                self._commit(LEASE_SCHEMA.empty_table(), self._version)
                _open(self.store).cleanup_old_versions(older_than=timedelta(seconds=0))
            except CommitConflictError:
                pass  # taken over after expiry: nothing of ours to release
            except (OSError, ValueError, RuntimeError):
                pass  # unreachable store: the lease simply expires
            self._version = None

    def check(self) -> None:
        """Raise :class:`LeaseLostError` if this holder no longer holds the lease (call before publishing)."""
        with self._lock:
            if self._lost is None and self.info is not None and self.info.expired():
                self._lost = f"not renewed since {iso(self.info.expires_at - timedelta(seconds=self.ttl_s))}"
            if self._lost or self._version is None:
                raise LeaseLostError(f"lost the lake's lease ({self._lost or 'not held'}); nothing was published",
                                     run_id=self.run_id, purpose=self.purpose)

    def __enter__(self) -> "Lease":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    # -- internals ------------------------------------------------------------------------------------
    def _row(self, acquired_at: datetime) -> pa.Table:
        now = now_utc()
        return pa.table({"holder": [self.holder], "run_id": [self.run_id], "purpose": [self.purpose],
                         "acquired_at": pa.array([acquired_at], TS),
                         "expires_at": pa.array([now + timedelta(seconds=self.ttl_s)], TS)}, schema=LEASE_SCHEMA)

    def _commit(self, table: pa.Table, read_version: int) -> int:
        opts = self.store.storage_options or None
        frags = lance.fragment.write_fragments(table, _uri(self.store), schema=LEASE_SCHEMA,
                                               storage_options=opts) if table.num_rows else []
        ds = lance.LanceDataset.commit(_uri(self.store), lance.LanceOperation.Overwrite(LEASE_SCHEMA, frags),
                                       read_version=read_version, storage_options=opts)
        return ds.version

    def _swap(self, read_version: int, acquired_at: datetime) -> bool:
        """Compare-and-swap our row in; False when another commit came first."""
        row = self._row(acquired_at)
        try:
            version = self._commit(row, read_version)
        except CommitConflictError:
            return False
        except (OSError, ValueError, RuntimeError) as exc:
            raise StorageError(f"cannot write the lease: {exc}", uri=_uri(self.store)) from exc
        with self._lock:
            self._version = version
            self.info = LeaseInfo(**row.to_pylist()[0])
        return True

    def _start_heartbeat(self) -> None:
        self._stop.clear()
        self._beat = threading.Thread(target=self._heartbeat, name=f"tracelake-lease-{self.run_id[:8]}",
                                      daemon=True)
        self._beat.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            with self._lock:
                if self._version is None or self._lost:
                    return
                version, info = self._version, self.info
            try:
                renewed = self._swap(version, acquired_at=info.acquired_at if info else now_utc())
            except StorageError:
                continue  # a transient store error: retry on the next beat (check() notices expiry)
            if not renewed:
                with self._lock:
                    self._lost = "taken over by another holder after it expired"
                return
