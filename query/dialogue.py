"""Adjacency pairs in search (:mod:`.retrieval`): a turn that asks is answered by the next turn of its
stream, said by someone else. In dialogue the turn that matches a question's words is often the one that
*asked* it ("Do you play any instruments?"), and the answer is the reply ("Yes, clarinet!"), which shares none
of them. A search candidate that asks something (:func:`.question.asks_something`) therefore lends its reply —
the next event of the same stream, visible at ``as_of``, whose actor is a different one — ``reply_credit ×``
its own score, added to the reply's own when the reply is a candidate too. A stream told by one actor (notes,
a user's monologue) has no replies, so nothing changes there.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import numpy as np

from tracelake.ids import trace_id
from tracelake.results import Hit
from tracelake.timeutil import dt_micros

from .entities import TenantEntities
from .fusion import make_hit
from .question import asks_something
from .snapshot import Snapshot
from .traces import as_of_rows, trace_filter
from .windows import stream_order
from .working_set import WorkingSet, WorkingSets, fetch

__all__ = ["replies", "with_replies"]


def replies(sets: WorkingSets, snap: Snapshot, tenant: str, ws: WorkingSet, hits: list[Hit], as_of: datetime | None,
            include_archived: bool, ents: TenantEntities, credit: float) -> list[Hit]:
    """For each of ``hits`` that asks something, its reply as a hit scored ``credit × the asking hit's score``
    (matched signal ``reply``), in the order of ``hits``; at most one per asking hit, none for a hit without a
    stream or whose next event is by the same (or an unknown) actor. The reply is the next event's whole-text
    trace (else its longest trace) among the traces visible at ``as_of``."""
    asking = [h for h in hits if h.stream is not None and h.source_event_ids and h.actor and asks_something(h.text)]
    if not asking or credit <= 0:
        return []
    streams = stream_order(sets, snap, tenant, ws, as_of, include_archived)
    ws, order, times = streams.ws, streams.order, streams.times
    spans: list[tuple[Hit, int, int]] = []  # asking hit, [start, end) in ``order`` of the traces of the next event
    for h in asking:
        bounds = streams.bounds(h.stream)
        if bounds is None:
            continue
        lo, hi = bounds
        start = lo + int(np.searchsorted(times[lo:hi], dt_micros(h.occurred_at), "right"))
        if start < hi:
            spans.append((h, start, start + int(np.searchsorted(times[start:hi], times[start], "right"))))
    if not spans:
        return []
    positions = np.unique(np.concatenate([order[a:b] for _, a, b in spans]))
    rows = as_of_rows(fetch(snap.traces, ws.rowid[positions], where=trace_filter(tenant, as_of, include_archived)),
                      as_of, ents)
    by_pos = dict(zip(positions.tolist(), rows))
    out: list[Hit] = []
    for h, a, b in spans:
        cands = [by_pos[p] for p in order[a:b].tolist() if p in by_pos and by_pos[p]["source_event_ids"]]
        if not cands:
            continue
        ev = cands[0]["source_event_ids"][0]
        whole = trace_id(tenant, ev)
        row = max(cands, key=lambda r: (r["trace_id"] == whole, len(r["text"] or ""), r["trace_id"]))
        if ev in h.source_event_ids or not row.get("actor") or row["actor"] == h.actor:
            continue
        out.append(make_hit(row, credit * h.score, ("reply",)))
    return out


def with_replies(top: list[Hit], extra: list[Hit]) -> list[Hit]:
    """``top`` with the reply hits added: a reply already among them gets the credit on top of its own score (it
    matched the question itself *and* answers a turn that did); best first."""
    by_event = {h.source_event_ids[0]: i for i, h in enumerate(top) if h.source_event_ids}
    out = list(top)
    for r in extra:
        i = by_event.get(r.source_event_ids[0])
        if i is None:
            by_event[r.source_event_ids[0]] = len(out)
            out.append(r)
        else:
            out[i] = replace(out[i], score=out[i].score + r.score,
                             matched=tuple(dict.fromkeys((*out[i].matched, "reply"))))
    out.sort(key=lambda h: (-h.score, h.trace_id))
    return out
