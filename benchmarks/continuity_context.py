"""``continuity.py --context``: does ``lake.context`` answer the corpus' questions within a word budget?

Method (one lake, one run, public API only):

1. The stories are ingested into one lake once per mode: **isolated** (tenant = story id), **cumulative** (tenant
   = the person: six stories on one two-year timeline) and, on request, **shared** (one tenant for every person's
   stories, all on the same two years: the person a question names must be told apart from nine others), then
   consolidated once (``now`` = the corpus' last turn + 1 day). Every question is asked ``as_of`` its story's
   last turn + 1 minute.
2. **Strict pass** at each word budget B (default 30, 60, 120): every keyword occurs (case-insensitive) in the
   text. Systems, same questions, same run: ``lake.context(q, tenant, as_of, budget_words=B).text``;
   ``lake.search(q, tenant, as_of, k=50)`` hit texts concatenated in rank order and cut at B words; BM25 over
   the tenant's turns visible at ``as_of`` (``benchmarks/locomo.py``'s ``BM25``: one document per turn), top
   turns concatenated and cut at B words; **MiniLM+BM25 fusion** over the same turns
   (``locomo_turns.fusion_rankings``, the LoCoMo baseline: the lake's query embedder's cosine ⊕ BM25 by
   reciprocal rank; turn vectors computed once per run), top ``SEARCH_K`` turns concatenated and cut at B words.
   Words are counted as ``tracelake.results.word_count`` counts them.
   **Answerable**: every keyword occurs in the tenant's text at or before ``as_of`` (isolated mode cannot
   answer questions about earlier stories); pass rates are given over all and over answerable questions.
3. **Evidence recall at equal turn budgets** (B = 5, 10, 25, 50 distinct turns): search hits' source events
   in rank order (one hit can cite several turns), BM25 turns, fusion turns; the share of a question's evidence turns
   (``evidence``, plus ``evidence_ref`` in cumulative and shared mode) within the first B distinct turns.
4. **Leakage**: any cited event after ``as_of`` in a context item or search hit is counted (must be 0); a
   context over its budget is counted too.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from continuity_corpus import SHARED_TENANT, Story, person_text_until, provenance
from continuity_facts import build_lake
from locomo_turns import fusion_rankings

__all__ = ["run_context", "summarize_rows_file"]

AS_OF_AFTER_END = timedelta(minutes=1)
SEARCH_K = 50


def _log(msg: str) -> None:
    print(f"[continuity] {msg}", file=sys.stderr, flush=True)


def cut_words(texts: list[str], budget: int) -> str:
    """``texts`` joined in order and cut at ``budget`` words (whitespace runs, as budgets count them)."""
    words: list[str] = []
    for t in texts:
        words.extend(t.split())
        if len(words) >= budget:
            break
    return " ".join(words[:budget])


def first_turns(ids: list[str], budget: int) -> list[str]:
    """The first ``budget`` distinct ids, in order."""
    return list(dict.fromkeys(ids))[:budget]


def passes(text: str, keywords: tuple[str, ...]) -> bool:
    low = text.lower()
    return all(k.lower() in low for k in keywords)


class Scope:
    """What one question may see: the tenant's turns up to ``as_of``, their times, its evidence ids."""

    def __init__(self, stories: list[Story], story: Story, q_index: int, mode: str) -> None:
        self.as_of = story.end + AS_OF_AFTER_END
        if mode == "shared":  # every person's turns told by then, one tenant
            self.tenant = SHARED_TENANT
            self.turns = [(s.event_id(i), t.text) for s in stories for i, t in enumerate(s.turns) if t.at <= self.as_of]
        else:
            mine = [s for s in stories if s.tenant == story.tenant and s.id <= story.id] if mode == "cumulative" \
                else [story]
            self.tenant = story.tenant if mode == "cumulative" else story.id
            self.turns = [(s.event_id(i), t.text) for s in mine for i, t in enumerate(s.turns)]
        q = story.questions[q_index]
        visible = "\n".join(t.lower() for _, t in self.turns) if mode == "shared" else \
            person_text_until(stories, story) if mode == "cumulative" else "\n".join(t.text.lower() for t in story.turns)
        self.answerable = all(k.lower() in visible for k in q.keywords)
        ev = [story.event_id(i) for i in q.evidence]
        if mode != "isolated":
            ev += [f"{ref}-t{i}" for ref, i in q.evidence_ref]
        self.evidence = set(ev)

    def future(self, ids: Any, all_times: dict[str, datetime]) -> int:
        """How many of ``ids`` occurred after ``as_of`` (ids of other stories of the person included)."""
        return sum(1 for e in ids if all_times.get(e, self.as_of) > self.as_of)


def _ask(lake: Any, stories: list[Story], budgets: list[int], turn_budgets: list[int], mode: str,
         bm25_cls: Any, embed: Any, all_times: dict[str, datetime], sink: Any) -> list[dict[str, Any]]:
    """One row per question (also written to ``sink`` as a JSON line at once: a stopped run keeps its rows).
    ``embed``: texts -> vectors (cached) for the fusion baseline."""
    rows = []
    has_context = hasattr(lake, "context")
    started = time.perf_counter()
    for n, s in enumerate(stories):
        if n and n % 6 == 0:
            _log(f"{mode}: {n}/{len(stories)} stories asked "
                 f"({time.perf_counter() - started:.0f}s)")
        for k, q in enumerate(s.questions):
            sc = Scope(stories, s, k, mode)
            row: dict[str, Any] = {"story": s.id, "q": q.q, "kind": q.kind, "keywords": list(q.keywords),
                                   "answerable": sc.answerable, "evidence": len(sc.evidence), "leaks": 0,
                                   "over_budget": 0, "pass": {}, "recall": {}, "latency_ms": {}}
            t0 = time.perf_counter()
            hits = lake.search(q.q, sc.tenant, as_of=sc.as_of, k=SEARCH_K)
            row["latency_ms"]["search"] = (time.perf_counter() - t0) * 1000
            row["leaks"] += sum(sc.future(h.source_event_ids, all_times) for h in hits)
            hit_ids = [e for h in hits for e in h.source_event_ids]
            bm = bm25_cls([t for _, t in sc.turns])
            order = bm.rank(q.q, len(sc.turns))
            bm_ids, bm_texts = [sc.turns[i][0] for i in order], [sc.turns[i][1] for i in order]
            fused = fusion_rankings([t for _, t in sc.turns], [q.q], embed, bm, k=SEARCH_K)[0]
            fu_ids, fu_texts = [sc.turns[i][0] for i in fused], [sc.turns[i][1] for i in fused]
            for b in budgets:
                row["pass"][f"search@{b}"] = passes(cut_words([h.text for h in hits], b), q.keywords)
                row["pass"][f"bm25@{b}"] = passes(cut_words(bm_texts, b), q.keywords)
                row["pass"][f"fusion@{b}"] = passes(cut_words(fu_texts, b), q.keywords)
                if has_context:
                    t0 = time.perf_counter()
                    ctx = lake.context(q.q, sc.tenant, as_of=sc.as_of, budget_words=b)
                    row["latency_ms"][f"context@{b}"] = (time.perf_counter() - t0) * 1000
                    row["pass"][f"context@{b}"] = passes(ctx.text, q.keywords)
                    row["over_budget"] += len(ctx.text.split()) > b
                    row["leaks"] += sum(sc.future(it.source_event_ids, all_times) for it in ctx.items)
                    if b == 60:
                        row["context@60"] = ctx.text
            if sc.evidence:
                for b in turn_budgets:
                    for name, ids in (("search", hit_ids), ("bm25", bm_ids), ("fusion", fu_ids)):
                        got = set(first_turns(ids, b)) & sc.evidence
                        row["recall"][f"{name}@{b}"] = len(got) / len(sc.evidence)
            rows.append(row)
            sink.write(json.dumps({"mode": mode, **row},
                                  ensure_ascii=False) + "\n")
            sink.flush()
    return rows


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Pass rates (all, answerable), recall means, per-kind pass of context@60, latencies, violations."""
    keys = sorted({k for r in rows for k in r["pass"]})
    ans = [r for r in rows if r["answerable"]]
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for r in rows:
        if "context@60" in r["pass"]:
            by_kind[r["kind"]].append(r["pass"]["context@60"])
    lat = defaultdict(list)
    for r in rows:
        for k, v in r["latency_ms"].items():
            lat[k.split("@")[0]].append(v)
    rec_keys = sorted({k for r in rows for k in r["recall"]})
    return {
        "questions": len(rows), "answerable": len(ans), "answerable_share": _mean([r["answerable"] for r in rows]),
        "pass": {k: _mean([r["pass"][k] for r in rows]) for k in keys},
        "pass_answerable": {k: _mean([r["pass"][k] for r in ans]) for k in keys},
        "evidence_recall": {k: _mean([r["recall"][k] for r in rows if k in r["recall"]]) for k in rec_keys},
        "questions_with_evidence": sum(1 for r in rows if r["recall"]),
        "context60_by_kind": {k: {"n": len(v), "pass": _mean(v)} for k, v in sorted(by_kind.items())},
        "latency_p50_ms": {k: round(statistics.median(v), 1) for k, v in lat.items()},
        "future_leaks": sum(r["leaks"] for r in rows), "contexts_over_budget": sum(r["over_budget"] for r in rows),
    }


def markdown(res: dict[str, Any], budgets: list[int], turn_budgets: list[int]) -> str:
    lines = []
    for mode, m in res["modes"].items():
        lines += [f"**{mode}** — {m['questions']} questions, answerable {m['answerable_share']}", "",
                  "| system | " + " | ".join(f"pass@{b} (answerable)" for b in budgets) + " |",
                  "|---|" + "---|" * len(budgets)]
        for system in ("context", "search", "bm25", "fusion"):
            cells = [f"{m['pass'].get(f'{system}@{b}')} ({m['pass_answerable'].get(f'{system}@{b}')})"
                     for b in budgets]
            if any(f"{system}@{b}" in m["pass"] for b in budgets):
                lines.append(f"| {system} | " + " | ".join(cells) + " |")
        lines += ["", "| evidence recall | " + " | ".join(f"@{b} turns" for b in turn_budgets) + " |",
                  "|---|" + "---|" * len(turn_budgets)]
        for system in ("search", "bm25", "fusion"):
            if any(f"{system}@{b}" in m["evidence_recall"] for b in turn_budgets):
                lines.append(f"| {system} | " + " | ".join(str(m["evidence_recall"].get(f"{system}@{b}"))
                                                         for b in turn_budgets) + " |")
        lines += ["", f"future leaks {m['future_leaks']}, contexts over budget {m['contexts_over_budget']}, "
                  f"p50 latency ms {m['latency_p50_ms']}", ""]
    return "\n".join(lines)


def summarize_rows_file(path: Path, out: Path) -> int:
    """Summaries and tables from a ``*_questions.jsonl`` (a finished or a stopped run): ``--from-rows``."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_mode: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_mode[r["mode"]].append(r)
    budgets = sorted({int(k.split("@")[1]) for r in rows for k in r["pass"]})
    turn_budgets = sorted({int(k.split("@")[1]) for r in rows for k in r["recall"]})
    res = {"mode": "context", "from_rows": str(path), "budgets": budgets, "turn_budgets": turn_budgets,
           "stories": {m: len({r["story"] for r in v}) for m, v in by_mode.items()},
           "modes": {m: summarize(v) for m, v in by_mode.items()}}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    print(markdown(res, budgets, turn_budgets))
    return 0


def run_context(stories: list[Story], args: Any, out: Path) -> int:
    """The ``--context`` measurement; writes ``out`` (per-question rows in ``*_questions.jsonl``)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from locomo import BM25, Engines

    started = time.perf_counter()
    budgets = [int(b) for b in args.budgets.split(",")]
    turn_budgets = [int(b) for b in args.turn_budgets.split(",")]
    modes = [m for m in args.modes.split(",") if m]
    if unknown := set(modes) - {"isolated", "cumulative", "shared"}:
        raise SystemExit(f"unknown --modes {sorted(unknown)} (isolated, cumulative, shared)")
    tmp = None if args.workdir else tempfile.mkdtemp(prefix="tl-continuity-")
    workdir = Path(args.workdir or tmp) / "context-lake"
    try:
        lake, timings = build_lake(stories, workdir, args.embedder or "minilm", isolated="isolated" in modes,
                                   cumulative="cumulative" in modes, shared="shared" in modes)
        if not hasattr(lake, "context"):
            _log("lake.context does not exist yet: the context rows are skipped (search and BM25 only)")
        all_times = {s.event_id(i): t.at for s in stories for i, t in enumerate(s.turns)}
        # The fusion baseline's embedder: the lake's query embedder, every turn embedded once for the run.
        embed = Engines(lake, [t.text for s in stories for t in s.turns]).embedder.embed
        res: dict[str, Any] = {"mode": "context", "provenance": provenance(), "stories": len(stories), "embedder": args.embedder or "minilm",
                               "turns_per_event": getattr(args, "turns_per_event", 1),
                               "budgets": budgets, "turn_budgets": turn_budgets, "modes": {},
                               "has_context": hasattr(lake, "context")}
        out.parent.mkdir(parents=True, exist_ok=True)
        rows_path = out.with_name(out.stem + "_questions.jsonl")
        with rows_path.open("w", encoding="utf-8") as sink:
            for mode in modes:
                t0 = time.perf_counter()
                rows = _ask(lake, stories, budgets, turn_budgets, mode, BM25, embed,
                            all_times, sink)
                res["modes"][mode] = summarize(rows)
                timings[f"questions_{mode}"] = round(time.perf_counter() - t0, 2)
        res["timings_s"] = {**timings, "total": round(time.perf_counter() - started, 2)}
        out.write_text(json.dumps(res, indent=1))
        print(markdown(res, budgets, turn_budgets))
        _log(f"result written to {out} (per question: {rows_path})")
        lake.close()
        return 0
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
