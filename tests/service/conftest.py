"""The real service on loopback: uvicorn in a thread of the test process, on a free port, in front of a real
Lance lake in tmp and the session's local Ray (``ray_local``). Crash tests start ``tracelake serve`` as a
subprocess instead (see ``test_restart.py``).
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

import tracelake
from tracelake.service.app import create_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Running:
    """A started service: ``url``, the ``app`` and its ``svc`` state (keys, idempotency, metrics)."""

    url: str
    app: Any
    server: Any
    thread: threading.Thread

    @property
    def svc(self) -> Any:
        return self.app.state.service

    def key(self, *tenants: str, admin: bool = False) -> str:
        """Create a key for ``tenants``; returns its secret."""
        return self.svc.keys.create(list(tenants), admin=admin)[1]

    def http(self, secret: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kwargs)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_service(lake: Any, settings: Any = None) -> Running:
    import uvicorn

    app = create_app(lake, settings)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                            access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the service did not start")
        time.sleep(0.02)
    return Running(f"http://127.0.0.1:{port}", app, server, thread)


@pytest.fixture(scope="module")
def module_lake(tmp_path_factory: pytest.TempPathFactory, ray_local: None) -> Iterator[Any]:
    handle = tracelake.connect(str(tmp_path_factory.mktemp("svc") / "lake"), embedder="hash")
    yield handle
    handle.close()


@pytest.fixture(scope="module")
def service(module_lake: Any) -> Iterator[Running]:
    """One service per test module (default settings), over ``module_lake``."""
    running = start_service(module_lake)
    yield running
    running.stop()


@pytest.fixture
def make_service(tmp_path: Path, ray_local: None) -> Iterator[Callable[..., Running]]:
    """``make_service(lake=None, **settings)``: a service with its own settings (a fresh lake by default)."""
    started: list[Running] = []
    lakes: list[Any] = []

    def make(lake: Any = None, **overrides: Any) -> Running:
        if lake is None:
            lake = tracelake.connect(str(tmp_path / f"lake{len(lakes)}"), embedder="hash")
            lakes.append(lake)
        running = start_service(lake, lake.settings.replace(**overrides) if overrides else None)
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()
    for lake in lakes:
        lake.close()


def event(i: int, tenant: str | None = "t1", **extra: Any) -> dict[str, Any]:
    """A valid event with a unique id."""
    out = {"event_id": f"e{i}", "occurred_at": 1683554160000 + i * 1000, "text": f"event number {i}", **extra}
    if tenant is not None:
        out["tenant"] = tenant
    return out


def event_ids(lake: Any, tenant: str) -> list[str]:
    return lake.sql("select event_id from events where tenant = ? order by event_id", [tenant])["event_id"].to_pylist()
