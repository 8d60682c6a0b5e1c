"""Entity resolution for queries: names and aliases of one tenant's entities table -> canonical names.

Traces list their entities by *canonical* name (consolidation canonicalises mentions). A query may name an
entity by any alias, in any case, with or without accents; :class:`EntityDirectory` maps such a name, or every
name mentioned inside a question, to the canonical names. Matching uses
:func:`tracelake.operators.entities.normalize_name` on both sides.

As of ``T``, only entities first seen at or before ``T`` resolve (an entity learned later must not leak).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from tracelake.operators.entities import normalize_name
from tracelake.operators.lexicon import STOPWORDS
from tracelake.storage.reading import Dataset

from .snapshot import quote

__all__ = ["EntityDirectory", "TenantEntities"]

#: Longest entity name considered when scanning a question, in words.
MAX_NAME_WORDS = 5


@dataclass(frozen=True)
class TenantEntities:
    """One tenant's entities at one version of the entities table."""

    by_key: dict[str, tuple[str, ...]]  # normalized name or alias -> canonical names (sorted)
    first_seen: dict[str, datetime]  # canonical name -> first_seen
    max_words: int

    def canonical(self, name: str, as_of: datetime | None = None) -> list[str]:
        """Canonical names that ``name`` (a canonical name or an alias) refers to, known at ``as_of``."""
        return self._known(self.by_key.get(normalize_name(name), ()), as_of)

    def mentioned(self, text: str, as_of: datetime | None = None) -> list[str]:
        """Canonical names of the entities named in ``text``, longest match first, in text order."""
        words = normalize_name(text).split()
        out: list[str] = []
        i = 0
        while i < len(words):
            step = 1
            for n in range(min(self.max_words, len(words) - i), 0, -1):
                key = " ".join(words[i:i + n])
                if n == 1 and (key in STOPWORDS or len(key) < 2):
                    continue
                found = self._known(self.by_key.get(key, ()), as_of)
                if found:
                    out.extend(c for c in found if c not in out)
                    step = n
                    break
            i += step
        return out

    def _known(self, names: tuple[str, ...], as_of: datetime | None) -> list[str]:
        if as_of is None:
            return list(names)
        return [n for n in names if self.first_seen.get(n) is None or self.first_seen[n] <= as_of]


class EntityDirectory:
    """Caches :class:`TenantEntities` per ``(tenant, entities version)`` (LRU, ``capacity`` tenants)."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._cache: OrderedDict[tuple[str, int], TenantEntities] = OrderedDict()
        self._lock = threading.Lock()

    def tenant(self, entities: Dataset, tenant: str) -> TenantEntities:
        key = (tenant, entities.version)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        table = entities.to_table(filter=f"tenant = {quote(tenant)}", columns=["name", "aliases", "first_seen"])
        by_key: dict[str, set[str]] = {}
        first_seen: dict[str, datetime] = {}
        max_words = 1
        names = table["name"].to_pylist()
        aliases = table["aliases"].to_pylist()
        seen = table["first_seen"].to_pylist()
        for name, alias_list, first in zip(names, aliases, seen):
            if first is not None and (name not in first_seen or first < first_seen[name]):
                first_seen[name] = first
            for surface in [name, *(alias_list or ())]:
                k = normalize_name(surface or "")
                if k:
                    by_key.setdefault(k, set()).add(name)
                    max_words = max(max_words, min(MAX_NAME_WORDS, len(k.split())))
        result = TenantEntities({k: tuple(sorted(v)) for k, v in by_key.items()}, first_seen, max_words)
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
        return result
