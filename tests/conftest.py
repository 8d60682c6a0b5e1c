"""Shared fixtures: one embedded Ray per test session, lakes on local disk and on a real local S3 server."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("TRACELAKE_EMBEDDER", "hash")


@pytest.fixture(scope="session")
def ray_local() -> Iterator[None]:
    """An embedded local Ray for the whole session (starting one costs seconds and ~0.7 GB)."""
    import ray

    from tracelake.pipelines.ray_runtime import ensure_ray

    ensure_ray("", 2)
    yield
    ray.shutdown()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real S3-compatible server (SeaweedFS) on loopback, started once per session."""
    from tests.s3server import start_s3_server

    server = start_s3_server(tmp_path_factory.mktemp("seaweed"))
    yield server
    server.stop()


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def lake_location(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, str]]:
    """``(uri, storage_options)`` of a fresh lake, on local disk and on the S3 server."""
    if request.param == "local":
        return str(tmp_path / "lake"), {}
    server = request.getfixturevalue("s3_server")
    return server.uri(f"lake-{uuid.uuid4().hex[:8]}"), dict(server.storage_options)


@pytest.fixture
def lake(lake_location: tuple[str, dict[str, str]], ray_local: None):  # noqa: ANN201
    import tracelake

    uri, options = lake_location
    handle = tracelake.connect(uri, storage_options=options, embedder="hash")
    yield handle
    handle.close()


@pytest.fixture
def local_lake(tmp_path: Path, ray_local: None):  # noqa: ANN201
    import tracelake

    handle = tracelake.connect(str(tmp_path / "lake"), embedder="hash")
    yield handle
    handle.close()
