"""Smoke runs of the benchmarks: they finish on a small input and write the JSON they promise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_ingest_benchmark_smoke(tmp_path):
    out = tmp_path / "ingest.json"
    # A subprocess: the benchmark starts (and owns) its own embedded Ray, apart from the test session's.
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "ingest.py"), "--events", "20000", "--ack-seconds", "2",
         "--out", str(out), "--workdir", str(tmp_path / "work")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "| tracelake Ray path" in proc.stdout

    result = json.loads(out.read_text())
    for key in ("events", "machine", "ray", "raw_append", "raw_single_write", "ratio_ray_to_raw",
                "ack_latency", "rss_peak_mb", "targets"):
        assert key in result, key
    assert result["events"] == 20000
    assert result["ray"]["accepted"] == 20000 and result["ray"]["stored_rows"] == 20000
    for side in ("ray", "raw_append", "raw_single_write"):
        assert result[side]["events_per_s"] > 0
    assert result["ratio_ray_to_raw"] > 0
    ack = result["ack_latency"]
    assert ack["error_count"] == 0
    assert 0 < ack["p50_s"] <= ack["p99_s"] <= ack["max_s"]
    assert result["rss_peak_mb"]["ray"]["driver_mb"] > 0
    assert result["rss_peak_mb"]["ray"]["actors_mb"] > 0
