from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from tracelake.operators.decompose import FACT_CANDIDATES
from tracelake.operators.merge import merge_facts
from tracelake.schemas import FACTS

from tests.operators.conftest import NOW, ts

EMPTY = FACTS.empty_table()
LATER = ts(2023, 7, 1)


def cands(rows: list[tuple]) -> pa.Table:
    """rows: (event_id, subject, predicate, object, day-of-may[, valid_from]) for tenant t."""
    out = []
    for r in rows:
        eid, s, p, o, day = r[:5]
        vf = r[5] if len(r) > 5 else ts(2023, 5, day)
        out.append(
            {
                "tenant": r[6] if len(r) > 6 else "t", "subject": s, "predicate": p, "object": o, "object_type": "entity",
                "value_num": None, "value_time": None, "statement": f"{s} {p} {o}", "stream": "chat", "actor": s,
                "occurred_at": ts(2023, 5, day), "valid_from": vf, "source_event_id": eid,
            }
        )
    return pa.Table.from_pylist(out, schema=FACT_CANDIDATES)


def apply(current: pa.Table, merge) -> pa.Table:
    """What storage would do: close retracted rows, append inserts; return the current (open) rows."""
    keep = current.filter(pc.invert(pc.is_in(current.column("row_id"), pa.array(merge.retract_row_ids, pa.string()))))
    return pa.concat_tables([keep, merge.inserts])


def by_object(table: pa.Table) -> dict[str, dict]:
    return {r["object"]: r for r in table.to_pylist()}


def test_value_changing_twice_in_one_batch_keeps_history() -> None:
    batch = cands([("e3", "Caroline", "lives_in", "London", 20), ("e1", "Caroline", "lives_in", "Berlin", 1), ("e2", "Caroline", "lives_in", "Paris", 10)])
    m = merge_facts(EMPTY, batch, {}, NOW, 2.0)
    assert m.inserts.schema.equals(FACTS) and m.retract_row_ids == []
    rows = by_object(m.inserts)
    berlin, paris, london = rows["Berlin"], rows["Paris"], rows["London"]
    assert (berlin["valid_to"], berlin["invalidated_at"], berlin["superseded_by"]) == (ts(2023, 5, 10), ts(2023, 5, 10), paris["fact_id"])
    assert (paris["valid_to"], paris["invalidated_at"], paris["superseded_by"]) == (ts(2023, 5, 20), ts(2023, 5, 20), london["fact_id"])
    assert london["valid_to"] is None and london["superseded_by"] is None
    assert len({berlin["row_id"], paris["row_id"], london["row_id"]}) == 3


def test_incremental_change_retracts_and_reinserts() -> None:
    first = merge_facts(EMPTY, cands([("e1", "Caroline", "lives_in", "Berlin", 1)]), {}, NOW, 2.0)
    cur = apply(EMPTY, first)
    second = merge_facts(cur, cands([("e2", "Caroline", "lives_in", "Paris", 10)]), {}, LATER, 2.0)
    old_row = first.inserts.column("row_id")[0].as_py()
    assert second.retract_row_ids == [old_row]
    rows = by_object(second.inserts)
    assert rows["Berlin"]["fact_id"] == first.inserts.column("fact_id")[0].as_py()
    assert rows["Berlin"]["row_id"] != old_row and rows["Berlin"]["recorded_at"] == LATER
    assert rows["Berlin"]["valid_to"] == ts(2023, 5, 10) and rows["Berlin"]["superseded_by"] == rows["Paris"]["fact_id"]
    cur = apply(cur, second)
    assert cur.num_rows == 2


def test_restated_fact_is_reinforced() -> None:
    first = merge_facts(EMPTY, cands([("e1", "Caroline", "works_at", "Google", 1)]), {}, NOW, 2.0, initial_stability=30.0)
    cur = apply(EMPTY, first)
    second = merge_facts(cur, cands([("e2", "Caroline", "works_at", "Google", 9)]), {}, LATER, 2.0)
    (row,) = second.inserts.to_pylist()
    assert second.retract_row_ids == first.inserts.column("row_id").to_pylist()
    assert row["fact_id"] == first.inserts.column("fact_id")[0].as_py()
    assert row["source_event_ids"] == ["e1", "e2"] and row["source_times"] == [ts(2023, 5, 1), ts(2023, 5, 9)]
    assert row["reinforcement_count"] == 2 and row["stability"] == 60.0 and row["last_reinforced_at"] == ts(2023, 5, 9)
    assert row["valid_to"] is None and row["occurred_at"] == ts(2023, 5, 1)


def test_idempotent_remerge() -> None:
    batch = cands([("e1", "Caroline", "lives_in", "Berlin", 1), ("e2", "Caroline", "lives_in", "Paris", 10), ("e3", "Caroline", "likes", "Jazz", 3), ("e4", "Caroline", "likes", "Jazz", 4)])
    first = merge_facts(EMPTY, batch, {}, NOW, 2.0)
    cur = apply(EMPTY, first)
    again = merge_facts(cur, batch, {}, LATER, 2.0)
    assert again.inserts.num_rows == 0 and again.retract_row_ids == []


def test_late_older_candidate_inserted_closed() -> None:
    cur = apply(EMPTY, merge_facts(EMPTY, cands([("e2", "Caroline", "lives_in", "Paris", 10)]), {}, NOW, 2.0))
    late = merge_facts(cur, cands([("e1", "Caroline", "lives_in", "Berlin", 1)]), {}, LATER, 2.0)
    assert late.retract_row_ids == []
    (row,) = late.inserts.to_pylist()
    assert row["object"] == "Berlin" and row["valid_to"] == ts(2023, 5, 10)
    assert row["superseded_by"] == cur.column("fact_id")[0].as_py()


def test_value_returning_is_a_new_fact() -> None:
    m = merge_facts(EMPTY, cands([("e1", "C", "lives_in", "Berlin", 1), ("e2", "C", "lives_in", "Paris", 10), ("e3", "C", "lives_in", "Berlin", 20)]), {}, NOW, 2.0)
    rows = sorted(m.inserts.to_pylist(), key=lambda r: r["occurred_at"])
    assert [r["object"] for r in rows] == ["Berlin", "Paris", "Berlin"]
    assert rows[0]["fact_id"] != rows[2]["fact_id"] and rows[2]["valid_to"] is None


def test_multi_valued_never_supersede() -> None:
    m = merge_facts(EMPTY, cands([("e1", "C", "likes", "Jazz", 1), ("e2", "C", "likes", "Pizza", 10)]), {}, NOW, 2.0)
    assert all(r["valid_to"] is None for r in m.inserts.to_pylist()) and m.inserts.num_rows == 2


def test_valid_from_from_time_expression_and_canonical_subject() -> None:
    batch = cands([("e1", "David", "lives_in", "Berlin", 8, ts(2022, 1, 1))])
    (row,) = merge_facts(EMPTY, batch, {("t", "david"): "David Chen"}, NOW, 2.0).inserts.to_pylist()
    assert row["subject"] == "David Chen" and row["valid_from"] == ts(2022, 1, 1) and row["occurred_at"] == ts(2023, 5, 8)


def test_tenants_never_mix() -> None:
    batch = cands([("e1", "C", "lives_in", "Berlin", 1, ts(2023, 5, 1), "a"), ("e2", "C", "lives_in", "Paris", 10, ts(2023, 5, 10), "b")])
    rows = merge_facts(EMPTY, batch, {}, NOW, 2.0).inserts.to_pylist()
    assert all(r["valid_to"] is None for r in rows) and sorted(r["tenant"] for r in rows) == ["a", "b"]


def test_input_order_does_not_matter() -> None:
    batch = cands([("e1", "C", "lives_in", "Berlin", 1), ("e2", "C", "lives_in", "Paris", 10), ("e3", "C", "lives_in", "Rome", 20), ("e4", "C", "likes", "Jazz", 2)])
    a = merge_facts(EMPTY, batch, {}, NOW, 2.0).inserts
    b = merge_facts(EMPTY, batch.take(pa.array([3, 2, 0, 1])), {}, NOW, 2.0).inserts
    assert a.equals(b)
