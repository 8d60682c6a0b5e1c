"""The bins of ``benchmarks/locomo_ceiling.py`` (pure functions; the benchmark itself needs the LoCoMo data)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from locomo_ceiling import DENSE_BINS, SEARCH_BINS, dense_bin, markdown, search_bin, tally  # noqa: E402


def test_search_bin_reads_rank_in_the_distinct_turns():
    shown = [f"t{i}" for i in range(1, 51)]
    assert search_bin("t1", shown) == "top10"
    assert search_bin("t10", shown) == "top10"
    assert search_bin("t11", shown) == "11-25"
    assert search_bin("t26", shown) == "26-50"
    assert search_bin("t99", shown) == "missed"
    assert search_bin("t1", []) == "missed"


def test_dense_bin_edges():
    assert [dense_bin(r) for r in (1, 50, 51, 100, 101, 200, 201)] == \
        ["dense<50", "dense<50", "dense<100", "dense<100", "dense<200", "dense<200", "dense>=200"]


def test_tally_shares_per_category_and_overall():
    rows = [("multi_hop", "top10", None), ("multi_hop", "missed", "dense>=200"),
            ("single_hop", "11-25", None), ("single_hop", "missed", "dense<50")]
    res = tally(rows)
    assert res["overall"]["evidence_turns"] == 4
    assert res["multi_hop"]["top10"] == 0.5 and res["multi_hop"]["dense>=200"] == 0.5
    assert res["single_hop"]["missed"] == 0.5 and res["single_hop"]["dense<50"] == 0.5
    for cat in res.values():  # the search bins partition the turns; the dense bins split the missed ones
        assert abs(sum(cat[b] for b in SEARCH_BINS) - 1) < 1e-9
        assert abs(sum(cat[b] for b in DENSE_BINS) - cat["missed"]) < 1e-9
    table = markdown(res)
    assert table.splitlines()[2].startswith("| overall | 4 |")
    assert tally([]) == {}
