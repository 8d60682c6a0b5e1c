"""SQL: views at the published state, time-aware macros, filter pushdown into Lance."""

from __future__ import annotations

from tests.query.builders import build, publish, trace, write_traces
from tests.query.story import T1


def test_views_and_macros(story_lake) -> None:
    names = {r["view_name"] for r in story_lake.sql("select view_name from duckdb_views() where temporary")
             .to_pylist()}
    assert {"events", "traces", "entities", "facts", "rejects", "job_runs", "ledger"} <= names
    rows = story_lake.sql("select object, valid_to from facts_at('t1', '2023-06-10T00:00:00Z')").to_pylist()
    assert rows == [{"object": "Denver", "valid_to": None}, {"object": "painting", "valid_to": None}] or \
        sorted(r["object"] for r in rows) == ["Denver", "painting"]
    known = story_lake.sql("select object from facts_known('t1', '2023-04-01T00:00:00Z', '2023-03-01T00:00:00Z') "
                           "where predicate = 'lives_in'")["object"].to_pylist()
    assert known == ["Boston"]
    tr = story_lake.sql("select trace_id, source_event_ids, last_source_at from traces_at('t1', "
                        "'2023-06-01T00:00:00Z') order by occurred_at").to_pylist()
    assert [r["trace_id"] for r in tr] == ["tr-c1", "tr-c2", "tr-m1", "tr-m2"]
    assert tr[2]["source_event_ids"] == ["m1"]
    tl = story_lake.sql("select trace_id from timeline_of('t1', 'CAROLINE SMITH')")["trace_id"].to_pylist()
    assert tl == ["tr-c1", "tr-c2", "tr-c3"]
    tl = story_lake.sql("select trace_id from timeline_at('t1', 'mel', '2023-06-01T00:00:00Z')")["trace_id"]
    assert tl.to_pylist() == ["tr-m1", "tr-m2"]
    # the API and the macro agree
    api = story_lake.facts(T1, as_of="2023-06-10T00:00:00Z")["row_id"].to_pylist()
    sql = story_lake.sql("select row_id from facts_at('t1', '2023-06-10T00:00:00Z') order by subject, predicate")
    assert sorted(api) == sorted(sql["row_id"].to_pylist())


def test_filters_pushed_down_into_lance(story_lake) -> None:
    plan = story_lake.sql("explain select trace_id from traces where tenant = 't1' "
                          "and occurred_at <= TIMESTAMPTZ '2023-06-01 00:00:00+00'")
    text = "\n".join(str(v) for v in plan.column(1).to_pylist())
    scan = text[text.index("ARROW_SCAN"):]
    assert "tenant" in scan and "occurred_at" in scan  # in the scan's Filters: evaluated by Lance
    plan = story_lake.sql("explain select * from facts_at('t1', '2023-06-10T00:00:00Z')")
    text = "\n".join(str(v) for v in plan.column(1).to_pylist())
    scan = text[text.index("ARROW_SCAN"):]
    assert "tenant" in scan and "valid_from" in scan and "recorded_at" in scan


def test_views_follow_new_publications(qlake) -> None:
    build(qlake, traces=[trace("a", "one", "first", "2023-01-01T00:00:00Z")])
    assert qlake.sql("select count(*) as n from traces")["n"][0].as_py() == 1
    write_traces(qlake, [trace("a", "two", "second", "2023-01-02T00:00:00Z")])
    assert qlake.sql("select count(*) as n from traces")["n"][0].as_py() == 1  # not published yet
    publish(qlake)
    assert qlake.sql("select count(*) as n from traces")["n"][0].as_py() == 2
    assert qlake.sql("select count(*) as n from traces_at('a', '2023-01-01T12:00:00Z')")["n"][0].as_py() == 1


def test_own_duckdb_session(story_lake) -> None:
    import duckdb

    from tracelake.query.duck import register_lake

    con = duckdb.connect()
    versions = register_lake(con, story_lake.uri)
    assert versions["traces"] == story_lake.store.published_versions()["traces"]
    rows = con.sql("select object from facts_at('t1', '2023-04-01T00:00:00Z') where predicate = 'lives_in'")
    assert [r[0] for r in rows.fetchall()] == ["Denver"]
    assert con.execute("select count(*) from timeline_of('t2', 'Caroline')").fetchall() == [(2,)]
    con.close()


def test_timeline_macros_return_one_row_per_event_like_the_api(qlake) -> None:
    from tracelake.ids import trace_id

    def unit(event: str, i: int, at: str, **kw) -> dict:
        return trace("a", trace_id("a", event, "episodic", i), f"{event} unit {i} with Sarah", at,
                     sources=[(event, at)], entities=["Sarah"], **kw)

    rows = [unit("e1", 0, "2023-01-01T10:00:00Z"), unit("e1", 1, "2023-01-01T10:00:00Z"),
            unit("e1", 2, "2023-01-01T10:00:00Z"),
            unit("e2", 0, "2023-01-02T10:00:00Z", archived=True),  # the whole turn is gone: its first unit stands
            unit("e2", 2, "2023-01-02T10:00:00Z"), unit("e2", 1, "2023-01-02T10:00:00Z"),
            unit("e3", 0, "2023-01-03T10:00:00Z")]
    build(qlake, traces=rows)
    api = qlake.timeline("Sarah", "a")["trace_id"].to_pylist()
    sql = qlake.sql("select trace_id from timeline_of('a', 'Sarah')")["trace_id"].to_pylist()
    e2_first = min(trace_id("a", "e2", "episodic", 1), trace_id("a", "e2", "episodic", 2))
    assert sql == api == [trace_id("a", "e1"), e2_first, trace_id("a", "e3")]
    cut = "2023-01-02T12:00:00Z"
    api = qlake.timeline("Sarah", "a", as_of=cut)["trace_id"].to_pylist()
    sql = qlake.sql(f"select trace_id from timeline_at('a', 'Sarah', '{cut}')")["trace_id"].to_pylist()
    assert sql == api == [trace_id("a", "e1"), e2_first]
