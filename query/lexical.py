"""Tenant-local BM25: a small in-memory inverted index over one tenant's traces, built from one scan.

Lance's full-text index keeps one set of statistics (document frequencies, average length) for the whole
table, so with it a tenant's ranking moves when *other* tenants write. For tenants up to
``SearchConfig.local_text_max_rows`` traces the text signal uses this index instead, and its statistics come
from the tenant's traces **visible at** ``as_of`` only: a tenant's results never depend on another tenant's data,
nor on traces it could not see at ``as_of``.

Documents are ``actor + " " + text`` (a question naming a speaker favours what that speaker said, as the
multi-match over ``text`` and ``actor`` does on the Lance path). Analysis, identical for documents and
queries: lower case, split on anything not a letter or digit, tokens of one character and English stopwords
dropped, Snowball (Porter2) English stems — the same family of analysis as Lance's default tokenizer.
Scoring is Okapi BM25, ``idf = ln(1 + (N - df + 0.5) / (df + 0.5))``, each query term counted once.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import snowballstemmer

from tracelake.operators.lexicon import STOPWORDS

__all__ = ["LexicalIndex", "analyze", "stems", "bm25_idf"]

_SPLIT = r"[^\pL\pN]+"
_STOP = pa.array(sorted(STOPWORDS), pa.string())
_stemmer = snowballstemmer.stemmer("english")
_stems: dict[str, str] = {}
_stem_lock = threading.Lock()


def _stem_all(words: list[str]) -> list[str]:
    """Stems of ``words`` (a process-wide cache: vocabularies repeat across tenants and queries)."""
    with _stem_lock:
        missing = [w for w in words if w not in _stems]
        if missing:
            if len(_stems) > 1_000_000:
                _stems.clear()
            _stems.update(zip(missing, _stemmer.stemWords(missing)))
        return [_stems[w] for w in words]


def analyze(docs: pa.Array) -> tuple[np.ndarray, list[str], np.ndarray]:
    """``(doc, vocabulary, term)``: for every kept token, its document index and the index of its stem in
    ``vocabulary`` (sorted, unique). Vectorised in Arrow; only the distinct words are stemmed."""
    tokens = pc.split_pattern_regex(pc.utf8_lower(pc.fill_null(docs, "")), _SPLIT)
    words = pc.list_flatten(tokens)
    parents = pc.list_parent_indices(tokens)
    keep = pc.and_(pc.greater_equal(pc.utf8_length(words), 2), pc.invert(pc.is_in(words, value_set=_STOP)))
    words, parents = pc.filter(words, keep), pc.filter(parents, keep)
    if not len(words):
        return np.zeros(0, np.int64), [], np.zeros(0, np.int64)
    encoded = words.dictionary_encode()
    stems = np.array(_stem_all(encoded.dictionary.to_pylist()), dtype=object)
    vocab, stem_of_word = np.unique(stems, return_inverse=True)
    term = stem_of_word[encoded.indices.to_numpy(zero_copy_only=False)]
    return parents.to_numpy(zero_copy_only=False).astype(np.int64), vocab.tolist(), term.astype(np.int64)


def bm25_idf(n: Any, df: Any) -> Any:
    """Okapi BM25 ``idf = ln(1 + (N - df + 0.5) / (df + 0.5))`` (scalars or numpy arrays)."""
    return np.log(1.0 + (n - df + 0.5) / (df + 0.5))


_PY_SPLIT = re.compile(r"[\W_]+")


def stems(text: str) -> set[str]:
    """The distinct stems of one short text (a question, a clause, a fact's words), analysed like documents
    and queries (lower case, split on non-alphanumerics, short tokens and stopwords out, Snowball stems) in
    plain Python: Arrow's per-call overhead dominates for one short string."""
    words = {w for w in _PY_SPLIT.split((text or "").lower()) if len(w) >= 2 and w not in STOPWORDS}
    return set(_stem_all(sorted(words))) if words else set()


class LexicalIndex:
    """Postings of one tenant's documents (positions in its working set, i.e. row-id order)."""

    def __init__(self, docs: pa.Array) -> None:
        n = len(docs)
        doc, vocab, term = analyze(docs)
        self.terms = {t: i for i, t in enumerate(vocab)}
        key = term * max(n, 1) + doc
        pairs, tf = np.unique(key, return_counts=True)  # sorted by term, then document
        self.doc = (pairs % max(n, 1)).astype(np.int32)
        self.tf = tf.astype(np.float32)
        self.offsets = np.searchsorted(pairs // max(n, 1), np.arange(len(vocab) + 1)).astype(np.int64)
        self.length = np.bincount(doc, minlength=n).astype(np.float32)

    @property
    def nbytes(self) -> int:
        return self.doc.nbytes + self.tf.nbytes + self.offsets.nbytes + self.length.nbytes + 64 * len(self.terms)

    def idf(self, terms: set[str], visible: np.ndarray) -> dict[str, float]:
        """BM25 ``idf`` of ``terms`` (stems) over the visible documents; a term no visible document holds gets
        the weight of a term held by none."""
        n_visible = int(visible.sum())
        out = {}
        for t in terms:
            i = self.terms.get(t)
            df = int(visible[self.doc[self.offsets[i]:self.offsets[i + 1]]].sum()) if i is not None else 0
            out[t] = float(bm25_idf(n_visible, df))
        return out

    def search(self, query: str, visible: np.ndarray, n: int, rowid: np.ndarray, k1: float = 0.9,
               b: float = 0.4) -> np.ndarray:
        """Positions of the ``n`` best visible documents for ``query``, best first (ties: lower row id).
        ``idf`` and the average length are computed over the visible documents only."""
        ids = [self.terms[t] for t in sorted(stems(query)) if t in self.terms]
        n_visible = int(visible.sum())
        if not ids or not n_visible:
            return np.zeros(0, dtype=np.int64)
        avg = float(self.length[visible].mean()) or 1.0
        scores = np.zeros(len(visible), dtype=np.float64)
        for t in ids:
            docs = self.doc[self.offsets[t]:self.offsets[t + 1]]
            tf = self.tf[self.offsets[t]:self.offsets[t + 1]]
            seen = visible[docs]
            docs, tf = docs[seen], tf[seen]
            if not len(docs):
                continue
            df = len(docs)
            idf = bm25_idf(n_visible, df)
            scores[docs] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * self.length[docs] / avg))
        hit = np.flatnonzero(scores > 0)
        return hit[np.lexsort((rowid[hit], -scores[hit]))][:n]
