"""Smoke run of benchmarks/serve.py: it finishes on a small input and writes the JSON and table it promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_serve_benchmark_smoke(tmp_path: Path) -> None:
    out = tmp_path / "serve.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "serve.py"), "--events", "2000",
                           "--events-single", "50", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "| 1,000 | http |" in proc.stdout
    res = json.loads(out.read_text())
    for side in ("http", "inproc"):
        for size in ("1", "100", "1000"):
            row = res[side][size]
            assert row["accepted"] == row["events"] and row["events_per_s"] > 0
            assert 0 < row["latency_p50_ms"] <= row["latency_p99_ms"]
    assert res["inproc"]["bulk"]["events_per_s"] > 0
    assert set(res["ratio"]) == {"1", "100", "1000"} and isinstance(res["target_met"], bool)
    assert out.with_suffix(".md").read_text().startswith("| batch |")
