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

from continuity_corpus import STORIES, load_corpus, validate  # noqa: E402


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
