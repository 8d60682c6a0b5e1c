"""One Ray per process: join ``RAY_ADDRESS``/``--ray-address`` when given, else start an embedded local Ray."""

from __future__ import annotations

import logging
import os
import warnings

from tracelake.errors import ConfigError

__all__ = ["ensure_ray", "NAMESPACE"]

NAMESPACE = "tracelake"


def ensure_ray(address: str = "", num_cpus: int = 0) -> None:
    """Initialise Ray once per process (later calls are no-ops).

    ``address`` empty: an embedded local Ray (``num_cpus`` 0 means all cores). Otherwise a cluster address
    (``ray://host:10001``, ``host:6379`` or ``auto``). The package itself must be importable on the workers:
    true locally; for a remote cluster ship the wheel (``tracelake jobs submit`` does).
    """
    import ray

    if ray.is_initialized():
        return
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled") if not address else None
    warnings.filterwarnings("ignore", message="lance is not fork-safe")
    kwargs: dict[str, object] = {
        "namespace": NAMESPACE,
        "ignore_reinit_error": True,
        "logging_level": logging.WARNING,
        "log_to_driver": False,
    }
    try:
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(
                address="local",  # always a private instance, never a stray `ray start` on this host
                num_cpus=num_cpus or None,
                include_dashboard=False,
                _system_config={"automatic_object_spilling_enabled": True},
                **kwargs,
            )
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise ConfigError(f"cannot start or join Ray: {exc}", address=address or "(embedded)") from exc
