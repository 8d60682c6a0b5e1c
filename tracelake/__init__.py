"""tracelake: the data plane of a continuity layer.

Events stream in through Ray into Lance tables; consolidation jobs turn them into durable, time-aware
traces; DuckDB answers reconstruction queries. Start with :func:`connect`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracelake.errors import TracelakeError

if TYPE_CHECKING:
    from tracelake.api import Lake
    from tracelake.results import Bundle, Hit

__all__ = ["connect", "Hit", "Bundle", "TracelakeError", "__version__"]
__version__ = "0.1.0"


def connect(uri: str | None = None, *, storage_options: dict[str, str] | None = None, **settings: Any) -> "Lake":
    """Open (creating if needed) the lake at ``uri`` — a local path or ``s3://bucket/prefix``.

    ``uri`` defaults to ``$TRACELAKE_DATA``, else ``./tracelake-data``. Extra keyword arguments override
    fields of :class:`tracelake.settings.Settings` (e.g. ``embedder="static"``, ``ray_address=...``).
    """
    from tracelake.api import Lake

    return Lake.open(uri, storage_options=storage_options, **settings)


def __getattr__(name: str) -> Any:
    """``tracelake.Hit`` and ``tracelake.Bundle``, imported on first use (keeps ``import tracelake`` light)."""
    if name in {"Hit", "Bundle"}:
        from tracelake import results

        return getattr(results, name)
    raise AttributeError(f"module 'tracelake' has no attribute {name!r}")
