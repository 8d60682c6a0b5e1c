from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from tracelake.errors import ConfigError
from tracelake.embedding import get_embedder, known_aliases
from tracelake.operators.decompose import decompose
from tracelake.operators.embedders import Embedder, SpanEmbedder, _windows, embed_spans, span_texts

from tests.operators.conftest import NOW, make_events


@pytest.mark.parametrize("alias,dim", [("hash", 256), ("static", 64)])
def test_shape_norm_determinism(alias: str, dim: int) -> None:
    e = get_embedder(alias)
    assert isinstance(e, Embedder) and e.dim == dim and e.name
    texts = ["I moved to Berlin.", "", "I moved to Berlin.", "Ünïcödé 🎉 \x00"]
    v = e.embed(texts)
    assert v.dtype == np.float32 and v.shape == (4, dim)
    norms = np.linalg.norm(v, axis=1)
    assert np.allclose(norms[[0, 2]], 1.0, atol=1e-5) and norms[1] == 0.0
    assert np.array_equal(v[0], v[2])
    assert np.array_equal(e.embed(texts), v)
    assert e.embed([]).shape == (0, dim)


def test_hash_similarity_is_meaningful() -> None:
    e = get_embedder("hash")
    a, b, c = e.embed(["my friend Sarah works at Google", "my friend Sarah works at Google now", "the cat sat on a mat"])
    assert a @ b > 0.8 > a @ c


def test_cached_per_alias_and_case_insensitive() -> None:
    assert get_embedder("hash") is get_embedder(" HASH ")


def test_unknown_alias_lists_known() -> None:
    with pytest.raises(ConfigError) as err:
        get_embedder("nope")
    for alias in known_aliases():
        assert alias in str(err.value)
    assert {"minilm", "minilm-late", "static", "hash"} <= set(known_aliases())


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is None, reason="minilm extra not installed")
def test_minilm_loads_offline() -> None:
    e = get_embedder("minilm")
    v = e.embed(["I moved to Berlin last year.", "I relocated to Berlin in 2022.", "I love pizza.", ""])
    assert v.shape == (4, 384) and v.dtype == np.float32
    assert v[0] @ v[1] > v[0] @ v[2]
    assert np.linalg.norm(v[3]) == 0.0


# --- span vectors (late chunking) ---------------------------------------------------------------------------

SPAN_TEXTS = ["Caroline: I went to the support group yesterday. It was so powerful! Then we had dinner.",
              "Mel: Hi there, all good. How are you doing?"]
SPAN_LEADS = [10, 5]
SPAN_UNITS = [["I went to the support group yesterday.", "It was so powerful!", "Then we had dinner."],
              ["Hi there, all good.", "How are you doing?"]]
SPAN_SPANS = [[(t.index(u), t.index(u) + len(u)) for u in units] for t, units in zip(SPAN_TEXTS, SPAN_UNITS)]

needs_minilm = pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is None,
                                  reason="minilm extra not installed")


def test_without_the_capability_each_span_is_embedded_as_lead_plus_span() -> None:
    e = get_embedder("hash")
    assert not isinstance(e, SpanEmbedder)
    expected = ["Caroline: I went to the support group yesterday.", "Caroline: It was so powerful!",
                "Caroline: Then we had dinner.", "Mel: Hi there, all good.", "Mel: How are you doing?"]
    assert span_texts(SPAN_TEXTS, SPAN_SPANS, SPAN_LEADS) == expected
    assert np.array_equal(embed_spans(e, SPAN_TEXTS, SPAN_SPANS, SPAN_LEADS), e.embed(expected))
    assert embed_spans(e, [], [], []).shape == (0, 256)


def test_decompose_hands_each_unit_as_a_span_of_its_whole_turn(hash_embedder) -> None:
    class Recording:
        name, dim, span_pooling = "rec", 256, "test"

        def __init__(self) -> None:
            self.calls: list[tuple[list[str], list[list[tuple[int, int]]], list[int]]] = []

        def embed(self, texts: list[str]) -> np.ndarray:
            return hash_embedder.embed(texts)

        def embed_spans(self, texts, spans, leads) -> np.ndarray:
            self.calls.append((texts, spans, leads))
            return hash_embedder.embed(span_texts(texts, spans, leads))

    rec = Recording()
    events = make_events([{"event_id": "e1", "actor": "Ann", "text": "I moved to Berlin. My friend Bob helped me."},
                          {"event_id": "e2", "actor": None, "text": "The box was heavy. We carried it up together."},
                          {"event_id": "e3", "actor": "Bob", "text": "Nice one!"}])
    d = decompose(events, embedder=rec, now=NOW, stability_days=3.0)
    (texts, spans, leads), = rec.calls
    assert texts == ["Ann: I moved to Berlin. My friend Bob helped me.", "The box was heavy. We carried it up together."]
    assert leads == [5, 0]
    assert [[t[lo:hi] for lo, hi in s] for t, s in zip(texts, spans)] == [
        ["I moved to Berlin.", "My friend Bob helped me."], ["The box was heavy.", "We carried it up together."]]
    # same vectors as the fallback path gives
    assert np.array_equal(np.asarray(d.traces["embedding"].to_pylist(), np.float32),
                          np.asarray(decompose(events, embedder=hash_embedder, now=NOW, stability_days=3.0)
                                     .traces["embedding"].to_pylist(), np.float32))


def test_windows_cut_a_long_text_on_span_boundaries_each_with_the_lead() -> None:
    starts = np.arange(0, 2000, 2)  # 1,000 tokens of two characters
    spans = [(10 + 60 * k, 70 + 60 * k) for k in range(30)]  # 30 tokens each
    spans.append((1810, 1990))  # 90 tokens
    windows = _windows(starts, spans, lead=10, limit=100)
    lead = np.arange(5)
    covered = []
    for w in windows:
        assert len(w) <= 100 and np.array_equal(w[:5], lead)
        body = w[5:]
        assert np.array_equal(body, np.arange(body[0], body[-1] + 1))
        covered.extend(body.tolist())
        assert starts[body[0]] in {lo for lo, _ in spans}  # every window opens at a span
    assert covered == list(range(5, 995))  # every span token once, in order
    assert [len(w) - 5 for w in windows] == [90] * 10 + [90]
    assert len(_windows(starts[:100], spans[:3], lead=10, limit=100)) == 1  # fits: the whole text, one window
    # a span longer than a window is cut into pieces that fit
    assert [len(w) for w in _windows(starts, [(10, 1990)], lead=10, limit=100)] == [100] * 10 + [45]


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    return get_embedder("minilm-late")


@needs_minilm
def test_late_chunking_is_opt_in_and_shares_minilm_plain_vectors(minilm) -> None:
    assert not isinstance(get_embedder("minilm"), SpanEmbedder) and isinstance(minilm, SpanEmbedder)
    assert minilm.name == get_embedder("minilm").name and minilm.span_pooling == "late-chunking-v1+lead"
    assert np.abs(minilm.embed(SPAN_TEXTS) - get_embedder("minilm").embed(SPAN_TEXTS)).max() < 1e-6


@needs_minilm
def test_minilm_mean_of_all_tokens_is_its_encode(minilm) -> None:
    tokenizer = minilm._load().tokenizer
    windows = [np.asarray(ids) for ids in tokenizer(SPAN_TEXTS, add_special_tokens=False)["input_ids"]]
    hidden = minilm._token_embeddings(windows)
    assert [h.shape for h in hidden] == [(len(w) + 2, 384) for w in windows]
    pooled = np.stack([h.mean(axis=0) for h in hidden])
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    assert np.abs(pooled - minilm.embed(SPAN_TEXTS)).max() < 1e-6


@needs_minilm
def test_minilm_span_vectors_pool_the_span_tokens_and_the_lead(minilm, monkeypatch) -> None:
    tokenizer = minilm._load().tokenizer
    enc = tokenizer(SPAN_TEXTS, add_special_tokens=False, return_offsets_mapping=True)

    def one_hot(windows: list[np.ndarray]) -> list[np.ndarray]:  # token j of a window -> unit vector e_(j+1)
        return [np.eye(len(w) + 2, 384, dtype=np.float32) for w in windows]

    monkeypatch.setattr(minilm, "_token_embeddings", one_hot)
    for pool_lead in (True, False):
        monkeypatch.setattr(minilm, "pool_lead", pool_lead)
        vectors = minilm.embed_spans(SPAN_TEXTS, SPAN_SPANS, SPAN_LEADS)
        row = 0
        for offsets, spans, lead in zip(enc["offset_mapping"], SPAN_SPANS, SPAN_LEADS):
            for lo, hi in spans:
                picked = {j for j, (a, _) in enumerate(offsets) if lo <= a < hi or (pool_lead and a < lead)}
                assert set(np.flatnonzero(vectors[row]) - 1) == picked
                row += 1
    monkeypatch.undo()
    real = minilm.embed_spans(SPAN_TEXTS, SPAN_SPANS, SPAN_LEADS)
    alone = minilm.embed(span_texts(SPAN_TEXTS, SPAN_SPANS, SPAN_LEADS))
    assert np.allclose(np.linalg.norm(real, axis=1), 1.0, atol=1e-5)
    assert (real * alone).sum(axis=1).min() > 0.6  # read in context, still near the span read alone
    assert np.array_equal(minilm.embed_spans(SPAN_TEXTS, SPAN_SPANS, SPAN_LEADS), real)  # same input, same bytes


@pytest.mark.slow
@needs_minilm
def test_minilm_reads_a_long_text_in_windows_of_whole_spans(minilm) -> None:
    sentences = [f"On day {k} I walked {k + 3} miles along the river with my old friend number {k}." for k in range(40)]
    lead, text, spans = 5, "Ann: ", []
    for s in sentences:
        spans.append((len(text), len(text) + len(s)))
        text += s + " "
    n_tokens = len(minilm._load().tokenizer(text, add_special_tokens=False)["input_ids"])
    assert n_tokens > 2 * minilm._load().max_seq_length
    vectors = minilm.embed_spans([text], [spans], [lead])
    assert vectors.shape == (40, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # each window is read as the lead and its spans alone would be: the first window's spans, as a short text of
    # their own (which fits one window), get the same vectors
    tokenizer = minilm._load().tokenizer
    starts = np.asarray(tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"])[:, 0]
    windows = _windows(starts, spans, lead, minilm._load().max_seq_length - 2)
    assert len(windows) >= 3
    end = starts[windows[0][-1]]
    inside = [k for k, (lo, _) in enumerate(spans) if lo <= end]
    short = minilm.embed_spans([text[:spans[inside[-1]][1]]], [spans[:len(inside)]], [lead])
    assert np.abs(short - vectors[:len(inside)]).max() < 1e-5
    assert np.array_equal(minilm.embed_spans([text], [spans], [lead]), vectors)


@needs_minilm
def test_minilm_direct_path_for_a_query_gives_encodes_vectors(minilm) -> None:
    texts = ["What did Renata earn before?", "", "naïve café 🙂", "a long query " * 120, "hi"]
    assert len(texts) > minilm.direct_max  # one call through encode, then each text alone through the direct path
    batched = minilm.embed(texts)
    alone = np.stack([minilm.embed([t])[0] for t in texts])
    assert np.abs(alone - batched).max() < 1e-5
    assert not alone[1].any() and np.allclose(np.linalg.norm(alone[[0, 2, 3, 4]], axis=1), 1.0, atol=1e-5)
