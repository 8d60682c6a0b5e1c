"""The embedder registry: an alias names an embedder, one instance per ``(alias, device)`` per process.

The embedders themselves live in the operators room (:mod:`tracelake.operators.embedders`), which only ever
*receives* an :class:`~tracelake.operators.embedders.Embedder`. This ground-floor registry names them by
dotted path and imports them on first use, so importing it loads no room and no model. Aliases:
``minilm`` (384-d, sentence-transformers, CPU or GPU), ``minilm-late`` (the same model, a turn's units read in
one pass by late chunking: opt-in, it cost LoCoMo recall), ``static`` (64-d) and ``hash`` (256-d, tests).

``device``: ``cpu`` (default), ``cuda``, ``cuda:N`` or ``mps``: where the model runs (``Settings.embed_device``).
Embedders without a model (``static``, ``hash``) run on the CPU whatever the device; an unavailable device
raises :class:`~tracelake.errors.ConfigError` when the embedder is created.
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING, Callable, Union

from tracelake.errors import ConfigError

if TYPE_CHECKING:
    from tracelake.operators.embedders import Embedder

__all__ = ["get_embedder", "register_embedder", "known_aliases", "DEVICES"]

#: Device names accepted by :func:`get_embedder` (``cuda:N`` too).
DEVICES = ("cpu", "cuda", "mps")

Factory = Union[str, Callable[[str], "Embedder"]]  # "module:Class" (called with device=...) or callable(device)

_FACTORIES: dict[str, Factory] = {
    "minilm": "tracelake.operators.embedders:MiniLMEmbedder",
    "minilm-late": "tracelake.operators.embedders:MiniLMLateEmbedder",
    "static": "tracelake.operators.embedders:StaticEmbedder",
    "hash": "tracelake.operators.embedders:HashEmbedder",
}
_INSTANCES: dict[tuple[str, str], "Embedder"] = {}
_LOCK = threading.Lock()


def known_aliases() -> list[str]:
    """The registered aliases, sorted."""
    return sorted(_FACTORIES)


def register_embedder(alias: str, factory: Factory) -> None:
    """Register (or replace) an alias; cached instances under that alias are dropped."""
    key = alias.strip().lower()
    with _LOCK:
        _FACTORIES[key] = factory
        for cached in [k for k in _INSTANCES if k[0] == key]:
            del _INSTANCES[cached]


def get_embedder(alias: str, device: str = "cpu") -> "Embedder":
    """The process-wide embedder for ``alias`` on ``device``; :class:`ConfigError` for an unknown alias or
    device, a missing package or an unavailable device."""
    key, dev = (alias or "").strip().lower(), (device or "cpu").strip().lower()
    if dev.split(":")[0] not in DEVICES:
        raise ConfigError(f"unknown embedding device {device!r}; use cpu, cuda, cuda:N or mps", device=device)
    with _LOCK:
        if (key, dev) in _INSTANCES:
            return _INSTANCES[(key, dev)]
        factory = _FACTORIES.get(key)
        if factory is None:
            raise ConfigError(f"unknown embedder {alias!r}; known: {', '.join(sorted(_FACTORIES))}", alias=alias)
        instance = _build(factory, dev)
        _INSTANCES[(key, dev)] = instance
        return instance


def _build(factory: Factory, device: str) -> "Embedder":
    if callable(factory):
        return factory(device)
    module, _, name = factory.partition(":")
    return getattr(importlib.import_module(module), name)(device=device)
