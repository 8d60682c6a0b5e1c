"""The forgetting curve, the one formula behind ``strength`` (decay at consolidation, strength as of T at read).

``retention = exp(-elapsed_days / stability_days)`` (Ebbinghaus), with ``elapsed`` clipped at 0. A stability
that is not a positive finite number means "no memory to speak of": 1 at zero elapsed time, else 0. Pinning,
reinforcement and archiving are rules *around* the curve and live with their callers
(``operators/decay.py``, ``query/traces.py``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["retention", "US_PER_DAY"]

US_PER_DAY = 86_400e6


def retention(elapsed_us: np.ndarray, stability_days: np.ndarray) -> np.ndarray:
    """``exp(-max(0, elapsed) / stability)`` elementwise (broadcast), elapsed in microseconds."""
    days = np.maximum(0.0, np.asarray(elapsed_us, dtype=np.float64)) / US_PER_DAY
    stability = np.asarray(stability_days, dtype=np.float64)
    days, stability = np.broadcast_arrays(days, stability)
    ok = np.isfinite(stability) & (stability > 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        curve = np.exp(-days / np.where(ok, stability, 1.0))
    return np.where(ok, curve, np.where(days > 0, 0.0, 1.0))
