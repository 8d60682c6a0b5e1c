"""Ingest benchmark: raw Lance appends vs. the tracelake Ray path, on the same Arrow data, in one run.

Run::

    .venv/bin/python benchmarks/ingest.py                    # 1,000,000 events (make bench)
    .venv/bin/python benchmarks/ingest.py --events 20000     # smoke
    .venv/bin/python benchmarks/ingest.py --profile /tmp/prof  # + py-spy profiles of the driver and actors
    .venv/bin/python benchmarks/ingest.py --rss-events 10000000  # + the actors' memory at a 10M-event lake

Writes JSON (``--out``, default ``benchmarks/results/ingest.json``) and prints a markdown table.

What is measured (all lakes/datasets on local disk under a temporary directory)
------------------------------------------------------------------------------
Events: ``--events`` synthetic events, ``--tenants`` (64) tenants interleaved round-robin, unique ``event_id``, increasing
``occurred_at`` (timestamps), ~200-byte ``text`` (8-byte "#n" prefix + one of 1,024 random word strings).

1. **ray** — ``tracelake.connect(tmp, embedder="hash").ingest(table)`` with the default settings (durable acks:
   the call returns after every event is committed). Ray start-up and actor creation are excluded by a
   2,000-event warm-up ingest into another lake first; ``connect`` (table creation) is not timed.
   The sizes of the commits it made are read back from the ``events`` table's version history.
2. **raw_single_write** — one ``lance.write_dataset`` of the very rows the ray path committed, read back from
   its ``events`` table (same schema; the read is not timed). ``ratio_ray_to_raw_single`` = ray events/s ÷
   this: the headline ratio of issue 12 (target ≥ 0.5).
   **raw_append** — ``lance.write_dataset(batch, uri, mode="append")`` of the same rows replaying exactly the
   ray path's sequence of commit sizes, into a dataset created empty first (as a lake's table is).
   ``ratio_ray_to_raw`` = ray events/s ÷ raw_append events/s (same commit sizes, so it is the cost of
   validation, de-duplication, Ray transfer and the actor machinery, not of commit granularity).
3. **ack_latency** — open-loop steady load against a fresh lake: one ``lake.ingest`` call of ``--ack-chunk``
   events (a single tenant, rotating) is *scheduled* every ``ack_chunk / ack_rate`` seconds for
   ``--ack-seconds``; calls run on a thread pool. Latency = completion time − scheduled time, so time spent
   queued behind slow calls counts (no coordinated omission). Each call waits for its durable ack.
   ``achieved_events_per_s`` below the target means the load was not sustained.
4. **rss** — sampled every 0.2 s with psutil: the driver (this process), the ingest actors (processes titled
   ``ray::IngestActor``), and all of Ray's processes (every descendant of the driver: raylet, GCS, workers,
   agents). Peaks are per phase. RSS sums double-count shared pages (e.g. Ray's object store mapping).
5. **id_memory** (``--rss-events N``) — N events into one lake in calls of 1M; after each call the actors
   report the committed ids they know and the bytes of their index (``IngestActor.memory``), next to their
   RSS: what a lake of N events costs the actors that keep it exactly once.

Targets (issue 12): ray ≥ 0.5× one raw write of the same rows, ack p99 ≤ 2 s (issue 2: ≥ 50 % of raw appends).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TARGET_RATIO = 0.5
TARGET_ACK_P99_S = 2.0
TENANTS = 64
_BASE_US = 1_700_000_000_000_000  # 2023-11-14T22:13:20Z


# -- data ---------------------------------------------------------------------------------------------------
def _text_pool(size: int = 1024, chars: int = 190, seed: int = 7) -> pa.Array:
    rng = np.random.default_rng(seed)
    vocab = ["".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), int(k))) for k in rng.integers(2, 11, 2000)]
    pool = []
    for _ in range(size):
        words: list[str] = []
        while sum(len(w) + 1 for w in words) < chars:
            words.append(vocab[int(rng.integers(len(vocab)))])
        pool.append(" ".join(words)[:chars])
    return pa.array(pool, pa.string())


_POOL: pa.Array | None = None


def make_events(n: int, start: int = 0, tenant: str | None = None, tenants: int = TENANTS) -> pa.Table:
    """``n`` synthetic raw events numbered ``start..start+n-1`` (round-robin ``tenants`` unless ``tenant``)."""
    global _POOL
    if _POOL is None:
        _POOL = _text_pool()
    i = np.arange(start, start + n, dtype=np.int64)
    num = pc.cast(pa.array(i), pa.string())
    names = pa.array([f"tenant-{k}" for k in range(tenants)], pa.string())
    return pa.table({
        "tenant": pa.array([tenant] * n, pa.string()) if tenant else pc.take(names, pa.array(i % tenants)),
        "event_id": pc.binary_join_element_wise(pa.scalar("ev"), num, "-"),
        "stream": pc.take(pa.array([f"stream-{k}" for k in range(4)]), pa.array(i % 4)),
        "actor": pc.take(pa.array([f"user-{k}" for k in range(100)]), pa.array((i * 7) % 100)),
        "kind": pa.array(["message"] * n, pa.string()),
        "text": pc.binary_join_element_wise(pc.binary_join_element_wise(pa.scalar(""), num, "#"),
                                            pc.take(_POOL, pa.array((i * 2654435761) % len(_POOL))), " "),
        "occurred_at": pa.array(_BASE_US + i * 1000, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
    })


def read_back(lake_uri: Path) -> pa.Table:
    """The rows the ray path committed, read back from its ``events`` table (the raw baselines' input)."""
    import lance

    return lance.dataset(str(lake_uri / "events.lance")).to_table()


# -- memory sampling ----------------------------------------------------------------------------------------
def _psutil() -> Any:
    try:
        import psutil
    except ImportError:  # ray vendors psutil in ray/thirdparty_files and puts it on sys.path when imported
        import ray  # noqa: F401
        import psutil
    return psutil


class RssSampler:
    """Background sampler of driver / actor / all-Ray RSS; keeps the peak of each per phase."""

    def __init__(self, interval: float = 0.2) -> None:
        self.psutil = _psutil()
        self.me = self.psutil.Process()
        self.interval = interval
        self.phase = "setup"
        self.peaks: dict[str, dict[str, float]] = {}
        self.actor_pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> "RssSampler":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> dict[str, float]:
        ps = self.psutil
        driver = self.me.memory_info().rss
        actors = ray_total = 0
        try:
            children = self.me.children(recursive=True)
        except ps.Error:
            children = []
        for p in children:
            try:
                name = p.name()
                if name.startswith("py-spy"):
                    continue
                rss = p.memory_info().rss
                title = " ".join(p.cmdline()[:1])
            except ps.Error:
                continue
            ray_total += rss
            if "IngestActor" in title or "IngestActor" in name:
                actors += rss
                self.actor_pids.add(p.pid)
        mb = 1024 * 1024
        return {"driver_mb": driver / mb, "actors_mb": actors / mb, "ray_processes_mb": ray_total / mb}

    def cpu_seconds(self) -> dict[str, float]:
        """User+system CPU seconds so far: this process, and every live Ray process (a load-robust cost)."""
        ps = self.psutil

        def used(p: Any) -> float:
            try:
                t = p.cpu_times()
                return t.user + t.system
            except ps.Error:
                return 0.0

        try:
            children = [p for p in self.me.children(recursive=True) if not p.name().startswith("py-spy")]
        except ps.Error:
            children = []
        return {"driver": used(self.me), "ray": sum(used(p) for p in children)}

    def uss_mb(self, pids: set[int]) -> float:
        """Unique set size of ``pids`` (their private memory: no shared object-store pages), in MB."""
        total = 0
        for pid in pids:
            try:
                total += self.psutil.Process(pid).memory_full_info().uss
            except self.psutil.Error:
                continue
        return total / 2**20

    def _run(self) -> None:
        while not self._stop.is_set():
            s = self.sample()
            peak = self.peaks.setdefault(self.phase, {k: 0.0 for k in s})
            for k, v in s.items():
                peak[k] = max(peak[k], v)
            self._stop.wait(self.interval)


# -- profiling (optional) -----------------------------------------------------------------------------------
class Profiler:
    """py-spy ``record --format raw`` of given pids for the duration of a ``with`` block."""

    def __init__(self, out: Path, pids: dict[str, int], rate: int = 100) -> None:
        self.out, self.pids, self.rate = out, pids, rate
        self.procs: list[tuple[str, subprocess.Popen[bytes], Path]] = []

    def __enter__(self) -> "Profiler":
        exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        self.out.mkdir(parents=True, exist_ok=True)
        for role, pid in self.pids.items():
            path = self.out / f"{role}-{pid}.txt"
            cmd = [exe, "record", "--pid", str(pid), "--rate", str(self.rate), "--format", "raw", "--nonblocking",
                   "-o", str(path)]
            self.procs.append((role, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), path))
        time.sleep(0.5)  # let py-spy attach
        return self

    def __exit__(self, *exc: object) -> None:
        for _, proc, _ in self.procs:
            proc.send_signal(signal.SIGINT)
        for _, proc, _ in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

    def summary(self, top: int = 12) -> dict[str, list[tuple[str, float]]]:
        """Per process: the functions with the largest inclusive share of samples (percent)."""
        out = {}
        for role, _, path in self.procs:
            if not path.exists():
                continue
            total, incl = 0, Counter()
            for line in path.read_text(errors="replace").splitlines():
                stack, _, count = line.rpartition(" ")
                if not count.isdigit():
                    continue
                total += int(count)
                frames = {f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0].rsplit("/", 1)[-1]
                          for f in stack.split(";")[1:] if f}
                for f in frames:
                    incl[f] += int(count)
            out[f"{role}:{path.stem.rsplit('-', 1)[-1]}"] = [(f, round(100 * c / total, 1)) for f, c in
                                                            incl.most_common(top)] if total else []
        return out


# -- phases -------------------------------------------------------------------------------------------------
def _commit_sizes(lake: Any) -> list[int]:
    rows = [v.rows for v in lake.store.versions("events")]
    return [b - a for a, b in zip(rows, rows[1:])]


def run_ray(workdir: Path, table: pa.Table, sampler: RssSampler,
            profile: Path | None) -> tuple[dict[str, Any], list[int]]:
    import tracelake

    sampler.phase = "warmup"
    warm = tracelake.connect(str(workdir / "warmup-lake"), embedder="hash")
    warm.ingest(make_events(2000, start=10**12))
    warm.close()

    lake = tracelake.connect(str(workdir / "ray-lake"), embedder="hash")
    sampler.sample()  # refresh actor pids
    prof = None
    if profile is not None:
        pids = {"driver": os.getpid(), **{f"actor{k}": pid for k, pid in enumerate(sorted(sampler.actor_pids))}}
        prof = Profiler(profile, pids).__enter__()
    sampler.phase = "ray"
    acked: list[float] = []
    cpu0 = sampler.cpu_seconds()
    t0 = time.perf_counter()
    result = lake.ingest(table, on_ack=lambda ack: acked.append(time.perf_counter()))
    seconds = time.perf_counter() - t0
    cpu1 = sampler.cpu_seconds()
    sampler.phase = "after-ray"
    profile_summary = None
    if prof is not None:
        prof.__exit__(None, None, None)
        profile_summary = prof.summary()
    sizes = _commit_sizes(lake)
    stored = lake.sql("select count(*) as n from events")["n"][0].as_py()
    lake.close()
    out = {
        "seconds": seconds, "events_per_s": table.num_rows / seconds,
        "cpu_s": {k: cpu1[k] - cpu0[k] for k in cpu0}, "accepted": result.accepted,
        "duplicates": result.duplicates, "rejected": len(result.rejected), "stored_rows": stored,
        "commits": len(sizes), "commit_rows": _dist(sizes), "acked_chunks": len(acked),
        "first_ack_s": (acked[0] - t0) if acked else None,
        "settings": {k: getattr(lake.settings, k) for k in (
            "ingest_actors", "ingest_chunk_rows", "ingest_flush_rows", "ingest_flush_seconds",
            "ingest_max_inflight", "ray_num_cpus")},
    }
    if profile_summary is not None:
        out["profile"] = {"dir": str(profile), "top_inclusive_pct": profile_summary}
    return out, sizes


def run_raw(workdir: Path, rows: pa.Table, sizes: list[int], sampler: RssSampler) -> dict[str, Any]:
    import lance

    from tracelake import schemas

    uri = str(workdir / "raw-append" / "events.lance")
    lance.write_dataset(schemas.EVENTS.empty_table(), uri, schema=schemas.EVENTS, mode="create")
    if sum(sizes) != rows.num_rows or not sizes:
        sizes = [100_000] * (rows.num_rows // 100_000) + ([rows.num_rows % 100_000] if rows.num_rows % 100_000 else [])
    t0 = time.perf_counter()
    offset = 0
    for size in sizes:
        lance.write_dataset(rows.slice(offset, size), uri, mode="append")
        offset += size
    append_s = time.perf_counter() - t0
    assert lance.dataset(uri).count_rows() == rows.num_rows

    single_uri = str(workdir / "raw-single" / "events.lance")
    cpu0 = sampler.cpu_seconds()["driver"]
    t0 = time.perf_counter()
    lance.write_dataset(rows, single_uri, schema=schemas.EVENTS, mode="create")
    single_s = time.perf_counter() - t0
    single_cpu = sampler.cpu_seconds()["driver"] - cpu0
    return {
        "raw_append": {"seconds": append_s, "events_per_s": rows.num_rows / append_s, "commits": len(sizes),
                       "commit_rows": _dist(sizes)},
        "raw_single_write": {"seconds": single_s, "events_per_s": rows.num_rows / single_s, "commits": 1,
                             "cpu_s": single_cpu},
    }


def run_ack_latency(workdir: Path, chunk: int, rate: float, seconds: float, start: int) -> dict[str, Any]:
    import tracelake

    lake = tracelake.connect(str(workdir / "ack-lake"), embedder="hash")
    calls = max(1, int(seconds * rate / chunk))
    interval = chunk / rate
    payloads = [make_events(chunk, start=start + k * chunk, tenant=f"tenant-{k % TENANTS}") for k in range(calls)]
    latency = [0.0] * calls
    service = [0.0] * calls
    errors: list[str] = []

    def call(k: int, scheduled: float) -> None:
        began = time.perf_counter()
        try:
            res = lake.ingest(payloads[k])
            if res.accepted != chunk:
                errors.append(f"call {k}: accepted {res.accepted}/{chunk}")
        except Exception as exc:  # noqa: BLE001 - reported, not raised: a benchmark should finish
            errors.append(f"call {k}: {type(exc).__name__}: {exc}")
        done = time.perf_counter()
        latency[k], service[k] = done - scheduled, done - began

    with ThreadPoolExecutor(max_workers=32, thread_name_prefix="ack") as pool:
        t0 = time.perf_counter()
        for k in range(calls):
            scheduled = t0 + k * interval
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(call, k, scheduled)
    elapsed = time.perf_counter() - t0
    lake.close()
    lat = np.array(latency)
    return {
        "method": "open loop: one lake.ingest() of chunk_events every chunk/target_rate s; latency from the "
                  "scheduled start to the durable ack",
        "chunk_events": chunk, "target_events_per_s": rate, "requests": calls, "seconds": elapsed,
        "achieved_events_per_s": calls * chunk / elapsed,
        "p50_s": float(np.percentile(lat, 50)), "p90_s": float(np.percentile(lat, 90)),
        "p99_s": float(np.percentile(lat, 99)), "max_s": float(lat.max()),
        "service_p50_s": float(np.percentile(service, 50)), "service_p99_s": float(np.percentile(service, 99)),
        "errors": errors[:10], "error_count": len(errors),
    }


def run_rss(workdir: Path, events: int, tenants: int, sampler: RssSampler) -> dict[str, Any]:
    """Ingest ``events`` into one lake (calls of 1M) and report what the ingest actors hold afterwards."""
    import ray

    import tracelake
    from tracelake.pipelines.ingest import get_actors

    lake = tracelake.connect(str(workdir / "rss-lake"), embedder="hash")
    step, t0, after = 1_000_000, time.perf_counter(), []
    for start in range(0, events, step):
        lake.ingest(make_events(min(step, events - start), start=start, tenants=tenants))
        actors = [ray.get(a.memory.remote()) for a in get_actors(lake.settings)]
        after.append({"events": start + min(step, events - start), "ids": sum(a["ids"] for a in actors),
                      "id_bytes": sum(a["id_bytes"] for a in actors), "actors_rss_mb": sampler.sample()["actors_mb"],
                      "actors_uss_mb": sampler.uss_mb(sampler.actor_pids)})
    seconds = time.perf_counter() - t0
    lake.close()
    last = after[-1]
    return {
        "method": "one lake, lake.ingest() calls of 1M events; after each call the actors report the ids they "
                  "know and the bytes of their index; RSS of the ingest actor processes sampled then",
        "events": events, "seconds": seconds, "events_per_s": events / seconds, "trace": after,
        "id_bytes_per_event": last["id_bytes"] / max(1, last["ids"]),
        "actors_rss_mb_first": after[0]["actors_rss_mb"], "actors_rss_mb_last": last["actors_rss_mb"],
        "actors_rss_mb_per_million_events": (last["actors_rss_mb"] - after[0]["actors_rss_mb"])
                                             / max(1e-9, (last["events"] - after[0]["events"]) / 1e6),
        "actors_uss_mb_first": after[0]["actors_uss_mb"], "actors_uss_mb_last": last["actors_uss_mb"],
        "actors_uss_mb_per_million_events": (last["actors_uss_mb"] - after[0]["actors_uss_mb"])
                                             / max(1e-9, (last["events"] - after[0]["events"]) / 1e6),
        "actors_peak_rss_mb": sum(a["peak_rss_bytes"] for a in actors) / 2**20,
    }


def _dist(values: list[int]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    a = np.array(values)
    return {"n": len(values), "min": int(a.min()), "mean": float(a.mean()), "median": float(np.median(a)),
            "max": int(a.max())}


# -- main ---------------------------------------------------------------------------------------------------
def run(events: int, workdir: Path, *, tenants: int, ack_chunk: int, ack_rate: float, ack_seconds: float,
        profile: Path | None, rss_events: int = 0) -> dict[str, Any]:
    import lance
    import ray

    import tracelake

    sampler = RssSampler().start()
    try:
        t0 = time.perf_counter()
        table = make_events(events, tenants=tenants)
        gen_s = time.perf_counter() - t0
        ray_res, sizes = run_ray(workdir, table, sampler, profile)
        sampler.phase = "raw"
        rows = read_back(workdir / "ray-lake")  # after the ray phase so the driver's RSS there is its own
        raw = run_raw(workdir, rows, sizes, sampler)
        del rows
        sampler.phase = "ack"
        ack = run_ack_latency(workdir, ack_chunk, ack_rate, ack_seconds, start=events)
        sampler.phase = "rss"
        rss = run_rss(workdir, rss_events, tenants, sampler) if rss_events else None
        sampler.phase = "done"
    finally:
        sampler.stop()
    ratio = ray_res["events_per_s"] / raw["raw_append"]["events_per_s"]
    return {
        "benchmark": "ingest",
        "when": datetime.now(timezone.utc).isoformat(),
        "events": events,
        "tenants": tenants,
        "event_bytes": {"text_mean": float(pc.mean(pc.binary_length(table["text"])).as_py()),
                        "arrow_total": table.nbytes},
        "data_gen_seconds": gen_s,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "tracelake": tracelake.__version__, "pylance": lance.__version__, "ray": ray.__version__,
                    "pyarrow": pa.__version__},
        "ray": ray_res,
        **raw,
        "ratio_ray_to_raw": ratio,
        "ratio_ray_to_raw_single": ray_res["events_per_s"] / raw["raw_single_write"]["events_per_s"],
        "cpu_ratio_raw_single_to_ray": raw["raw_single_write"]["cpu_s"] / max(1e-9, sum(ray_res["cpu_s"].values())),
        "ack_latency": ack,
        "id_memory": rss,
        "rss_peak_mb": sampler.peaks,
        "targets": {
            "ratio_min": TARGET_RATIO, "ack_p99_max_s": TARGET_ACK_P99_S,
            "ratio_met": ray_res["events_per_s"] / raw["raw_single_write"]["events_per_s"] >= TARGET_RATIO,
            "ack_p99_met": ack["p99_s"] <= TARGET_ACK_P99_S,
        },
    }


def markdown(r: dict[str, Any]) -> str:
    ray_r, ra, rs, ack = r["ray"], r["raw_append"], r["raw_single_write"], r["ack_latency"]
    peak = r["rss_peak_mb"].get("ray", {})
    ok = lambda b: "yes" if b else "**NO**"  # noqa: E731
    lines = [
        f"### ingest benchmark — {r['events']:,} events, {r['tenants']} tenants, {r['machine']['cpus']} CPUs",
        "",
        "| measure | value |",
        "|---|---|",
        f"| raw Lance append ({ra['commits']} commits, mean {ra['commit_rows'].get('mean', 0):,.0f} rows) "
        f"| {ra['events_per_s']:,.0f} ev/s ({ra['seconds']:.2f} s) |",
        f"| raw Lance single write | {rs['events_per_s']:,.0f} ev/s ({rs['seconds']:.2f} s) |",
        f"| tracelake Ray path ({ray_r['commits']} commits) | {ray_r['events_per_s']:,.0f} ev/s "
        f"({ray_r['seconds']:.2f} s) |",
        f"| **ratio ray / raw single write** (target ≥ {TARGET_RATIO}×) | **{r['ratio_ray_to_raw_single']:.2f}×** "
        f"— met: {ok(r['targets']['ratio_met'])} |",
        f"| ratio ray / raw append, same commit sizes | {r['ratio_ray_to_raw']:.2f}× |",
        f"| CPU seconds: raw single write / Ray path (driver + Ray processes) | {rs['cpu_s']:.2f} / "
        f"{sum(ray_r['cpu_s'].values()):.2f} s = {r['cpu_ratio_raw_single_to_ray']:.2f}× |",
        f"| ack latency p50 / p99 / max ({ack['chunk_events']:,}-event calls at {ack['target_events_per_s']:,.0f} "
        f"ev/s) | {ack['p50_s'] * 1000:,.0f} / {ack['p99_s'] * 1000:,.0f} / {ack['max_s'] * 1000:,.0f} ms "
        f"— p99 ≤ {TARGET_ACK_P99_S:.0f} s met: {ok(r['targets']['ack_p99_met'])} |",
        f"| ack load achieved | {ack['achieved_events_per_s']:,.0f} ev/s, {ack['requests']} calls, "
        f"{ack['error_count']} errors |",
        f"| peak RSS during Ray ingest: driver / actors / all Ray processes | {peak.get('driver_mb', 0):,.0f} / "
        f"{peak.get('actors_mb', 0):,.0f} / {peak.get('ray_processes_mb', 0):,.0f} MB |",
    ]
    if r.get("id_memory"):
        m = r["id_memory"]
        lines.append(f"| ingest actors after {m['events']:,} events in one lake: ids index / USS growth / RSS "
                     f"growth | {m['id_bytes_per_event']:.1f} B per event / {m['actors_uss_mb_per_million_events']:,.1f}"
                     f" MB per 1M events ({m['actors_uss_mb_first']:,.0f} → {m['actors_uss_mb_last']:,.0f} MB) / "
                     f"{m['actors_rss_mb_per_million_events']:,.0f} MB per 1M ({m['actors_rss_mb_first']:,.0f} → "
                     f"{m['actors_rss_mb_last']:,.0f} MB) |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--tenants", type=int, default=TENANTS)
    ap.add_argument("--rss-events", type=int, default=0,
                    help="also ingest this many events into one lake and report the actors' memory (e.g. 10000000)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "ingest.json")
    ap.add_argument("--ack-chunk", type=int, default=1_000, help="events per ingest call in the latency phase")
    ap.add_argument("--ack-rate", type=float, default=20_000, help="offered load in the latency phase (events/s)")
    ap.add_argument("--ack-seconds", type=float, default=15.0, help="duration of the latency phase")
    ap.add_argument("--workdir", type=Path, default=None, help="where lakes are written (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--profile", type=Path, default=None, help="py-spy the Ray ingest phase into this folder")
    args = ap.parse_args(argv)

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="tracelake-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        result = run(args.events, workdir, tenants=args.tenants, ack_chunk=args.ack_chunk, ack_rate=args.ack_rate,
                     ack_seconds=args.ack_seconds, profile=args.profile, rss_events=args.rss_events)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(markdown(result))
    if "profile" in result["ray"]:
        print("\nprofile (top inclusive %):")
        for proc, rows in result["ray"]["profile"]["top_inclusive_pct"].items():
            print(f"  {proc}:")
            for fn, pct in rows:
                print(f"    {pct:5.1f}%  {fn}")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
