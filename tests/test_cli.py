"""The command line as INTERFACE.md §2 pins it: exit codes, --json, global options anywhere, stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def tl(*args: str, data: Path, stdin: str | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRACELAKE_EMBEDDER": "hash", "RAY_AUTH_MODE": "disabled"}
    env.pop("RAY_ADDRESS", None)
    return subprocess.run([sys.executable, "-m", "tracelake.cli", *args, "--data", str(data)], input=stdin,
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


@pytest.fixture(scope="module")
def cli_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli") / "lake"


def test_ingest_exit_codes_and_json(cli_lake: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(json.dumps({"tenant": "t1", "occurred_at": f"2023-05-0{i}T10:00:00Z",
                                          "text": f"day {i}", "event_id": f"e{i}"}) for i in range(1, 4)) + "\n")
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(good.read_text() + '{"tenant": "t1", "text": "no time"}\n{oops\n')
    first = tl("--json", "ingest", str(good), data=cli_lake)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"accepted": 3, "duplicates": 0, "rejected": []}
    again = tl("ingest", str(mixed), "--json", data=cli_lake)  # global option after the command
    assert again.returncode == 1
    out = json.loads(again.stdout)
    assert (out["accepted"], out["duplicates"]) == (0, 3)
    assert [r["line"] for r in out["rejected"]] == [4, 5]
    assert "occurred_at" in out["rejected"][0]["reason"] and "invalid JSON" in out["rejected"][1]["reason"]
    missing = tl("ingest", str(tmp_path / "nope.jsonl"), data=cli_lake)
    assert missing.returncode == 2 and "not found" in missing.stderr
    usage = tl("ingest", data=cli_lake)
    assert usage.returncode == 2


def test_ingest_from_stdin_with_default_tenant(cli_lake: Path) -> None:
    line = json.dumps({"occurred_at": "2023-05-08T13:56:00Z", "text": "from stdin", "event_id": "s1"})
    res = tl("ingest", "-", "--tenant", "t2", "--json", data=cli_lake, stdin=line + "\n")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["accepted"] == 1


def test_sql_one_shot_json_error_and_repl(cli_lake: Path) -> None:
    res = tl("sql", "select tenant, count(*) as n from events group by tenant order by tenant", "--json",
             data=cli_lake)
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert {r["tenant"] for r in rows} <= {"t1", "t2"}
    bad = tl("sql", "select nope from nowhere", data=cli_lake)
    assert bad.returncode == 1 and "SQL error" in bad.stderr
    repl = tl("--json", "sql", data=cli_lake, stdin="select 1 as one;\nselect 2\n  as two;\n")
    assert repl.returncode == 0
    assert [json.loads(line) for line in repl.stdout.splitlines()] == [[{"one": 1}], [{"two": 2}]]
