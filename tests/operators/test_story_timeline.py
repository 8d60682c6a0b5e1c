"""A 9-turn first-person story through decompose -> resolve_entities -> merge_facts: the right facts at three
moments, and the Lisbon -> Porto and Acme -> Nordwind histories kept (bitemporal: old rows stay, closed)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tracelake.operators.decompose import decompose
from tracelake.operators.merge import merge_facts, resolve_entities
from tracelake.schemas import ENTITIES, FACTS

from tests.operators.conftest import make_events

UTC = timezone.utc
STORY = [
    ("2024-03-04T19:00:00", "ok so I moved into a small apartment in Lisbon last week, finally unpacked the boxes"),
    ("2024-03-10T20:15:00", "I work at Acme Robotics as a firmware engineer, it's fine I guess"),
    ("2024-03-20T08:30:00", "my grey cat hates the new balcony lol. the weather has been gorgeous though"),
    ("2024-04-15T18:00:00", "Big news: I left Acme Robotics and joined Nordwind Energy as a platform lead"),
    ("2024-04-20T21:40:00", "My manager is Priya Raman, she seems really sharp"),
    ("2024-05-02T12:00:00", "wait what did I say the rent was?"),
    ("2024-06-10T09:05:00", "I moved from Lisbon to Porto yesterday"),
    ("2024-06-12T17:30:00", "Priya called me, she joined Nordwind Energy too!"),
    ("2024-06-20T22:10:00", "I'm not moving back to Lisbon. honestly kind of relieved"),
]
NOW = datetime(2024, 7, 1, tzinfo=UTC)


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def facts(hash_embedder) -> list[dict]:
    events = make_events([{"event_id": f"e{i}", "text": text, "actor": "Maya", "occurred_at": at(t), "recorded_at": NOW}
                          for i, (t, text) in enumerate(STORY)])
    d = decompose(events, embedder=hash_embedder, now=NOW, stability_days=30.0)
    assert not any(r["source_event_id"] == "e5" for r in d.facts.to_pylist())  # the question asserts nothing
    acts = {r["text"]: r["speech_act"] for r in d.traces.to_pylist()}
    assert acts[STORY[5][1]] == "question"
    ents = resolve_entities(ENTITIES.empty_table(), d.mentions, NOW)
    merged = merge_facts(FACTS.empty_table(), d.facts, ents.canonical, NOW, 2.0)
    return merged.inserts.to_pylist()


def state(facts: list[dict], moment: str, predicate: str, subject: str = "Maya") -> list[str]:
    """Objects of ``subject``'s ``predicate`` valid at ``moment`` (and stated by then)."""
    t = at(moment)
    return sorted(f["object"] for f in facts if f["subject"] == subject and f["predicate"] == predicate
                  and f["occurred_at"] <= t and f["valid_from"] <= t
                  and (f["valid_to"] is None or f["valid_to"] > t or (f["invalidated_at"] or t) > t))


def test_three_moments(facts: list[dict]) -> None:
    assert [o for o in state(facts, "2024-03-15T00:00:00", "lives_in") if "Lisbon" in o]
    assert state(facts, "2024-03-15T00:00:00", "works_at") == ["Acme Robotics"]
    assert state(facts, "2024-05-01T00:00:00", "works_at") == ["Nordwind Energy"]
    assert state(facts, "2024-05-01T00:00:00", "manager") == ["Priya Raman"]
    assert state(facts, "2024-05-01T00:00:00", "job_title") == ["platform lead"]
    assert state(facts, "2024-07-01T00:00:00", "lives_in") == ["Porto"]
    assert state(facts, "2024-07-01T00:00:00", "works_at") == ["Nordwind Energy"]
    assert state(facts, "2024-07-01T00:00:00", "works_at", subject="Priya Raman") == ["Nordwind Energy"]


def test_histories_are_kept(facts: list[dict]) -> None:
    homes = sorted((f for f in facts if f["subject"] == "Maya" and f["predicate"] == "lives_in"
                    and f["modality"] == "asserted"), key=lambda f: f["valid_from"])
    assert "Lisbon" in homes[0]["object"] and homes[-1]["object"] == "Porto"
    assert homes[0]["valid_to"] is not None and homes[-1]["valid_to"] is None
    jobs = sorted((f for f in facts if f["subject"] == "Maya" and f["predicate"] == "works_at"
                   and f["modality"] == "asserted"), key=lambda f: f["valid_from"])
    assert [j["object"] for j in jobs] == ["Acme Robotics", "Nordwind Energy"]
    assert jobs[0]["valid_to"] == jobs[1]["valid_from"] and jobs[0]["superseded_by"] == jobs[1]["fact_id"]


def test_negation_and_feelings_are_recorded_not_asserted(facts: list[dict]) -> None:
    neg = [f for f in facts if f["polarity"] == "negative" or f["modality"] in ("plan", "hypothetical", "ended")]
    assert neg and all(f["valid_to"] == f["valid_from"] for f in neg)  # empty interval: never the state
    assert state(facts, "2024-07-01T00:00:00", "feels") == ["relieved"]
