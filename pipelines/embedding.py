"""The embedding step of a decomposition task: the lake's vector cache first, the model for what is left.

:class:`CachedEmbedder` is the :class:`~tracelake.operators.embedders.Embedder` a task hands to ``decompose``:
it embeds each *distinct* text once per task (across calls), takes the vectors of texts this lake has embedded
before from :class:`~tracelake.storage.vectors.VectorCache`, and keeps the new ones for the cache (the task
writes them as fragments, the driver commits them). It counts what it did and the seconds spent in the
model and in cache lookups, for the run's profile. It is a
:class:`~tracelake.operators.embedders.SpanEmbedder` too: over a model with span vectors of its own, each span's
vector is cached under its :func:`~tracelake.storage.vectors.span_key`, and a text is read again (all its spans)
when any of its spans is missing; over any other model, ``embed_spans`` is ``embed`` of the fallback texts
(:func:`~tracelake.operators.embedders.span_texts`), cached as plain texts. :func:`use_devices` applies the
device settings in a Ray worker (the embedder's ``embed_device``; spaCy's GPU with ``parse_gpu``).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from tracelake.operators.embedders import Embedder, SpanEmbedder, span_texts
from tracelake.settings import Settings
from tracelake.storage.vectors import VectorCache, span_key, text_key

__all__ = ["CachedEmbedder", "use_devices"]


class CachedEmbedder:
    """An :class:`Embedder` over ``model`` backed by the lake's vector ``cache`` (``None``: no cache)."""

    def __init__(self, model: Embedder, cache: VectorCache | None) -> None:
        self.model, self.cache = model, cache
        self.name, self.dim = model.name, model.dim
        self.new_keys: list[str] = []
        self.new_vectors: list[np.ndarray] = []
        self._fresh: dict[str, np.ndarray] = {}  # what this task embedded, by key: each text once per task
        self.stats = {"texts": 0, "distinct": 0, "cache_hits": 0, "embedded": 0}
        self.seconds = {"embed_s": 0.0, "cache_lookup_s": 0.0}

    @property
    def span_pooling(self) -> str:
        return getattr(self.model, "span_pooling", "texts")

    def embed(self, texts: list[str]) -> np.ndarray:
        keys = [text_key(self.name, t or "") for t in texts]
        distinct = dict(zip(keys, texts))
        found = self._lookup(list(distinct))
        missing = [k for k in distinct if k not in found]
        t0 = time.perf_counter()
        fresh = self.model.embed([distinct[k] for k in missing]) if missing else np.zeros((0, self.dim), np.float32)
        self.seconds["embed_s"] += time.perf_counter() - t0
        self._keep(found, missing, fresh, len(texts), len(distinct))
        return self._rows(found, keys)

    def embed_spans(self, texts: list[str], spans: list[list[tuple[int, int]]], leads: list[int]) -> np.ndarray:
        if not isinstance(self.model, SpanEmbedder):
            return self.embed(span_texts(texts, spans, leads))
        model, pooling = self.model, self.model.span_pooling
        keys = [[span_key(self.name, pooling, t or "", lead, s, j) for j in range(len(s))]
                for t, s, lead in zip(texts, spans, leads)]
        flat = [k for ks in keys for k in ks]
        found = self._lookup(list(dict.fromkeys(flat)))
        todo: dict[tuple[str, ...], int] = {}  # each distinct (text, lead, spans) read once: its first row
        for i, ks in enumerate(keys):
            if ks and any(k not in found for k in ks):
                todo.setdefault(tuple(ks), i)
        rows = list(todo.values())
        t0 = time.perf_counter()
        fresh = (model.embed_spans([texts[i] for i in rows], [spans[i] for i in rows], [leads[i] for i in rows])
                 if rows else np.zeros((0, self.dim), np.float32))
        self.seconds["embed_s"] += time.perf_counter() - t0
        missing = [k for i in rows for k in keys[i]]
        self._keep(found, missing, fresh, len(flat), len(set(flat)))
        return self._rows(found, flat)

    def _lookup(self, keys: list[str]) -> dict[str, np.ndarray]:
        """The vectors of ``keys`` embedded earlier in this task or held by the lake's cache."""
        found = {k: self._fresh[k] for k in keys if k in self._fresh}
        rest = [k for k in keys if k not in found]
        t0 = time.perf_counter()
        if self.cache is not None and rest:
            found.update(self.cache.lookup(rest))
        self.seconds["cache_lookup_s"] += time.perf_counter() - t0
        return found

    def _keep(self, found: dict[str, np.ndarray], missing: list[str], fresh: np.ndarray, n: int, distinct: int) -> None:
        """Record ``fresh`` (the vectors of ``missing``) in ``found`` and for the cache; count the call."""
        fresh = np.asarray(fresh, dtype=np.float32).reshape(len(missing), self.dim)
        found.update(zip(missing, fresh))
        self._fresh.update(zip(missing, fresh))
        self.new_keys += missing
        self.new_vectors.append(fresh)
        for k, v in (("texts", n), ("distinct", distinct), ("cache_hits", distinct - len(missing)),
                     ("embedded", len(missing))):
            self.stats[k] += v

    def _rows(self, found: dict[str, np.ndarray], keys: list[str]) -> np.ndarray:
        if not keys:
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
