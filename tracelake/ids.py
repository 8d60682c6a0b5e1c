"""Every id tracelake derives, in one place: stable, content-derived (never random), blake2b over a canonical
encoding of the parts. Event ids are derived from their content in ``operators/validate.py`` (a JSON canonical
form that INTERFACE.md §1 documents); everything downstream of an event uses :func:`stable_id`."""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["stable_id", "trace_id", "WHOLE_EVENT"]

_SEP = b"\x1f"

#: ``(kind, index)`` of the trace that holds an event's whole text.
WHOLE_EVENT = ("episodic", 0)


def _encode(part: Any) -> bytes:
    if part is None:
        return b"\x00"
    if isinstance(part, bytes):
        return part
    if isinstance(part, float):
        return repr(part).encode()
    return str(part).encode("utf-8", "surrogatepass")


def stable_id(*parts: Any, size: int = 16) -> str:
    """Hex blake2b digest (``size`` bytes) of ``parts``; ``None`` and ``""`` hash differently."""
    h = hashlib.blake2b(digest_size=size)
    for i, part in enumerate(parts):
        if i:
            h.update(_SEP)
        h.update(_encode(part))
    return h.hexdigest()


def trace_id(tenant: str, event_id: str, kind: str = WHOLE_EVENT[0], index: int = WHOLE_EVENT[1]) -> str:
    """The id of the trace ``(kind, index)`` decomposed from one event (index 0 of ``episodic``: the whole
    text; 1..n its units; fact traces their own kind). The read path recomputes it to find an event's trace."""
    return stable_id(tenant, event_id, kind, index)
