"""Context windows: the neighbouring events of hits in their stream (``search(..., context_turns=N)``) and the
rows of a time window (``reconstruct``'s episode context), both as of ``as_of`` and located through the tenant's
working set (stream codes, times) so Lance is asked for positioned reads only. :func:`stream_order` (the visible
traces in stream-then-time order) also serves the replies of :mod:`.dialogue`.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracelake.errors import QueryError
from tracelake.ids import trace_id
from tracelake.results import Hit
from tracelake.timeutil import dt_micros, micros_array

from .snapshot import Snapshot
from .traces import trace_filter
from .working_set import WorkingSet, WorkingSets, fetch

__all__ = ["StreamOrder", "stream_order", "neighbours", "window_rows"]

#: Largest half-window (rows of the tenant, in time order) read around a hit to find its neighbouring events.
_MAX_CONTEXT_SPAN = 16_384


class StreamOrder(NamedTuple):
    """A tenant's traces visible at ``as_of`` that have a stream, as working-set positions (``order``) sorted by
    ``(stream code, occurred_at, row id)``, with their stream codes and times; ``ws`` carries the stream codes."""

    ws: WorkingSet
    order: np.ndarray
    codes: np.ndarray
    times: np.ndarray

    def bounds(self, stream: str | None) -> tuple[int, int] | None:
        """``[lo, hi)`` of the stream's traces in ``order``, or ``None`` for no (or an unknown) stream."""
        code = self.ws.stream_names.get(stream) if stream is not None else None
        if code is None:
            return None
        return int(np.searchsorted(self.codes, code, "left")), int(np.searchsorted(self.codes, code, "right"))


def stream_order(sets: WorkingSets, snap: Snapshot, tenant: str, ws: WorkingSet, as_of: datetime | None,
                 include_archived: bool) -> StreamOrder:
    """The tenant's visible traces in stream-then-time order (stream codes loaded on first use)."""
    ws = sets.streams(snap, tenant, ws)
    if ws.stream is None:
        raise QueryError("stream codes missing from the working set")
    vis = np.flatnonzero(ws.visible(as_of, include_archived) & (ws.stream >= 0))
    order = vis[np.lexsort((ws.rowid[vis], ws.occurred[vis], ws.stream[vis]))]
    return StreamOrder(ws, order, ws.stream[order], ws.occurred[order])


def neighbours(sets: WorkingSets, snap: Snapshot, tenant: str, ws: WorkingSet, hits: list[Hit],
               as_of: datetime | None, include_archived: bool,
               turns: int) -> list[tuple[list[tuple[str, str]], list[tuple[str, str]]]]:
    """For each hit, up to ``turns`` events of its stream just before it and just after it, as
    ``(event_id, text)`` pairs in time order (``([], [])`` for a hit without a stream).

    Neighbours come from the traces visible at ``as_of`` (so every one occurred at or before it; their sources
    are trimmed to ``as_of``); an event's whole-text trace stands for it (else its longest trace). The working
    set's stream codes locate each hit among its stream's visible traces in time order; a stretch of rows
    around it is read (one positioned read for all hits) and widened, inside the stream, for a hit whose
    neighbours it does not cover."""
    streams = stream_order(sets, snap, tenant, ws, as_of, include_archived)
    ws, order, times = streams.ws, streams.order, streams.times
    limit = dt_micros(as_of) if as_of is not None else None
    out: list[tuple[list[tuple[str, str]], list[tuple[str, str]]]] = [([], [])] * len(hits)
    todo: dict[int, tuple[int, int, int]] = {}  # hit -> (stream start, stream end, hit position) in ``order``
    for i, h in enumerate(hits):
        bounds = streams.bounds(h.stream)
        if bounds is None or not h.source_event_ids:
            continue
        lo, hi = bounds
        todo[i] = (lo, hi, lo + int(np.searchsorted(times[lo:hi], dt_micros(h.occurred_at))))
    rows: dict[int, tuple[str, tuple[bool, int], str, int] | None] = {}  # position -> event, rank, text, time
    whole: dict[str, str] = {}  # event -> id of its whole-text trace
    span = 4 * (turns + 1)
    while todo:
        ranges = {i: (max(s_lo, c - span), min(s_hi, c + span + 1)) for i, (s_lo, s_hi, c) in todo.items()}
        new = sorted({p for lo, hi in ranges.values() for p in range(lo, hi)} - rows.keys())
        if new:
            rowids = ws.rowid[order[new]]
            by_row = np.argsort(rowids, kind="stable")
            table = fetch(snap.traces, rowids[by_row], ["trace_id", "text", "occurred_at", "last_source_at",
                                                        "source_event_ids", "source_times"],
                          trace_filter(tenant, as_of, include_archived))
            first = pc.list_element(table["source_event_ids"], 0).to_pylist()
            late = (micros_array(table["last_source_at"]) > limit if limit is not None
                    else np.zeros(table.num_rows, dtype=bool))
            when = micros_array(table["occurred_at"]).tolist()
            ids, texts = table["trace_id"].to_pylist(), table["text"].to_pylist()
            for j, p in enumerate(np.asarray(new)[by_row].tolist()):
                ev = first[j]
                if late[j]:  # absorbed later sources: its event is its first source visible at as_of
                    pairs = zip(table["source_event_ids"][j].as_py() or (), table["source_times"][j].as_py() or ())
                    ev = next((e for e, t in pairs if dt_micros(t) <= limit), None)
                if ev is None:
                    rows[p] = None
                    continue
                if ev not in whole:
                    whole[ev] = trace_id(tenant, ev)
                text = texts[j] or ""
                rows[p] = (ev, (ids[j] == whole[ev], len(text)), text, when[j])
        left = {}
        for i, (lo, hi) in ranges.items():
            s_lo, s_hi, _ = todo[i]
            events: dict[str, tuple[tuple[bool, int], str, int]] = {}
            for row in (rows[p] for p in range(lo, hi)):
                if row is not None and (row[0] not in events or row[1] > events[row[0]][0]):
                    events[row[0]] = row[1:]
            seq = sorted(events.items(), key=lambda kv: (kv[1][2], kv[0]))
            own = hits[i].source_event_ids[0]
            idx = next((j for j, (ev, _) in enumerate(seq) if ev == own), None)
            enough = idx is not None and (idx >= turns or lo == s_lo) and (len(seq) - 1 - idx >= turns
                                                                          or hi == s_hi)
            if enough or (lo == s_lo and hi == s_hi) or span >= _MAX_CONTEXT_SPAN:
                if idx is not None:
                    out[i] = ([(ev, e[1]) for ev, e in seq[max(0, idx - turns):idx]],
                              [(ev, e[1]) for ev, e in seq[idx + 1:idx + 1 + turns]])
            else:
                left[i] = todo[i]
        todo, span = left, span * 4
    return out


def window_rows(sets: WorkingSets, snap: Snapshot, tenant: str, lo: datetime, hi: datetime,
                as_of: datetime | None, include_archived: bool, limit: int = 500) -> pa.Table:
    """``READ_COLUMNS`` rows of the tenant's traces visible at ``as_of`` with ``lo <= occurred_at <= hi``
    (the first ``limit`` by time), located through the working set: one positioned read."""
    ws = sets.get(snap, tenant)
    mask = ws.visible(as_of, include_archived) & (ws.occurred >= dt_micros(lo)) & (ws.occurred <= dt_micros(hi))
    pos = np.flatnonzero(mask)
    pos = pos[np.argsort(ws.occurred[pos], kind="stable")][:limit]
    return fetch(snap.traces, np.sort(ws.rowid[pos]), where=trace_filter(tenant, as_of, include_archived))
