"""The four candidate generators of hybrid search, each returning working-set positions, best first.

- :func:`vector`: cosine nearest neighbours — exact over the tenant's visible traces (numpy) when its embeddings
  take at most ``flat_search_max_bytes`` or there is no vector index, else IVF_PQ with Lance prefilter.
- :func:`text`: BM25 from Lance's full-text index (tenants above ``local_text_max_rows``; the tenant-local BM25 of
  :mod:`.lexical` serves the others), or over the ``keywords`` lists without an index.
- :func:`entity`: traces naming the question's entities; more matched entities first, then by time.
- :func:`time`: traces mentioning or lying in the question's time windows, closest to the window's middle first.

Every list is restricted to the ``visible`` mask (the as-of filter) and breaks ties on row id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracelake.operators.temporal import TimeSpan
from tracelake.storage.reading import full_text_query
from tracelake.timeutil import dt_micros

from .lexical import bm25_idf
from .search_config import SearchTrace
from .snapshot import Snapshot, quote, str_list
from .traces import entity_rowids
from .working_set import WorkingSet, WorkingSets

__all__ = ["vector", "text_lookup", "text", "entity_lookup", "entity", "time", "fts_query"]


def vector(sets: WorkingSets, snap: Snapshot, tenant: str, ws: WorkingSet, visible: np.ndarray, where: str,
           qv: np.ndarray, n: int, info: SearchTrace) -> np.ndarray:
    """The ``n`` visible traces nearest to ``qv`` (cosine), best first."""
    cfg = sets.config
    q = np.asarray(qv, dtype=np.float32)
    if sets.flat(snap, len(ws), len(q)):
        info.plan["vector"] = "flat"
        emb = sets.embeddings(snap, tenant, ws)  # rows L2-normalised at load (zero rows stay zero)
        cand = np.flatnonzero(visible & ws.has_vector)
        # einsum, not BLAS: a BLAS thread pool on a loaded 2-core machine is 5-10x slower for one vector
        sims = np.einsum("ij,j->i", emb, q / np.linalg.norm(q))[cand]
        if len(cand) > n:
            cut = np.partition(-sims, n - 1)[n - 1]
            keep = -sims <= cut
            cand, sims = cand[keep], sims[keep]
        order = np.lexsort((ws.rowid[cand], -sims))
        return cand[order[:n]]
    info.plan["vector"] = "ivf_pq"
    # Prefilter on the tenant only (an index lookup; the whole as-of filter over a huge tenant costs ~10x
    # the search) and drop invisible rows here, unless too little of the tenant is visible at as_of.
    narrow = int(visible.sum()) >= cfg.post_filter_fraction * len(ws)
    nearest: dict[str, Any] = {"column": "embedding", "q": q, "k": 3 * n if narrow else n, "metric": "cosine",
                               "nprobes": cfg.nprobes, "refine_factor": cfg.refine_factor}
    table = snap.traces.to_table(columns=["_distance"], filter=f"tenant = {quote(tenant)}" if narrow else where,
                                 prefilter=True, nearest=nearest, with_row_id=True,
                                 disable_scoring_autoprojection=True)
    dist = table["_distance"].to_numpy(zero_copy_only=False)
    pos = ws.positions(table["_rowid"].to_numpy())
    ok = ~np.isnan(dist) & visible[pos]
    pos, dist = pos[ok], dist[ok]
    return pos[np.lexsort((ws.rowid[pos], dist))][:n]


def text_lookup(sets: WorkingSets, snap: Snapshot, tenant: str, terms: list[str],
                n: int) -> tuple[pa.Table, int | None]:
    """Full-text lookup (BM25 from the INVERTED index), or the keyword rows without one.

    Returns ``(table, limit)``; ``limit`` is set when the lookup was *global* (no prefilter) and tenant rows
    must be picked out of it: for a tenant holding a large share of the table, building Lance's prefilter
    from the tenant index costs far more (35 ms for 540k of 10M rows) than a global top-``limit`` does.
    """
    tenant_only = f"tenant = {quote(tenant)}"
    if not snap.has_index("traces", "text"):
        return snap.traces.to_table(columns=["keywords"], with_row_id=True,
                                    filter=f"{tenant_only} AND array_has_any(keywords, [{str_list(terms)}])"), None
    query = fts_query(snap, terms)
    share = sets.tenant_count(snap, tenant) / max(1, sets.total_rows(snap))
    limit = int(3 * n / share) if share > 0 else 0  # ~3n of the tenant's rows expected among them
    if 0 < limit <= sets.config.global_text_limit:
        table = snap.traces.to_table(columns=["_score"], full_text_query=query, limit=limit, with_row_id=True,
                                     disable_scoring_autoprojection=True)
        return table, limit
    return snap.traces.to_table(columns=["_score"], filter=tenant_only, prefilter=True, full_text_query=query,
                                limit=3 * n, with_row_id=True, disable_scoring_autoprojection=True), None


def text(sets: WorkingSets, snap: Snapshot, ws: WorkingSet, visible: np.ndarray, n_visible: int, where: str,
         terms: list[str], n: int, lookup: tuple[pa.Table, int | None], info: SearchTrace) -> np.ndarray:
    """BM25 ranking of the visible traces from the result of :func:`text_lookup` (re-run with the full as-of
    prefilter when the lookup could have missed visible rows)."""
    table, global_limit = lookup
    if snap.has_index("traces", "text"):
        info.plan["text"] = "fts"
        # The lookup stands when most of the tenant is visible at as_of (invisible rows are dropped here) and,
        # for a global lookup, when it found enough of the tenant's rows or all matches; otherwise Lance
        # evaluates the whole as-of filter before ranking.
        score = table["_score"].to_numpy(zero_copy_only=False)
        inside, pos = ws.lookup(table["_rowid"].to_numpy())
        ok = inside & visible[pos]
        pos, score = pos[ok], score[ok]
        complete = global_limit is None or len(pos) >= n or table.num_rows < global_limit
        if n_visible < sets.config.post_filter_fraction * len(ws) or not complete:
            info.plan["text"] = "fts_prefiltered"
            table = snap.traces.to_table(columns=["_score"], filter=where, prefilter=True,
                                         full_text_query=fts_query(snap, terms), limit=n, with_row_id=True,
                                         disable_scoring_autoprojection=True)
            score = table["_score"].to_numpy(zero_copy_only=False)
            pos = ws.positions(table["_rowid"].to_numpy())
            ok = visible[pos]
            pos, score = pos[ok], score[ok]
        return pos[np.lexsort((ws.rowid[pos], -score))][:n]
    info.plan["text"] = "keywords_bm25"
    if not table.num_rows:
        return np.zeros(0, dtype=np.int64)
    pos = ws.positions(table["_rowid"].to_numpy())
    flat = pc.list_flatten(table["keywords"])
    parents = pc.list_parent_indices(table["keywords"]).to_numpy()
    hit = pc.is_in(flat, value_set=pa.array(terms, pa.string())).to_numpy(zero_copy_only=False)
    parents = parents[hit]
    words = np.array(pc.filter(flat, pa.array(hit)).to_pylist(), dtype=object)
    seen = visible[pos[parents]]
    parents, words = parents[seen], words[seen]
    if not len(parents):
        return np.zeros(0, dtype=np.int64)
    _, inverse, df = np.unique(words, return_inverse=True, return_counts=True)
    idf = bm25_idf(n_visible, df)
    scores = np.bincount(parents, weights=idf[inverse], minlength=table.num_rows)
    rows = np.flatnonzero(scores > 0)
    order = np.lexsort((ws.rowid[pos[rows]], -scores[rows]))
    return pos[rows[order[:n]]]


def entity_lookup(snap: Snapshot, tenant: str, name: str) -> np.ndarray:
    """Row ids of the tenant's traces listing ``name``: index-only (LABEL_LIST + tenant), no column read."""
    return entity_rowids(snap.traces, tenant, [name])


def entity(ws: WorkingSet, visible: np.ndarray, rowids: list[np.ndarray], spans: list[TimeSpan],
           anchor: datetime, n: int) -> np.ndarray:
    """Visible traces among ``rowids`` (one array per matched entity): more entities first, then inside / closest
    to the time windows ``spans`` (or to ``anchor``)."""
    found = [ws.positions(r) for r in rowids]
    if not any(len(f) for f in found):
        return np.zeros(0, dtype=np.int64)
    pos, counts = np.unique(np.concatenate(found), return_counts=True)
    ok = visible[pos]
    pos, counts = pos[ok], counts[ok]
    when = ws.occurred[pos]
    if spans:
        lo = np.array([dt_micros(s.start) for s in spans])
        hi = np.array([dt_micros(s.end) for s in spans])
        inside = ((when[:, None] >= lo) & (when[:, None] < hi)).any(axis=1)
        dist = np.abs(when[:, None] - (lo + hi) // 2).min(axis=1)
    else:
        inside = np.zeros(len(pos), dtype=bool)
        dist = np.abs(dt_micros(anchor) - when)
    order = np.lexsort((ws.rowid[pos], dist, ~inside, -counts))
    return pos[order[:n]]


def time(ws: WorkingSet, visible: np.ndarray, spans: list[TimeSpan], n: int) -> np.ndarray:
    """Visible traces mentioning (``time_start``/``time_end``) or occurring in a window of ``spans``; mentions
    first, then closest to the window's middle. Needs the working set's time columns."""
    lo = np.array([dt_micros(s.start) for s in spans])[None, :]
    hi = np.array([dt_micros(s.end) for s in spans])[None, :]
    cand = np.flatnonzero(visible)
    when = ws.occurred[cand][:, None]
    ts, te = ws.time_start[cand][:, None], ws.time_end[cand][:, None]
    mentions = ((ts < hi) & (te > lo)).any(axis=1)
    inside = ((when >= lo) & (when < hi)).any(axis=1)
    keep = mentions | inside
    cand, mentions = cand[keep], mentions[keep]
    if not len(cand):
        return cand
    point = np.where(mentions, ws.time_start[cand], ws.occurred[cand])
    dist = np.abs(point[:, None] - (lo + hi) // 2).min(axis=1)
    order = np.lexsort((ws.rowid[cand], dist, ~mentions))
    return cand[order[:n]]


def fts_query(snap: Snapshot, terms: list[str]) -> Any:
    """The full-text query: over ``text`` and, when it has its own INVERTED index, ``actor`` (so a question
    naming a speaker favours what that speaker said, not only the turns that address them by name)."""
    words = " ".join(terms)
    if snap.has_index("traces", "actor"):
        return full_text_query(words, ["text", "actor"])
    return words
