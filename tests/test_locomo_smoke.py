"""Smoke run of the LoCoMo evidence-recall benchmark: one conversation, ``hash`` embedder.

Skipped when the data file is absent (LoCoMo is CC BY-NC 4.0 and never vendored into the repo).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / ".." / "shared" / "data" / "locomo" / "locomo10.json").resolve()
METRICS = ("recall@1", "recall@5", "recall@10", "recall@25", "all_hit@10", "session_recall@5",
           "session_recall@10", "mrr", "tokens@10")


def _check_aggregate(agg: dict, categories: set[str]) -> None:
    assert agg["overall"]["questions"] > 0
    for m in METRICS:
        value = agg["overall"][m]
        assert value >= 0, m
        if m != "tokens@10":
            assert value <= 1, m
    assert set(agg["by_category"]) == categories
    assert sum(c["questions"] for c in agg["by_category"].values()) == agg["overall"]["questions"]


@pytest.mark.slow
@pytest.mark.skipif(not DATA.is_file(), reason=f"LoCoMo data not found at {DATA}")
def test_locomo_benchmark_smoke(tmp_path):
    out = tmp_path / "locomo.json"
    # A subprocess: the benchmark starts (and owns) its own embedded Ray, apart from the test session's.
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "locomo.py"), "--conversations", "1", "--embedder", "hash",
         "--data", str(DATA), "--out", str(out), "--workdir", str(tmp_path / "work"), "--no-reconstruct",
         "--ablation"],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "| tracelake | overall |" in proc.stdout and "| BM25 (turns) | overall |" in proc.stdout

    res = json.loads(out.read_text())
    for key in ("data", "config", "tracelake", "bm25", "ratios", "stages", "time_checks", "goals", "hits_only",
                "ablation", "timings_s", "misses", "redundancy", "search_consistency"):
        assert key in res, key
    data = res["data"]
    assert data["conversations"] == 1 and data["turns"] > 100 and data["questions"] > 100
    assert data["skipped"].get("adversarial", 0) > 0  # category 5 is never scored
    cats = set(data["questions_by_category"])
    assert cats <= {"multi_hop", "temporal", "open_domain", "single_hop"}
    _check_aggregate(res["tracelake"], cats)
    _check_aggregate(res["bm25"], cats)
    assert res["ratios"]["overall"]["recall@10"] is not None

    # Consolidation keeps every evidence turn reachable, after both runs.
    for stage in ("after_decompose_merge", "after_decay_reindex"):
        assert res["stages"][stage]["coverage"]["evidence_coverage"] == 1.0, stage
        _check_aggregate(res["stages"][stage], cats)

    # Zero future leakage, and evidence is still found right after its session.
    before = res["time_checks"]["before_evidence"]
    assert before["violations"] == 0
    assert before["hits_occurred_after_as_of"] == 0 and before["source_ids_after_as_of"] == 0
    assert before["evidence_ids_returned"] == 0
    assert res["time_checks"]["after_evidence"]["overall"]["recall@10"] > 0
    assert res["goals"]["future_leakage_violations"]["met"] is True

    assert res["search_consistency"]["identical_lists"] == res["search_consistency"]["questions"]
    assert {"full (default)", "- context window (hits only)", "- stream diversity (stream_decay 1)",
            "- tenant-local BM25 (Lance full-text index)", "- vector signal"} <= set(res["ablation"])
    assert res["ablation"]["full (default)"]["overall"] == res["tracelake"]["overall"]
    for phase in ("ingest", "consolidate_decompose_merge", "consolidate_decay_reindex", "search_final_public_api",
                  "time_checks", "bm25", "total"):
        assert res["timings_s"][phase] >= 0, phase


@pytest.mark.slow
def test_locomo_benchmark_without_data(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "locomo.py"), "--data", str(tmp_path / "missing.json"),
         "--out", str(tmp_path / "out.json")],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode != 0
    assert "snap-research/locomo" in proc.stderr and "CC BY-NC 4.0" in proc.stderr
    assert not (tmp_path / "out.json").exists()
