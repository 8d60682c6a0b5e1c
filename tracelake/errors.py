"""The one public errors module: a picklable root error and one class per failure family.

Every error carries keyword context (``line=``, ``field=``, ``table=``...) that is rendered into its message
and survives pickling, so an error raised inside a Ray actor reaches the driver intact.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "TracelakeError",
    "ConfigError",
    "ValidationError",
    "StorageError",
    "SchemaVersionError",
    "IngestError",
    "ConsolidationError",
    "QueryError",
    "AuthError",
    "LeaseHeldError",
    "LeaseLostError",
    "ForgetError",
]


class TracelakeError(Exception):
    """Root of every error tracelake raises on purpose."""

    def __init__(self, message: str, **context: Any) -> None:
        self.message = message
        self.context = context
        super().__init__(self._render())

    def _render(self) -> str:
        if not self.context:
            return self.message
        ctx = ", ".join(f"{k}={v!r}" for k, v in self.context.items())
        return f"{self.message} ({ctx})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.context))


def _rebuild(cls: type[TracelakeError], message: str, context: dict[str, Any]) -> TracelakeError:
    return cls(message, **context)


class ConfigError(TracelakeError):
    """A setting or argument is missing or invalid."""


class ValidationError(TracelakeError):
    """An input record or value does not satisfy the event contract."""


class StorageError(TracelakeError):
    """A Lance table could not be read, written or committed."""


class SchemaVersionError(StorageError):
    """A lake was written by an incompatible version of tracelake."""


class IngestError(TracelakeError):
    """Ingestion could not complete (actors lost beyond retry, commit failure)."""


class ConsolidationError(TracelakeError):
    """A consolidation step failed; nothing of that run was published."""


class QueryError(TracelakeError):
    """A query is malformed or failed to execute."""


class AuthError(TracelakeError):
    """A caller is not allowed to do what it asked."""


class LeaseHeldError(TracelakeError):
    """Another run holds the lake's lease (consolidation and forget take it); the message names the holder."""


class LeaseLostError(TracelakeError):
    """A run's lease expired and was taken over before it published; it published nothing."""


class ForgetError(TracelakeError):
    """A forget request is malformed or its erase could not complete (re-running it finishes the erase)."""
