"""The lake's lease: compare-and-swap on local disk and S3, expiry and takeover, and real concurrent
``tracelake consolidate`` processes (one of them SIGKILLed) ending in the same lake as one clean run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import tracelake
from tests.forget_events import digest, events, write_jsonl
from tracelake.errors import LeaseHeldError, LeaseLostError
from tracelake.storage import LakeStore
from tracelake.storage.lease import Lease, current_lease

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> LakeStore:
    if request.param == "local":
        return LakeStore(str(tmp_path / "lake"))
    server = request.getfixturevalue("s3_server")
    return LakeStore(server.uri(f"lease-{os.urandom(4).hex()}"), dict(server.storage_options))


def test_a_held_lease_is_refused_naming_its_holder_then_taken_after_release(store: LakeStore) -> None:
    first = Lease(store, "consolidate", ttl_s=5).acquire()
    try:
        with pytest.raises(LeaseHeldError, match=rf"consolidate run {first.run_id} of .*:{os.getpid()}") as info:
            Lease(store, "forget", ttl_s=5).acquire()
        assert info.value.context["holder"] == first.holder
        assert current_lease(store).run_id == first.run_id
    finally:
        first.release()
    assert current_lease(store) is None
    with Lease(store, "forget", ttl_s=5) as second:
        assert current_lease(store).purpose == "forget"
        second.check()


def test_concurrent_acquirers_get_exactly_one_lease(store: LakeStore) -> None:
    winners, refused = [], []
    barrier = threading.Barrier(4)

    def take() -> None:
        lease = Lease(store, "consolidate", ttl_s=10)
        barrier.wait()
        try:
            winners.append(lease.acquire())
        except LeaseHeldError:
            refused.append(lease)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1 and len(refused) == 3
    assert current_lease(store).run_id == winners[0].run_id
    winners[0].release()


def test_heartbeat_keeps_a_lease_and_a_dead_holder_is_taken_over_after_expiry(tmp_path: Path) -> None:
    store = LakeStore(str(tmp_path / "lake"))
    live = Lease(store, "consolidate", ttl_s=0.9).acquire()
    time.sleep(1.5)  # past one ttl: renewed by the heartbeat
    live.check()
    with pytest.raises(LeaseHeldError):
        Lease(store, "consolidate", ttl_s=0.9).acquire()
    live._stop.set()  # the holder "dies": no more renewals, no release
    live._beat.join()
    # Taken over once the dead holder's lease expires: within wait_s, else acquire() raises LeaseHeldError (no
    # wall-clock assertion: the box is shared and seconds are noise).
    taker = Lease(store, "consolidate", ttl_s=0.9, wait_s=5).acquire()
    assert taker.run_id != live.run_id and current_lease(store).run_id == taker.run_id
    with pytest.raises(LeaseLostError, match="lost the lake's lease"):
        live.check()
    live.release()  # the stale holder's release must not free the taker's lease
    assert current_lease(store).run_id == taker.run_id
    taker.release()


def test_a_second_consolidation_waits_or_fails_with_the_holder(local_lake) -> None:
    local_lake.ingest(events(40, tenants=2))
    holder = Lease(local_lake.store, "forget", ttl_s=10).acquire()
    try:
        with pytest.raises(LeaseHeldError, match="forget run"):
            local_lake.consolidate()
        threading.Timer(1.0, holder.release).start()
        report = local_lake.consolidate(wait=10)
        assert report.status == "committed" and report.events_in == 40
    finally:
        holder.release()


def _two_at_once(lake, **kwargs) -> list:
    """Two consolidations of ``lake`` started together in threads; their reports (or errors)."""
    out: list = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        try:
            out.append(lake.consolidate(**kwargs))
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            out.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_concurrent_consolidations_run_one_after_the_other(local_lake, tmp_path: Path) -> None:
    rows = events(80, tenants=2)
    clean = tracelake.connect(str(tmp_path / "clean"), embedder="hash")
    clean.ingest(rows)
    clean.consolidate()
    local_lake.ingest(rows)
    reports = _two_at_once(local_lake, wait=120)
    assert sorted(r.status for r in reports) == ["committed", "noop"], reports
    assert digest(local_lake) == digest(clean)


def test_a_lake_damaged_by_unleased_concurrent_runs_is_repaired(local_lake, tmp_path: Path, monkeypatch) -> None:
    from contextlib import nullcontext

    from tracelake.pipelines import consolidate as pipeline

    rows = events(80, tenants=2)
    clean = tracelake.connect(str(tmp_path / "clean"), embedder="hash")
    clean.ingest(rows)
    clean.consolidate()
    local_lake.ingest(rows)
    # What happened before the lease: both runs read the same state, then both commit (one after the other).
    both_read, one_commit = threading.Barrier(2), threading.Lock()
    real_new_events, real_commit = pipeline._new_events, pipeline._commit

    def new_events(*args, **kwargs):
        out = real_new_events(*args, **kwargs)
        both_read.wait()
        return out

    def commit(*args, **kwargs):
        with one_commit:
            return real_commit(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(pipeline, "Lease", lambda *a, **k: nullcontext(type("NoLease", (), {"check": lambda self: None})()))
        m.setattr(pipeline, "_new_events", new_events)
        m.setattr(pipeline, "_commit", commit)
        reports = _two_at_once(local_lake, steps=["decompose", "merge", "decay"])  # reindexes would collide
    assert [r.status for r in reports] == ["committed", "committed"], reports
    n = local_lake.sql("select count(*) as n, count(distinct trace_id) as d from traces").to_pylist()[0]
    assert n["n"] == 2 * n["d"]  # every trace twice, as measured in issue 13
    report = local_lake.consolidate()
    removed = report.steps["repair"]["duplicates_removed"]
    assert removed["traces"] == n["d"] and removed["ledger"] == 80
    assert digest(local_lake) == digest(clean)
    again = local_lake.consolidate()
    assert "repair" not in again.steps, again.steps
    assert digest(local_lake) == digest(clean)


# -- real processes -----------------------------------------------------------------------------------
def _consolidate_proc(uri: str, *extra: str, ttl: str = "60") -> subprocess.Popen[str]:
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "TRACELAKE_EMBEDDER": "hash",
           "TRACELAKE_LEASE_TTL_SECONDS": ttl, "TRACELAKE_RAY_NUM_CPUS": "1"}
    env.pop("RAY_ADDRESS", None)
    return subprocess.Popen([sys.executable, "-m", "tracelake.cli", "--data", uri, "consolidate", "--json", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
                            start_new_session=True)


@pytest.fixture
def two_lakes(tmp_path: Path, ray_local: None):
    """A lake consolidated once in-process (the reference) and the path of a fresh copy of its input."""
    path = write_jsonl(tmp_path / "events.jsonl", events(150, tenants=3))
    clean = tracelake.connect(str(tmp_path / "clean"), embedder="hash")
    clean.ingest(str(path))
    clean.consolidate()
    racy = tracelake.connect(str(tmp_path / "racy"), embedder="hash")
    racy.ingest(str(path))
    yield clean, racy
    clean.close()
    racy.close()


@pytest.mark.slow
def test_two_concurrent_consolidate_processes_equal_one_clean_run(two_lakes) -> None:
    clean, racy = two_lakes
    procs = [_consolidate_proc(racy.uri, "--wait"), _consolidate_proc(racy.uri, "--wait")]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    statuses = sorted(racy.sql("select status from job_runs where job = 'consolidate'")["status"].to_pylist())
    assert statuses == ["committed", "noop"]
    assert digest(racy) == digest(clean)
    n = racy.sql("select count(*) as n, count(distinct trace_id) as d from traces").to_pylist()[0]
    assert n["n"] == n["d"]


@pytest.mark.slow
def test_without_wait_the_second_process_exits_naming_the_holder(two_lakes) -> None:
    _, racy = two_lakes
    procs = [_consolidate_proc(racy.uri), _consolidate_proc(racy.uri)]
    outs = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 1], [o[1][-2000:] for o in outs]
    loser = outs[[p.returncode for p in procs].index(1)][1]
    assert "holds its lease" in loser and "consolidate run" in loser


@pytest.mark.slow
def test_a_sigkilled_consolidation_is_taken_over_and_completed(two_lakes) -> None:
    clean, racy = two_lakes
    victim = _consolidate_proc(racy.uri, ttl="3")
    deadline = time.monotonic() + 120
    while current_lease(racy.store) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert current_lease(racy.store) is not None, victim.communicate()[1][-2000:]
    time.sleep(1.5)  # mid-run: Ray started, tasks running
    os.killpg(victim.pid, signal.SIGKILL)
    victim.communicate()
    assert current_lease(racy.store) is not None  # the dead holder's lease is still there
    survivor = _consolidate_proc(racy.uri, "--wait", "60", ttl="3")
    out, errs = survivor.communicate(timeout=300)
    assert survivor.returncode == 0, errs[-2000:]
    assert digest(racy) == digest(clean)
    assert current_lease(racy.store) is None
