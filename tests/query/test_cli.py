"""CLI: search / reconstruct / timeline / facts, JSON and human output."""

from __future__ import annotations

import json

from tests.query.story import T1
from tracelake.cli import main


def _json(capsys, argv) -> object:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_search_json(story_lake, capsys) -> None:
    out = _json(capsys, ["--data", story_lake.uri, "search", "Melanie painted a sunrise", "--tenant", T1,
                         "--as-of", "2023-06-01T00:00:00Z", "--k", "2", "--json"])
    assert isinstance(out, list) and len(out) == 2
    first = out[0]
    assert first["trace_id"] == "tr-m1" and first["source_event_ids"] == ["m1"]
    assert first["occurred_at"] == "2023-05-08T13:56:00Z" and first["tenant"] == T1
    for key in ("score", "text", "kind", "stream", "valid_from", "valid_to"):
        assert key in first
    # global option after the command, epoch-ms time
    out2 = _json(capsys, ["search", "Melanie painted a sunrise", "--tenant", T1, "--as-of", "1685577600000",
                          "--k", "2", "--json", "--data", story_lake.uri])
    assert out2 == out


def test_timeline_and_facts_json(story_lake, capsys) -> None:
    rows = _json(capsys, ["--json", "--data", story_lake.uri, "timeline", "Caro", "--tenant", T1,
                          "--to", "2023-06-01T00:00:00Z"])
    assert [r["trace_id"] for r in rows] == ["tr-c1", "tr-c2"]
    assert rows[0]["occurred_at"] == "2023-01-10T09:00:00Z" and rows[0]["source_event_ids"] == ["c1"]
    facts = _json(capsys, ["--json", "--data", story_lake.uri, "facts", "--tenant", T1, "--subject", "Caroline",
                           "--as-of", "2023-04-01T00:00:00Z", "--known-at", "2023-03-01T00:00:00Z"])
    assert [f["object"] for f in facts] == ["Boston"]
    assert facts[0]["valid_from"] == "2023-01-10T09:00:00Z" and facts[0]["valid_to"] is None


def test_reconstruct_json_and_human(story_lake, capsys) -> None:
    bundle = _json(capsys, ["--json", "--data", story_lake.uri, "reconstruct", "where does Caroline live?",
                            "--tenant", T1, "--as-of", "2023-07-01T00:00:00Z"])
    assert bundle["entities"][0] == "Caroline"
    assert [f["object"] for f in bundle["facts"] if f["predicate"] == "lives_in"] == ["Seattle"]
    assert all(h["source_event_ids"] for ep in bundle["episodes"] for h in ep["hits"])
    assert main(["--data", story_lake.uri, "reconstruct", "where does Caroline live?", "--tenant", T1]) == 0
    human = capsys.readouterr().out
    assert "Seattle" in human and "superseded: Denver" in human
    assert main(["--data", story_lake.uri, "search", "Caroline", "--tenant", T1]) == 0
    assert "events c" in capsys.readouterr().out


def test_bad_time_is_usage_error(story_lake, capsys) -> None:
    assert main(["--data", story_lake.uri, "search", "x", "--tenant", T1, "--as-of", "yesterday-ish"]) == 2
    assert "as_of" in capsys.readouterr().err


def test_context_json_human_and_bad_budget(story_lake, capsys) -> None:
    ctx = _json(capsys, ["--json", "--data", story_lake.uri, "context", "Where does Caroline live?", "--tenant", T1,
                         "--as-of", "2023-07-01T00:00:00Z", "--budget", "20"])
    assert ctx["words"] <= 20 and "Seattle" in ctx["items"][0]["text"]
    assert ctx["items"][0]["kind"] == "fact" and ctx["items"][0]["source_event_ids"][0] == "c3"
    assert main(["--data", story_lake.uri, "context", "Where does Caroline live?", "--tenant", T1,
                 "--as-of", "2023-04-01T00:00:00Z", "--known-at", "2023-03-01T00:00:00Z"]) == 0
    assert "Boston" in capsys.readouterr().out
    assert main(["--data", story_lake.uri, "context", "x", "--tenant", T1, "--budget", "0"]) == 2
    assert "budget_words" in capsys.readouterr().err
    bundle = _json(capsys, ["--json", "--data", story_lake.uri, "reconstruct", "where does Caroline live?",
                            "--tenant", T1, "--budget", "15"])
    assert sum(len(h["text"].split()) for h in bundle["hits"]) <= 15
