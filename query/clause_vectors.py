"""Vectors of the clause pieces ``lake.context`` compares with a question: the lake's vector cache first (the
consolidation run embedded every quoted clause, ``Settings.clause_vectors``), the query embedder for the rest.

A clause's vector is keyed like any text the lake embedded (:func:`~tracelake.storage.vectors.text_key` of the
embedder's name and :func:`~tracelake.operators.clause_pieces.piece_text`), so the write and read paths agree
by construction; vectors are returned L2-normalised. A bounded in-process memo keeps the vectors of recent
queries (a clause's vector never changes: content-addressed). Thread-safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from tracelake.errors import StorageError
from tracelake.storage import LakeStore
from tracelake.storage.vectors import VectorCache, text_key

__all__ = ["ClauseVectors"]

#: Clause vectors kept in memory (about 1.5 KiB each at 384 dimensions).
MEMO_VECTORS = 50_000


class ClauseVectors:
    """``clause_vectors(texts) -> float32[len(texts), dim]`` (unit rows) for one lake and its query embedder
    (an object with ``dim`` and ``embed(texts)``; without a ``name`` the lake's cache is not consulted — its keys
    name the model)."""

    def __init__(self, store: LakeStore, embedder: Any, memo: int = MEMO_VECTORS) -> None:
        self.embedder, self.memo_size = embedder, memo
        self.name: str | None = getattr(embedder, "name", None)
        self.cache = VectorCache(store, embedder.dim) if self.name else None
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        #: What the calls so far found where: ``memo``, ``cache`` (the lake's vector cache), ``embedded``.
        self.stats = {"memo": 0, "cache": 0, "embedded": 0}

    def __call__(self, texts: list[str]) -> np.ndarray:
        dim = self.embedder.dim
        if not texts:
            return np.zeros((0, dim), np.float32)
        keys = [text_key(self.name or "", t) for t in texts]
        with self._lock:
            found = {k: self._memo[k] for k in dict.fromkeys(keys) if k in self._memo}
            for k in found:
                self._memo.move_to_end(k)
        self.stats["memo"] += len(found)
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        if missing:
            try:
                cached = self.cache.lookup(missing) if self.cache is not None else {}
            except StorageError:  # a lake without a vector cache (nothing consolidated with one yet)
                cached = {}
            self.stats["cache"] += len(cached)
            found.update(cached)
            todo = [k for k in missing if k not in found]
            if todo:
                text_of = dict(zip(keys, texts))
                fresh = np.asarray(self.embedder.embed([text_of[k] for k in todo]), np.float32).reshape(len(todo), dim)
                found.update(zip(todo, fresh))
                self.stats["embedded"] += len(todo)
            new = {k: _unit(np.asarray(found[k], np.float32)) for k in missing}
            found.update(new)
            with self._lock:
                self._memo.update(new)
                while len(self._memo) > self.memo_size:
                    self._memo.popitem(last=False)
        return np.stack([found[k] for k in keys])


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v
