"""The decomposition tasks of a consolidation run: chunks that keep every core busy and never cut a stream's memory.

Contract
--------
- **Chunks of whole streams.** Reference resolution (:mod:`tracelake.operators.references`) keeps one memory per
  ``(tenant, stream)`` (a null stream is the stream ``""``), fed in event-time order. A chunk holds events of one
  tenant; :func:`plan_chunks` packs a tenant's *whole* streams into chunks (heaviest first, each into the
  lightest chunk), so what a pronoun or "there" needs is always in the same task.
- **Sized for the cores.** A task's work is weighed by the characters it analyses (:func:`weights`); the target
  weight of a chunk is the run's total over :data:`TASKS_PER_CPU` tasks per CPU Ray reports
  (:func:`target_weight`; the ``consolidate_tasks`` setting overrides the count), so a run has at least as many
  tasks as CPUs (a single-tenant conversation is no longer one task on one core). No chunk holds more than ``max_events`` events.
- **A stream heavier than a chunk** is cut into consecutive segments, each its own chunk. The segments are
  *read* (parse + reference resolution, :class:`~tracelake.operators.extract.ParseDecomposer`) by a chain of
  tasks, each starting from the stream memory the previous segment left; the rest of each segment's
  decomposition (units, mentions, times, embeddings) runs in parallel once its reading is done.
- **Same bytes whatever the cut.** Every event is read with exactly the memory one pass over its tenant would
  give it; :func:`in_event_order` puts the merged chunk outputs back in the tenant's event order. So one chunk per
  tenant and any number of chunks give the same traces, mentions and facts (tested). The one exception: a
  batch-dependent embedder (MiniLM pads each batch) gives a text vectors that differ in the last bits (≤ 1.4e-7
  per component) with the texts it was batched with.
- **Clause vectors.** With ``Settings.clause_vectors`` (default off) a task also embeds the decomposition's
  ``clauses`` (the pieces ``lake.context`` compares with a question) through the cached embedder, so they land
  in the lake's vector cache with the traces' own vectors and a query finds them there; they change no table.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from tracelake.errors import ConfigError, ConsolidationError
from tracelake.operators.decompose import MAX_ANALYSED_CHARS
from tracelake.pipelines.embedding import CachedEmbedder, use_devices
from tracelake.settings import Settings
from tracelake.storage.vectors import VectorCache

__all__ = ["Chunk", "plan_chunks", "weights", "target_weight", "submit", "in_event_order", "TASKS_PER_CPU",
           "WEIGHT_PER_EVENT"]

#: Decomposition tasks a run aims for per CPU. One: every extra task costs a worker's model loads and smaller
#: batches (LoCoMo, one conversation, MiniLM, quiet 2-core box: 1 task 16 ev/s, 2 tasks 19, 4 tasks 11).
TASKS_PER_CPU = 1
#: Characters an event weighs on top of its text (per-event work that does not grow with the text).
WEIGHT_PER_EVENT = 40


@dataclass(frozen=True)
class Chunk:
    """Row positions (in the tenant's event order) of one decomposition task; ``stream`` is set when the chunk
    is one segment of a stream cut across chunks (its segments are read in order, one after the other)."""

    rows: list[int]
    stream: str | None = None


def weights(events: pa.Table) -> list[int]:
    """Per event: the characters of its text that decomposition analyses, plus :data:`WEIGHT_PER_EVENT`."""
    if "text" not in events.column_names:
        return [WEIGHT_PER_EVENT] * events.num_rows
    lengths = pc.fill_null(pc.utf8_length(events["text"]), 0).to_pylist()
    return [min(n, MAX_ANALYSED_CHARS) + WEIGHT_PER_EVENT for n in lengths]


def target_weight(total_weight: int, tasks: int) -> int:
    """The weight of one chunk: the run's total spread over ``tasks`` tasks (at least one character)."""
    return max(1, math.ceil(total_weight / max(1, tasks)))


def plan_chunks(tenant_events: pa.Table, target: int, max_events: int) -> list[Chunk]:
    """Chunks of one tenant's events (sorted by ``(occurred_at, event_id)``), see the module contract."""
    if max_events < 1:
        raise ConfigError(f"consolidate_chunk_events must be at least 1, got {max_events}")
    w = weights(tenant_events)
    keys = (pc.fill_null(tenant_events["stream"], "").to_pylist() if "stream" in tenant_events.column_names
            else [""] * tenant_events.num_rows)
    streams: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        streams.setdefault(key, []).append(i)
    whole: list[tuple[int, str, list[int]]] = []
    chunks: list[Chunk] = []
    for key, rows in streams.items():
        weight = sum(w[i] for i in rows)
        if weight <= target and len(rows) <= max_events:
            whole.append((weight, key, rows))
        else:
            chunks += [Chunk(seg, key) for seg in _segments(rows, w, target, max_events)]
    return _pack(whole, target, max_events) + chunks


def _segments(rows: list[int], w: list[int], target: int, max_events: int) -> list[list[int]]:
    """Consecutive pieces of one stream of about equal weight, none over ``max_events`` events."""
    total = sum(w[i] for i in rows)
    n = max(math.ceil(total / target), math.ceil(len(rows) / max_events))
    out: list[list[int]] = [[]]
    done = 0
    for i in rows:
        if out[-1] and (done >= total * len(out) / n or len(out[-1]) >= max_events):
            out.append([])
        out[-1].append(i)
        done += w[i]
    return out


def _pack(streams: list[tuple[int, str, list[int]]], target: int, max_events: int) -> list[Chunk]:
    """Whole streams into ``ceil(weight / target)`` chunks: heaviest first, each into the lightest chunk that
    stays within ``max_events`` (else a new one). Deterministic: ties break on the stream key."""
    total = sum(weight for weight, _, _ in streams)
    if not streams:
        return []
    bins: list[list[int]] = [[] for _ in range(max(1, math.ceil(total / target)))]
    heap = [(0, 0, b) for b in range(len(bins))]  # (weight, events, bin)
    for weight, _, rows in sorted(streams, key=lambda s: (-s[0], s[1])):
        skipped = []
        while heap and heap[0][1] + len(rows) > max_events:
            skipped.append(heapq.heappop(heap))
        if heap:
            load, count, b = heapq.heappop(heap)
        else:
            load, count, b = 0, 0, len(bins)
            bins.append([])
        bins[b] += rows
        heapq.heappush(heap, (load + weight, count + len(rows), b))
        for item in skipped:
            heapq.heappush(heap, item)
    return [Chunk(sorted(rows)) for rows in bins if rows]


# -- tasks --------------------------------------------------------------------------------------------------
class _Given:
    """A :class:`~tracelake.operators.extract.Decomposer` handing back readings made beforehand."""

    def __init__(self, readings: list[Any]) -> None:
        self.readings = readings

    def read(self, events: Sequence[Any]) -> list[Any]:
        if len(events) != len(self.readings):
            raise ConsolidationError(f"{len(self.readings)} readings for {len(events)} events")
        return self.readings


def _read_segment(events: pa.Table, settings: Settings, memories: dict | None) -> tuple[dict[str, Any], dict]:
    """Read one stream segment from the memories the previous segment left:
    ``({"readings", "seconds"}, memories after)``."""
    from tracelake.operators.decompose import reader_texts
    from tracelake.operators.extract import ParseDecomposer

    t0 = time.perf_counter()
    use_devices(settings)
    reader = ParseDecomposer(memories)
    readings = reader.read(reader_texts(events))
    return {"readings": readings, "seconds": time.perf_counter() - t0}, reader.memories


def _decompose_chunk(events: pa.Table, settings: Settings, cache: VectorCache | None, now: datetime,
                     read: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Decompose one chunk (``read``: its readings when a chain made them): ``(rows for the merge task, what the
    driver needs)``; new vectors go to the cache as uncommitted fragments (the driver commits them). Two
    returns, so the driver never fetches the rows. ``timing``: ``task_s`` (with the chained reading's seconds),
    ``parser_load_s`` (loading spaCy, first task of a worker), ``cache_write_s``, and the embedder's seconds."""
    import ray

    from tracelake.embedding import get_embedder
    from tracelake.operators.decompose import decompose
    from tracelake.operators.nlp import parser

    t0 = time.perf_counter()
    devices = use_devices(settings)
    if read is None:  # this task parses: the model, loaded once per worker, is timed apart from the parse
        parser()
    t1 = time.perf_counter()
    embedder = CachedEmbedder(get_embedder(settings.embedder, settings.embed_device), cache)
    d = decompose(events, embedder=embedder, now=now, stability_days=settings.decay_initial_stability_days,
                  decomposer=_Given(read["readings"]) if read is not None else None,
                  quote_clauses=settings.clause_vectors)
    if d.clauses:  # the read path's clause vectors, into the lake's cache
        embedder.embed(list(d.clauses))
    t2 = time.perf_counter()
    fragments = embedder.cache_fragments()
    read_s = read["seconds"] if read is not None else 0.0
    return ({"traces": d.traces, "mentions": d.mentions, "facts": d.facts},
            {"vector_fragments": fragments, "embed": embedder.stats, "devices": devices, "chained": read is not None,
             "node": ray.get_runtime_context().get_node_id(),
             "timing": {"task_s": time.perf_counter() - t0 + read_s, "parser_load_s": t1 - t0,
                        "cache_write_s": time.perf_counter() - t2, **embedder.seconds}})


def submit(tenant_events: pa.Table, target: int, max_events: int, settings: Settings, cache: VectorCache | None,
           now: datetime) -> tuple[list[Any], list[Any]]:
    """Submit one tenant's decomposition tasks: ``(refs of the rows for its merge, refs of the tasks' metadata)``."""
    import ray

    decompose_task = ray.remote(_decompose_chunk).options(num_cpus=1, max_retries=2, num_returns=2)
    read_task = ray.remote(_read_segment).options(num_cpus=1, max_retries=2, num_returns=2)
    memory: dict[str, Any] = {}  # stream -> ref of the memories its last submitted segment leaves
    rows_refs, meta_refs = [], []
    for chunk in plan_chunks(tenant_events, target, max_events):
        events = tenant_events.take(pa.array(chunk.rows, pa.int64()))
        read = None
        if chunk.stream is not None:
            read, memory[chunk.stream] = read_task.remote(events, settings, memory.get(chunk.stream))
        rows_ref, meta_ref = decompose_task.remote(events, settings, cache, now, read)
        rows_refs.append(rows_ref)
        meta_refs.append(meta_ref)
    return rows_refs, meta_refs


def in_event_order(table: pa.Table, event_ids: pa.Array, tenant_events: pa.Table) -> pa.Table:
    """``table``'s rows (``event_ids``: each row's source event) stably sorted by their event's position in
    ``tenant_events``: the order one decomposition of all the tenant's events gives."""
    if table.num_rows < 2:
        return table
    rank = pc.index_in(event_ids, value_set=tenant_events["event_id"].combine_chunks())
    return table.take(pc.sort_indices(rank))
