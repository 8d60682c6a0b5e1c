"""Tenant isolation with two keys, over the query tests' two-tenant story (both tenants have a "Caroline"):
each key writes and reads only its own tenant; the SDK's answers equal the in-process API's."""

from __future__ import annotations

import pytest

from tests.query.story import T1, T2
from tests.service.conftest import event, event_ids, start_service
from tracelake.client import Client
from tracelake.errors import AuthError, ValidationError

T1_IDS = {"tr-c1", "tr-c2", "tr-c3", "tr-m1", "tr-m2", "tr-m3", "tr-old"}
T2_IDS = {"tr-x1", "tr-x2"}


@pytest.fixture(scope="module")
def story(tmp_path_factory, ray_local):
    import tracelake
    from tests.query.story import build_story

    lake = tracelake.connect(str(tmp_path_factory.mktemp("story") / "lake"), embedder="hash")
    build_story(lake)
    running = start_service(lake)
    yield running
    running.stop()
    lake.close()


@pytest.fixture(scope="module")
def clients(story):
    one, two, both = story.key(T1), story.key(T2), story.key(T1, T2)
    with Client(story.url, one) as c1, Client(story.url, two) as c2, Client(story.url, both) as c12:
        yield c1, c2, c12


@pytest.mark.parametrize("query", ["Caroline moved to Denver", "who paints a sunrise?", "Caro Lisbon"])
def test_search_sees_only_the_keys_tenant(story, clients, query) -> None:
    c1, c2, _ = clients
    lake = story.svc.lake
    for client, tenant, own in ((c1, T1, T1_IDS), (c2, T2, T2_IDS)):
        hits = client.search(query, k=50)
        assert {h.trace_id for h in hits} <= own and all(h.tenant == tenant for h in hits)
        want = lake.search(query, tenant, k=50)
        assert [(h.trace_id, h.source_event_ids, h.text) for h in hits] == \
               [(h.trace_id, h.source_event_ids, h.text) for h in want]


def test_time_aware_reads_match_in_process(story, clients) -> None:
    c1, c2, c12 = clients
    lake = story.svc.lake
    hits = c1.search("Melanie painted a sunrise", as_of="2023-06-01T00:00:00Z", k=10)
    want = lake.search("Melanie painted a sunrise", T1, as_of="2023-06-01T00:00:00Z", k=10)
    assert [(h.trace_id, h.source_event_ids) for h in hits] == [(h.trace_id, h.source_event_ids) for h in want]
    assert all("m3" not in h.source_event_ids for h in hits)  # zero future leakage, through HTTP too
    for kwargs in ({"subject": "Caroline", "as_of": "2023-05-01T00:00:00Z"},
                   {"subject": "Caro", "as_of": "2023-06-10T00:00:00Z", "known_at": "2023-06-15T00:00:00Z"},
                   {}):
        got, exp = c12.facts(T1, **kwargs), lake.facts(T1, **kwargs)
        assert got.to_pylist() == exp.to_pylist(), kwargs
    assert c1.facts(subject="Caroline", as_of="2023-05-01T00:00:00Z")["object"].to_pylist() == ["Denver"]
    assert c2.facts(subject="Caroline")["object"].to_pylist() == ["Lisbon"]
    assert c1.timeline("Caro").to_pylist() == lake.timeline("Caro", T1).to_pylist()
    assert set(c2.timeline("Caroline")["trace_id"].to_pylist()) == T2_IDS
    window = {"start": "2023-03-01T00:00:00Z", "end": "2023-07-01T00:00:00Z"}
    got = c1.timeline("Caroline", **window)
    assert got.to_pylist() == lake.timeline("Caroline", T1, **window).to_pylist() and got.num_rows >= 1
    bundle = c2.reconstruct("where does Caroline live and does she paint?")
    want_bundle = lake.reconstruct("where does Caroline live and does she paint?", T2)
    assert bundle.source_event_ids() == want_bundle.source_event_ids()
    assert [f["object"] for f in bundle.facts] == [f["object"] for f in want_bundle.facts] == ["Lisbon"]
    assert [e.stream for e in bundle.episodes] == [e.stream for e in want_bundle.episodes]
    assert "Seattle" not in str(bundle.to_dict())


def test_reads_of_another_tenant_are_forbidden(clients) -> None:
    c1, c2, c12 = clients
    for call in (lambda: c1.search("Caroline", tenant=T2), lambda: c1.facts(T2), lambda: c2.timeline("x", T1),
                 lambda: c2.reconstruct("Caroline", T1)):
        with pytest.raises(AuthError) as exc:
            call()
        assert exc.value.context["status"] == 403
    with pytest.raises(ValidationError) as exc:
        c12.search("Caroline")  # several tenants: which one?
    assert exc.value.context["status"] == 422 and "tenant" in str(exc.value)
    assert c12.search("Caroline", tenant=T2, k=50)


def test_writes_are_scoped_to_the_keys_tenants(story, clients) -> None:
    c1, c2, c12 = clients
    lake = story.svc.lake
    assert c1.ingest([event(1, None), event(2, None)]).accepted == 2  # no tenant: the key's only one
    assert c2.ingest([event(1, None)]).accepted == 1  # same event_id, other tenant: a different event
    assert c2.ingest([event(3, T2)]).accepted == 1
    with pytest.raises(AuthError) as exc:
        c1.ingest([event(4, T1), event(5, T2)])
    assert exc.value.context["status"] == 403 and "t2" in str(exc.value)
    res = c12.ingest([event(6, None), event(7, T1), event(8, T2)])  # two tenants: no default
    assert res.accepted == 2 and res.rejected == [(0, "missing required field 'tenant'")]
    assert event_ids(lake, T1) == ["e1", "e2", "e7"]
    assert event_ids(lake, T2) == ["e1", "e3", "e8"]
