"""The embedding step of a decomposition task: the lake's vector cache first, the model for what is left.

:class:`CachedEmbedder` is the :class:`~tracelake.operators.embedders.Embedder` a task hands to ``decompose``:
per ``embed`` call it embeds each *distinct* text once, takes the vectors of texts this lake has embedded
before from :class:`~tracelake.storage.vectors.VectorCache`, and keeps the new ones for the cache (the task
writes them as fragments, the driver commits them). It counts what it did and the seconds spent in the
model and in cache lookups, for the run's profile. :func:`use_devices` applies the device settings in a
Ray worker (the embedder's ``embed_device``; spaCy's GPU with ``parse_gpu``).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from tracelake.operators.embedders import Embedder
from tracelake.settings import Settings
from tracelake.storage.vectors import VectorCache, text_key

__all__ = ["CachedEmbedder", "use_devices"]


class CachedEmbedder:
    """An :class:`Embedder` over ``model`` backed by the lake's vector ``cache`` (``None``: no cache)."""

    def __init__(self, model: Embedder, cache: VectorCache | None) -> None:
        self.model, self.cache = model, cache
        self.name, self.dim = model.name, model.dim
        self.new_keys: list[str] = []
        self.new_vectors: list[np.ndarray] = []
        self.stats = {"texts": 0, "distinct": 0, "cache_hits": 0, "embedded": 0}
        self.seconds = {"embed_s": 0.0, "cache_lookup_s": 0.0}

    def embed(self, texts: list[str]) -> np.ndarray:
        keys = [text_key(self.name, t or "") for t in texts]
        distinct = dict(zip(keys, texts))
        t0 = time.perf_counter()
        found = self.cache.lookup(list(distinct)) if self.cache is not None else {}
        t1 = time.perf_counter()
        missing = [k for k in distinct if k not in found]
        fresh = self.model.embed([distinct[k] for k in missing]) if missing else np.zeros((0, self.dim), np.float32)
        self.seconds["cache_lookup_s"] += t1 - t0
        self.seconds["embed_s"] += time.perf_counter() - t1
        found.update(zip(missing, np.asarray(fresh, dtype=np.float32)))
        self.new_keys += missing
        self.new_vectors.append(np.asarray(fresh, dtype=np.float32).reshape(len(missing), self.dim))
        for k, v in (("texts", len(texts)), ("distinct", len(distinct)), ("cache_hits", len(distinct) - len(missing)),
                     ("embedded", len(missing))):
            self.stats[k] += v
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def cache_fragments(self) -> list[str]:
        """Write the vectors embedded so far as uncommitted cache fragments; returns their metadata."""
        if self.cache is None or not self.new_keys:
            return []
        return self.cache.write_fragments(self.new_keys, self.name, np.concatenate(self.new_vectors))


def use_devices(settings: Settings) -> dict[str, Any]:
    """Apply the device settings in this process (a Ray worker); returns what is in use."""
    gpu_parse = False
    if settings.parse_gpu:
        import spacy

        gpu_parse = bool(spacy.prefer_gpu())  # False (and the CPU) when there is no GPU
    return {"embed_device": settings.embed_device, "parse_gpu": gpu_parse}
