"""Verifiable erase on real Lance (local disk and the SeaweedFS S3 server): the planted marker leaves no byte
behind, other tenants are untouched, a fact with other evidence survives with it alone, entities, re-ingest,
bad input, the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import tracelake
from tests.forget_events import events, files_containing, s3_objects_containing, write_jsonl
from tracelake.errors import ValidationError

MARKER = "QZV" + "MARKER" + "9731"  # never written whole in this file: grepping the repo finds nothing
MARKED = (5, 9, 13)  # event indexes: i % 4 == 1, so all of tenant t1
TWIN = "Ayla works at Zentrix."


def _corpus(n: int) -> list[dict[str, Any]]:
    """``n`` events over 4 tenants; 3 of tenant t1 carry the marker, one of them a fact that a kept t1
    event (its twin) states too."""
    rows = events(n, tenants=4, marker=MARKER, marked=MARKED)
    rows[MARKED[0]]["text"] = f"{TWIN} The code word is {MARKER}."
    rows[MARKED[-1] + 4]["text"] = TWIN  # the twin: a kept t1 event with the same fact
    return rows


def _lake_bytes(lake: Any, server: Any) -> tuple[int, list[str]]:
    """(files or objects read, those containing the marker) for the lake on disk or on S3."""
    if lake.uri.startswith("s3://"):
        prefix = lake.uri.split("/", 3)[3]
        return s3_objects_containing(server, prefix, MARKER.encode())
    root = Path(lake.uri)
    files = [p for p in root.rglob("*") if p.is_file()]
    return len(files), files_containing(root, MARKER.encode())


def _tenant_view(lake: Any, tenant: str) -> dict[str, Any]:
    """What a tenant sees: counts per table and its search results."""
    counts = {t: lake.sql(f"select count(*) as n from {t} where tenant = ?", [tenant])["n"][0].as_py()
              for t in ("events", "traces", "entities", "facts", "ledger")}
    hits = [(h.trace_id, h.source_event_ids) for h in lake.search("who moved to Oslo?", tenant=tenant, k=5)]
    return {"counts": counts, "hits": hits}


def _build(lake: Any, n: int) -> list[dict[str, Any]]:
    rows = _corpus(n)
    half = n // 2
    lake.ingest(rows[:half])
    lake.consolidate()
    lake.ingest(rows[half:])
    lake.consolidate()  # a second run: more versions, indexes brought up to date
    lake.ingest([{**rows[MARKED[1]], "event_id": "late-copy", "stream": "other"}])  # unconsolidated, also marked
    return rows


def _check_erase(lake: Any, server: Any, n: int) -> None:
    rows = _build(lake, n)
    read, found = _lake_bytes(lake, server)
    assert read > 50 and found, "the marker must be in the lake before the erase"
    marked = [rows[i]["event_id"] for i in MARKED] + ["late-copy"]
    twin = rows[MARKED[-1] + 4]["event_id"]
    shared = lake.sql("select fact_id, source_event_ids from facts where tenant = 't1' and retracted_at is null "
                      "and list_contains(source_event_ids, ?) and list_contains(source_event_ids, ?)",
                      [marked[0], twin]).to_pylist()
    assert shared, "the twin must support a fact of a marked event"
    others = {t: _tenant_view(lake, t) for t in ("t0", "t2", "t3")}

    receipt = lake.forget("t1", event_ids=marked)

    assert receipt.events == 4 and receipt.removed["events"] == 4 and receipt.removed["ledger"] == 3
    assert sum(receipt.versions_cleaned.values()) > 0 and receipt.bytes_removed > 0
    read, found = _lake_bytes(lake, server)
    assert read > 20 and found == []
    assert {t: _tenant_view(lake, t) for t in ("t0", "t2", "t3")} == others
    after = lake.sql("select source_event_ids from facts where tenant = 't1' and fact_id = ? "
                     "and retracted_at is null", [shared[0]["fact_id"]]).to_pylist()
    assert [r["source_event_ids"] for r in after] == [[twin]]
    assert lake.sql("select count(*) as n from traces where list_has_any(source_event_ids, ?)",
                    [marked])["n"][0].as_py() == 0
    audit = lake.sql("select * from erasures").to_pylist()
    assert [a["erasure_id"] for a in audit] == [receipt.erasure_id] and audit[0]["ids_hash"] == receipt.ids_hash
    assert MARKER not in json.dumps(audit, default=str)
    # time travel: no version older than the erase is left to travel to
    for table in ("events", "traces", "facts", "entities"):
        assert len(lake.store.versions(table)) == 1


def test_forget_leaves_no_byte_of_the_marker_locally_or_on_s3(lake, request) -> None:
    server = request.getfixturevalue("s3_server") if lake.uri.startswith("s3://") else None
    _check_erase(lake, server, 1000)


@pytest.mark.slow
@pytest.mark.parametrize("where", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_forget_at_ten_thousand_events(where: str, tmp_path: Path, ray_local: None, request) -> None:
    server = request.getfixturevalue("s3_server") if where == "s3" else None
    uri = server.uri("forget-10k") if server else str(tmp_path / "lake")
    lake = tracelake.connect(uri, storage_options=server.storage_options if server else None, embedder="hash")
    try:
        _check_erase(lake, server, 10_000)
    finally:
        lake.close()


def test_forgotten_ids_do_not_come_back_unless_asked(local_lake, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "old.jsonl", _corpus(40))
    local_lake.ingest(str(path))
    local_lake.consolidate()
    local_lake.forget("t1", event_ids=["e000005", "e000009"])
    again = local_lake.ingest(str(path))
    assert again.accepted == 0 and again.duplicates == 40
    forgotten = again.acks.filter(again.acks["reason"].is_valid()).to_pylist()
    assert sorted(r["event_id"] for r in forgotten) == ["e000005", "e000009"]
    assert all(r["reason"].startswith("forgotten") for r in forgotten)
    assert local_lake.sql("select count(*) as n from events")["n"][0].as_py() == 38
    back = local_lake.ingest(str(path), allow_reingest=True)
    assert back.accepted == 2 and back.duplicates == 38
    local_lake.consolidate()
    assert local_lake.sql("select count(*) as n from ledger where event_id = 'e000005'")["n"][0].as_py() == 1


def test_forget_an_entity_removes_its_mentions_facts_and_timeline(local_lake) -> None:
    from importlib import resources

    local_lake.ingest(str(resources.files("tracelake").joinpath("samples/demo.jsonl")))
    local_lake.consolidate()
    assert local_lake.timeline("David Chen", tenant="alice").num_rows > 0
    kept_facts = local_lake.sql(
        "select fact_id from facts f where tenant = 'alice' and not exists (select 1 from traces t where "
        "t.tenant = 'alice' and list_contains(t.entities, 'David Chen') and list_has_any(t.source_event_ids, "
        "f.source_event_ids))")["fact_id"].to_pylist()
    bob_before = local_lake.sql("select count(*) as n from facts where tenant = 'bob'")["n"][0].as_py()

    receipt = local_lake.forget("alice", entity="david chen")

    assert receipt.events > 0 and receipt.selector == {"kind": "entity", "name_sha256": receipt.selector["name_sha256"]}
    assert local_lake.timeline("David Chen", tenant="alice").num_rows == 0
    assert local_lake.sql("select count(*) as n from entities where tenant = 'alice' and name = 'David Chen'"
                          )["n"][0].as_py() == 0
    assert local_lake.sql("select count(*) as n from facts where tenant = 'alice' and "
                          "(subject = 'David Chen' or object = 'David Chen')")["n"][0].as_py() == 0
    left = set(local_lake.sql("select fact_id from facts where tenant = 'alice'")["fact_id"].to_pylist())
    assert set(kept_facts) <= left
    assert local_lake.sql("select count(*) as n from facts where tenant = 'bob'")["n"][0].as_py() == bob_before
    assert "David" not in json.dumps(local_lake.sql("select * from erasures").to_pylist(), default=str)


def test_forget_before_a_time_and_all(local_lake) -> None:
    local_lake.ingest(_corpus(60))
    local_lake.consolidate()
    r = local_lake.forget("t2", before="2023-01-01T06:00:00Z")  # events 0..21 occur in the first 6 hours
    early = local_lake.sql("select count(*) as n from events where tenant = 't2' and occurred_at < "
                           "TIMESTAMPTZ '2023-01-01 06:00:00+00'")["n"][0].as_py()
    assert r.events > 0 and early == 0
    r = local_lake.forget("t3", all=True)
    assert r.events == 15
    assert all(local_lake.sql(f"select count(*) as n from {t} where tenant = 't3'")["n"][0].as_py() == 0
               for t in ("events", "traces", "entities", "facts", "ledger"))
    assert local_lake.sql("select count(*) as n from events where tenant = 't0'")["n"][0].as_py() == 15


def test_bad_input_is_refused_and_unknown_targets_give_an_empty_receipt(local_lake) -> None:
    local_lake.ingest(events(8))
    empty = local_lake.forget("nobody", all=True)
    assert empty.events == 0 and empty.removed == {} and empty.versions_cleaned == {}
    unknown = local_lake.forget("t1", event_ids=["no-such-event"])
    assert unknown.events == 0 and unknown.removed == {}
    with pytest.raises(ValidationError, match="exactly one of"):
        local_lake.forget("t1")
    with pytest.raises(ValidationError, match="exactly one of"):
        local_lake.forget("t1", event_ids=["e000001"], all=True)
    with pytest.raises(ValidationError, match="non-empty list"):
        local_lake.forget("t1", event_ids=[])
    with pytest.raises(ValidationError, match="tenant"):
        local_lake.forget("bad tenant!", all=True)
    with pytest.raises(ValidationError, match="before"):
        local_lake.forget("t1", before="yesterday")
    assert local_lake.sql("select count(*) as n from events")["n"][0].as_py() == 8


def test_cli_forget_asks_unless_yes(local_lake, capsys, monkeypatch) -> None:
    import io

    from tracelake.cli import main

    local_lake.ingest(events(8))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no terminal: refuse without --yes
    assert main(["--data", local_lake.uri, "forget", "--tenant", "t1", "--event-id", "e000001"]) == 2
    assert "pass --yes" in capsys.readouterr().err
    assert main(["--data", local_lake.uri, "forget", "--tenant", "t1", "--event-id", "e000001", "--yes",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["events"] == 1 and out["removed"]["events"] == 1
    assert local_lake.sql("select requested_by from erasures")["requested_by"].to_pylist() == ["cli"]
