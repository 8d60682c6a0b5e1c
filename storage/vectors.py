"""The lake's vector cache: the embedding of every text a model has embedded for this lake, by content hash,
so a re-consolidation (after a decay or merge change, a rollback, a replay) does not embed unchanged texts again.

Table ``<lake>/_vectors.lance`` (storage-owned, outside the published tables): ``key``, ``model``, ``vector``
(``float32[dim]``). Two kinds of key: :func:`text_key` (32 hex digits: blake2b-128 of the model's name and the
text) for a text embedded on its own, and :func:`span_key` (``"span:"`` + blake2b-128 of the model's name, its
span pooling, the whole text, its lead, all its spans and the span's place) for a span read in the context of
its text, so a span vector never shares a key with a plain text vector. A row is true for ever
(content-addressed), so it needs no publication and no rollback; two runs that embed the same text may both
append it (a lookup takes any copy). Written two-phase like traces: tasks write fragments
(:meth:`VectorCache.write_fragments`), the driver commits them once (:meth:`VectorCache.commit`).
:meth:`VectorCache.maintain` compacts small fragments and keeps a BTREE index on ``key`` for the lookups.
"""

from __future__ import annotations

import hashlib
import json

import lance
import numpy as np
import pyarrow as pa

from tracelake.errors import StorageError
from tracelake.storage.lake_store import LakeStore, sql_quote

__all__ = ["VectorCache", "text_key", "span_key"]

#: Keys per ``key IN (...)`` lookup.
_LOOKUP_KEYS = 1_000
#: Fragments past which :meth:`VectorCache.maintain` compacts.
_COMPACT_FRAGMENTS = 32


def text_key(model: str, text: str) -> str:
    """The cache key of ``text`` embedded by ``model`` (hex blake2b-128; lone surrogates kept, not dropped)."""
    return hashlib.blake2b(f"{model}\x00{text}".encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def span_key(model: str, pooling: str, text: str, lead: int, spans: list[tuple[int, int]], index: int) -> str:
    """The cache key of span ``spans[index]`` of ``text`` (with its ``lead``) embedded by ``model`` in context with
    ``pooling`` (:attr:`~tracelake.operators.embedders.SpanEmbedder`'s): ``"span:"`` + hex blake2b-128 of all of
    them, so it never equals a :func:`text_key` (no prefix) and changes whenever the vector could."""
    layout = ",".join(f"{lo}-{hi}" for lo, hi in spans)
    digest = hashlib.blake2b(f"{model}\x00{pooling}\x00{lead}\x00{layout}\x00{index}\x00{text}".encode(
        "utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return f"span:{digest}"


class VectorCache:
    """The vector cache of one lake for embeddings of ``dim`` dimensions. Picklable (URI and options only)."""

    def __init__(self, store: LakeStore, dim: int) -> None:
        self.store, self.dim = store, dim
        self.uri = f"{store.uri}/_vectors.lance"
        self.schema = pa.schema([pa.field("key", pa.string(), nullable=False),
                                 pa.field("model", pa.string(), nullable=False),
                                 pa.field("vector", pa.list_(pa.float32(), dim), nullable=False)])

    def _options(self) -> dict[str, str] | None:
        return self.store.storage_options or None

    def _dataset(self) -> lance.LanceDataset:
        try:
            return lance.dataset(self.uri, storage_options=self._options())
        except (ValueError, OSError) as exc:
            raise StorageError(f"cannot open the vector cache: {exc}", uri=self.uri) from exc

    def create(self) -> None:
        """Create the table when missing (idempotent; race-safe)."""
        try:
            self._dataset()
            return
        except StorageError:
            pass
        try:
            lance.write_dataset(self.schema.empty_table(), self.uri, schema=self.schema, mode="create",
                                storage_options=self._options())
        except OSError as exc:
            if "already exists" not in str(exc):
                raise StorageError(f"cannot create the vector cache: {exc}", uri=self.uri) from exc

    def lookup(self, keys: list[str]) -> dict[str, np.ndarray]:
        """``{key: vector}`` for the keys the cache holds (the others are absent)."""
        if not keys:
            return {}
        ds = self._dataset()
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), _LOOKUP_KEYS):
            part = keys[i:i + _LOOKUP_KEYS]
            rows = ds.to_table(columns=["key", "vector"],
                               filter="key IN (" + ", ".join(sql_quote(k) for k in part) + ")")
            if rows.num_rows:
                flat = rows["vector"].combine_chunks().flatten().to_numpy(zero_copy_only=False)
                vectors = flat.reshape(rows.num_rows, self.dim)
                found.update(zip(rows["key"].to_pylist(), vectors))
        return found

    def write_fragments(self, keys: list[str], model: str, vectors: np.ndarray) -> list[str]:
        """Phase one: write new rows as uncommitted fragments; returns their metadata (JSON strings)."""
        if not keys:
            return []
        flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1), pa.float32())
        table = pa.table({"key": pa.array(keys, pa.string()), "model": pa.array([model] * len(keys), pa.string()),
                          "vector": pa.FixedSizeListArray.from_arrays(flat, self.dim)}, schema=self.schema)
        try:
            frags = lance.fragment.write_fragments(table, self.uri, schema=self.schema,
                                                   storage_options=self._options())
        except (OSError, ValueError, RuntimeError) as exc:
            raise StorageError(f"writing vector cache fragments failed: {exc}", uri=self.uri) from exc
        return [json.dumps(f.to_json()) for f in frags]

    def commit(self, fragments: list[str]) -> None:
        """Phase two: append the fragments in one commit (appends never conflict)."""
        if not fragments:
            return
        metadata = [lance.fragment.FragmentMetadata.from_json(f) for f in fragments]
        try:
            lance.LanceDataset.commit(self.uri, lance.LanceOperation.Append(metadata),
                                      read_version=self._dataset().version, storage_options=self._options())
        except (OSError, ValueError, RuntimeError) as exc:
            raise StorageError(f"vector cache commit failed: {exc}", uri=self.uri) from exc

    def maintain(self) -> dict[str, int]:
        """Compact small fragments and bring the ``key`` index up to date; returns what it did."""
        ds = self._dataset()
        done: dict[str, int] = {}
        if ds.count_rows() == 0:
            return done
        if len(ds.get_fragments()) > _COMPACT_FRAGMENTS:
            done["fragments_removed"] = ds.optimize.compact_files().fragments_removed
            ds = self._dataset()
        index = next((ix["name"] for ix in ds.list_indices() if ix["fields"] == ["key"]), None)
        if index is None:
            ds.create_scalar_index("key", "BTREE")
            done["index_created"] = 1
        elif ds.stats.index_stats(index).get("num_unindexed_rows", 0):
            ds.optimize.optimize_indices()
            done["index_optimized"] = 1
        return done
