"""The MCP server, driven by the SDK's own clients: ``tracelake mcp`` as a stdio subprocess, and the streamable
HTTP endpoint mounted on the real service (API keys, tenant isolation, tool errors naming the argument)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters

EXPECTED_TOOLS = {"remember", "context", "search", "timeline", "facts", "forget", "status"}


def _json(result: Any) -> Any:
    assert not result.is_error, result.content
    return json.loads(result.content[0].text)


def _error_text(result: Any) -> str:
    assert result.is_error, result.content
    return result.content[0].text


def test_stdio_remember_then_search(tmp_path: Path) -> None:
    env = {**os.environ, "TRACELAKE_EMBEDDER": "hash", "RAY_AUTH_MODE": "disabled"}
    params = StdioServerParameters(command=sys.executable, args=["-m", "tracelake.cli", "mcp", "--data",
                                                                 str(tmp_path / "lake")], env=env)

    async def run() -> None:
        async with Client(params, read_timeout_seconds=300) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert EXPECTED_TOOLS <= set(tools)
            for tool in tools.values():
                assert tool.description and tool.input_schema["type"] == "object"
            assert "events" in tools["remember"].input_schema["required"]

            events = [{"text": "I moved to Porto last week and I love the river.", "actor": "Mia",
                       "occurred_at": "2024-03-01T10:00:00Z", "event_id": "m-1"},
                      {"text": "My sister Ana is visiting Porto in April.", "actor": "Mia",
                       "occurred_at": "2024-03-02T10:00:00Z", "event_id": "m-2"}]
            out = _json(await client.call_tool("remember", {"tenant": "mia", "events": events}))
            assert out["accepted"] == 2 and out["event_ids"] == ["m-1", "m-2"] and out["searchable"]

            hits = _json(await client.call_tool("search", {"tenant": "mia", "query": "Where does Mia live?"}))["hits"]
            assert hits and {"m-1", "m-2"} & {e for h in hits for e in h["source_event_ids"]}
            assert all(h["tenant"] == "mia" and h["source_event_ids"] for h in hits)

            ctx = _json(await client.call_tool("context", {"tenant": "mia", "question": "Who is visiting Porto?",
                                                            "budget_words": 60}))
            assert ctx["items"] and len(ctx["text"].split()) <= 60
            assert any(i["source_event_ids"] for i in ctx["items"])

            status = _json(await client.call_tool("status", {"tenant": "mia"}))
            assert status["events"] == 2 and status["pending"] == 0 and status["traces"] > 0

            # again: a no-op (idempotent by event_id)
            again = _json(await client.call_tool("remember", {"tenant": "mia", "events": events[:1]}))
            assert again["accepted"] == 0 and again["duplicates"] == 1

            # bad arguments -> tool errors naming the field; the server keeps serving
            assert "as_of" in _error_text(await client.call_tool(
                "search", {"tenant": "mia", "query": "x", "as_of": "last tuesday"}))
            assert "k" in _error_text(await client.call_tool("search", {"tenant": "mia", "query": "x", "k": 0}))
            assert "tenant" in _error_text(await client.call_tool("search", {"tenant": "bad tenant!", "query": "x"}))
            assert "occurred_at" in _error_text(await client.call_tool(
                "remember", {"tenant": "mia", "events": [{"text": "hi", "occurred_at": "soon"}]}))
            assert "events" in _error_text(await client.call_tool("remember", {"tenant": "mia", "events": []}))

            resource = await client.read_resource("tracelake://mia/entities")
            names = {e["name"] for e in json.loads(resource.contents[0].text)}
            assert "Porto" in names or "Mia" in names
            timeline = await client.read_resource("tracelake://mia/entities/Porto/timeline")
            rows = json.loads(timeline.contents[0].text)
            assert rows and all(r["source_event_ids"] for r in rows)

            # erase one event: it is gone from search
            assert "exactly one" in _error_text(await client.call_tool("forget", {"tenant": "mia"}))
            _json(await client.call_tool("forget", {"tenant": "mia", "event_ids": ["m-2"]}))
            hits = _json(await client.call_tool("search", {"tenant": "mia", "query": "sister Ana"}))["hits"]
            assert all("m-2" not in h["source_event_ids"] for h in hits)

    anyio.run(run)


@pytest.fixture(scope="module")
def mcp_service(module_lake: Any, ray_local: None) -> Any:
    from tests.service.conftest import start_service

    running = start_service(module_lake)
    yield running
    running.stop()


def test_http_keys_and_tenants(mcp_service: Any) -> None:
    url = f"{mcp_service.url}/mcp/"
    secret = mcp_service.key("mcp-a")
    other = mcp_service.key("mcp-b")
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}
    headers = {"Accept": "application/json, text/event-stream"}
    for bad in ({}, {"Authorization": "Bearer tlk_0123456789ab_nope-nope-nope-nope-nope"}):
        resp = httpx.post(url, json=init, headers={**headers, **bad}, timeout=30)
        assert resp.status_code == 401, resp.text
        assert resp.json()["error"] in {"missing API key", "invalid API key"}
        assert resp.headers["www-authenticate"] == "Bearer"

    async def run() -> None:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {secret}"}, timeout=120) as http:
            from mcp.client.streamable_http import streamable_http_client

            async with Client(streamable_http_client(url, http_client=http)) as client:
                assert EXPECTED_TOOLS <= {t.name for t in (await client.list_tools()).tools}
                out = _json(await client.call_tool("remember", {"events": [
                    {"text": "Our team offsite is in Lisbon in June.", "event_id": "h-1",
                     "occurred_at": "2024-05-01T09:00:00Z"}]}))
                assert out["tenant"] == "mcp-a" and out["accepted"] == 1
                hits = _json(await client.call_tool("search", {"query": "where is the offsite?"}))["hits"]
                assert any("h-1" in h["source_event_ids"] for h in hits)
                assert "may not access" in _error_text(await client.call_tool(
                    "search", {"query": "offsite", "tenant": "mcp-b"}))
        async with httpx2.AsyncClient(headers={"X-API-Key": other}, timeout=120) as http:
            from mcp.client.streamable_http import streamable_http_client

            async with Client(streamable_http_client(url, http_client=http)) as client:
                hits = _json(await client.call_tool("search", {"query": "where is the offsite?"}))["hits"]
                assert hits == []  # mcp-b sees nothing of mcp-a

    anyio.run(run)
