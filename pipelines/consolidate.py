"""Consolidation on Ray: new events -> decompose -> merge -> decay -> reindex, published atomically.

Contract
--------
- **Incremental.** A run takes the events not yet in the ``ledger`` (scanning only events recorded after the
  ledger's high-water mark minus :data:`WATERMARK_MARGIN`, then anti-joining on ``(tenant, event_id)``).
  Re-running with nothing new publishes nothing and changes nothing (the run is logged as ``noop``).
- **Parallel.** Decomposition runs in Ray tasks over chunks of one tenant's whole streams, at least as many as
  CPUs (:mod:`tracelake.pipelines.decomposition`); per tenant, one merge
  task reads that tenant's state at the published versions, merges, applies decay and *writes the new
  trace rows as Lance fragments*; the driver commits each table once (trace fragments are appended with
  ``read_version`` = the published version: optimistic concurrency), then updates changed rows.
- **Atomic publication.** Nothing is visible to readers until the run appends its ``job_runs`` row naming
  the new version of every consolidated table. A run killed before that leaves only unpublished versions,
  which the next run rolls back before starting (so it redoes the work, exactly once).
- **Deterministic.** Same events and same ``now`` give the same rows whatever the number of nodes/tasks:
  ids are content hashes, chunks are merged in event-time order.
- **One at a time.** A run holds the lake's lease (:mod:`tracelake.storage.lease`, shared with ``forget``) from
  before its rollback until its publication; a second run waits up to ``wait`` seconds, then raises
  :class:`~tracelake.errors.LeaseHeldError` naming the holder. A run whose lease was taken over (it stalled
  past the lease's expiry) publishes nothing (:class:`~tracelake.errors.LeaseLostError`).
- **Repair.** Duplicate rows left by concurrent runs of an older version are removed first
  (:mod:`tracelake.pipelines.repair`, reported under ``steps.repair``).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

import pyarrow as pa
import pyarrow.compute as pc

from tracelake import schemas
from tracelake.errors import ConfigError, ConsolidationError, TracelakeError
from tracelake.pipelines import decomposition
from tracelake.pipelines.ray_runtime import ensure_ray
from tracelake.pipelines.repair import repair
from tracelake.settings import Settings
from tracelake.storage import LakeStore
from tracelake.storage.lake_store import sql_quote
from tracelake.storage.lease import Lease
from tracelake.storage.vectors import VectorCache
from tracelake.timeutil import TS, now_utc

__all__ = ["STEPS", "ConsolidationReport", "consolidate", "WATERMARK_MARGIN"]

STEPS = ("decompose", "merge", "decay", "reindex")
#: Events recorded this long before the ledger's newest entry are re-checked (commit/clock skew cover).
WATERMARK_MARGIN = timedelta(minutes=10)
#: Most recent traces per tenant considered for near-duplicate convergence.
MERGE_WINDOW = 20_000

Progress = Callable[[str, int, int], None]


@dataclass
class ConsolidationReport:
    """What a run did: ``status`` is committed | noop | failed; ``steps`` holds per-step counters."""

    run_id: str
    status: str
    tenant: str | None
    started_at: datetime
    finished_at: datetime | None = None
    events_in: int = 0
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for k in ("started_at", "finished_at"):
            out[k] = out[k].isoformat().replace("+00:00", "Z") if out[k] else None
        return out


# -- Ray tasks ------------------------------------------------------------------------------------------
def _merge_tenant(store: LakeStore, tenant: str, published: dict[str, int], new_events: pa.Table,
                  settings: Settings, now: datetime, steps: tuple[str, ...], *chunks: dict[str, Any]) -> dict[str, Any]:
    """Merge one tenant's decomposed chunks into its state; write new trace fragments; decay."""
    import ray

    from tracelake.operators.decay import apply_decay
    from tracelake.operators.merge import merge_facts, merge_traces, resolve_entities
    from tracelake.pipelines.decomposition import in_event_order

    where = f"tenant = {sql_quote(tenant)}"
    counts: dict[str, int] = {}
    out: dict[str, Any] = {"tenant": tenant, "node": ray.get_runtime_context().get_node_id(), "fragments": [],
                           "trace_updates": None, "entities": None, "retired_entities": [], "facts": None,
                           "ledger": None}
    traces_ds = store.dataset("traces", published["traces"])
    trace_updates: list[pa.Table] = []
    clock = _decay_clock(traces_ds, where, new_events, now)
    threshold = settings.decay_archive_threshold
    decaying = "decay" in steps
    if chunks:
        # Chunks hold whole streams, not time slices: back into the tenant's event order (as from one chunk).
        traces = _concat([c["traces"] for c in chunks], schemas.schema_for("traces", store.embedding_dim()))
        traces = in_event_order(traces, pc.list_element(traces["source_event_ids"], 0), new_events)
        mentions = _concat([c["mentions"] for c in chunks])
        mentions = in_event_order(mentions, mentions["event_id"], new_events)
        candidates = _concat([c["facts"] for c in chunks])
        candidates = in_event_order(candidates, candidates["source_event_id"], new_events)
        entities = store.read("entities", filter=where, version=published["entities"])
        resolution = resolve_entities(entities, mentions, now)
        counts["entities_upserted"] = resolution.entities.num_rows
        current = store.read("facts", filter=f"{where} AND retracted_at IS NULL", version=published["facts"])
        fm = merge_facts(current, candidates, resolution.canonical, now, settings.decay_stability_growth,
                         initial_stability=settings.decay_initial_stability_days)
        retracted = current.filter(pc.is_in(current["row_id"], pa.array(sorted(fm.retract_row_ids), pa.string())))
        retracted = retracted.set_column(retracted.schema.get_field_index("retracted_at"), "retracted_at",
                                         pa.array([now] * retracted.num_rows, TS))
        out["facts"] = pa.concat_tables([retracted, fm.inserts.cast(retracted.schema)])
        counts["facts_inserted"], counts["facts_retracted"] = fm.inserts.num_rows, retracted.num_rows
        traces = _canonicalise_entities(traces, resolution.canonical, tenant)
        recent = traces_ds.to_table(filter=where).sort_by([("occurred_at", "descending")]).slice(0, MERGE_WINDOW)
        tm = merge_traces(recent, traces, stability_growth=settings.decay_stability_growth, now=now)
        new_ids = set(traces["trace_id"].to_pylist())
        is_new = pc.is_in(tm.upserts["trace_id"], pa.array(sorted(new_ids), pa.string()))
        fresh, changed = tm.upserts.filter(is_new), tm.upserts.filter(pc.invert(is_new))
        counts["traces_new"], counts["traces_reinforced"] = fresh.num_rows, changed.num_rows
        counts["traces_converged"] = pc.sum(pc.is_valid(fresh["merged_into"])).as_py() or 0
        if decaying:
            fresh, changed = apply_decay(fresh, clock, threshold), apply_decay(changed, clock, threshold)
            counts["traces_archived"] = pc.sum(fresh["archived"]).as_py() or 0
        if fresh.num_rows:
            out["fragments"] = store.write_fragments("traces", fresh, version=published["traces"])
        trace_updates.append(changed)
        out["entities"] = resolution.entities
        out["retired_entities"] = [entity_id for _, entity_id in resolution.retired]
        out["ledger"] = pa.table({
            "tenant": new_events["tenant"], "event_id": new_events["event_id"],
            "run_id": pa.array([""] * new_events.num_rows, pa.string()), "recorded_at": new_events["recorded_at"],
        })
    if decaying:
        state = traces_ds.to_table(filter=f"{where} AND archived = false")
        if trace_updates:  # rows reinforced in this run were decayed above, from their new state
            state = state.filter(pc.invert(pc.is_in(state["trace_id"], trace_updates[0]["trace_id"])))
        decayed = apply_decay(state, clock, threshold)
        flipped = decayed.filter(pc.not_equal(decayed["archived"], state["archived"]))
        counts["traces_archived"] = counts.get("traces_archived", 0) + flipped.num_rows
        trace_updates.append(flipped)
    updates = _concat([t for t in trace_updates if t is not None and t.num_rows])
    out["trace_updates"] = updates if updates is not None and updates.num_rows else None
    out["counts"] = counts
    return out


def _decay_clock(traces_ds: Any, where: str, new_events: pa.Table | None, now: datetime) -> datetime:
    """The tenant's decay clock: its event-time frontier (latest source seen), never past ``now``.

    Forgetting is measured in the tenant's own time, so replaying a year-old conversation does not archive
    it on arrival, and a tenant's memories fade as *its* story moves on. Pure function of the state.
    """
    seen = traces_ds.to_table(columns=["last_source_at"], filter=where)["last_source_at"]
    frontier = pc.max(seen).as_py() if len(seen) else None
    if new_events is not None and new_events.num_rows:
        newest = pc.max(new_events["occurred_at"]).as_py()
        frontier = newest if frontier is None else max(frontier, newest)
    return now if frontier is None else min(now, frontier)


def _concat(tables: Iterable[pa.Table], schema: pa.Schema | None = None) -> pa.Table | None:
    tables = [t for t in tables if t is not None]
    if not tables:
        return schema.empty_table() if schema is not None else None
    return pa.concat_tables(tables, promote_options="permissive")


def _canonicalise_entities(traces: pa.Table, canonical: dict[tuple[str, str], str], tenant: str) -> pa.Table:
    """Replace surface entity names in ``traces.entities`` by their canonical names."""
    from tracelake.operators.entities import normalize_name

    lists = traces["entities"].to_pylist()
    mapped = [None if names is None else sorted({canonical.get((tenant, normalize_name(n)), n) for n in names})
              for names in lists]
    return traces.set_column(traces.schema.get_field_index("entities"), "entities",
                             pa.array(mapped, traces.schema.field("entities").type))


# -- driver ---------------------------------------------------------------------------------------------
def _new_events(store: LakeStore, published: dict[str, int], tenant: str | None) -> pa.Table:
    """Events not yet consolidated, deduplicated, sorted by (tenant, occurred_at, event_id)."""
    where = f"tenant = {sql_quote(tenant)}" if tenant else None
    ledger_hw = store.read("ledger", columns=["recorded_at"], filter=where, version=published["ledger"])
    lo = pc.max(ledger_hw["recorded_at"]).as_py() if ledger_hw.num_rows else None
    ev_filter = " AND ".join(
        p for p in (where, f"recorded_at >= TIMESTAMP '{(lo - WATERMARK_MARGIN).strftime('%Y-%m-%d %H:%M:%S.%f')}'"
                    if lo else None) if p)
    events = store.read("events", filter=ev_filter or None)
    if events.num_rows and lo is not None:
        led = store.read("ledger", columns=["tenant", "event_id"], version=published["ledger"],
                         filter=" AND ".join(p for p in (where, ev_filter.split(" AND ")[-1]) if p))
        keys = pc.binary_join_element_wise(events["tenant"], events["event_id"], "\x1f")
        seen = pc.binary_join_element_wise(led["tenant"], led["event_id"], "\x1f")
        events = events.filter(pc.invert(pc.is_in(keys, value_set=seen)))
    if not events.num_rows:
        return events
    import polars as pl

    # A writer race can leave a transient duplicate row (see pipelines/ingest.py): keep the first.
    deduped = (pl.from_arrow(events)
               .sort(["tenant", "occurred_at", "event_id", "recorded_at"])
               .unique(subset=["tenant", "event_id"], keep="first", maintain_order=True))
    return deduped.to_arrow().cast(events.schema)


def consolidate(store: LakeStore, settings: Settings, *, tenant: str | None = None,
                steps: Iterable[str] = STEPS, now: datetime | None = None,
                progress: Progress | None = None, wait: float = 0.0) -> ConsolidationReport:
    """Run one consolidation now. ``now`` is the injectable clock (defaults to the wall clock).

    ``wait``: seconds to wait for the lake's lease when another run holds it (then
    :class:`~tracelake.errors.LeaseHeldError`); ``float('inf')`` waits for ever."""
    steps = tuple(steps)
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise ConfigError(f"unknown step(s) {', '.join(unknown)}; steps are {', '.join(STEPS)}")
    if ("decompose" in steps) != ("merge" in steps):
        steps = tuple(dict.fromkeys((*steps, "decompose", "merge")))  # they run together on new events
    now = now or now_utc()
    report = ConsolidationReport(run_id=uuid.uuid4().hex, status="running", tenant=tenant, started_at=now_utc())
    with Lease(store, "consolidate", ttl_s=settings.lease_ttl_seconds, wait_s=wait, run_id=report.run_id) as lease:
        try:
            ensure_ray(settings.ray_address, settings.ray_num_cpus)
            rolled = store.rollback_unpublished()
            if rolled:
                report.steps["recover"] = {"rolled_back": rolled}
            repaired = repair(store)
            if repaired is not None:
                report.steps["repair"] = {"duplicates_removed": repaired}
            repaired_any = bool(repaired and any(repaired.values()))  # published like any other change
            # After the rollback, every consolidated table's latest version holds the published state; reading
            # and committing against the latest (not the older published number) keeps Lance's conflict check exact.
            published = {t: store.dataset(t).version for t in schemas.CONSOLIDATED_TABLES}
            t0 = time.perf_counter()
            events = _new_events(store, published, tenant) if "decompose" in steps else pa.table({})
            timing = report.steps.setdefault("timing", {})
            timing["read_new_events_s"] = time.perf_counter() - t0
            report.events_in = events.num_rows
            tenants = _tenants(store, published, tenant, events, steps)
            if not tenants and "reindex" not in steps and not repaired_any:
                report.status = "noop"
                return _finish(store, report, lease)
            cache = VectorCache(store, store.embedding_dim())
            cache.create()
            results, nodes, metas, walls = _run_tasks(store, settings, published, events, tenants, now, steps,
                                                      progress, cache)
            timing.update(walls)
            report.steps["decompose"] = {"events": events.num_rows, "nodes": sorted(nodes["decompose"]),
                                         "tasks": len(nodes["decompose_tasks"]),
                                         "chained_tasks": sum(m["chained"] for m in metas)} if events.num_rows else {}
            _profile(report, metas)
            t0 = time.perf_counter()
            changed = _commit(store, published, results, report) or repaired_any
            cache.commit([f for m in metas for f in m["vector_fragments"]])
            timing["commit_s"] = time.perf_counter() - t0
            if "reindex" in steps:
                from tracelake.pipelines.reindex import reindex

                t0 = time.perf_counter()
                report.steps["reindex"] = reindex(store, settings, keep=published)
                report.steps["vector_cache"] = cache.maintain()  # a cache: never a reason to publish
                timing["reindex_s"] = time.perf_counter() - t0
                changed = changed or bool(report.steps["reindex"])
            report.steps["timing"] = {k: round(v, 3) for k, v in timing.items()}
            if not changed:
                report.status = "noop"
                return _finish(store, report, lease)
            report.versions = {t: store.dataset(t).version for t in schemas.CONSOLIDATED_TABLES}
            report.status = "committed"
            return _finish(store, report, lease)
        except TracelakeError as exc:
            report.status, report.error = "failed", str(exc)
            _finish(store, report, lease)
            raise
        except Exception as exc:  # noqa: BLE001 - any failure is recorded, then surfaced as ours
            report.status, report.error = "failed", f"{type(exc).__name__}: {exc}"
            _finish(store, report, lease)
            raise ConsolidationError(f"consolidation failed: {exc}", run_id=report.run_id) from exc


def _tenants(store: LakeStore, published: dict[str, int], tenant: str | None, events: pa.Table,
             steps: tuple[str, ...]) -> list[str]:
    """Tenants this run touches: those with new events, plus (for decay) every tenant with traces."""
    if tenant:
        has_state = "decay" in steps and store.read("traces", columns=["tenant"], filter=f"tenant = {sql_quote(tenant)}",
                                                    version=published["traces"]).num_rows > 0
        return [tenant] if events.num_rows or has_state else []
    found = set(events["tenant"].to_pylist()) if events.num_rows else set()
    if "decay" in steps:
        found |= set(pc.unique(store.read("traces", columns=["tenant"], version=published["traces"])["tenant"]).to_pylist())
    return sorted(found)


def _run_tasks(store: LakeStore, settings: Settings, published: dict[str, int], events: pa.Table,
               tenants: list[str], now: datetime, steps: tuple[str, ...], progress: Progress | None,
               cache: VectorCache | None) -> tuple[list[dict[str, Any]], dict[str, set[str]], list[dict[str, Any]],
                                                   dict[str, float]]:
    """Decompose and merge tasks; returns the merge results, the nodes used, the decompose tasks' metadata and
    the wall seconds of both phases."""
    import ray

    merge_task = ray.remote(_merge_tenant).options(num_cpus=1, max_retries=2)
    chunk_refs: dict[str, list[Any]] = {t: [] for t in tenants}
    per_tenant_events: dict[str, pa.Table] = {}
    all_refs = []
    t0 = time.perf_counter()
    if events.num_rows:
        tasks = settings.consolidate_tasks or decomposition.TASKS_PER_CPU * int(ray.cluster_resources().get("CPU", 1))
        target = decomposition.target_weight(sum(decomposition.weights(events)), tasks)
        for t in tenants:
            tev = events.filter(pc.equal(events["tenant"], t))
            per_tenant_events[t] = tev
            chunk_refs[t], metas = decomposition.submit(tev, target, settings.consolidate_chunk_events, settings,
                                                        cache, now)
            all_refs += metas
    nodes: dict[str, set[str]] = {"decompose": set(), "merge": set(), "decompose_tasks": set()}
    empty = events.schema.empty_table() if events.num_columns else None
    # Submitted now: Ray starts a tenant's merge as soon as its chunks are decomposed, beside the other chunks.
    merge_refs = [
        merge_task.remote(store, t, published, per_tenant_events.get(t, empty), settings, now, steps, *chunk_refs[t])
        for t in tenants
    ]
    done = 0
    pending = list(all_refs)
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        done += len(ready)
        if progress:
            progress("decompose", done, len(all_refs))
    metas = ray.get(all_refs)
    for i, meta in enumerate(metas):
        nodes["decompose"].add(meta["node"])
        nodes["decompose_tasks"].add(str(i))
    t1 = time.perf_counter()
    results = []
    for i, ref in enumerate(merge_refs):
        result = ray.get(ref)
        nodes["merge"].add(result["node"])
        results.append(result)
        if progress:
            progress("merge", i + 1, len(merge_refs))
    # merge_wall_s: what the merges took beyond the last decomposition (they overlap it)
    return results, nodes, metas, {"decompose_wall_s": t1 - t0, "merge_wall_s": time.perf_counter() - t1}


def _profile(report: ConsolidationReport, metas: list[dict[str, Any]]) -> None:
    """The decompose tasks' seconds (summed over tasks) and embedding counts, into the run's report."""
    timing = report.steps["timing"]
    parts = {k: sum(m["timing"][k] for m in metas) for k in ("task_s", "embed_s", "cache_lookup_s", "parser_load_s",
                                                            "cache_write_s")}
    timing.update({"decompose_task_s": parts["task_s"], "embed_task_s": parts["embed_s"],
                   "vector_cache_lookup_s": parts["cache_lookup_s"], "parser_load_task_s": parts["parser_load_s"],
                   "vector_cache_write_task_s": parts["cache_write_s"],
                   "parse_and_analysis_task_s": parts["task_s"] - sum(v for k, v in parts.items() if k != "task_s")})
    counts = {k: sum(m["embed"][k] for m in metas) for k in ("texts", "distinct", "cache_hits", "embedded")}
    report.steps["embed"] = {**counts, "devices": metas[0]["devices"]} if metas else counts


def _commit(store: LakeStore, published: dict[str, int], results: list[dict[str, Any]],
            report: ConsolidationReport) -> bool:
    """One commit per table (plus one update commit for changed trace rows). Returns whether anything changed."""
    counts: dict[str, int] = {}
    for r in results:
        for k, v in r["counts"].items():
            counts[k] = counts.get(k, 0) + v
    report.steps["merge"] = {k: v for k, v in counts.items() if k != "traces_archived"}
    report.steps["decay"] = {"traces_archived": counts.get("traces_archived", 0)}
    changed = False
    fragments = [f for r in results for f in r["fragments"]]
    if fragments:
        store.commit_fragments("traces", fragments, read_version=published["traces"])
        changed = True
    updates = _concat([r["trace_updates"] for r in results if r["trace_updates"] is not None])
    if updates is not None and updates.num_rows:
        store.upsert("traces", _last_per_key(updates, "trace_id"), on=["trace_id"])
        changed = True
    entities = _concat([r["entities"] for r in results if r["entities"] is not None])
    if entities is not None and entities.num_rows:
        store.upsert("entities", entities, on=["entity_id"])
        changed = True
    retired = sorted({e for r in results for e in r["retired_entities"]})
    if retired:  # absorbed into another canonical entity, whose row now carries their aliases and sources
        store.delete("entities", "entity_id IN (" + ", ".join(sql_quote(e) for e in retired) + ")")
        changed = True
    facts = _concat([r["facts"] for r in results if r["facts"] is not None])
    if facts is not None and facts.num_rows:
        store.upsert("facts", facts, on=["row_id"])
        changed = True
    ledger = _concat([r["ledger"] for r in results if r["ledger"] is not None])
    if ledger is not None and ledger.num_rows:
        ledger = ledger.set_column(2, "run_id", pa.array([report.run_id] * ledger.num_rows, pa.string()))
        store.append("ledger", ledger, read_version=published["ledger"])
        changed = True
    return changed


def _last_per_key(table: pa.Table, key: str) -> pa.Table:
    """Keep the last row of each key (a trace can be both reinforced and archived in one run)."""
    ids = table[key].to_pylist()
    last = {k: i for i, k in enumerate(ids)}
    return table.take(pa.array(sorted(last.values()), pa.int64()))


def _finish(store: LakeStore, report: ConsolidationReport, lease: Lease) -> ConsolidationReport:
    """Log the run in ``job_runs``; for a committed run this append *is* the publication (lease still held)."""
    if report.status == "committed":
        lease.check()
    report.finished_at = now_utc()
    store.record_run(run_id=report.run_id, job="consolidate", tenant=report.tenant, status=report.status,
                     started_at=report.started_at, finished_at=report.finished_at, events_in=report.events_in,
                     report=report.steps, versions=report.versions if report.status == "committed" else None,
                     error=report.error)
    return report


