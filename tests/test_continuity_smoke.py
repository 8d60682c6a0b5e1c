"""The continuity story corpus: the whole corpus validates, the validator names bad files' problems, and
(slow) each benchmark mode runs end to end on two stories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tracelake.errors import TracelakeError

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks" / "continuity.py"
sys.path.insert(0, str(ROOT / "benchmarks"))

from continuity_corpus import STORIES, grouped_turns, load_corpus, validate  # noqa: E402


def test_corpus_validates():
    stories, errors = validate()
    assert errors == []
    assert stories, f"no stories under {STORIES}"
    for s in stories:
        assert all(a.at < b.at for a, b in zip(s.turns, s.turns[1:]))


def test_validator_names_file_turn_and_field(tmp_path):
    good = json.loads((STORIES / "p01-s01.json").read_text())
    bad = json.loads(json.dumps(good))
    bad["turns"][3]["gold"][0]["o"] = "a phrase nobody said"
    bad["turns"][5]["gold"][0]["oo"] = "typo"
    bad["questions"][0]["keywords"] = ["Zanzibar"]
    bad["questions"][1]["evidence"] = [99]
    bad["questions"][2]["kind"] = "vibes"
    bad["questions"][3]["q"] = "What did she earn?"
    (tmp_path / "p01-s01.json").write_text(json.dumps(bad))
    (tmp_path / "p01-s02.json").write_text('{"id": "p01-s02",\n  "person": }')
    good["id"] = "p01-s03"
    good["turns"][4]["at"] = "2024-01-20T10:00:00"  # no offset
    (tmp_path / "p01-s03.json").write_text(json.dumps(good))
    _, errors = validate([tmp_path])
    text = "\n".join(errors)
    for expected in ("p01-s01.json.turns[3].gold[0].o: 'a phrase nobody said' does not occur in the turn text",
                     "p01-s03.json.turns[4].at needs a UTC offset",
                     "p01-s03.json: keyword, evidence_ref and timeline checks skipped",
                     "p01-s01.json.turns[5].gold[0].oo: unknown field",
                     "p01-s01.json.questions[0].keywords: 'Zanzibar' occurs in no turn",
                     "p01-s01.json.questions[1].evidence: turn 99 does not exist",
                     "p01-s01.json.questions[2].kind: 'vibes' is not one of",
                     "p01-s01.json.questions[3].q: does not name the teller 'Renata'",
                     "p01-s02.json: line 2 column 13: invalid JSON"):
        assert expected in text, (expected, text)
    with pytest.raises(TracelakeError, match="unknown or skipped story ids"):
        load_corpus(["p99-s01"])


def test_validate_command_exit_status(tmp_path):
    ok = subprocess.run([sys.executable, str(BENCH), "--validate"], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (tmp_path / "p01-s01.json").write_text("[]")
    bad = subprocess.run([sys.executable, str(BENCH), "--validate", str(tmp_path / "p01-s01.json")], cwd=ROOT,
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "p01-s01.json: expected a JSON object" in bad.stdout


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    # A subprocess: each benchmark starts (and owns) its own embedded Ray, apart from the test session's.
    proc = subprocess.run([sys.executable, *args, "--workdir", str(tmp_path / "work")], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc


@pytest.mark.slow
def test_facts_mode_end_to_end(tmp_path):
    out = tmp_path / "facts.json"
    proc = _run([str(BENCH), "--facts", "--stories", "p01-s01,p02-s01", "--sample", "5", "--out", str(out)],
                tmp_path)
    assert "| fact recall (all gold) |" in proc.stdout
    r = json.loads(out.read_text())["result"]
    assert r["turns"] == 20 and r["gold"] > 0 and 0 <= r["recall"] <= 1 and r["recall_oracle"] is not None
    assert r["facts_per_turn"] > 0
    sample = json.loads((tmp_path / "facts_sample.json").read_text())["facts"]
    assert len(sample) == 5 and all(f["turns"] and f["audit"] == {"ok": None, "note": ""} for f in sample)


@pytest.mark.slow
def test_context_mode_end_to_end(tmp_path):
    out = tmp_path / "context.json"
    proc = _run([str(BENCH), "--context", "--stories", "p01-s01,p01-s02", "--embedder", "hash", "--out", str(out)],
                tmp_path)
    assert "**cumulative**" in proc.stdout and "| bm25 |" in proc.stdout and "| fusion |" in proc.stdout
    res = json.loads(out.read_text())
    for mode in ("isolated", "cumulative"):
        m = res["modes"][mode]
        assert m["questions"] == 18 and m["future_leaks"] == 0 and m["contexts_over_budget"] == 0
        assert {"search@60", "bm25@60", "fusion@30", "fusion@60", "fusion@120"} <= set(m["pass"])
        assert {"search@10", "fusion@5", "fusion@50"} <= set(m["evidence_recall"])
        assert 0 <= m["evidence_recall"]["fusion@10"] <= m["evidence_recall"]["fusion@50"] <= 1
        if res["has_context"]:
            assert {"context@30", "context@60", "context@120"} <= set(m["pass"])
    # Isolated, p01-s02 cannot see p01-s01; cumulative can: answerable shares differ only by such questions.
    assert res["modes"]["cumulative"]["answerable"] >= res["modes"]["isolated"]["answerable"]
    rows = [json.loads(r) for r in (tmp_path / "context_questions.jsonl").read_text().splitlines()]
    assert len(rows) == 36 and all("fusion@60" in r["pass"] for r in rows)


def test_grouped_turns_tell_several_turns_as_one_and_keep_the_evidence():
    stories = load_corpus(["p01-s01", "p01-s02"], None)
    assert grouped_turns(stories, 1) is stories
    long = grouped_turns(stories, 3)
    for s, g in zip(stories, long):
        assert len(g.turns) == -(-len(s.turns) // 3) and g.end == s.end
        assert " ".join(t.text for t in g.turns) == " ".join(t.text for t in s.turns)
        for q, gq in zip(s.questions, g.questions):
            assert gq.evidence == tuple(sorted({i // 3 for i in q.evidence}))
            assert gq.keywords == q.keywords
    with pytest.raises(ValueError, match="turns per event"):
        grouped_turns(stories, 0)


LOCOMO = (ROOT / ".." / "shared" / "data" / "locomo" / "locomo10.json").resolve()


@pytest.mark.slow
@pytest.mark.skipif(not LOCOMO.is_file(), reason=f"LoCoMo data not found at {LOCOMO}")
def test_locomo_observations_end_to_end(tmp_path):
    out = tmp_path / "obs.json"
    proc = _run([str(ROOT / "benchmarks" / "locomo_observations.py"), "--limit", "1", "--data", str(LOCOMO),
                 "--out", str(out)], tmp_path)
    assert "raw evidence turn text (ceiling)" in proc.stdout
    c = json.loads(out.read_text())["coverage"]
    assert c["observations"] > 100 and 0.5 < c["turn_text"]["mean"] < 0.75
    assert 0 <= c["facts"]["mean"] <= 1 and c["facts_per_turn"] >= 0
