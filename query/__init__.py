"""The query room: reads the lake (DuckDB views over Lance, time-aware retrieval). It never writes.

Entry points: :class:`tracelake.query.engine.QueryEngine` (behind ``Lake.search/reconstruct/timeline/facts``),
:class:`tracelake.query.sql.SqlEngine` (behind ``Lake.sql``) and :func:`tracelake.query.duck.register_lake`
(your own DuckDB session). Result types: :class:`Hit`, :class:`Bundle`. See ``docs/queries.md``.
"""

from tracelake.results import Bundle, Episode, Hit

__all__ = ["Hit", "Bundle", "Episode"]
