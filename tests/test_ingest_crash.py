"""An ingest process killed mid-way loses no acknowledged event; the retry ends with each event exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]

WRITER = r"""
import json, sys, tracelake
lake = tracelake.connect(sys.argv[1], embedder="hash", ingest_chunk_rows=250, ingest_max_inflight=2)
def on_ack(ack):
    ids = [r["event_id"] for r in ack.to_pylist() if r["status"] == "accepted"]
    print(json.dumps(ids), flush=True)
lake.ingest(sys.argv[2], on_ack=on_ack)
print("DONE", flush=True)
"""


def _write_input(path: Path, n: int) -> None:
    with open(path, "w") as fh:
        for i in range(n):
            fh.write(json.dumps({"tenant": f"t{i % 3}", "event_id": f"e{i}", "text": f"event {i} " + "x" * 150,
                                 "occurred_at": 1683554160000 + i * 1000}) + "\n")


def test_killed_ingest_process_loses_no_ack_and_retry_is_exactly_once(tmp_path: Path, ray_local: None) -> None:
    import tracelake

    data, lake_uri = tmp_path / "in.jsonl", str(tmp_path / "lake")
    _write_input(data, 20_000)
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    env.pop("RAY_ADDRESS", None)
    proc = subprocess.Popen([sys.executable, "-c", WRITER, lake_uri, str(data)], stdout=subprocess.PIPE,
                            text=True, env=env, cwd=ROOT, start_new_session=True)
    acked: list[str] = []
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line or line.startswith("DONE"):
            break
        acked.extend(json.loads(line))
        if len(acked) >= 2_000:
            os.killpg(proc.pid, signal.SIGKILL)  # the driver and the Ray it embedded, mid-stream
            break
    proc.wait(timeout=30)
    assert acked, "the writer acknowledged nothing before it was killed"

    lake = tracelake.connect(lake_uri, embedder="hash")
    committed = set(lake.sql("select event_id from events")["event_id"].to_pylist())
    assert set(acked) <= committed, "an acknowledged event was lost"
    retry = lake.ingest(str(data))
    assert retry.accepted + retry.duplicates == 20_000 and not retry.rejected
    counts = lake.sql("select count(*) as n, count(distinct event_id) as d from events").to_pylist()[0]
    assert counts == {"n": 20_000, "d": 20_000}
