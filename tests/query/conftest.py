"""Query tests read lakes written directly through ``LakeStore`` (see ``builders.py``): no Ray needed.

``qlake`` is a fresh local lake per test (reads never start Ray; ``local_lake`` from ``tests/conftest.py``
would start the session's Ray, seconds we do not need here). ``story_lake`` is one module-scoped lake holding
the hand-written story of ``story.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

import tracelake


@pytest.fixture
def qlake(tmp_path: Path) -> Iterator[tracelake.api.Lake]:
    handle = tracelake.connect(str(tmp_path / "lake"), embedder="hash")
    yield handle
    handle.close()


@pytest.fixture(scope="module")
def story_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tracelake.api.Lake]:
    from tests.query.story import build_story

    handle = tracelake.connect(str(tmp_path_factory.mktemp("story") / "lake"), embedder="hash")
    build_story(handle)
    yield handle
    handle.close()
