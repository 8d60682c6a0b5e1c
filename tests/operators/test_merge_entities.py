from __future__ import annotations

import random

import pyarrow as pa

from tracelake.ids import stable_id
from tracelake.operators.decompose import MENTIONS
from tracelake.operators.merge import resolve_entities
from tracelake.operators.merge_entities import within_one_edit
from tracelake.schemas import ENTITIES

from tracelake.operators.decompose import decompose

from tests.operators.conftest import NOW, make_events, ts


def mentions(rows: list[tuple]) -> pa.Table:
    """rows: (tenant, event_id, name, kind, day-of-may[, kin[, namesake]])."""
    return pa.Table.from_pylist(
        [{"tenant": t, "event_id": e, "name": n, "kind": k, "occurred_at": ts(2023, 5, d),
          "kin": rest[0] if rest else None, "namesake": rest[1] if len(rest) > 1 else None}
         for t, e, n, k, d, *rest in rows],
        schema=MENTIONS,
    )


EMPTY = ENTITIES.empty_table()


def by_name(res) -> dict[str, dict]:
    return {r["name"]: r for r in res.entities.to_pylist()}


def test_first_or_last_name_joins_the_full_name() -> None:
    res = resolve_entities(EMPTY, mentions([("t", "e1", "David Chen", "person", 1), ("t", "e2", "David", "person", 2), ("t", "e3", "Chen", "thing", 3)]), NOW)
    assert res.entities.schema.equals(ENTITIES)
    (row,) = res.entities.to_pylist()
    assert row["name"] == "David Chen" and row["aliases"] == ["Chen", "David"]
    assert row["mention_count"] == 3 and row["source_event_ids"] == ["e1", "e2", "e3"]
    assert row["first_seen"] == ts(2023, 5, 1) and row["last_seen"] == ts(2023, 5, 3)
    assert row["entity_id"] == stable_id("t", "david chen") and row["kind"] == "person"
    assert res.canonical[("t", "david")] == res.canonical[("t", "chen")] == "David Chen"


def test_ambiguous_first_name_left_alone() -> None:
    res = resolve_entities(EMPTY, mentions([("t", "e1", "David Chen", "person", 1), ("t", "e2", "David Smith", "person", 1), ("t", "e3", "David", "person", 2)]), NOW)
    assert sorted(by_name(res)) == ["David", "David Chen", "David Smith"]


def test_case_and_typo_converge() -> None:
    res = resolve_entities(
        EMPTY,
        mentions([("t", "e1", "Caroline", "person", 1), ("t", "e2", "caroline", "person", 2), ("t", "e3", "Carolin", "thing", 3), ("t", "e4", "Caroline", "person", 4)]),
        NOW,
    )
    (row,) = res.entities.to_pylist()
    assert row["name"] == "Caroline" and row["aliases"] == ["Carolin", "caroline"] and row["mention_count"] == 4


def test_distinct_real_names_do_not_merge() -> None:
    res = resolve_entities(EMPTY, mentions([("t", "e1", "Jason", "person", 1), ("t", "e2", "Mason", "person", 1), ("t", "e3", "Paris", "place", 1), ("t", "e4", "Parks", "org", 1)]), NOW)
    assert sorted(by_name(res)) == ["Jason", "Mason", "Paris", "Parks"]


def test_tenants_never_mix() -> None:
    res = resolve_entities(EMPTY, mentions([("a", "e1", "David Chen", "person", 1), ("b", "e2", "David", "person", 1)]), NOW)
    assert sorted((r["tenant"], r["name"]) for r in res.entities.to_pylist()) == [("a", "David Chen"), ("b", "David")]


def test_idempotent_and_incremental() -> None:
    m1 = mentions([("t", "e1", "David", "person", 1), ("t", "e2", "Sarah", "person", 1)])
    first = resolve_entities(EMPTY, m1, NOW)
    again = resolve_entities(first.entities, m1, NOW)
    assert again.entities.num_rows == 0 and again.retired == []
    # later the full name arrives: "David" is absorbed, its id retired
    m2 = mentions([("t", "e3", "David Chen", "person", 5)])
    later = resolve_entities(first.entities, m2, NOW)
    (row,) = later.entities.to_pylist()
    assert row["name"] == "David Chen" and row["aliases"] == ["David"] and row["mention_count"] == 2
    assert later.retired == [("t", stable_id("t", "david"))]
    assert later.canonical[("t", "sarah")] == "Sarah"


def test_order_independent() -> None:
    rows = [("t", f"e{i}", n, "person", i % 28 + 1) for i, n in enumerate(["David Chen", "David", "Chen", "Carolin", "Caroline", "Sarah", "sarah"] * 3)]
    a = resolve_entities(EMPTY, mentions(rows), NOW)
    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)
    b = resolve_entities(EMPTY, mentions(shuffled), NOW)
    assert a.entities.equals(b.entities) and a.canonical == b.canonical


def test_within_one_edit() -> None:
    assert within_one_edit("caroline", "carolin") and within_one_edit("abc", "abd") and within_one_edit("ab", "ab")
    assert not within_one_edit("abc", "cab") and not within_one_edit("abcd", "ab")


def test_bare_kin_name_stays_apart_from_a_stranger_sharing_it() -> None:
    """"my brother Kofi" is not the boat skipper "Kofi Ansah": the bare name is kin, the full name never is."""
    res = resolve_entities(EMPTY, mentions([("t", "e1", "Kofi Ansah", "person", 1), ("t", "e2", "Kofi", "person", 2, "brother"),
                                            ("t", "e3", "Kofi", "person", 9)]), NOW)
    assert sorted(by_name(res)) == ["Kofi", "Kofi Ansah"] and res.canonical[("t", "kofi")] == "Kofi"


def test_kin_named_in_full_still_takes_the_first_name() -> None:
    """"my sister Ines Okafor ... Ines called": the full name carries the kinship, the merge is right."""
    for kin in (None, "sister"):
        res = resolve_entities(EMPTY, mentions([("t", "e1", "Ines Okafor", "person", 1, "sister"), ("t", "e2", "Ines", "person", 3, kin)]), NOW)
        (row,) = res.entities.to_pylist()
        assert row["name"] == "Ines Okafor" and row["aliases"] == ["Ines"]


def test_declared_namesake_stays_apart() -> None:
    """"my friend Sam (not dispatch Sam)": once the text says two people share the name, a bare "Sam" is neither."""
    rows = [("t", "e1", "Sam Okafor", "person", 1), ("t", "e2", "Sam", "person", 1), ("t", "e3", "Sam", "person", 20, None, "sam"),
            ("t", "e4", "Chen", "person", 21), ("t", "e5", "David Chen", "person", 21)]
    res = resolve_entities(EMPTY, mentions(rows), NOW)
    assert sorted(by_name(res)) == ["David Chen", "Sam", "Sam Okafor"]
    assert res.canonical[("t", "chen")] == "David Chen"  # other names are unaffected


def test_decomposed_story_merges_the_same_person_and_keeps_namesakes_apart(hash_embedder) -> None:
    """Real parse: "Priya Raman ... Priya" is one person; a brother and a skipper both called Kofi are two, and so
    are a tutor and a partner of the firm both called Deepa ("different Deepa")."""
    texts = ["My manager is Priya Raman.", "Priya called me, she joined Nordwind Energy too!",
             "our boat skipper is Kofi Ansah, no relation to my brother Kofi lol",
             "Kofi flew back yesterday, the flat feels huge now.", "Deepa got the promotion.",
             "The tutor is Deepa Lindqvist. different Deepa obviously, not Deepa from work."]
    ev = make_events([{"event_id": f"e{i}", "text": t, "occurred_at": ts(2023, 5, i + 1)} for i, t in enumerate(texts)])
    d = decompose(ev, embedder=hash_embedder, now=NOW, stability_days=30.0)
    res = resolve_entities(EMPTY, d.mentions, NOW)
    assert res.canonical[("t1", "priya")] == "Priya Raman"
    assert res.canonical[("t1", "kofi")] == "Kofi" and res.canonical[("t1", "deepa")] == "Deepa"
    kin = {(r["name"], r["kin"]) for r in d.mentions.to_pylist() if r["kin"]}
    assert ("Kofi", "brother") in kin
    again = resolve_entities(EMPTY, decompose(ev, embedder=hash_embedder, now=NOW, stability_days=30.0).mentions, NOW)
    assert again.entities.equals(res.entities)
