"""API keys bound to tenants, stored hashed in a JSON file.

A key's secret looks like ``tlk_<key_id>_<random>``: the ``key_id`` (12 hex characters) names the record, the
whole secret is checked against ``sha256(salt || secret)`` with a random per-key salt, compared in constant
time. Secrets are 256-bit random strings, so a fast salted hash is enough (no password stretching needed);
the file never holds a secret, only what verifies one. The secret is shown once, by :meth:`KeyStore.create`.

File format (``<service_dir>/keys.json``, mode 0600)::

    {"version": 1, "keys": [{"key_id": "3f2a...", "name": "ingest-prod", "tenants": ["t1"], "admin": false,
      "salt": "<hex>", "hash": "<hex sha256>", "created_at": "2026-11-26T10:00:00Z", "revoked_at": null}]}

``tenants`` may contain ``"*"``: every tenant. ``admin`` keys may also call the operations endpoints
(``/v1/admin/*``, ``/metrics``). Writers (``tracelake keys ...``) take an exclusive ``flock`` on
``keys.json.lock`` and replace the file atomically; the service re-reads it when its mtime changes, so a
revocation takes effect on the next request without a restart.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from tracelake.errors import AuthError, ConfigError
from tracelake.schemas import TENANT_PATTERN

__all__ = ["ApiKey", "KeyStore", "ALL_TENANTS", "SECRET_PREFIX"]

ALL_TENANTS = "*"
SECRET_PREFIX = "tlk"
_SECRET = re.compile(r"^tlk_([0-9a-f]{12})_([A-Za-z0-9_-]{20,})$")
_TENANT = re.compile(TENANT_PATTERN)


@dataclass(frozen=True)
class ApiKey:
    """One key's record (never its secret)."""

    key_id: str
    tenants: tuple[str, ...]
    admin: bool = False
    name: str | None = None
    created_at: str = ""
    revoked_at: str | None = None
    salt: str = field(default="", repr=False)
    hash: str = field(default="", repr=False)

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def all_tenants(self) -> bool:
        return ALL_TENANTS in self.tenants

    def may_access(self, tenant: str) -> bool:
        """True if this key may write and read ``tenant``."""
        return self.all_tenants or tenant in self.tenants

    @property
    def default_tenant(self) -> str | None:
        """The tenant that events without one take: the key's only tenant, if it has exactly one."""
        return self.tenants[0] if len(self.tenants) == 1 and not self.all_tenants else None

    def public(self) -> dict[str, Any]:
        """The record without salt and hash (for ``keys list``)."""
        return {"key_id": self.key_id, "name": self.name, "tenants": list(self.tenants), "admin": self.admin,
                "created_at": self.created_at, "revoked_at": self.revoked_at}

    def _stored(self) -> dict[str, Any]:
        out = asdict(self)
        out["tenants"] = list(self.tenants)
        return out


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()


class KeyStore:
    """The keys file. Thread-safe; cheap to consult per request (one ``stat`` unless the file changed)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._keys: dict[str, ApiKey] = {}

    # -- reading ----------------------------------------------------------------------------------------
    def _load_file(self) -> dict[str, ApiKey]:
        try:
            doc = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the keys file: {exc}", path=str(self.path)) from None
        keys = {}
        for rec in doc.get("keys", []):
            rec = dict(rec)
            rec["tenants"] = tuple(rec.get("tenants") or ())
            keys[rec["key_id"]] = ApiKey(**rec)
        return keys

    def _current(self) -> dict[str, ApiKey]:
        try:
            st = self.path.stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._stamp or stamp is None:
                self._keys = self._load_file() if stamp is not None else {}
                self._stamp = stamp
            return self._keys

    def list(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first."""
        return sorted(self._current().values(), key=lambda k: (k.created_at, k.key_id))

    def get(self, key_id: str) -> ApiKey | None:
        return self._current().get(key_id)

    def authenticate(self, secret: str | None) -> ApiKey:
        """The live key whose secret this is; raises :class:`AuthError` (``reason`` ``missing``/``invalid``)."""
        if not secret:
            raise AuthError("missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
                            reason="missing")
        m = _SECRET.match(secret.strip())
        key = self._current().get(m.group(1)) if m else None
        if key is None or not hmac.compare_digest(_digest(key.salt, secret.strip()), key.hash):
            raise AuthError("invalid API key", reason="invalid")
        if key.revoked:
            raise AuthError("API key has been revoked", reason="invalid", key_id=key.key_id)
        return key

    # -- writing ----------------------------------------------------------------------------------------
    @contextmanager
    def _write_lock(self) -> Iterator[dict[str, ApiKey]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            keys = self._load_file()
            yield keys
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump({"version": 1, "keys": [k._stored() for k in keys.values()]}, fh, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)

    def create(self, tenants: list[str] | tuple[str, ...], *, admin: bool = False,
               name: str | None = None) -> tuple[ApiKey, str]:
        """Create a key; returns ``(record, secret)``. The secret is not stored and cannot be shown again."""
        tenants = tuple(dict.fromkeys(tenants))
        if not tenants and not admin:
            raise ConfigError("a key needs at least one tenant (or --admin)")
        for t in tenants:
            if t != ALL_TENANTS and not _TENANT.match(t):
                raise ConfigError("tenant must match [A-Za-z0-9._:-]{1,128} (or be '*')", tenant=t)
        with self._write_lock() as keys:
            key_id = secrets.token_hex(6)
            while key_id in keys:
                key_id = secrets.token_hex(6)
            secret = f"{SECRET_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
            salt = secrets.token_hex(16)
            key = ApiKey(key_id=key_id, tenants=tenants, admin=admin, name=name, created_at=_now(),
                         salt=salt, hash=_digest(salt, secret))
            keys[key_id] = key
        return key, secret

    def revoke(self, key_id: str) -> ApiKey:
        """Mark a key revoked (kept in the file for the record). Revoking twice is a no-op."""
        with self._write_lock() as keys:
            key = keys.get(key_id)
            if key is None:
                raise ConfigError("no such key", key_id=key_id)
            if not key.revoked:
                key = ApiKey(**{**asdict(key), "revoked_at": _now()})
                keys[key_id] = key
        return key
