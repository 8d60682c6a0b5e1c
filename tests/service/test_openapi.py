"""The published OpenAPI document matches the service: a bounded schemathesis run (every check) against the
real service on loopback, with a tenant key and without one, finds nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = os.environ.get("TRACELAKE_SCHEMATHESIS_EXAMPLES", "15")
SEED = os.environ.get("TRACELAKE_SCHEMATHESIS_SEED", "1")


@pytest.fixture(scope="module")
def st_service(module_lake: Any, ray_local: None) -> Any:
    from tests.service.conftest import start_service

    running = start_service(module_lake)
    yield running
    running.stop()


def _st(url: str, *headers: str) -> subprocess.CompletedProcess[str]:
    st = Path(sys.executable).with_name("st")
    cmd = [str(st), "--config-file", str(CONFIG), "run", f"{url}/openapi.json", "--checks", "all",
           "--max-examples", MAX_EXAMPLES, "--workers", "1", "--seed", SEED,
           "--request-timeout", "60", "--suppress-health-check", "all"]
    for h in headers:
        cmd += ["-H", h]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def test_every_4xx_uses_the_error_model(st_service: Any) -> None:
    import httpx

    doc = httpx.get(f"{st_service.url}/openapi.json").json()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for status, response in op["responses"].items():
                if status[0] in "45":
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorBody"), (method, path, status)
    event = doc["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert event["properties"]["tenant"]["anyOf"][0]["pattern"].startswith("^[A-Za-z0-9")
    assert {"format": "date-time"}.items() <= event["properties"]["occurred_at"]["anyOf"][0].items()


@pytest.mark.parametrize("with_key", [True, False], ids=["tenant-key", "no-key"])
def test_schemathesis_finds_nothing(st_service: Any, with_key: bool) -> None:
    headers = [f"Authorization: Bearer {st_service.key('st-tenant')}"] if with_key else []
    proc = _st(st_service.url, *headers)
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout


def test_bodies_are_strict_json() -> None:
    """JSON has no Infinity/NaN: a non-finite float (a pinned fact's stability) is sent as null."""
    from tracelake.service.runtime import dumps as _dumps

    assert _dumps({"rows": [{"stability": float("inf"), "x": [float("nan"), 1.5]}]}) == \
        b'{"rows":[{"stability":null,"x":[null,1.5]}]}'
