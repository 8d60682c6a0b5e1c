"""``tracelake jobs submit`` against a real Ray cluster: this test starts a head (``ray start --head --block``,
dashboard and job server on 127.0.0.1, free ports, a private temp dir so no other Ray user on the machine can
find it), submits a consolidation of a 200-event lake, waits for SUCCEEDED, checks the lake, and stops exactly
the processes it started (the head and its descendants, found through /proc)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

import tracelake

pytestmark = [pytest.mark.slow, pytest.mark.cluster]
BIN = Path(sys.executable).parent


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (from /proc: pid -> parent pid)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        kids = [p for p, parent in parents.items() if parent in frontier]
        found += kids
        frontier = kids
    return found


def _stop(head: subprocess.Popen[bytes]) -> None:
    procs = [head.pid, *_descendants(head.pid)]
    for sig, wait_s in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0)):
        for pid in procs:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in procs):
            head.poll()
            time.sleep(0.2)
    head.wait(timeout=5)


@pytest.fixture
def ray_head() -> Iterator[str]:
    """A real single-node Ray cluster; yields its job server address (``http://127.0.0.1:PORT``)."""
    if not Path("/proc").exists():
        pytest.skip("needs /proc to find the processes to stop")
    gcs, dash, client, agent, agent_grpc, metrics, env_agent, nm, om = _free_ports(9)
    low = 20000 + (os.getpid() % 200) * 100
    temp = tempfile.mkdtemp(prefix="tlr-", dir="/tmp")  # short: Ray's socket paths have a length limit
    # the cluster's Python has tracelake's dependencies: this venv (job entrypoints run `python` from PATH)
    env = {**os.environ, "TRACELAKE_EMBEDDER": "hash", "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0",
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("RAY_ADDRESS", None)
    cmd = [str(BIN / "ray"), "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={gcs}",
           "--include-dashboard=true", "--dashboard-host=127.0.0.1", f"--dashboard-port={dash}",
           f"--ray-client-server-port={client}", f"--dashboard-agent-listen-port={agent}",
           f"--dashboard-agent-grpc-port={agent_grpc}", f"--metrics-export-port={metrics}",
           f"--runtime-env-agent-port={env_agent}", f"--node-manager-port={nm}", f"--object-manager-port={om}",
           f"--min-worker-port={low}", f"--max-worker-port={low + 99}", "--num-cpus=2", f"--temp-dir={temp}",
           "--disable-usage-stats"]
    log = open(Path(temp) / "ray-start.log", "wb")
    # cwd: the job's entrypoint runs there, and a source checkout as cwd would shadow the shipped wheel
    head = subprocess.Popen(cmd, env=env, cwd=temp, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    address = f"http://127.0.0.1:{dash}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if head.poll() is not None:
                raise AssertionError(f"ray start exited: {(Path(temp) / 'ray-start.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{address}/api/jobs/", timeout=5) as resp:  # the job server is up
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the Ray job server did not come up in 120 s")
            time.sleep(1)
        yield address
    finally:
        _stop(head)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)


def test_jobs_submit_consolidates_on_a_real_cluster(ray_head: str, tmp_path: Path, ray_local: None) -> None:
    data = str(tmp_path / "lake")
    lake = tracelake.connect(data, embedder="hash")
    places = ["Lisbon", "Berlin", "Munich", "Porto", "Oslo"]
    events = [{"tenant": "cluster-t", "event_id": f"c-{i}", "actor": f"Person{i % 10}", "stream": f"s{i % 4}",
               "occurred_at": 1_700_000_000_000 + i * 60_000,
               "text": f"Person{i % 10} moved to {places[i % 5]} and met Person{(i + 3) % 10} there."}
              for i in range(200)]
    assert lake.ingest(events).accepted == 200
    lake.close()

    env = {**os.environ, "TRACELAKE_EMBEDDER": "hash"}
    env.pop("RAY_ADDRESS", None)
    proc = subprocess.run([str(BIN / "tracelake"), "jobs", "submit", "--address", ray_head, "--data", data,
                           "--wait", "--json"], env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert out["status"] == "SUCCEEDED", out.get("logs", "")[-3000:]

    lake = tracelake.connect(data, embedder="hash")
    try:
        counts = lake.sql("select (select count(*) from ledger where tenant = 'cluster-t') as consolidated, "
                          "(select count(*) from traces where tenant = 'cluster-t') as traces, "
                          "(select count(*) from job_runs where status = 'committed') as runs").to_pylist()[0]
        assert counts["consolidated"] == 200 and counts["traces"] > 0 and counts["runs"] >= 1
    finally:
        lake.close()
