"""Consolidation benchmark: events/s through decompose → merge → decay → reindex on Ray, next to the
embedder's own throughput on the same trace texts, in the same run.

Run::

    .venv/bin/python benchmarks/consolidate.py                          # 100k events: hash + static; 10k: minilm
    .venv/bin/python benchmarks/consolidate.py --embedders static --events 20000

Writes JSON (``--out``, default ``benchmarks/results/consolidate.json``) and prints a markdown table.

Method
------
Events: ``--events`` synthetic dialogue turns (~200 bytes: a speaker, names, places, organisations, money,
relative dates, likes), 20 tenants, 40 streams each, time-ordered, unique ids; ingested first (not timed).
For each embedder, on a fresh lake:

1. **pipeline** — ``lake.consolidate()`` wall time, Ray already started and the embedder's model already
   loaded in the driver (the Ray workers load it on their first task: counted, as in production).
2. **embedder alone** — the same embedder on exactly the texts of the traces the run wrote (read back from
   the lake), in batches of 256, in the driver process on the same 2 cores.
   ``overhead = pipeline_s / embed_s − 1``: what decomposition, merging, decay, reindex, Ray and Lance
   add over the embedding work itself. Target (issue): ≤ 25 % with the real model.

The embedder alone runs single-process while the pipeline runs tasks on every core, so with a cheap
embedder (hash/static) the "overhead" is dominated by text analysis and I/O and the ratio is reported
for information only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NAMES = ["Alice", "Bob", "Caroline", "David Chen", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas"]
PLACES = ["Berlin", "Lisbon", "Munich", "Toronto", "Kyoto", "Nairobi", "Denver", "Oslo"]
ORGS = ["Google", "Acme", "Shopify", "the city library", "a startup", "the hospital"]
WHEN = ["yesterday", "last week", "two weeks ago", "on 8 May", "next Friday", "last month", "in 2022"]
TEMPLATES = [
    "I moved to {place} {when}. My friend {name} works at {org} and helped me settle in, which was so kind.",
    "{name} and I went hiking near {place} {when}; we talked for hours about books, painting and old friends.",
    "They offered me ${k}k at {org}! I start {when}, so I am nervous but also really excited about the team.",
    "I love pottery and I've been painting sunsets since {when}. {name} says my last piece belongs in {place}.",
    "My sister {name} lives in {place} now. She visited {org} {when} and sent me photos of everything there.",
]


def make_events(n: int, tenants: int = 20, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    base = 1683554160000
    out = []
    for i in range(n):
        text = rng.choice(TEMPLATES).format(place=rng.choice(PLACES), name=rng.choice(NAMES), org=rng.choice(ORGS),
                                            when=rng.choice(WHEN), k=rng.randint(90, 250))
        t = i % tenants
        out.append({"tenant": f"tenant-{t:02d}", "stream": f"s{(i // tenants) % 40}", "event_id": f"e{i}",
                    "actor": NAMES[(i // tenants) % len(NAMES)].split()[0], "occurred_at": base + i * 60_000,
                    "text": text})
    return out


def run(embedder: str, events: list[dict[str, Any]], workdir: Path) -> dict[str, Any]:
    import tracelake
    from tracelake.operators.embedders import get_embedder

    lake = tracelake.connect(str(workdir / f"lake-{embedder}"), embedder=embedder)
    lake.ingest(events)
    model = get_embedder(embedder)
    model.embed(["warm up"])
    t0 = time.perf_counter()
    report = lake.consolidate()
    pipeline_s = time.perf_counter() - t0
    texts = lake.sql("select text from traces")["text"].to_pylist()
    t0 = time.perf_counter()
    for start in range(0, len(texts), 256):
        model.embed(texts[start:start + 256])
    embed_s = time.perf_counter() - t0
    lake.close()
    return {
        "embedder": embedder, "dim": model.dim, "events": len(events), "traces": len(texts),
        "pipeline_s": round(pipeline_s, 2), "events_per_s": round(len(events) / pipeline_s, 1),
        "embed_s": round(embed_s, 2), "embed_texts_per_s": round(len(texts) / embed_s, 1),
        "overhead": round(pipeline_s / embed_s - 1, 3), "status": report.status,
        "steps": {k: v for k, v in report.steps.items() if k in ("merge", "decay", "decompose")},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=100_000, help="events for the fast embedders")
    p.add_argument("--minilm-events", type=int, default=10_000, help="events for the minilm embedder")
    p.add_argument("--embedders", default="hash,static,minilm")
    p.add_argument("--out", default="benchmarks/results/consolidate.json")
    args = p.parse_args(argv)

    from tracelake.pipelines.ray_runtime import ensure_ray

    ensure_ray()
    results = []
    with tempfile.TemporaryDirectory(prefix="tl-bench-consolidate-") as tmp:
        for name in [e.strip() for e in args.embedders.split(",") if e.strip()]:
            n = args.minilm_events if name == "minilm" else args.events
            print(f"[{name}] {n:,} events ...", file=sys.stderr, flush=True)
            results.append(run(name, make_events(n), Path(tmp)))
    out = {"benchmark": "consolidate", "cpus": os.cpu_count(), "python": platform.python_version(),
           "results": results, "target_overhead": 0.25}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2))
    print(f"\n### consolidate benchmark — {os.cpu_count()} CPUs\n")
    print("| embedder | events | traces | pipeline events/s | embedder alone texts/s | overhead (target ≤ 25%) |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['embedder']} ({r['dim']}-d) | {r['events']:,} | {r['traces']:,} | {r['events_per_s']:,.0f} | "
              f"{r['embed_texts_per_s']:,.0f} | {r['overhead']:+.0%} |")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
