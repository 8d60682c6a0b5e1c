"""Stable, content-derived ids (never random): blake2b over a canonical encoding of the parts."""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["stable_id"]

_SEP = b"\x1f"


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
