from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from tracelake.errors import ConfigError
from tracelake.embedding import get_embedder, known_aliases
from tracelake.operators.embedders import Embedder


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
    assert {"minilm", "static", "hash"} <= set(known_aliases())


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is None, reason="minilm extra not installed")
def test_minilm_loads_offline() -> None:
    e = get_embedder("minilm")
    v = e.embed(["I moved to Berlin last year.", "I relocated to Berlin in 2022.", "I love pizza.", ""])
    assert v.shape == (4, 384) and v.dtype == np.float32
    assert v[0] @ v[1] > v[0] @ v[2]
    assert np.linalg.norm(v[3]) == 0.0
