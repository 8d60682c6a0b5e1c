"""Near-duplicate trace convergence within ``(tenant, kind)``: the earlier trace survives, nothing is destroyed.

Contract of :func:`merge_traces`:

- Only roots (``merged_into`` null) can absorb or be absorbed. New traces are taken in ``(occurred_at,
  trace_id)`` order; each one is matched against the existing roots and the earlier new traces of its
  ``(tenant, kind)``: an exact match of normalised text wins, else the most similar embedding (cosine, blocked
  numpy matmul) with similarity >= ``threshold``. Traces of the same source event (an event's whole text and its
  units) never converge with each other: they are its parts, not restatements.
- Of the two roots, the earlier ``(occurred_at, trace_id)`` survives: it gets the other's sources (unioned,
  ``source_times`` parallel and sorted by time), ``merged_from += [absorbed id]``, ``reinforcement_count`` =
  distinct sources, ``stability *= stability_growth`` per new source, ``last_reinforced_at`` /
  ``last_source_at`` = latest source time, ``occurred_at`` = earliest, entities unioned, strength 1.0 and
  un-archived when a source was added. The absorbed trace keeps its content and gets ``merged_into`` = survivor.
- ``upserts`` holds every new row (merged or not) and every existing row that changed. A new row whose
  ``trace_id`` already exists is ignored, so merging the same batch twice writes nothing the second time.
- Changed rows get ``updated_at = now`` (default: the latest ``recorded_at`` of ``new``). Tenants never mix.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracelake.operators._columns import column, micros, require, ts_array
from tracelake.operators.text import normalize_text
from tracelake.timeutil import TS, dt_micros

__all__ = ["TraceMerge", "merge_traces", "embedding_matrix"]

_BLOCK_NEW = 1024
_BLOCK_OLD = 16384


@dataclass(frozen=True)
class TraceMerge:
    """``upserts``: all trace rows to write (new rows and changed existing rows)."""

    upserts: pa.Table


def embedding_matrix(table: pa.Table, name: str = "embedding") -> np.ndarray:
    """The ``FixedSizeList<float32>`` column as a ``float32`` matrix ``(rows, dim)``; null rows are zeros."""
    col = table.column(name).combine_chunks() if isinstance(table.column(name), pa.ChunkedArray) else table.column(name)
    dim = col.type.list_size
    if col.null_count == 0:
        return np.asarray(col.flatten().to_numpy(zero_copy_only=False), dtype=np.float32).reshape(len(col), dim)
    out = np.zeros((len(col), dim), dtype=np.float32)
    valid = np.asarray(pc.is_valid(col).to_numpy(zero_copy_only=False), dtype=bool)
    if valid.any():
        out[valid] = np.asarray(col.filter(pa.array(valid)).flatten().to_numpy(zero_copy_only=False), dtype=np.float32).reshape(-1, dim)
    return out


def _normalised(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)


def _best_existing(new: np.ndarray, old: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``new``: (best cosine, index) over ``old``, blocked over both sides."""
    best = np.full(len(new), -np.inf, dtype=np.float32)
    arg = np.full(len(new), -1, dtype=np.int64)
    for i in range(0, len(new), _BLOCK_NEW):
        blk = new[i : i + _BLOCK_NEW]
        for j in range(0, len(old), _BLOCK_OLD):
            sims = blk @ old[j : j + _BLOCK_OLD].T
            a = np.argmax(sims, axis=1)
            v = sims[np.arange(len(blk)), a]
            better = v > best[i : i + len(blk)]
            best[i : i + len(blk)][better] = v[better]
            arg[i : i + len(blk)][better] = a[better] + j
    return best, arg


def _best_earlier(new: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row k of ``new``: (best cosine, index) over rows ``< k`` of another source event (``event``: one code
    per row; the traces of one event are its parts, never restatements of each other)."""
    n = len(new)
    best = np.full(n, -np.inf, dtype=np.float32)
    arg = np.full(n, -1, dtype=np.int64)
    for i in range(0, n, _BLOCK_NEW):
        blk = new[i : i + _BLOCK_NEW]
        hi = i + len(blk)
        sims = blk @ new[:hi].T
        rows = np.arange(len(blk))[:, None] + i
        sims[np.arange(hi)[None, :] >= rows] = -np.inf
        sims[event[i:hi][:, None] == event[None, :hi]] = -np.inf
        if hi > 1:
            a = np.argmax(sims, axis=1)
            best[i:hi] = sims[np.arange(len(blk)), a]
            arg[i:hi] = np.where(np.isfinite(best[i:hi]), a, -1)
    return best, arg


class _State:
    """Mutable per-row lifecycle columns of the rows that may change."""

    def __init__(self, t: pa.Table) -> None:
        self.trace_id = column(t, "trace_id")
        self.sources = [dict(zip(ids or [], times or [])) for ids, times in zip(column(t, "source_event_ids"), _times_us(t))]
        self.merged_from = [list(x or []) for x in column(t, "merged_from")]
        self.merged_into = column(t, "merged_into")
        self.entities = [list(x or []) for x in column(t, "entities")]
        self.stability = [float(x) for x in column(t, "stability", 30.0)]
        self.reinforcement = column(t, "reinforcement_count", 1)
        self.last_reinforced = micros(t, "last_reinforced_at")
        self.last_source = micros(t, "last_source_at")
        self.occurred = micros(t, "occurred_at")
        self.strength = column(t, "strength", 1.0)
        self.archived = column(t, "archived", False)
        self.pinned = column(t, "pinned", False)
        self.changed: set[int] = set()


def _times_us(t: pa.Table) -> list[list[int]]:
    if "source_times" not in t.column_names:
        return [[] for _ in range(t.num_rows)]
    col = t.column("source_times")
    flat = pc.cast(pc.list_flatten(col), pa.int64()).to_pylist()
    lengths = pc.fill_null(pc.list_value_length(col), 0).to_pylist()
    out, k = [], 0
    for n in lengths:
        out.append(flat[k : k + n])
        k += n
    return out


def _absorb(s: _State, keep: int, gone: int, growth: float) -> None:
    added = 0
    for eid, t in s.sources[gone].items():
        if eid not in s.sources[keep]:
            s.sources[keep][eid] = t
            added += 1
    if s.trace_id[gone] not in s.merged_from[keep]:
        s.merged_from[keep].append(s.trace_id[gone])
    times = list(s.sources[keep].values())
    s.reinforcement[keep] = len(s.sources[keep])
    if added:
        s.stability[keep] *= growth**added
        s.strength[keep] = 1.0
        s.archived[keep] = False
    if times:
        s.last_reinforced[keep] = max([s.last_reinforced[keep] or 0, *times])
        s.last_source[keep] = max(times)
        s.occurred[keep] = min(times)
    s.pinned[keep] = bool(s.pinned[keep]) or bool(s.pinned[gone])
    for e in s.entities[gone]:
        if e not in s.entities[keep]:
            s.entities[keep].append(e)
    s.merged_into[gone] = s.trace_id[keep]
    s.changed.update((keep, gone))


def merge_traces(
    existing: pa.Table,
    new: pa.Table,
    threshold: float = 0.95,
    *,
    stability_growth: float = 2.0,
    now: datetime | None = None,
) -> TraceMerge:
    """Converge near-duplicate ``new`` traces with ``existing`` ones; see the module docstring."""
    require(new, ["tenant", "trace_id", "kind", "text", "embedding", "occurred_at"], "traces")
    schema = new.schema
    if existing is None or existing.num_rows == 0:
        existing = schema.empty_table()
    existing = existing.select(schema.names).cast(schema)
    known = set(column(existing, "trace_id"))
    ids = column(new, "trace_id")
    keep, seen = [], set()
    for i, tid in enumerate(ids):
        if tid not in known and tid not in seen:
            seen.add(tid)
            keep.append(i)
    new = new.take(pa.array(keep, pa.int64()))
    if new.num_rows == 0:
        return TraceMerge(schema.empty_table())
    tenants_new = set(column(new, "tenant"))
    ex_mask = pc.is_in(existing.column("tenant"), pa.array(sorted(tenants_new), pa.string()))
    existing = existing.filter(ex_mask)
    both = pa.concat_tables([existing, new])
    n_old = existing.num_rows
    if now is None:
        now_us = max(v for v in micros(new, "recorded_at") if v is not None) if "recorded_at" in new.column_names else 0
    else:
        now_us = dt_micros(now)

    emb = _normalised(embedding_matrix(both))
    tenant, kind, text = column(both, "tenant"), column(both, "kind"), column(both, "text")
    s = _State(both)
    parent = list(range(both.num_rows))
    # The first source event of each row, as a code: traces decomposed from one event never converge.
    first = [next(iter(src), "") for src in s.sources]
    event = np.unique(np.asarray(first, dtype=object), return_inverse=True)[1] if first else np.zeros(0, np.int64)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def order(i: int) -> tuple[int, str]:
        return (s.occurred[i] or 0, s.trace_id[i])

    groups: dict[tuple[str, str], tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for i in range(both.num_rows):
        if i < n_old:
            if s.merged_into[i] is None:
                groups[(tenant[i], kind[i])][0].append(i)
        else:
            groups[(tenant[i], kind[i])][1].append(i)
    for key in sorted(groups):
        olds, news = groups[key]
        if not news:
            continue
        olds.sort(key=order)
        news.sort(key=order)
        by_text: dict[str, int] = {}
        for i in olds:
            by_text.setdefault(normalize_text(text[i] or ""), i)
        ex_best, ex_arg = _best_existing(emb[news], emb[olds]) if olds else (np.full(len(news), -np.inf), np.full(len(news), -1))
        nw_best, nw_arg = _best_earlier(emb[news], event[news])
        for k, j in enumerate(news):
            norm = normalize_text(text[j] or "")
            target = by_text.get(norm) if norm else None
            if target is None:
                cands = []
                if ex_arg[k] >= 0 and ex_best[k] >= threshold:
                    cands.append((float(ex_best[k]), 1, olds[int(ex_arg[k])]))
                if nw_arg[k] >= 0 and nw_best[k] >= threshold:
                    cands.append((float(nw_best[k]), 0, news[int(nw_arg[k])]))
                if cands:
                    target = max(cands)[2]
            if norm:
                by_text.setdefault(norm, j)
            if target is None:
                continue
            a, b = find(target), find(j)
            if a == b:
                continue
            survivor, absorbed = (a, b) if order(a) <= order(b) else (b, a)
            _absorb(s, survivor, absorbed, stability_growth)
            parent[absorbed] = survivor
    rows = sorted({i for i in s.changed if i < n_old} | set(range(n_old, both.num_rows)))
    return TraceMerge(_rebuild(both, s, rows, now_us))


def _rebuild(both: pa.Table, s: _State, rows: list[int], now_us: int) -> pa.Table:
    out = both.take(pa.array(rows, pa.int64()))
    changed = s.changed

    def pick(values: list[Any]) -> list[Any]:
        return [values[i] for i in rows]

    src = [sorted(s.sources[i].items(), key=lambda kv: (kv[1], kv[0])) for i in rows]
    replacements: dict[str, pa.Array] = {
        "source_event_ids": pa.array([[k for k, _ in items] for items in src], pa.list_(pa.string())),
        "source_times": pa.array([[v for _, v in items] for items in src], pa.list_(pa.int64())).cast(pa.list_(TS)),
        "merged_from": pa.array(pick(s.merged_from), pa.list_(pa.string())),
        "merged_into": pa.array(pick(s.merged_into), pa.string()),
        "entities": pa.array(pick(s.entities), pa.list_(pa.string())),
        "stability": pa.array(pick(s.stability), pa.float64()),
        "reinforcement_count": pa.array(pick(s.reinforcement), pa.int32()),
        "last_reinforced_at": ts_array(pick(s.last_reinforced)),
        "last_source_at": ts_array(pick(s.last_source)),
        "occurred_at": ts_array(pick(s.occurred)),
        "strength": pa.array(pick(s.strength), pa.float64()),
        "archived": pa.array(pick(s.archived), pa.bool_()),
        "pinned": pa.array(pick(s.pinned), pa.bool_()),
    }
    if "updated_at" in out.column_names:
        old = micros(out, "updated_at")
        replacements["updated_at"] = ts_array([now_us if i in changed else old[k] for k, i in enumerate(rows)])
    for name, arr in replacements.items():
        if name in out.column_names:
            idx = out.schema.get_field_index(name)
            out = out.set_column(idx, out.schema.field(name), arr.cast(out.schema.field(name).type))
    return out
