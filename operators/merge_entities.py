"""Entity resolution within a tenant: cluster surface names, pick a canonical name, upsert entity rows.

Rules (applied per tenant, never across tenants), producing clusters of normalised names:

1. same normalised name (:func:`~tracelake.operators.entities.normalize_name`); an existing entity's name and
   aliases are one cluster;
2. typo: Levenshtein distance <= 1 between names of >= 5 characters, unless the kinds conflict (two different
   kinds, neither ``thing``), the differing word is a known first name on both sides ("Jason"/"Mason"), or the
   difference is a digit;
3. a single-word name equal to the first or last word of exactly one multi-word ``person`` cluster
   ("David" -> "David Chen", "Priya Raman ... Priya"), unless the evidence of the mentions resolved says they are
   different people: two "David ..." people; the word is a declared *namesake* (a mention's ``namesake``
   column: "not dispatch Sam", "two Kofis", "different Deepa"); or the single name is someone's kin ("my brother
   Kofi", "Keiko's sister Mariko": the mention's ``kin`` column) in a way the full name never is. Merging a
   stranger into a brother joins two people's facts (a single-valued fact of one closes the other's), so an
   unproven merge is left undone. The evidence is that of the mentions being resolved (entity rows keep none).

Canonical name of a cluster: the surface form with the most words, then the most mentions, then the longest,
then the smallest string. ``entity_id = blake2b(tenant, normalize_name(canonical))``; when a cluster's canonical
name changes, the old ids are listed in ``retired`` (their rows should be deleted: the new row carries their
aliases, counts and sources). Mentions whose event is already among a cluster's ``source_event_ids`` are not
counted again, so resolving the same mentions twice changes nothing. Output rows are only those that changed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from tracelake.operators._columns import column, micros, require, ts_array
from tracelake.timeutil import dt_micros
from tracelake.ids import stable_id
from tracelake.operators.entities import normalize_name
from tracelake.operators.lexicon import FIRST_NAMES
from tracelake.schemas import ENTITIES

__all__ = ["EntityResolution", "resolve_entities", "within_one_edit"]

_KIND_PRIORITY = {"person": 0, "org": 1, "place": 2, "time": 3, "thing": 4}


@dataclass(frozen=True)
class EntityResolution:
    """``entities``: ENTITIES rows to upsert; ``canonical``: (tenant, normalised surface) -> canonical name;
    ``retired``: (tenant, entity_id) of existing rows absorbed into another entity id."""

    entities: pa.Table
    canonical: dict[tuple[str, str], str]
    retired: list[tuple[str, str]] = field(default_factory=list)


def within_one_edit(a: str, b: str) -> bool:
    """True when the Levenshtein distance of ``a`` and ``b`` is at most 1 (O(len))."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la > lb:
        a, b, la, lb = b, a, lb, la
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    if la == lb:
        return a[i + 1 :] == b[i + 1 :]
    return a[i:] == b[i + 1 :]


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def add(self, x: str) -> None:
        self.parent.setdefault(x, x)

    def find(self, x: str) -> str:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            lo, hi = sorted((ra, rb))
            self.parent[hi] = lo


@dataclass
class _Node:
    surfaces: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    times: list[int] = field(default_factory=list)
    mentions: list[tuple[str, int]] = field(default_factory=list)  # (event_id, time)
    kin: set[str] = field(default_factory=set)  # kinship relations the text gave this name


def _dominant_kind(kinds: Counter[str]) -> str:
    specific = {k: v for k, v in kinds.items() if k != "thing" and v > 0}
    if not specific:
        return "thing"
    return min(specific, key=lambda k: (-specific[k], _KIND_PRIORITY.get(k, 9), k))


def _typo_ok(a: str, b: str, kind_a: str, kind_b: str) -> bool:
    if kind_a != kind_b and "thing" not in (kind_a, kind_b):
        return False
    ta, tb = a.split(), b.split()
    if len(ta) == len(tb):
        diff = [(x, y) for x, y in zip(ta, tb) if x != y]
        if len(diff) == 1 and diff[0][0] in FIRST_NAMES and diff[0][1] in FIRST_NAMES:
            return False
    if any(c.isdigit() for c in set(a) ^ set(b)):
        return False
    return not (a.isdigit() or b.isdigit())


def _deletion_keys(name: str) -> set[str]:
    return {name} | {name[:i] + name[i + 1 :] for i in range(len(name))}


def _cluster(nodes: dict[str, _Node], existing: list[dict[str, Any]], shared: set[str]) -> _UnionFind:
    uf = _UnionFind()
    for norm in sorted(nodes):
        uf.add(norm)
    for row in existing:
        names = [normalize_name(row["name"])] + [normalize_name(a) for a in row["aliases"] or []]
        names = [n for n in names if n]
        for n in names[1:]:
            uf.union(names[0], n)
    kind_of = {n: _dominant_kind(node.kinds) for n, node in nodes.items()}
    # rule 2: typos, via a deletion-neighbourhood index (candidate pairs share a key)
    buckets: dict[str, list[str]] = defaultdict(list)
    for norm in sorted(nodes):
        if len(norm) >= 5:
            for key in _deletion_keys(norm):
                buckets[key].append(norm)
    for key in sorted(buckets):
        group = buckets[key]
        for i in range(len(group)):
            for j in range(i + 1, len(group)):
                a, b = group[i], group[j]
                if uf.find(a) != uf.find(b) and within_one_edit(a, b) and _typo_ok(a, b, kind_of[a], kind_of[b]):
                    uf.union(a, b)
    # rule 3: a single word that is the first/last word of exactly one multi-word person cluster
    members: dict[str, list[str]] = defaultdict(list)
    for norm in sorted(nodes):
        members[uf.find(norm)].append(norm)
    cluster_kind = {root: _dominant_kind(sum((nodes[n].kinds for n in names), Counter())) for root, names in members.items()}
    by_word: dict[str, set[str]] = defaultdict(set)
    for root, names in members.items():
        if cluster_kind[root] != "person":
            continue
        for n in names:
            words = n.split()
            if len(words) >= 2:
                by_word[words[0]].add(root)
                by_word[words[-1]].add(root)
    kin = {root: set().union(*(nodes[n].kin for n in names)) for root, names in members.items()}
    for root, names in sorted(members.items()):
        if any(len(n.split()) != 1 for n in names) or cluster_kind[root] not in ("person", "thing"):
            continue
        if shared.intersection(names):
            continue  # a declared namesake: which bearer a bare mention means is unknown
        targets = set().union(*(by_word.get(n, set()) for n in names)) - {root}
        if len(targets) == 1 and kin[root] <= kin[next(iter(targets))]:
            uf.union(root, next(iter(targets)))
    return uf


def _canonical(surfaces: Counter[str]) -> str:
    return min(surfaces, key=lambda s: (-len(s.split()), -surfaces[s], -len(s), s))


def resolve_entities(existing: pa.Table, mentions: pa.Table, now: datetime) -> EntityResolution:
    """Resolve ``mentions`` (tenant, event_id, name, kind, occurred_at; optional kin, namesake: the evidence of
    rule 3) against ``existing`` ENTITIES rows."""
    require(mentions, ["tenant", "event_id", "name", "occurred_at"], "mentions")
    now_us = dt_micros(now)
    m_tenant, m_event, m_name = column(mentions, "tenant"), column(mentions, "event_id"), column(mentions, "name")
    m_kind, m_time = column(mentions, "kind", "thing"), micros(mentions, "occurred_at")
    m_kin, m_namesake = column(mentions, "kin"), column(mentions, "namesake")
    tenants = sorted({t for t in m_tenant if t is not None})

    existing_rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if existing is not None and existing.num_rows:
        require(existing, ["tenant", "entity_id", "name"], "entities")
        cols = {f: column(existing, f) for f in ("tenant", "entity_id", "name", "kind", "aliases", "mention_count", "source_event_ids")}
        first, last, rec = micros(existing, "first_seen"), micros(existing, "last_seen"), micros(existing, "recorded_at")
        wanted = set(tenants)
        for i in range(existing.num_rows):
            if cols["tenant"][i] in wanted:
                row = {k: v[i] for k, v in cols.items()}
                row.update(first_seen=first[i], last_seen=last[i], recorded_at=rec[i])
                existing_rows[row["tenant"]].append(row)

    by_tenant: dict[str, dict[str, _Node]] = defaultdict(dict)
    shared: dict[str, set[str]] = defaultdict(set)
    for i in range(mentions.num_rows):
        tenant, name = m_tenant[i], m_name[i]
        if tenant is None or not name or m_time[i] is None:
            continue
        if m_namesake[i]:
            shared[tenant].add(normalize_name(m_namesake[i]))
        norm = normalize_name(name)
        if not norm:
            continue
        node = by_tenant[tenant].setdefault(norm, _Node())
        node.surfaces[name.strip()] += 1
        node.kinds[m_kind[i] or "thing"] += 1
        node.mentions.append((m_event[i], m_time[i]))
        if m_kin[i]:
            node.kin.add(m_kin[i])

    canonical: dict[tuple[str, str], str] = {}
    rows: list[dict[str, Any]] = []
    retired: list[tuple[str, str]] = []
    for tenant in tenants:
        nodes = by_tenant[tenant]
        ex_rows = sorted(existing_rows.get(tenant, []), key=lambda r: r["entity_id"])
        for row in ex_rows:
            names = [row["name"]] + list(row["aliases"] or [])
            for k, surface in enumerate(names):
                norm = normalize_name(surface)
                if not norm:
                    continue
                node = nodes.setdefault(norm, _Node())
                weight = int(row["mention_count"] or 0) if k == 0 else 0
                node.surfaces[surface] += weight
                if k == 0:
                    node.kinds[row["kind"] or "thing"] += max(weight, 1)
        uf = _cluster(nodes, ex_rows, shared[tenant])
        ex_by_root: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in ex_rows:
            norm = normalize_name(row["name"])
            if norm:
                ex_by_root[uf.find(norm)].append(row)
        members: dict[str, list[str]] = defaultdict(list)
        for norm in sorted(nodes):
            members[uf.find(norm)].append(norm)
        for root in sorted(members):
            names = members[root]
            surfaces: Counter[str] = Counter()
            kinds: Counter[str] = Counter()
            for n in names:
                for s, c in nodes[n].surfaces.items():
                    surfaces[s] += c  # zero-weight aliases stay as keys: still candidates
                kinds.update(nodes[n].kinds)
            canon = _canonical(surfaces)
            for n in names:
                canonical[(tenant, n)] = canon
            olds = ex_by_root.get(root, [])
            row = _build_row(tenant, canon, surfaces, kinds, names, nodes, olds, now_us)
            changed = len(olds) != 1 or any(row[k] != olds[0].get(k) for k in _COMPARED)
            if changed:
                rows.append(row)
                retired.extend((tenant, o["entity_id"]) for o in olds if o["entity_id"] != row["entity_id"])
    return EntityResolution(_to_table(rows), canonical, sorted(set(retired)))


_COMPARED = ("entity_id", "name", "kind", "aliases", "first_seen", "last_seen", "mention_count", "source_event_ids")


def _build_row(
    tenant: str,
    canon: str,
    surfaces: Counter[str],
    kinds: Counter[str],
    names: list[str],
    nodes: dict[str, _Node],
    olds: list[dict[str, Any]],
    now_us: int,
) -> dict[str, Any]:
    known_events: set[str] = set()
    count = 0
    firsts: list[int] = []
    lasts: list[int] = []
    aliases: set[str] = set(surfaces)
    for old in olds:
        known_events.update(old["source_event_ids"] or [])
        count += int(old["mention_count"] or 0)
        aliases.update(old["aliases"] or [])
        aliases.add(old["name"])
        if old["first_seen"] is not None:
            firsts.append(old["first_seen"])
        if old["last_seen"] is not None:
            lasts.append(old["last_seen"])
    events = set(known_events)
    for n in names:
        for event_id, t in nodes[n].mentions:
            firsts.append(t)
            lasts.append(t)
            if event_id not in known_events:
                count += 1
                if event_id is not None:
                    events.add(event_id)
    aliases.discard(canon)
    recorded = [o["recorded_at"] for o in olds if o["recorded_at"] is not None]
    return {
        "tenant": tenant,
        "entity_id": stable_id(tenant, normalize_name(canon)),
        "name": canon,
        "kind": _dominant_kind(kinds),
        "aliases": sorted(aliases),
        "first_seen": min(firsts) if firsts else now_us,
        "last_seen": max(lasts) if lasts else now_us,
        "mention_count": count,
        "source_event_ids": sorted(events),
        "recorded_at": min(recorded) if recorded else now_us,
        "updated_at": now_us,
    }


def _to_table(rows: list[dict[str, Any]]) -> pa.Table:
    rows = sorted(rows, key=lambda r: (r["tenant"], r["entity_id"]))
    arrays = []
    for f in ENTITIES:
        values = [r[f.name] for r in rows]
        arrays.append(ts_array(values) if pa.types.is_timestamp(f.type) else pa.array(values, f.type))
    return pa.Table.from_arrays(arrays, schema=ENTITIES)
