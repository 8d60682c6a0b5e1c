from __future__ import annotations

from tracelake.operators.predicates import canonical, ending, is_single_valued, parse_money, relation_predicate


def test_frames_map_to_canonical_predicates() -> None:
    assert canonical("move_to") == canonical("live_in") == "lives_in"
    assert canonical("work_for") == canonical("join") == "works_at"
    assert canonical("work_as") == "job_title" and canonical("sign_up_for") == "sign_up_for"
    assert ending("leave") == "works_at" and ending("move_from") == "lives_in" and ending("join") is None
    assert relation_predicate("supervisor") == relation_predicate("crew lead") == "manager"


def test_single_valued() -> None:
    for p in ("lives_in", "works_at", "job_title", "manager", "partner", "salary", "rent", "age", "favorite_color"):
        assert is_single_valued(p), p
    for p in ("friend", "has_pet", "likes", "feels", "sister", "visit"):
        assert not is_single_valued(p), p


def test_parse_money() -> None:
    assert parse_money("$195k") == 195000.0
    assert parse_money("$1.2M") == 1200000.0
    assert parse_money("195,000 dollars") == 195000.0
    assert parse_money("nothing") is None
