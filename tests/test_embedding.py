"""Embedding in consolidation: the registry and devices, the lake's vector cache, embedding each text once."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from tracelake.embedding import get_embedder, known_aliases, register_embedder
from tracelake.errors import ConfigError
from tracelake.operators.embedders import HashEmbedder, span_texts
from tracelake.pipelines.embedding import CachedEmbedder, use_devices
from tracelake.settings import Settings
from tracelake.storage import LakeStore
from tracelake.storage.vectors import VectorCache, span_key, text_key


class Counting:
    """A real embedder (hash) that counts the texts it is asked to embed."""

    def __init__(self) -> None:
        self.inner = HashEmbedder(32)
        self.name, self.dim, self.seen = self.inner.name, 32, []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(texts)
        return self.inner.embed(texts)


@pytest.fixture
def cache(tmp_path: Path) -> VectorCache:
    store = LakeStore(str(tmp_path / "lake"))
    c = VectorCache(store, 32)
    c.create()
    c.create()  # idempotent
    return c


def test_registry_caches_per_alias_and_device_and_says_what_is_wrong() -> None:
    assert get_embedder("hash") is get_embedder(" HASH ", "cpu")
    assert {"minilm", "static", "hash"} <= set(known_aliases())
    with pytest.raises(ConfigError, match="unknown embedder 'nope'"):
        get_embedder("nope")
    with pytest.raises(ConfigError, match="unknown embedding device 'tpu'"):
        get_embedder("hash", "tpu")
    register_embedder("hash-8", lambda device: HashEmbedder(8, device))
    assert get_embedder("hash-8").dim == 8


def test_models_without_a_gpu_path_run_on_the_cpu_whatever_the_device() -> None:
    assert get_embedder("hash", "cuda").embed(["x"]).shape == (1, 256)


@pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is None, reason="minilm extra not installed")
def test_the_gpu_path_of_minilm_exists_and_refuses_a_missing_device() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the refusal is what is tested here")
    with pytest.raises(ConfigError, match="not available") as err:
        get_embedder("minilm", "cuda")
    assert "TRACELAKE_EMBED_DEVICE=cpu" in str(err.value)
    assert get_embedder("minilm", "cpu").device == "cpu"  # created, not loaded: the model loads on first embed


def test_devices_follow_the_settings_and_fall_back_to_the_cpu() -> None:
    assert use_devices(Settings()) == {"embed_device": "cpu", "parse_gpu": False}
    gpu = use_devices(Settings(parse_gpu=True))  # spacy.prefer_gpu() is False without a GPU
    assert gpu["parse_gpu"] in (False, True)
    assert Settings.from_env({"TRACELAKE_EMBED_DEVICE": "cuda:1", "TRACELAKE_PARSE_GPU": "1"}).embed_device == "cuda:1"


def test_each_distinct_text_is_embedded_once_and_vectors_match_the_model(cache: VectorCache) -> None:
    model = Counting()
    emb = CachedEmbedder(model, cache)
    texts = ["Ann: I moved to Berlin.", "Bob: nice!", "Ann: I moved to Berlin.", ""]
    out = emb.embed(texts)
    assert model.seen == ["Ann: I moved to Berlin.", "Bob: nice!", ""]
    assert np.array_equal(out, model.inner.embed(texts)) and out.dtype == np.float32
    assert emb.stats == {"texts": 4, "distinct": 3, "cache_hits": 0, "embedded": 3}
    assert emb.embed([]).shape == (0, 32)


def test_a_second_run_takes_unchanged_texts_from_the_cache(cache: VectorCache) -> None:
    first = CachedEmbedder(Counting(), cache)
    vectors = first.embed(["a b c", "d e f"])
    cache.commit(first.cache_fragments())
    model = Counting()
    again = CachedEmbedder(model, cache)
    out = again.embed(["d e f", "new text", "a b c"])
    assert model.seen == ["new text"]
    assert np.array_equal(out[[2, 0]], vectors)
    assert again.stats["cache_hits"] == 2
    cache.commit(again.cache_fragments())
    assert cache.maintain() == {"index_created": 1}
    assert set(cache.lookup([text_key(model.name, "new text"), "absent"])) == {text_key(model.name, "new text")}


def test_without_a_cache_everything_is_embedded() -> None:
    model = Counting()
    emb = CachedEmbedder(model, None)
    emb.embed(["x", "x", "y"])
    assert model.seen == ["x", "y"] and emb.cache_fragments() == []


def test_consolidation_embeds_each_distinct_text_once_and_fills_the_cache(local_lake) -> None:
    events = [{"tenant": "t1", "stream": "s", "actor": "Ann", "event_id": f"e{i}",
               "occurred_at": f"2023-05-08T13:{i:02d}:00Z",
               "text": f"I moved to Berlin in {2000 + i}. My friend Bob helped me carry {i} boxes."} for i in range(6)]
    local_lake.ingest(events)
    report = local_lake.consolidate()
    embed = report.steps["embed"]
    traces = local_lake.sql("select count(*) as n from traces")["n"][0].as_py()
    assert traces == 3 * len(events)  # every turn has two sentences: the whole turn and two unit traces
    # each unit is embedded; the whole turn pools its units' vectors (no text of its own)
    assert embed["embedded"] == embed["distinct"] == traces - len(events) and embed["cache_hits"] == 0
    assert set(report.steps["timing"]) >= {"decompose_wall_s", "embed_task_s", "parse_and_analysis_task_s",
                                            "merge_wall_s", "commit_s", "reindex_s"}
    cache = VectorCache(local_lake.store, local_lake.store.embedding_dim())
    units = [u for e in events for u in e["text"].replace(". ", ".\n").splitlines()]
    assert len(cache.lookup([text_key(get_embedder("hash").name, f"Ann: {u}") for u in units])) == 2 * len(events)
    assert not cache.lookup([text_key(get_embedder("hash").name, f"Ann: {e['text']}") for e in events])


class Spanning(Counting):
    """A span embedder over the hash model: a span's vector is its fallback text's, read once per text."""

    span_pooling = "test-v1"

    def __init__(self) -> None:
        super().__init__()
        self.read: list[str] = []

    def embed_spans(self, texts: list[str], spans: list[list[tuple[int, int]]], leads: list[int]) -> np.ndarray:
        self.read.extend(texts)
        return self.inner.embed(span_texts(texts, spans, leads))


def test_span_keys_never_meet_text_keys_and_follow_everything_the_vector_depends_on() -> None:
    text, spans = "Ann: I moved. It rained.", [(5, 13), (14, 24)]
    key = span_key("m", "p", text, 5, spans, 0)
    assert key.startswith("span:") and len(text_key("m", text)) == 32 and "span:" not in text_key("m", text)
    variants = {span_key("m", "p", text, 5, spans, 1), span_key("m2", "p", text, 5, spans, 0),
                span_key("m", "p2", text, 5, spans, 0), span_key("m", "p", text + " ", 5, spans, 0),
                span_key("m", "p", text, 0, spans, 0), span_key("m", "p", text, 5, spans[:1], 0),
                text_key("m", text), text_key("m", text[:5] + text[5:13])}
    assert key not in variants and len(variants) == 8
    assert span_key("m", "p", text, 5, spans, 0) == key  # deterministic


def test_span_vectors_are_cached_under_span_keys_and_a_text_is_read_once(cache: VectorCache) -> None:
    texts, spans, leads = ["Ann: I moved. It rained.", "Bob: Hi.", "Ann: I moved. It rained."], \
        [[(5, 13), (14, 24)], [(5, 8)], [(5, 13), (14, 24)]], [5, 5, 5]
    model = Spanning()
    emb = CachedEmbedder(model, cache)
    out = emb.embed_spans(texts, spans, leads)
    assert model.read == texts[:2] and model.seen == []
    assert np.array_equal(out, model.inner.embed(span_texts(texts, spans, leads)))
    assert emb.stats == {"texts": 5, "distinct": 3, "cache_hits": 0, "embedded": 3}
    cache.commit(emb.cache_fragments())
    again_model = Spanning()
    again = CachedEmbedder(again_model, cache)
    assert np.array_equal(again.embed_spans(texts, spans, leads), out) and again_model.read == []
    # a plain text vector of the same characters is not a span vector: embedded anew, under its own key
    again.embed(["Ann: I moved."])
    assert again_model.seen == ["Ann: I moved."]
    assert again.span_pooling == "test-v1" and CachedEmbedder(Counting(), None).span_pooling == "texts"


def test_over_a_model_without_span_vectors_spans_are_plain_texts_in_the_cache(cache: VectorCache) -> None:
    model = Counting()
    emb = CachedEmbedder(model, cache)
    out = emb.embed_spans(["Ann: I moved. It rained."], [[(5, 13), (14, 24)]], [5])
    assert model.seen == ["Ann: I moved.", "Ann: It rained."]
    assert np.array_equal(out, model.inner.embed(model.seen))
    cache.commit(emb.cache_fragments())
    assert len(cache.lookup([text_key(model.name, t) for t in model.seen])) == 2
