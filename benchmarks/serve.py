"""HTTP service benchmark: ingest over loopback (``tracelake serve`` + the SDK) next to in-process ``lake.ingest``,
batches of 1, 100 and 1,000 events, in one run.

Run::

    .venv/bin/python benchmarks/serve.py                   # 20,000 events per size (2,000 one by one): minutes
    .venv/bin/python benchmarks/serve.py --events 2000 --events-single 200     # smoke

Writes JSON (``--out``, default ``benchmarks/results/serve.json``) and a markdown table (printed, and next to
the JSON as ``serve.md``).

What is measured (every lake on local disk under a temporary directory; a fresh lake per batch size and side)
----------------------------------------------------------------------------------------------------------
Events: ``--events`` synthetic events per batch size (``--events-single`` for batches of 1: each is its own
commit, ~2 orders of magnitude slower), 8 tenants interleaved, unique ``event_id``, increasing ``occurred_at``
(epoch ms), ~200 bytes of ``text`` — as dicts, the form an app has. The sides run interleaved per batch size
(in-process, then http), so drift in the machine's load hits both alike.

- **in-process** (a child process, its own embedded Ray): ``--concurrency`` threads call
  ``lake.ingest(batch)`` for consecutive batches of the given size; each call returns once its events are
  durable. Also **bulk**: one ``lake.ingest`` of all the events (the in-process best case).
- **http**: ``tracelake serve`` in a child process (its own embedded Ray, default service settings, no access
  log); this process is the load generator: ``--concurrency`` asyncio workers send consecutive batches with
  :class:`tracelake.client.AsyncClient` (JSON body, ``Idempotency-Key`` per batch, per-item results parsed back
  into an ``IngestResult``). Each response means the batch is durable.

Both sides: a 2,000-event warm-up first (actors started, first commits done) into other tenants; then the timed
run. ``events_per_s`` = events / wall time of the run; latency = per call (in-process) or per request (http),
p50 and p99. Both sides share the machine's cores with their Ray (raylet, GCS, ingest actors); the http side also
with the load generator. Target (from the issue): http at batches of 1,000 reaches >= 60 % of in-process
throughput at the same batch size and concurrency (``ratio``); ``ratio_to_bulk`` compares with the bulk call.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZES = (1, 100, 1000)  # always measured, on both sides (--sizes narrows it for quick checks)
TARGET_RATIO = 0.6
TENANTS = 8
WARMUP = 2000
_BASE_MS = 1_700_000_000_000


def make_events(n: int, tag: str) -> list[dict[str, Any]]:
    words = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet")
    out = []
    for i in range(n):
        text = f"#{i} " + " ".join(words[(i * 7 + j) % 10] for j in range(40))
        out.append({"tenant": f"{tag}-t{i % TENANTS}", "event_id": f"{tag}-{i}", "occurred_at": _BASE_MS + i,
                    "stream": "bench", "actor": "app", "text": text[:200]})
    return out


def batches(events: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [events[i:i + size] for i in range(0, len(events), size)]


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def summary(n: int, wall: float, lat: list[float], accepted: int) -> dict[str, Any]:
    return {"events": n, "accepted": accepted, "wall_s": round(wall, 3), "events_per_s": round(n / wall, 1),
            "calls": len(lat), "latency_p50_ms": round(pct(lat, 0.5) * 1000, 2),
            "latency_p99_ms": round(pct(lat, 0.99) * 1000, 2)}


def _env() -> dict[str, str]:
    # Each child embeds its own Ray; "local" never joins another Ray instance running on this machine.
    env = {**os.environ, "TRACELAKE_EMBEDDER": "hash", "RAY_AUTH_MODE": "disabled", "RAY_ADDRESS": "local"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


# -- in-process side (runs in a child process) -----------------------------------------------------------------
def run_inproc(workdir: Path, size: int, events: int, concurrency: int, bulk: bool) -> dict[str, Any]:
    import tracelake

    out: dict[str, Any] = {}
    lake = tracelake.connect(str(workdir / f"inproc-{size}"), embedder="hash")
    lake.ingest(make_events(WARMUP, f"w{size}"))  # actors up, first commits done
    work = batches(make_events(events, f"s{size}"), size)
    lat: list[float] = []

    def call(batch: list[dict[str, Any]]) -> int:
        t0 = time.perf_counter()
        res = lake.ingest(batch)
        lat.append(time.perf_counter() - t0)
        return res.accepted

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        accepted = sum(pool.map(call, work))
    out[str(size)] = summary(events, time.perf_counter() - t0, lat, accepted)
    lake.close()
    if bulk:
        lake = tracelake.connect(str(workdir / "inproc-bulk"), embedder="hash")
        lake.ingest(make_events(WARMUP, "wbulk"))
        data = make_events(events, "bulk")
        t0 = time.perf_counter()
        res = lake.ingest(data)
        wall = time.perf_counter() - t0
        out["bulk"] = summary(events, wall, [wall], res.accepted)
    return out


def inproc_child(workdir: Path, size: int, events: int, concurrency: int, bulk: bool) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--phase", "inproc", "--workdir", str(workdir), "--size", str(size),
           "--events", str(events), "--concurrency", str(concurrency)] + (["--bulk"] if bulk else [])
    child = subprocess.run(cmd, env=_env(), cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if child.returncode != 0:
        raise RuntimeError("in-process phase failed: " + child.stderr[-4000:])
    return json.loads(child.stdout.strip().splitlines()[-1])


# -- http side ---------------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(lake: Path, log: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    import httpx

    from tracelake.service.keys import KeyStore

    _, secret = KeyStore(lake / "_service" / "keys.json").create(["*"], name="bench")
    port = _free_port()
    with open(log, "ab") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "tracelake.cli", "serve", "--data", str(lake), "--port",
                                 str(port), "--log-level", "warning", "--no-access-log"],
                                env=_env(), cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("tracelake serve exited: " + log.read_text()[-2000:])
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return proc, url, secret
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("tracelake serve did not become ready")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=20)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the Ray it embedded, too
    except ProcessLookupError:
        pass
    proc.wait(timeout=20)


async def http_load(url: str, secret: str, work: list[list[dict[str, Any]]],
                    concurrency: int) -> tuple[float, list[float], int]:
    from tracelake.client import AsyncClient

    lat: list[float] = []
    accepted = 0
    queue = list(reversed(work))
    async with AsyncClient(url, secret, max_batch=max(len(b) for b in work), max_connections=concurrency) as client:
        async def worker() -> None:
            nonlocal accepted
            while queue:
                batch = queue.pop()
                t0 = time.perf_counter()
                res = await client.ingest(batch)
                lat.append(time.perf_counter() - t0)
                accepted += res.accepted

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    return wall, lat, accepted


def run_http(workdir: Path, size: int, events: int, concurrency: int) -> dict[str, Any]:
    proc, url, secret = start_server(workdir / f"http-{size}", workdir / "serve.log")
    try:
        asyncio.run(http_load(url, secret, batches(make_events(WARMUP, f"w{size}"), 1000), concurrency))
        wall, lat, accepted = asyncio.run(http_load(url, secret, batches(make_events(events, f"s{size}"), size),
                                                    concurrency))
        return summary(events, wall, lat, accepted)
    finally:
        stop_server(proc)


# -- report ------------------------------------------------------------------------------------------------------
def markdown(res: dict[str, Any]) -> str:
    rows = ["| batch | side | events/s | p50 ms | p99 ms | calls | http ÷ in-process |",
            "|---:|---|---:|---:|---:|---:|---:|"]
    for size in SIZES:
        h, i = res["http"][str(size)], res["inproc"][str(size)]
        ratio = res["ratio"][str(size)]
        rows.append(f"| {size:,} | http | {h['events_per_s']:,.0f} | {h['latency_p50_ms']:.1f} | "
                    f"{h['latency_p99_ms']:.1f} | {h['calls']:,} | **{ratio:.0%}** |")
        rows.append(f"| {size:,} | in-process | {i['events_per_s']:,.0f} | {i['latency_p50_ms']:.1f} | "
                    f"{i['latency_p99_ms']:.1f} | {i['calls']:,} | |")
    b = res["inproc"]["bulk"]
    rows.append(f"| all ({b['events']:,}) | in-process bulk | {b['events_per_s']:,.0f} | | | 1 | |")
    verdict = "met" if res["target_met"] else "NOT met"
    return "\n".join(rows) + (
        f"\n\nTarget: http at batches of 1,000 >= {TARGET_RATIO:.0%} of in-process at the same batch size: "
        f"{res['ratio']['1000']:.0%} ({verdict}); vs. one bulk in-process call: {res['ratio_to_bulk_1000']:.0%}. "
        f"Events per batch size: {', '.join(f'{int(k):,}: {v:,}' for k, v in res['events'].items())}; "
        f"concurrency {res['concurrency']}; {res['machine']['cpus']} CPUs.\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=20_000, help="events per batch size of 100 and 1,000 (20,000)")
    ap.add_argument("--events-single", type=int, default=2_000,
                    help="events sent one per call/request (2,000: each is its own commit)")
    ap.add_argument("--concurrency", type=int, default=8, help="calls / requests in flight (default 8)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "serve.json"))
    ap.add_argument("--phase", choices=["inproc"], help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--bulk", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.phase == "inproc":  # child process
        print(json.dumps(run_inproc(Path(args.workdir), args.size, args.events, args.concurrency, args.bulk)))
        return 0

    counts = {s: args.events_single if s == 1 else args.events for s in SIZES}
    inproc: dict[str, Any] = {}
    http: dict[str, Any] = {}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tl-serve-bench-") as tmp:
        for size in SIZES:  # interleaved, so drift in the machine's load hits both sides alike
            inproc.update(inproc_child(Path(tmp), size, counts[size], args.concurrency, bulk=size == SIZES[-1]))
            http[str(size)] = run_http(Path(tmp), size, counts[size], args.concurrency)
            print(f"batch {size}: http {http[str(size)]['events_per_s']:,.0f} ev/s, in-process "
                  f"{inproc[str(size)]['events_per_s']:,.0f} ev/s", file=sys.stderr)
    total = time.perf_counter() - t0

    import tracelake

    ratio = {str(s): http[str(s)]["events_per_s"] / inproc[str(s)]["events_per_s"] for s in SIZES}
    res = {
        "benchmark": "serve", "events": {str(s): n for s, n in counts.items()}, "concurrency": args.concurrency,
        "sizes": list(SIZES), "http": http, "inproc": inproc,
        "ratio": {k: round(v, 3) for k, v in ratio.items()},
        "ratio_to_bulk_1000": round(http["1000"]["events_per_s"] / inproc["bulk"]["events_per_s"], 3),
        "target_ratio": TARGET_RATIO, "target_met": ratio["1000"] >= TARGET_RATIO,
        "total_s": round(total, 1),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "tracelake": tracelake.__version__, "loadavg_after": os.getloadavg()},
    }
    for side in ("http", "inproc"):
        for size in SIZES:
            assert res[side][str(size)]["accepted"] == counts[size], (side, size, res[side][str(size)])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    table = markdown(res)
    out.with_suffix(".md").write_text(table)
    print(table)
    print(f"wrote {out} and {out.with_suffix('.md')} ({total:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
