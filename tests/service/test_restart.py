"""`tracelake serve` killed with SIGKILL mid-stream loses no acknowledged event; after a restart, re-sending
every batch (same Idempotency-Keys) ends with each event exactly once, and acknowledged batches get their
original responses back byte for byte."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.service.conftest import free_port
from tracelake.service.keys import KeyStore

ROOT = Path(__file__).resolve().parents[2]
BATCH = 200


def _start(lake: Path, log: Path) -> tuple[subprocess.Popen, int]:
    """The service on a free port, ready; a port taken between choosing and binding it (Ray's own processes bind
    ports too) is retried on another one."""
    for _ in range(3):
        port = free_port()
        proc = _spawn(lake, port, log)
        if _ready(proc, port, log):
            return proc, port
    raise AssertionError("no free port to bind: " + log.read_text()[-3000:])


def _spawn(lake: Path, port: int, log: Path) -> subprocess.Popen:
    # its own embedded Ray ("local": never join another Ray instance running on this machine)
    env = {**os.environ, "TRACELAKE_EMBEDDER": "hash", "RAY_AUTH_MODE": "disabled", "RAY_ADDRESS": "local"}
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tracelake.cli", "serve", "--data", str(lake), "--port", str(port),
             "--log-level", "warning", "--no-access-log"],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _ready(proc: subprocess.Popen, port: int, log: Path) -> bool:
    """True once ``/readyz`` answers; False when the process died because its port was taken."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text()[-3000:]
            assert f"'127.0.0.1', {port}): address already in use" in tail, tail
            return False
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("service did not become ready: " + log.read_text()[-3000:])


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the server and the Ray it embedded
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def _batch(n: int) -> list[dict]:
    return [{"event_id": f"b{n}-{i}", "occurred_at": 1683554160000 + (n * BATCH + i) * 1000,
             "text": f"batch {n} event {i} " + "x" * 100} for i in range(BATCH)]


def test_killed_service_loses_no_ack_and_resend_is_exactly_once(tmp_path: Path, ray_local: None) -> None:
    import tracelake

    lake_dir = tmp_path / "lake"
    _, secret = KeyStore(lake_dir / "_service" / "keys.json").create(["crash"])
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    bodies = {n: json.dumps(_batch(n)).encode() for n in range(8)}
    log = tmp_path / "serve.log"

    proc, port = _start(lake_dir, log)
    acked: dict[int, bytes] = {}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as c:
            for n in range(5):
                resp = c.post("/v1/events:batch", content=bodies[n], headers={"Idempotency-Key": f"k{n}"})
                assert resp.status_code == 200, resp.text
                acked[n] = resp.content
        # batch 5 is in flight when the server dies
        def in_flight() -> None:
            try:
                httpx.post(f"http://127.0.0.1:{port}/v1/events:batch", content=bodies[5],
                           headers={**headers, "Idempotency-Key": "k5"}, timeout=30)
            except httpx.TransportError:
                pass
        sender = threading.Thread(target=in_flight)
        sender.start()
        time.sleep(0.05)
    finally:
        _kill(proc)
    sender.join(30)

    lake = tracelake.connect(str(lake_dir), embedder="hash")
    committed = set(lake.sql("select event_id from events where tenant = 'crash'")["event_id"].to_pylist())
    for n, body in acked.items():
        ids = {i["event_id"] for i in json.loads(body)["items"] if i["status"] == "accepted"}
        assert len(ids) == BATCH and ids <= committed, f"acknowledged batch {n} lost events"

    proc, port = _start(lake_dir, log)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as c:
            for n in range(8):
                resp = c.post("/v1/events:batch", content=bodies[n], headers={"Idempotency-Key": f"k{n}"})
                assert resp.status_code == 200, resp.text
                if n in acked:
                    assert resp.content == acked[n] and resp.headers["idempotent-replayed"] == "true"
                out = resp.json()
                assert out["accepted"] + out["duplicates"] == BATCH and not out["rejected"]
            again = c.post("/v1/events:batch", content=bodies[7])  # no key: event ids make it a no-op
            assert again.json()["duplicates"] == BATCH
    finally:
        _kill(proc)
    counts = lake.sql("select count(*) as n, count(distinct event_id) as d from events where tenant = 'crash'")
    assert counts.to_pylist() == [{"n": 8 * BATCH, "d": 8 * BATCH}]
    lake.close()
