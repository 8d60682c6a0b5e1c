"""The event writer's committed-id index (storage/idset.py, storage/events.py): compact, exact, race-safe.

No Ray here: the writer is the storage half of ingestion and runs on a plain lake."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from tracelake.operators.validate import validate_events
from tracelake.storage import LakeStore
from tracelake.storage import events as events_mod
from tracelake.storage.events import EventWriter
from tracelake.storage.idset import HashedIdSet, id_hashes


def _rows(ids: list[str], tenant: str = "t1") -> pa.Table:
    raw = pa.table({"tenant": [tenant] * len(ids), "event_id": ids, "text": [f"text of {i}" for i in ids],
                    "occurred_at": [1683554160000 + k for k in range(len(ids))]})
    valid, rejects = validate_events(raw, source="test", batch_id="b", now=datetime.now(timezone.utc),
                                     max_text_bytes=1 << 20)
    assert rejects.num_rows == 0
    return valid


@pytest.fixture
def store(tmp_path: Path) -> LakeStore:
    s = LakeStore(str(tmp_path / "lake"))
    s.create_or_open(8)
    return s


def _stored(store: LakeStore) -> list[str]:
    return sorted(store.read("events", columns=["event_id"])["event_id"].to_pylist())


def test_hashed_set_matches_a_python_set_across_merges() -> None:
    rng = np.random.default_rng(3)
    ids, mirror = HashedIdSet(), set()
    for size in [1, 5, 1000, 3, 20_000, 7, 50_000, 2, 100_000, 11]:  # uneven batches: several run merges
        batch = rng.integers(0, 2**63, size, dtype=np.uint64)
        batch = np.concatenate([batch, batch[: size // 3]])  # repeats within a batch
        ids.add(batch)
        mirror.update(batch.tolist())
    probes = np.concatenate([np.fromiter(mirror, np.uint64), rng.integers(0, 2**63, 10_000, dtype=np.uint64)])
    in_set, _ = ids.lookup(probes)
    assert in_set.tolist() == [p in mirror for p in probes.tolist()]
    assert len(ids) == len(mirror) and ids.nbytes == 8 * len(mirror)  # 8 bytes an id, nothing else
    assert len(ids._runs) <= 6


def test_lookup_flags_repeats_after_their_first_occurrence() -> None:
    _, repeated = HashedIdSet().lookup(np.array([5, 3, 5, 9, 3, 5], np.uint64))
    assert repeated.tolist() == [False, False, True, False, True, True]


def test_hashes_depend_on_tenant_and_id() -> None:
    a = id_hashes(pa.table({"tenant": ["t1", "t2", "t1"], "event_id": ["e1", "e1", "e1"]}))
    assert a[0] != a[1] and a[0] == a[2] and a.dtype == np.uint64


def test_commit_is_exactly_once_within_a_batch_and_across_commits(store: LakeStore) -> None:
    w = EventWriter(store)
    first = w.commit(_rows(["a", "b", "a", "c"]))
    assert first.to_pylist() == [True, True, False, True]
    second = w.commit(_rows(["c", "d"]))
    assert second.to_pylist() == [False, True]
    assert _stored(store) == ["a", "b", "c", "d"]
    other_tenant = w.commit(_rows(["a"], tenant="t2"))  # the same event_id in another tenant is another event
    assert other_tenant.to_pylist() == [True]


def test_hash_collisions_never_drop_a_new_event(store: LakeStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every id hashes alike: each hit must be settled by the exact lookup, so nothing new is lost."""
    monkeypatch.setattr(events_mod, "id_hashes", lambda rows: np.zeros(rows.num_rows, np.uint64))
    w = EventWriter(store)
    assert w.commit(_rows(["a", "b", "a"])).to_pylist() == [True, True, False]
    assert w.commit(_rows(["c", "b", "d", "c"])).to_pylist() == [True, False, True, False]
    assert _stored(store) == ["a", "b", "c", "d"]


def test_a_writer_sees_what_another_committed(store: LakeStore) -> None:
    w1, w2 = EventWriter(store), EventWriter(store)
    w2.commit(_rows(["x"]))  # w2 has loaded t1 before w1 writes
    w1.commit(_rows(["a", "b"]))
    assert w2.commit(_rows(["a", "b", "c"])).to_pylist() == [False, False, True]
    assert _stored(store) == ["a", "b", "c", "x"]


def test_deleted_events_can_be_committed_again(store: LakeStore) -> None:
    """The table decides: an id whose row was deleted (e.g. erased by forget) is no longer committed."""
    w = EventWriter(store)
    w.commit(_rows(["a", "b"]))
    store.delete("events", "event_id = 'a'")
    assert w.commit(_rows(["a", "b"])).to_pylist() == [True, False]
    assert _stored(store) == ["a", "b"]


def test_many_candidates_are_confirmed_by_one_scan(store: LakeStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events_mod, "_SCAN_ABOVE", 10)
    w = EventWriter(store)
    ids = [f"e{i}" for i in range(300)]
    w.commit(_rows(ids))
    again = EventWriter(store).commit(_rows(ids + ["new"]))  # a fresh writer: loads t1, all 300 are hits
    assert again.to_pylist() == [False] * 300 + [True]
    assert len(_stored(store)) == 301


def test_a_reset_writer_reloads_from_the_table(store: LakeStore) -> None:
    """What the ingest actor does after a failed commit."""
    w = EventWriter(store)
    w.commit(_rows(["a"]))
    w.reset()
    assert (len(w.ids), w.tenants, w.version) == (0, set(), None)
    assert w.commit(_rows(["a", "b"])).to_pylist() == [False, True]  # reloaded from the table
