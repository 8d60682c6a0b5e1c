"""The Python API: :class:`Lake`, the one object users hold. A thin facade over the rooms."""

from __future__ import annotations

from functools import cached_property
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterable

import pyarrow as pa

from tracelake.embedding import get_embedder
from tracelake.pipelines import consolidate as consolidate_pipeline
from tracelake.pipelines import ingest as ingest_pipeline
from tracelake.pipelines.consolidate import ConsolidationReport
from tracelake.results import IngestResult
from tracelake.query.sql import SqlEngine
from tracelake.settings import Settings
from tracelake.storage import LakeStore

if TYPE_CHECKING:
    from tracelake.pipelines.forget import ForgetReceipt
    from tracelake.query.engine import QueryEngine
    from tracelake.results import Bundle, Context, Hit

__all__ = ["Lake", "IngestResult", "ConsolidationReport"]


class Lake:
    """A handle on one lake. Create with :func:`tracelake.connect`.

    Thread-safe for reads; ingestion is serialised per tenant by the ingest actors.
    """

    def __init__(self, store: LakeStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    @classmethod
    def open(cls, uri: str | None = None, *, storage_options: dict[str, str] | None = None, **overrides: Any) -> "Lake":
        settings = Settings.from_env(**overrides, data=uri)
        options = {**settings.storage_options, **(storage_options or {})}
        store = LakeStore(settings.data, options)
        store.create_or_open(get_embedder(settings.embedder).dim)
        return cls(store, settings)

    @property
    def uri(self) -> str:
        return self.store.uri

    def __repr__(self) -> str:
        return f"<tracelake.Lake {self.uri}>"

    # -- write ------------------------------------------------------------------------------------------
    def ingest(self, events: Any, *, tenant: str | None = None, source: str = "api",
               on_ack: Callable[[pa.Table], None] | None = None, allow_reingest: bool = False) -> IngestResult:
        """Ingest events durably and exactly once; returns when every accepted event is committed.

        ``events``: an iterable of dicts, a ``pyarrow.Table``/``RecordBatchReader``, a path (JSONL, Parquet,
        Arrow) or ``"-"`` for stdin. ``tenant`` fills records that lack one. Re-ingesting a known
        ``(tenant, event_id)`` is a no-op counted in ``duplicates``. Malformed records are rejected with their
        line (JSONL, 1-based) or index (tables/iterables, 0-based) and reason, kept in the ``rejects`` table;
        every valid record of the same input is still committed. Events erased by :meth:`forget` are
        skipped as duplicates (ack reason ``forgotten``) unless ``allow_reingest``.
        """
        return ingest_pipeline.ingest(self.store, events, self.settings, source=source,
                                      default_tenant=tenant, on_ack=on_ack, allow_reingest=allow_reingest)

    def consolidate(self, tenant: str | None = None, *, steps: Iterable[str] = consolidate_pipeline.STEPS,
                    now: datetime | None = None,
                    progress: Callable[[str, int, int], None] | None = None,
                    wait: float = 0.0) -> ConsolidationReport:
        """Consolidate what is new (decompose → merge → decay → reindex) and publish it atomically.

        Incremental and idempotent: a second run with nothing new changes nothing. ``now`` is the clock
        used for decay and ``recorded_at`` (injectable for tests). Raises
        :class:`~tracelake.errors.ConsolidationError` on failure; nothing of a failed run is published.
        One run at a time per lake: if another holds the lake's lease, waits up to ``wait`` seconds, then
        raises :class:`~tracelake.errors.LeaseHeldError` naming the holder.
        """
        return consolidate_pipeline.consolidate(self.store, self.settings, tenant=tenant, steps=steps, now=now,
                                                progress=progress, wait=wait)

    def ready(self, timeout: float = 5.0) -> dict[str, str]:
        """Readiness checks, ``{"ray": "ok" | "failed: …", "lake": …}``: Ray and the ingest actors answer
        within ``timeout`` seconds (started or joined if needed), and the lake's tables open."""
        checks: dict[str, str] = {}
        try:
            ingest_pipeline.ping_actors(self.settings, timeout)
            checks["ray"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            checks["ray"] = f"failed: {type(exc).__name__}: {exc}"[:300]
        try:
            version = self.store.dataset("events").version  # opens the table: no scan
            checks["lake"] = "ok" if version >= 0 else f"unexpected version {version}"
        except Exception as exc:  # noqa: BLE001
            checks["lake"] = f"failed: {type(exc).__name__}: {exc}"[:300]
        return checks

    # -- read -------------------------------------------------------------------------------------------
    @cached_property
    def _sql(self) -> SqlEngine:
        return SqlEngine(self.store)

    def sql(self, query: str, params: list[Any] | None = None) -> pa.Table:
        """Run DuckDB SQL over the views ``events rejects traces entities facts ledger job_runs``."""
        return self._sql.query(query, params)

    # -- time-aware queries (tracelake.query; see docs/queries.md) ------------------------------------------
    @cached_property
    def _query(self) -> "QueryEngine":
        from tracelake.query.engine import QueryEngine

        return QueryEngine(self.store, self.settings)

    def search(self, query: str, tenant: str, as_of: Any = None, k: int = 10, *,
               include_archived: bool = False, context_turns: int = 0) -> "list[Hit]":
        """Hybrid search (vector + full text + entities + time, fused, re-ranked by strength and recency).

        Returns up to ``k`` :class:`~tracelake.results.Hit`, best first, at most one per source event.
        With ``as_of`` nothing derived from an event after it appears (sources trimmed). ``tenant`` is required.
        ``context_turns=N`` adds to each hit the text of up to N neighbouring events of its stream on each side
        (``Hit.context``, cited in ``Hit.context_event_ids``; all at or before ``as_of``).
        """
        return self._query.search(query, tenant, as_of, k, include_archived=include_archived,
                                  context_turns=context_turns)

    def context(self, question: str, tenant: str, as_of: Any = None, *, known_at: Any = None,
                budget_words: int = 120) -> "Context":
        """The best context for ``question`` as the lake knew it at ``known_at`` (default now) about ``as_of``
        (default now), never over ``budget_words`` words: :class:`~tracelake.results.Context` with ``.text``
        (ready for a prompt) and ``.items`` (kind ``fact`` | ``evidence``, text, ``source_event_ids``, validity,
        score). Current state first for questions about the present; history for questions about the past or
        change. Empty question or a budget outside 1..5000: :class:`~tracelake.errors.ValidationError`; an
        unknown tenant or an ``as_of`` before any event: an empty context."""
        return self._query.context(question, tenant, as_of, known_at=known_at, budget_words=budget_words)

    def reconstruct(self, question: str, tenant: str, as_of: Any = None, *, k: int = 12,
                    known_at: Any = None, budget_words: int | None = None) -> "Bundle":
        """A situation-level :class:`~tracelake.results.Bundle`: episodes, entities, facts with
        history, timeline — every item with ``source_event_ids``; with ``budget_words``, at most that many words
        of text."""
        return self._query.reconstruct(question, tenant, as_of, k=k, known_at=known_at, budget_words=budget_words)

    def query_engine(self, *, search_config: Any = None, context_config: Any = None,
                     embedder: Any = None) -> "QueryEngine":
        """A separate :class:`~tracelake.query.engine.QueryEngine` over this lake with other knobs
        (``SearchConfig``, ``ContextConfig``) or another query embedder of the lake's dimension — for
        benchmarks and ablations; the lake's own engine is untouched."""
        from tracelake.query.engine import QueryEngine

        return QueryEngine(self.store, self.settings, search_config=search_config, context_config=context_config,
                           embedder=embedder)

    def timeline(self, entity: str, tenant: str, start: Any = None, end: Any = None, *, as_of: Any = None,
                 include_archived: bool = False, limit: int | None = None) -> pa.Table:
        """The entity's traces in time order (aliases resolved; ``start`` inclusive, ``end`` exclusive)."""
        return self._query.timeline(entity, tenant, start, end, as_of=as_of, include_archived=include_archived,
                                    limit=limit)

    def facts(self, tenant: str, subject: str | None = None, as_of: Any = None, known_at: Any = None, *,
              predicate: str | None = None, include_archived: bool = False, history: bool = False) -> pa.Table:
        """Facts valid at ``as_of`` as the lake knew them at ``known_at`` (both default to now).

        ``history=True``: every assertion about ``subject`` (default: every subject) stated at or before
        ``as_of`` instead, superseded ones included, each with ``status`` (current, superseded, ended, future)."""
        return self._query.facts(tenant, subject, as_of, known_at, predicate=predicate,
                                 include_archived=include_archived, history=history)

    # -- erase (tracelake.pipelines.forget; see docs/forget.md) ---------------------------------------------
    def forget(self, tenant: str, *, event_ids: Iterable[str] | None = None, entity: str | None = None,
               before: Any = None, all: bool = False, wait: float = 0.0,
               requested_by: str = "api") -> "ForgetReceipt":
        """Erase events of ``tenant`` and everything derived only from them, through every table, index, old
        version and object-store file; returns the :class:`~tracelake.pipelines.forget.ForgetReceipt`.

        Exactly one selector: ``event_ids``, ``entity`` (every event mentioning it), ``before`` (events that
        occurred before that time) or ``all``. Unknown tenants or ids give a receipt with zero counts. A fact
        or trace with other evidence survives with that evidence only. Erased ids are tombstoned: a later
        ingest skips them unless it passes ``allow_reingest``. The service's stored responses naming them
        are deleted too. Time travel and ``known_at`` never show erased data afterwards.
        """
        from tracelake.pipelines.forget import forget

        return forget(self.store, self.settings, tenant, event_ids=event_ids, entity=entity, before=before,
                      all=all, requested_by=requested_by, wait=wait, on_erased=self._forget_service_records)

    def _forget_service_records(self, event_ids: set[str]) -> None:
        """Delete the HTTP service's idempotency records that name erased events (if a service ran here)."""
        try:
            from tracelake.service import service_dir
            from tracelake.service.idempotency import IdempotencyStore
        except ImportError:  # the service's optional dependencies are missing: it never stored anything
            return
        path = service_dir(self.settings, self.uri) / "idempotency.sqlite"
        if path.exists():
            store = IdempotencyStore(path, self.settings.service_idempotency_ttl_hours)
            try:
                store.forget_events(event_ids)
            finally:
                store.close()

    def close(self) -> None:
        if "_sql" in self.__dict__:
            self._sql.close()
            del self.__dict__["_sql"]
