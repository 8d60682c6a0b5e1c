"""``GET /v1/context`` and ``Client.context`` over the two-tenant story: the SDK's answer equals the in-process
one, a key reads only its tenant's context, bad budgets are 422."""

from __future__ import annotations

import asyncio

import pytest

from tests.query.story import T1, T2
from tests.service.conftest import start_service
from tracelake.client import AsyncClient, Client
from tracelake.errors import AuthError, ValidationError


@pytest.fixture(scope="module")
def running(story_lake, ray_local):
    service = start_service(story_lake)
    yield service
    service.stop()


def test_context_over_http_equals_in_process(running, story_lake) -> None:
    with Client(running.url, running.key(T1)) as c1:
        got = c1.context("Where does Caroline live?", as_of="2023-07-01T00:00:00Z", budget_words=25)
        want = story_lake.context("Where does Caroline live?", T1, as_of="2023-07-01T00:00:00Z", budget_words=25)
        assert got == want and got.words <= 25 and "Seattle" in got.items[0].text
        known = c1.context("Where does Caroline live?", as_of="2023-04-01T00:00:00Z",
                           known_at="2023-03-01T00:00:00Z")
        assert "Boston" in known.items[0].text
        with pytest.raises(ValidationError):
            c1.context("Where does Caroline live?", budget_words=0)
        with pytest.raises(ValidationError):
            c1.context("   ")
        with pytest.raises(AuthError):
            c1.context("Where does Caroline live?", T2)


def test_async_client_context(running) -> None:
    async def ask():
        async with AsyncClient(running.url, running.key(T2)) as c2:
            return await c2.context("Where does Caroline live?", budget_words=40)

    ctx = asyncio.run(ask())
    assert "Lisbon" in ctx.text and "Boston" not in ctx.text and ctx.tenant == T2
