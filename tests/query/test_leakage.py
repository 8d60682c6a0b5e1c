"""Zero future leakage, property-tested: random stories, random T; nothing returned comes from after T.

A story: events in two tenants (same names in both), each event a trace; some later events converge into an
earlier trace of the same person (the survivor lists the later source, the newcomer gets ``merged_into``);
facts per person form a supersession chain (some closings retroactive, each change recorded a day later with the
superseded row version retracted). For several random ``T`` every API call and SQL macro is checked: each
returned item occurred at or before ``T``, every ``source_event_id`` is an event at or before ``T``, no row of
the other tenant appears, and ``facts`` as of ``T`` equals an independent oracle.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracelake
from tests.query.builders import build, entity, fact, trace

BASE = datetime(2023, 1, 1, tzinfo=timezone.utc)
NAMES = ["Sarah", "Tom", "Ana"]
WORDS = ["garden", "piano", "harbor", "bakery", "violin", "chess", "river", "novel"]
CITIES = ["Boston", "Denver", "Seattle", "Lisbon", "Oslo"]
QUERIES = ["what did Sarah do last week?", "Tom piano harbor", "where does Ana live now", "garden in March 2023",
           "what happened recently"]

event = st.tuples(st.sampled_from(["p", "q"]), st.integers(0, 120 * 24), st.sampled_from(NAMES),
                  st.sampled_from(WORDS), st.booleans())
statement = st.tuples(st.sampled_from(NAMES), st.integers(0, 120 * 24), st.sampled_from(CITIES),
                      st.integers(0, 10 * 24))


def _story(events, statements):
    times: dict[str, datetime] = {}
    tenant_of: dict[str, str] = {}
    traces, survivors = [], {}
    for i, (tenant, hours, name, word, converge) in enumerate(sorted(events, key=lambda e: e[1])):
        at = BASE + timedelta(hours=hours)
        eid = f"{tenant}-e{i}"
        times[eid], tenant_of[eid] = at, tenant
        key = (tenant, name)
        if converge and key in survivors:  # converges into the person's first trace
            s = survivors[key]
            s["sources"].append((eid, at))
            traces.append(dict(tenant=tenant, tid=f"{tenant}-t{i}", text=f"{name} again {word}", at=at,
                               sources=[(eid, at)], merged_into=s["tid"], name=name))
        else:
            row = dict(tenant=tenant, tid=f"{tenant}-t{i}", text=f"{name} talked about the {word}", at=at,
                       sources=[(eid, at)], merged_into=None, name=name)
            survivors.setdefault(key, row)
            traces.append(row)
    trace_rows = [trace(r["tenant"], r["tid"], r["text"], r["at"], sources=r["sources"], entities=[r["name"]],
                        merged_into=r["merged_into"], stream=f"s{NAMES.index(r['name']) % 2}") for r in traces]
    entity_rows = []
    for tenant in ("p", "q"):
        for name in NAMES:
            first = min((r["occurred_at"] for r in trace_rows if r["tenant"] == tenant and name in r["entities"]),
                        default=None)
            if first is not None:
                entity_rows.append(entity(tenant, name, first, aliases=[name.lower() + "y"]))
    fact_rows, chains = [], {}
    for j, (name, hours, city, retro) in enumerate(sorted(statements, key=lambda s: s[1])):
        tenant = "p" if j % 3 else "q"
        stated = BASE + timedelta(hours=hours, minutes=30)
        eid = f"{tenant}-f{j}"
        times[eid], tenant_of[eid] = stated, tenant
        chain = chains.setdefault((tenant, name), [])
        valid_from = stated - timedelta(hours=retro)
        if chain:
            valid_from = max(valid_from, chain[-1]["valid_from"] + timedelta(minutes=1))
        rec = stated + timedelta(days=1)
        fid = f"{tenant}-{name}-{j}"
        if chain:
            prev = chain[-1]
            prev["retracted_at"] = rec
            fact_rows.append(fact(tenant, prev["fact_id"], name, "lives_in", prev["object"], prev["occurred_at"],
                                  valid_from=prev["valid_from"], valid_to=valid_from, invalidated_at=stated,
                                  superseded_by=fid, recorded_at=rec, row_id=prev["row_id"] + "-closed",
                                  sources=list(zip(prev["source_event_ids"], prev["source_times"]))))
        row = fact(tenant, fid, name, "lives_in", city, stated, valid_from=valid_from, recorded_at=rec,
                   row_id=f"{fid}-v1", sources=[(eid, stated)])
        chain.append(row)
        fact_rows.append(row)
    return trace_rows, entity_rows, fact_rows, times, tenant_of, chains


def _oracle(chains, tenant: str, t: datetime) -> dict[str, str]:
    """Per person: the latest statement made at or before t whose validity started at or before t."""
    out = {}
    for (ten, name), chain in chains.items():
        said = [c for c in chain if ten == tenant and c["occurred_at"] <= t and c["valid_from"] <= t]
        if said:
            out[name] = said[-1]["object"]
    return out


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(events=st.lists(event, min_size=1, max_size=24), statements=st.lists(statement, max_size=8),
       moments=st.lists(st.integers(-24, 130 * 24), min_size=1, max_size=3))
def test_no_future_leakage(events, statements, moments) -> None:
    trace_rows, entity_rows, fact_rows, times, tenant_of, chains = _story(events, statements)
    with tempfile.TemporaryDirectory() as tmp:
        lake = tracelake.connect(f"{tmp}/lake", embedder="hash")
        try:
            build(lake, traces=trace_rows, entities=entity_rows, facts=fact_rows)
            for hours in moments:
                t = BASE + timedelta(hours=hours)
                for tenant in ("p", "q"):
                    _check(lake, tenant, t, times, tenant_of, chains)
        finally:
            lake.close()


def _ok_ids(ids, t, times, tenant_of, tenant) -> None:
    for e in ids or ():
        assert times[e] <= t, f"source {e} at {times[e]} is after {t}"
        assert tenant_of[e] == tenant


def _check(lake, tenant, t, times, tenant_of, chains) -> None:
    iso = t.isoformat()
    for q in QUERIES:
        for h in lake.search(q, tenant, as_of=t, k=30):
            assert h.tenant == tenant and h.occurred_at <= t and h.last_source_at <= t
            _ok_ids(h.source_event_ids, t, times, tenant_of, tenant)
        for h in lake.search(q, tenant, as_of=t, k=30, context_turns=2):  # neighbouring events: none after T
            assert h.tenant == tenant and h.occurred_at <= t
            _ok_ids(h.source_event_ids, t, times, tenant_of, tenant)
            _ok_ids(h.context_event_ids, t, times, tenant_of, tenant)
            assert len(h.context) == len(h.context_event_ids) <= 4
            assert not set(h.context_event_ids) & set(h.source_event_ids)
    for name in NAMES:
        for row in lake.timeline(name.lower() + "y", tenant, as_of=t).to_pylist():
            assert row["tenant"] == tenant and row["occurred_at"] <= t
            _ok_ids(row["source_event_ids"], t, times, tenant_of, tenant)
    facts = lake.facts(tenant, as_of=t).to_pylist()
    for row in facts:
        assert row["tenant"] == tenant and row["occurred_at"] <= t
        assert row["invalidated_at"] is None or row["invalidated_at"] <= t
        _ok_ids(row["source_event_ids"], t, times, tenant_of, tenant)
    oracle = _oracle(chains, tenant, t)
    assert {r["subject"]: r["object"] for r in facts} == oracle
    assert len(facts) == len({r["subject"] for r in facts})
    for name in NAMES:  # the per-subject path (index lookup, tested in numpy) agrees
        assert [r["object"] for r in lake.facts(tenant, name, as_of=t).to_pylist()] == \
            ([oracle[name]] if name in oracle else [])
    bundle = lake.reconstruct("where does Sarah live and what did she do?", tenant, as_of=t)
    _ok_ids(bundle.source_event_ids(), t, times, tenant_of, tenant)
    assert all(r["occurred_at"] <= t for r in bundle.timeline)
    assert tenant in json.dumps(bundle.to_dict()) or not bundle.hits
    for row in lake.sql(f"select * from traces_at('{tenant}', '{iso}')").to_pylist():
        assert row["occurred_at"] <= t
        _ok_ids(row["source_event_ids"], t, times, tenant_of, tenant)
    sql_facts = lake.sql(f"select * from facts_at('{tenant}', '{iso}')").to_pylist()
    assert {r["subject"]: r["object"] for r in sql_facts} == _oracle(chains, tenant, t)
    for row in sql_facts:
        _ok_ids(row["source_event_ids"], t, times, tenant_of, tenant)
