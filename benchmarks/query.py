"""Query benchmark: search (as_of), facts as_of and timeline through the Python API, next to DuckDB SQL over the
same Lance data, in the same run, on synthetic lakes of 1M and 10M traces.

Run::

    .venv/bin/python benchmarks/query.py --traces 1000000                  # one size
    .venv/bin/python benchmarks/query.py --traces 1000000,10000000         # both (the 10M lake needs ~15 GB)
    .venv/bin/python benchmarks/query.py --traces 100000 --queries 50      # smoke
    .venv/bin/python benchmarks/query.py --traces 1000000 --data /tmp/tlq --reuse   # re-query a built lake

Writes JSON (``--out``, default ``benchmarks/results/query.json``) and prints a markdown table.

The generator (deterministic, ``--seed``)
-----------------------------------------
- **Tenants**: ``N / 5,000`` tenants with Zipf-like sizes (size ∝ 1 / rank^0.8): at 1M the largest holds ~10 %
  of the rows, the median ~2,500; rows of all tenants are interleaved (a tenant's traces are spread over every
  fragment, as with real concurrent apps).
- **Time-ordered appends, laid out as consolidation writes them**: ``occurred_at`` increases over
  2020-01-01 .. 2023-01-01 in runs of 25,000 traces; inside a run rows are grouped by tenant (a consolidation run
  writes one fragment per tenant; compaction concatenates them), so a tenant's traces form many short
  contiguous stretches (~rows per tenant / runs each);
  10 % of traces absorbed a later source (``last_source_at`` up to 30 days later), 5 % mention a day
  (``time_start``/``time_end``), 3 % are archived, 2 % converged (``merged_into``).
- **Entities**: each tenant has a pool of 200 names (``Person0042``…, from 5,000 global names, so tenants share
  names); each trace lists 1–3 of its tenant's names, Zipf-weighted (a tenant's top name is in ~17 % of its
  traces). One ``entities`` row per (tenant, name) with an alias.
- **Text**: the first entity's name + 10 pseudo-words from a 20,000-word Zipf vocabulary; ``keywords`` = 4 of them.
- **Embeddings**: 64-d, L2-normalised: one of 256 topic centroids (by the first word) + Gaussian noise. The lake
  is opened with the 64-d ``static`` embedder, so query embedding cost is real (the vectors' semantics are not).
- **Facts**: ``N / 5`` rows over (tenant, subject from the pool, one of 8 predicates); per key a supersession
  chain in event time: each fact's ``valid_to``/``invalidated_at``/``superseded_by`` are its successor's.
- **Indexes** (what ``pipelines/reindex.py`` builds): traces BITMAP(tenant), LABEL_LIST(entities),
  BTREE(trace_id), INVERTED(text), IVF_PQ(embedding, cosine, N/10,000 partitions, 16 sub-vectors); facts
  BITMAP(tenant), BTREE(subject); entities BITMAP(tenant). Then one committed ``job_runs`` row publishes it all.

Workloads (one long-lived ``Lake``, warmed up on 5 other tenants; ``uniform_tenant``: up to ``--queries``
distinct tenants drawn uniformly — most are small; ``largest_tenant``: ``--queries / 4`` queries to the largest)
------------------------------------------------------------------------------------------------------------
- ``search_cold``: ``lake.search(q, tenant, as_of=T, k=10)``, each tenant's *first* query since the lake was
  published (the engine loads the tenant's working set); ``search_warm``: a second, different query of the same
  tenants. ``q`` = a pool name + 3 vocabulary words, and in 30 % of queries "in <Month> <year>"; ``T`` uniform in
  the last three quarters of the time range. **Baseline** ``search_duckdb_bruteforce``: ``lake.sql`` exact
  cosine top-10 over the tenant's traces (``array_cosine_similarity``; tenant/time filters pushed into the Lance
  scan) — the vector signal only, stateless.
- ``facts_as_of``: ``lake.facts(tenant, subject, as_of=T)``. **Baseline** ``facts_as_of_duckdb``:
  ``SELECT * FROM facts_at(tenant, T) WHERE subject = ?`` (the SQL macro). **Naive**
  ``facts_latest_scan_duckdb`` (few samples): "latest value per fact as of T" by a window over the tenant's
  whole history — the way *not* to serve as-of.
- ``timeline``: ``lake.timeline(name, tenant, start=T-90d, end=T)`` and ``timeline_full`` (whole history).
  **Baseline** ``timeline_duckdb``: the same 90-day window in SQL (tenant and time pushed down; the
  ``list_contains`` entity filter runs in DuckDB).

Peak RSS: ``ru_maxrss`` of this process (queries) and of the generator child process.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DIM = 64
POOL = 200
GLOBAL_NAMES = 5000
VOCAB = 20000
TOPICS = 256
PREDICATES = ["lives_in", "works_at", "likes", "owns", "plays", "studies", "visited", "knows"]
START = datetime(2020, 1, 1, tzinfo=timezone.utc)
END = datetime(2023, 1, 1, tzinfo=timezone.utc)
CHUNK = 250_000  # a multiple of RUN
RUN = 25_000
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


# -- generator ------------------------------------------------------------------------------------------------
def _vocab(rng: np.random.Generator) -> np.ndarray:
    syl = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "si", "de", "pa", "gu", "be", "zo", "fi", "ha", "jo", "ke",
           "la", "mo", "nu", "po", "ri", "sa", "te", "vi", "wa", "yo", "xe", "qu", "cy"]
    words = ["".join(p) for p in itertools.product(syl, repeat=3)]
    rng.shuffle(words)
    return np.array(words[:VOCAB], dtype=object)


def _zipf_p(n: int, s: float) -> np.ndarray:
    p = 1.0 / np.arange(1, n + 1) ** s
    return p / p.sum()


class Generator:
    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.seed = seed
        rng = np.random.default_rng(seed)
        self.n_tenants = max(4, n // 5000)
        self.tenant_p = _zipf_p(self.n_tenants, 0.8)
        self.tenants = np.array([f"tenant{t:05d}" for t in range(self.n_tenants)], dtype=object)
        self.words = _vocab(rng)
        self.word_p = _zipf_p(VOCAB, 1.07)
        self.name_p = _zipf_p(POOL, 1.0)
        self.names = np.array([f"Person{i:04d}" for i in range(GLOBAL_NAMES)], dtype=object)
        self.centroids = rng.standard_normal((TOPICS, DIM)).astype(np.float32)
        self.span_us = int((END - START).total_seconds() * 1e6)
        self.start_us = int(START.timestamp() * 1e6)

    def pool(self, tenant_idx: np.ndarray) -> np.ndarray:
        """Global name index of each tenant's pool slot: shape (len(tenant_idx), POOL)."""
        return (tenant_idx[:, None] * 7919 + np.arange(POOL)[None, :] * 13) % GLOBAL_NAMES

    def name_of(self, tenant_idx: int, rank: int) -> str:
        return str(self.names[(tenant_idx * 7919 + rank * 13) % GLOBAL_NAMES])

    def time_of_row(self, rows: np.ndarray, total: int) -> np.ndarray:
        return self.start_us + (rows.astype(np.float64) * (self.span_us / max(total, 1))).astype(np.int64)

    def traces(self, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        for r0 in range(0, self.n, CHUNK):
            yield self._trace_chunk(r0, min(CHUNK, self.n - r0), schema)

    def _trace_chunk(self, r0: int, c: int, schema: pa.Schema) -> pa.RecordBatch:
        rng = np.random.default_rng([self.seed, r0])
        rows = np.arange(r0, r0 + c)
        occurred = self.time_of_row(rows, self.n)
        tenant = rng.choice(self.n_tenants, size=c, p=self.tenant_p)
        # consolidation writes one fragment per tenant and run: within each run of RUN rows, group by tenant
        run = (rows - rows[0]) // RUN
        perm = np.lexsort((rows, tenant, run))
        occurred, tenant = occurred[perm], tenant[perm]
        n_ent = rng.choice([1, 2, 3], size=c, p=[0.5, 0.35, 0.15])
        ranks = rng.choice(POOL, size=(c, 3), p=self.name_p)
        names_idx = (tenant[:, None] * 7919 + ranks * 13) % GLOBAL_NAMES
        ent_flat = self.names[names_idx][np.arange(3)[None, :] < n_ent[:, None]]
        ent_offsets = np.concatenate([[0], np.cumsum(n_ent)]).astype(np.int32)
        entities = pa.ListArray.from_arrays(pa.array(ent_offsets), pa.array(ent_flat, pa.string()))
        word_idx = rng.choice(VOCAB, size=(c, 10), p=self.word_p)
        cols = [pa.array(self.names[names_idx[:, 0]], pa.string())] + [
            pa.array(self.words[word_idx[:, j]], pa.string()) for j in range(10)]
        text = pc.binary_join_element_wise(*cols, " ")
        kw = pa.ListArray.from_arrays(pa.array(np.arange(0, 4 * c + 1, 4, dtype=np.int32)),
                                      pa.array(self.words[word_idx[:, :4]].ravel(), pa.string()))
        emb = self.centroids[word_idx[:, 0] % TOPICS] + 0.6 * rng.standard_normal((c, DIM)).astype(np.float32)
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
        absorbed = rng.random(c) < 0.10
        later = occurred + np.where(absorbed, rng.integers(1, 30 * 86400 * 10**6, size=c), 0)
        ids = np.array([f"tr{i:09d}" for i in rows], dtype=object)
        ev = np.array([f"e{i:09d}" for i in rows], dtype=object)
        src_n = np.where(absorbed, 2, 1)
        src_off = np.concatenate([[0], np.cumsum(src_n)]).astype(np.int32)
        src_ids = np.empty(src_off[-1], dtype=object)
        src_times = np.empty(src_off[-1], dtype=np.int64)
        src_ids[src_off[:-1]] = ev
        src_times[src_off[:-1]] = occurred
        second = src_off[:-1][absorbed] + 1
        src_ids[second] = ev[absorbed] + "b"
        src_times[second] = later[absorbed]
        mention = rng.random(c) < 0.05
        day_us = 86400 * 10**6
        ts0 = (occurred - rng.integers(0, 60, size=c) * day_us) // day_us * day_us
        merged = rng.random(c) < 0.02
        ts = pa.timestamp("us", tz="UTC")

        def tarr(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
            return pa.array(values, pa.int64(), mask=mask).cast(ts)

        data = {
            "tenant": pa.array(self.tenants[tenant], pa.string()),
            "trace_id": pa.array(ids, pa.string()),
            "kind": pa.array(np.array(["episodic", "entity", "temporal", "fact"], dtype=object)[
                rng.choice(4, size=c, p=[0.8, 0.1, 0.05, 0.05])], pa.string()),
            "stream": pa.array(self.tenants[tenant] + "/s" + (rows % 7).astype(str).astype(object), pa.string()),
            "actor": pa.array(np.array(["user", "assistant", "tool"], dtype=object)[
                rng.choice(3, size=c, p=[0.6, 0.35, 0.05])], pa.string()),
            "text": text,
            "occurred_at": tarr(occurred),
            "last_source_at": tarr(later),
            "valid_from": pa.nulls(c, ts),
            "valid_to": pa.nulls(c, ts),
            "time_start": tarr(ts0, ~mention),
            "time_end": tarr(ts0 + day_us, ~mention),
            "entities": entities,
            "keywords": kw,
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(emb.ravel(), pa.float32()), DIM),
            "source_event_ids": pa.ListArray.from_arrays(pa.array(src_off), pa.array(src_ids, pa.string())),
            "source_times": pa.ListArray.from_arrays(pa.array(src_off), tarr(src_times)),
            "merged_from": pa.ListArray.from_arrays(pa.array(np.zeros(c + 1, dtype=np.int32)),
                                                    pa.array([], pa.string())),
            "merged_into": pa.array(np.where(merged, np.array([f"tr{max(i - 7, 0):09d}" for i in rows], dtype=object),
                                             None), pa.string()),
            "stability": pa.array(30.0 * 2.0 ** (src_n - 1) * rng.uniform(0.8, 1.2, size=c)),
            "last_reinforced_at": tarr(later),
            "reinforcement_count": pa.array(src_n - 1, pa.int32()),
            "strength": pa.array(rng.uniform(0.1, 1.0, size=c)),
            "pinned": pa.array(rng.random(c) < 0.01),
            "archived": pa.array(rng.random(c) < 0.03),
            "recorded_at": tarr(later + day_us),
            "updated_at": tarr(later + day_us),
        }
        return pa.RecordBatch.from_pydict(data, schema=schema)

    def facts(self, schema: pa.Schema) -> pa.Table:
        nf = max(1, self.n // 5)
        rng = np.random.default_rng([self.seed, 7])
        rows = np.arange(nf)
        occurred = self.time_of_row(rows, nf)
        tenant = rng.choice(self.n_tenants, size=nf, p=self.tenant_p)
        rank = rng.choice(POOL, size=nf, p=self.name_p)
        pred = rng.integers(0, len(PREDICATES), size=nf)
        key = (tenant.astype(np.int64) * POOL + rank) * len(PREDICATES) + pred
        order = np.lexsort((rows, key))  # by key, then time
        nxt = np.full(nf, -1)
        same = key[order[1:]] == key[order[:-1]]
        nxt[order[:-1][same]] = order[1:][same]
        has_next = nxt >= 0
        valid_from = occurred - rng.integers(0, 5 * 86400 * 10**6, size=nf)
        succ = np.where(has_next, nxt, 0)
        valid_to = np.maximum(valid_from[succ], valid_from + 1)
        invalidated = occurred[succ]
        fact_ids = np.array([f"f{i:09d}" for i in rows], dtype=object)
        subject = self.names[(tenant * 7919 + rank * 13) % GLOBAL_NAMES]
        objects = self.words[rng.integers(0, VOCAB, size=nf)]
        ts = pa.timestamp("us", tz="UTC")

        def tarr(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
            return pa.array(values, pa.int64(), mask=mask).cast(ts)

        one = np.arange(nf + 1, dtype=np.int32)
        data = {
            "tenant": pa.array(self.tenants[tenant], pa.string()),
            "fact_id": pa.array(fact_ids, pa.string()),
            "row_id": pa.array(fact_ids + "@1", pa.string()),
            "subject": pa.array(subject, pa.string()),
            "predicate": pa.array(np.array(PREDICATES, dtype=object)[pred], pa.string()),
            "object": pa.array(objects, pa.string()),
            "object_type": pa.array(np.array(["entity", "text", "number"], dtype=object)[pred % 3], pa.string()),
            "value_num": pa.nulls(nf, pa.float64()),
            "value_time": pa.nulls(nf, ts),
            "statement": pc.binary_join_element_wise(
                pa.array(subject, pa.string()), pa.array(np.array(PREDICATES, dtype=object)[pred], pa.string()),
                pa.array(objects, pa.string()), " "),
            "stream": pa.array(self.tenants[tenant] + "/s" + (rows % 7).astype(str).astype(object), pa.string()),
            "actor": pa.array(subject, pa.string()),
            "occurred_at": tarr(occurred),
            "valid_from": tarr(valid_from),
            "valid_to": tarr(valid_to, ~has_next),
            "invalidated_at": tarr(invalidated, ~has_next),
            "superseded_by": pa.array(np.where(has_next, fact_ids[succ], None), pa.string()),
            "source_event_ids": pa.ListArray.from_arrays(pa.array(one), pa.array(fact_ids + "-e", pa.string())),
            "source_times": pa.ListArray.from_arrays(pa.array(one), tarr(occurred)),
            "reinforcement_count": pa.array(np.zeros(nf, dtype=np.int32)),
            "stability": pa.array(rng.uniform(20.0, 60.0, size=nf)),
            "last_reinforced_at": tarr(occurred),
            "strength": pa.array(rng.uniform(0.1, 1.0, size=nf)),
            "pinned": pa.array(rng.random(nf) < 0.01),
            "archived": pa.array(rng.random(nf) < 0.01),
            "recorded_at": tarr(occurred + 3600 * 10**6),
            "retracted_at": pa.nulls(nf, ts),
        }
        return pa.Table.from_pydict(data, schema=schema)

    def entities(self, schema: pa.Schema) -> pa.Table:
        t = np.repeat(np.arange(self.n_tenants), POOL)
        r = np.tile(np.arange(POOL), self.n_tenants)
        names = self.names[(t * 7919 + r * 13) % GLOBAL_NAMES]
        n = len(t)
        ts = pa.timestamp("us", tz="UTC")
        start = pa.array(np.full(n, self.start_us), pa.int64()).cast(ts)
        one = np.arange(n + 1, dtype=np.int32)
        data = {
            "tenant": pa.array(self.tenants[t], pa.string()),
            "entity_id": pa.array(self.tenants[t] + "/" + names, pa.string()),
            "name": pa.array(names, pa.string()),
            "kind": pa.array(np.full(n, "person", dtype=object), pa.string()),
            "aliases": pa.ListArray.from_arrays(pa.array(one), pa.array(np.char.lower(names.astype(str)) + "y")),
            "first_seen": start, "last_seen": start,
            "mention_count": pa.array(np.ones(n, dtype=np.int64)),
            "source_event_ids": pa.ListArray.from_arrays(pa.array(np.zeros(n + 1, dtype=np.int32)),
                                                         pa.array([], pa.string())),
            "recorded_at": start, "updated_at": start,
        }
        return pa.Table.from_pydict(data, schema=schema)


def _publish(lake: Any) -> None:
    """Publish the current versions (as consolidation does)."""
    lake.store.publish_current(job="consolidate")


def build_lake(uri: str, n: int, seed: int) -> dict[str, Any]:
    """Generate, write, index and publish one lake (run in a child process: its RSS is reported apart)."""
    import shutil

    import lance

    import tracelake
    from tracelake.storage.indexes import build_index, index_plan

    shutil.rmtree(uri, ignore_errors=True)
    gen = Generator(n, seed)
    lake = tracelake.connect(uri, embedder="static")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    schema = lake.store.dataset("traces").schema
    reader = pa.RecordBatchReader.from_batches(schema, gen.traces(schema))
    lance.write_dataset(reader, lake.store.table_uri("traces"), schema=schema, mode="append",
                        max_rows_per_file=2_000_000)
    timings["write_traces_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    lake.store.append("facts", gen.facts(lake.store.dataset("facts").schema))
    lake.store.append("entities", gen.entities(lake.store.dataset("entities").schema))
    timings["write_facts_entities_s"] = time.perf_counter() - t0
    for table in ("traces", "facts", "entities"):
        ds = lake.store.dataset(table)
        for spec in index_plan(table, ds.count_rows(), lake.store.embedding_dim(), lake.settings.vector_index_min_rows):
            t0 = time.perf_counter()
            build_index(lake.store.dataset(table), spec)
            timings[f"index_{table}_{spec.column}_{spec.kind.lower()}_s"] = time.perf_counter() - t0
    _publish(lake)
    info = {
        "traces": n, "facts": max(1, n // 5), "entities": gen.n_tenants * POOL, "tenants": gen.n_tenants,
        "tenant_sizes": {"largest": int(round(n * gen.tenant_p[0])),
                         "median": int(round(n * float(np.median(gen.tenant_p))))},
        "timings_s": {k: round(v, 2) for k, v in timings.items()},
        "disk_bytes": sum(f.stat().st_size for f in Path(uri).rglob("*") if f.is_file()),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    Path(uri, "bench-info.json").write_text(json.dumps(info, indent=1))
    return info


# -- measurement ------------------------------------------------------------------------------------------------
def _stats(samples: list[float]) -> dict[str, Any]:
    a = np.array(samples) * 1000
    return {"n": len(a), "p50_ms": round(float(np.percentile(a, 50)), 2),
            "p99_ms": round(float(np.percentile(a, 99)), 2), "mean_ms": round(float(a.mean()), 2),
            "max_ms": round(float(a.max()), 2)}


def _run(fn: Callable[[Any], Any], cases: list[Any], warmup: int = 5) -> tuple[dict[str, Any], list[Any]]:
    for c in cases[:warmup]:
        fn(c)
    out, times = [], []
    for c in cases:
        t0 = time.perf_counter()
        out.append(fn(c))
        times.append(time.perf_counter() - t0)
    return _stats(times), out


def _rows(x: Any) -> int:
    return len(x) if isinstance(x, list) else x.num_rows


def bench(uri: str, n: int, queries: int, seed: int) -> dict[str, Any]:
    import tracelake

    gen = Generator(n, seed)
    rng = np.random.default_rng(seed + 1)
    lake = tracelake.connect(uri, embedder="static")
    span = END - START
    results: dict[str, Any] = {}

    def make_cases(tenant_idx: np.ndarray) -> list[dict[str, Any]]:
        cases = []
        for t in tenant_idx:
            as_of = START + span * float(rng.uniform(0.25, 1.0))
            rank = int(rng.choice(POOL, p=gen.name_p))
            words = gen.words[rng.choice(VOCAB, size=3, p=gen.word_p)]
            q = f"{gen.name_of(int(t), rank)} {' '.join(words)}"
            if rng.random() < 0.3:
                q += f" in {MONTHS[as_of.month - 1]} {as_of.year}"
            cases.append({"tenant": str(gen.tenants[t]), "q": q, "as_of": as_of, "name": gen.name_of(int(t), rank),
                          "vec": None})
        return cases

    emb = lake._query.embedder()
    others = rng.permutation(np.arange(1, gen.n_tenants))  # tenant 0 is the largest
    warm_up = make_cases(others[:5])  # other tenants: warms the process (imports, Lance caches), not the tenants
    workloads = {"uniform_tenant": others[5:5 + queries],
                 "largest_tenant": np.zeros(max(20, queries // 4), dtype=int)}
    sql = ("SELECT trace_id, array_cosine_similarity(embedding, $1::FLOAT[64]) AS s FROM traces "
           "WHERE tenant = $2 AND occurred_at <= $3 AND archived = false AND merged_into IS NULL "
           "ORDER BY s DESC, trace_id LIMIT 10")
    search = lambda c: lake.search(c["q"], c["tenant"], as_of=c["as_of"], k=10)  # noqa: E731
    for label, tenants in workloads.items():
        cases = make_cases(tenants)
        again = make_cases(tenants)  # a second, different question of the same tenants
        for c in cases + again + warm_up:
            c["vec"] = emb.embed([c["q"]])[0].tolist()
        res: dict[str, Any] = {}
        for c in warm_up:
            search(c)
        if label == "uniform_tenant":
            # cold: each tenant's first query since the lake was published (its working set is loaded)
            res["search_cold"], hits = _run(search, cases, warmup=0)
        else:
            res["search_cold"], hits = _run(search, cases[:1], warmup=0)
        res["search_cold"]["mean_hits"] = float(np.mean([len(h) for h in hits]))
        res["search_warm"], _ = _run(search, again, warmup=0)
        res["search_duckdb_bruteforce"], _ = _run(lambda c: lake.sql(sql, [c["vec"], c["tenant"], c["as_of"]]), cases)
        res["facts_as_of"], out = _run(lambda c: lake.facts(c["tenant"], c["name"], as_of=c["as_of"]), cases)
        res["facts_as_of"]["mean_rows"] = float(np.mean([_rows(o) for o in out]))
        fsql = "SELECT * FROM facts_at($1, $2) WHERE subject = $3"
        res["facts_as_of_duckdb"], _ = _run(lambda c: lake.sql(fsql, [c["tenant"], c["as_of"], c["name"]]), cases)
        scan = ("SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY subject, predicate ORDER BY occurred_at "
                "DESC, fact_id DESC) AS rn FROM facts WHERE tenant = $1 AND occurred_at <= $2) WHERE rn = 1 "
                "AND subject = $3")
        res["facts_latest_scan_duckdb"], _ = _run(lambda c: lake.sql(scan, [c["tenant"], c["as_of"], c["name"]]),
                                                  cases[:max(5, len(cases) // 10)], warmup=1)
        window = lambda c: (c["as_of"] - timedelta(days=90), c["as_of"])  # noqa: E731
        res["timeline"], out = _run(lambda c: lake.timeline(c["name"], c["tenant"], *window(c)), cases)
        res["timeline"]["mean_rows"] = float(np.mean([_rows(o) for o in out]))
        tsql = ("SELECT * EXCLUDE (embedding) FROM traces WHERE tenant = $1 AND occurred_at >= $2 AND occurred_at < $3 "
                "AND archived = false AND merged_into IS NULL AND list_contains(entities, $4) ORDER BY occurred_at, trace_id")
        res["timeline_duckdb"], _ = _run(lambda c: lake.sql(tsql, [c["tenant"], *window(c), c["name"]]), cases)
        res["timeline_full"], out = _run(lambda c: lake.timeline(c["name"], c["tenant"]), cases[:max(10, len(cases) // 4)])
        res["timeline_full"]["mean_rows"] = float(np.mean([_rows(o) for o in out]))
        results[label] = res
        print(f"[{n:,}] {label}: " + ", ".join(f"{k} p50 {v['p50_ms']} ms" for k, v in res.items()), file=sys.stderr)
    results["query_process_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return results


# -- report -------------------------------------------------------------------------------------------------------
TARGETS = {("search_cold", 1_000_000): 50, ("search_cold", 10_000_000): 150, ("search_warm", 1_000_000): 50,
           ("search_warm", 10_000_000): 150, ("timeline", 10_000_000): 20,
           ("facts_as_of", 10_000_000): 20}


def markdown(report: dict[str, Any]) -> str:
    lines = ["| traces | workload | operation | p50 ms | p99 ms | DuckDB SQL p50 / p99 ms | target p50 |",
             "|---:|---|---|---:|---:|---|---:|"]
    pairs = [("search_cold", "search_duckdb_bruteforce"), ("search_warm", None), ("facts_as_of", "facts_as_of_duckdb"),
             ("timeline", "timeline_duckdb"), ("timeline_full", None), ("facts_latest_scan_duckdb", None)]
    for size in report["sizes"]:
        n = size["build"]["traces"]
        for label in ("uniform_tenant", "largest_tenant"):
            res = size["queries"][label]
            for op, base in pairs:
                r = res[op]
                b = f"{res[base]['p50_ms']} / {res[base]['p99_ms']}" if base else "—"
                target = TARGETS.get((op, n), "")
                lines.append(f"| {n:,} | {label} | {op} | {r['p50_ms']} | {r['p99_ms']} | {b} | {target} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--traces", default="1000000", help="comma list of lake sizes (default 1000000)")
    ap.add_argument("--queries", type=int, default=200, help="queries per workload (default 200)")
    ap.add_argument("--data", default="/tmp/tracelake-bench-query", help="where the lakes are built")
    ap.add_argument("--reuse", action="store_true", help="query an already built lake of that size")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default="benchmarks/results/query.json")
    ap.add_argument("--build-only", metavar="N", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.build_only:
        uri = str(Path(args.data) / f"lake-{args.build_only}")
        print(json.dumps(build_lake(uri, args.build_only, args.seed)))
        return 0
    sizes = []
    for n in [int(x) for x in args.traces.split(",") if x.strip()]:
        uri = Path(args.data) / f"lake-{n}"
        info_path = uri / "bench-info.json"
        if args.reuse and info_path.exists():
            info = json.loads(info_path.read_text())
        else:
            t0 = time.perf_counter()
            child = subprocess.run([sys.executable, __file__, "--build-only", str(n), "--data", args.data,
                                    "--seed", str(args.seed)], check=True, capture_output=True, text=True,
                                   cwd=Path(__file__).resolve().parents[1])
            info = json.loads(child.stdout.strip().splitlines()[-1])
            info["build_total_s"] = round(time.perf_counter() - t0, 1)
        print(f"[{n:,}] built: {json.dumps(info)}", file=sys.stderr)
        sizes.append({"build": info, "queries": bench(str(uri), n, args.queries, args.seed)})
    report = {
        "benchmark": "query",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "generated_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        "queries_per_workload": args.queries,
        "sizes": sizes,
    }
    report["markdown"] = markdown(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():  # keep results of sizes not rerun
        try:
            old = json.loads(out.read_text())
            done = {s["build"]["traces"] for s in sizes}
            kept = [s for s in old.get("sizes", []) if s["build"]["traces"] not in done]
            report["sizes"] = sorted(kept + sizes, key=lambda s: s["build"]["traces"])
            report["markdown"] = markdown(report)
        except (ValueError, KeyError):
            pass
    out.write_text(json.dumps(report, indent=1, default=str))
    out.with_suffix(".md").write_text(report["markdown"] + "\n")
    print(report["markdown"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
