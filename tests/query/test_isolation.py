"""Tenant isolation: both tenants have a "Caroline" who moved to Denver and paints; nothing bleeds across."""

from __future__ import annotations

import json

import pytest

from tests.query.story import T1, T2
from tracelake.cli import main
from tracelake.errors import ValidationError

T1_IDS = {"tr-c1", "tr-c2", "tr-c3", "tr-m1", "tr-m2", "tr-m3", "tr-old"}
T2_IDS = {"tr-x1", "tr-x2"}


@pytest.mark.parametrize("query", ["Caroline moved to Denver", "who paints a sunrise?", "Caro Lisbon", "Boston"])
def test_search_never_returns_other_tenant(story_lake, query) -> None:
    for tenant, own in ((T1, T1_IDS), (T2, T2_IDS)):
        hits = story_lake.search(query, tenant, k=50)
        assert {h.trace_id for h in hits} <= own
        assert all(h.tenant == tenant for h in hits)


def test_timeline_facts_reconstruct_are_scoped(story_lake) -> None:
    assert set(story_lake.timeline("Caroline", T2)["trace_id"].to_pylist()) == T2_IDS
    assert set(story_lake.timeline("Caroline", T1)["trace_id"].to_pylist()) <= T1_IDS
    assert story_lake.facts(T2, "Caroline")["object"].to_pylist() == ["Lisbon"]
    assert set(story_lake.facts(T1)["tenant"].to_pylist()) == {T1}
    bundle = story_lake.reconstruct("where does Caroline live and does she paint?", T2)
    text = json.dumps(bundle.to_dict())
    assert "Seattle" not in text and "Boston" not in text and "tr-c" not in text
    assert {f["object"] for f in bundle.facts} == {"Lisbon"}


def test_sql_macros_are_scoped(story_lake) -> None:
    ids = story_lake.sql("select trace_id from timeline_of('t2', 'caro')")["trace_id"].to_pylist()
    assert set(ids) == T2_IDS
    objs = story_lake.sql("select object from facts_at('t2', now())")["object"].to_pylist()
    assert objs == ["Lisbon"]
    ids = story_lake.sql("select trace_id from traces_at('t2', '2030-01-01T00:00:00Z')")["trace_id"].to_pylist()
    assert set(ids) == T2_IDS


@pytest.mark.parametrize("tenant", [None, "", "bad tenant!", "x" * 129])
def test_tenant_is_required(story_lake, tenant) -> None:
    with pytest.raises(ValidationError):
        story_lake.search("Caroline", tenant)
    with pytest.raises(ValidationError):
        story_lake.facts(tenant)
    with pytest.raises(ValidationError):
        story_lake.timeline("Caroline", tenant)
    with pytest.raises(ValidationError):
        story_lake.reconstruct("Caroline", tenant)


def test_cli_requires_tenant(story_lake, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--data", story_lake.uri, "search", "Caroline"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit):
        main(["--data", story_lake.uri, "facts"])


def test_ranking_does_not_depend_on_other_tenants(qlake) -> None:
    """Text statistics are tenant-local: another tenant writing the query's words (even in bulk, with a
    full-text index built over everything) leaves a tenant's ranked list and scores unchanged."""
    from tests.query.builders import build, publish, trace, write_traces

    mine = [trace("a", f"a{i}", text, f"2023-03-01T10:{i:02d}:00Z", stream="s")
            for i, text in enumerate(["the violin lesson went well", "garden party with a violin",
                                      "lunch in the garden", "violin strings and a lesson plan", "new garden tools"])]
    build(qlake, traces=mine)
    before = [(h.trace_id, h.score) for h in qlake.search("violin lesson in the garden", "a", k=5)]
    write_traces(qlake, [trace("b", f"b{i}", f"violin violin lesson {i}", f"2023-03-01T11:{i % 60:02d}:00Z")
                         for i in range(200)])
    ds = qlake.store.dataset("traces")
    ds.create_scalar_index("text", "INVERTED", with_position=False)
    publish(qlake)
    after = [(h.trace_id, h.score) for h in qlake.search("violin lesson in the garden", "a", k=5)]
    assert before == after and len(before) == 5
