"""`tracelake keys create|list|revoke`: secrets shown once, stored only as salted hashes; revocation is live."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracelake.errors import AuthError
from tracelake.service.keys import KeyStore

ROOT = Path(__file__).resolve().parents[2]


def tl(*args: str, data: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRACELAKE_EMBEDDER": "hash"}
    return subprocess.run([sys.executable, "-m", "tracelake.cli", *args, "--data", str(data)], capture_output=True,
                          text=True, timeout=60, env=env, cwd=ROOT)


def test_keys_cli(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    made = tl("keys", "create", "--tenant", "t1", "--tenant", "t2", "--name", "app", data=lake)
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith("tlk_") and "shown only now" in made.stderr
    admin = json.loads(tl("--json", "keys", "create", "--admin", data=lake).stdout)
    assert admin["admin"] is True and admin["tenants"] == [] and admin["secret"].startswith("tlk_")

    path = lake / "_service" / "keys.json"
    stored = path.read_text()
    assert secret not in stored and admin["secret"] not in stored  # only salted hashes
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    listed = json.loads(tl("keys", "list", "--json", data=lake).stdout)
    assert [(k["tenants"], k["admin"], k["name"]) for k in listed] == [(["t1", "t2"], False, "app"), ([], True, None)]
    assert all("hash" not in k and "salt" not in k and "secret" not in k for k in listed)

    store = KeyStore(path)
    key = store.authenticate(secret)
    assert key.tenants == ("t1", "t2") and key.may_access("t2") and not key.may_access("t3")
    assert key.default_tenant is None
    revoked = tl("keys", "revoke", key.key_id, data=lake)
    assert revoked.returncode == 0, revoked.stderr
    with pytest.raises(AuthError):
        store.authenticate(secret)  # the same KeyStore object notices the file changed
    assert tl("keys", "revoke", "nope", data=lake).returncode == 2
    assert tl("keys", "create", data=lake).returncode == 2  # a key needs a tenant (or --admin)
    assert tl("keys", "create", "--tenant", "bad tenant!", data=lake).returncode == 2
    with pytest.raises(AuthError):
        store.authenticate(secret[:-1] + ("A" if secret[-1] != "A" else "B"))
