"""The MCP server with the MCP SDK's own client: over stdio against a spawned ``hybridmem mcp``
process, and over streamable HTTP with API keys and their user scopes."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import ClientSession, MCPError, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from hybridmem import Engine
from hybridmem.cli import main
from hybridmem.encoder import Encoder
from hybridmem.integrations.mcp_server import MemoryTools, create_server, http_app

from .corpus import SMALL
from .hashenc import HashEncoder
from .live import ALL_KEY, APP1_KEY, make_keys, run_app

pytestmark = pytest.mark.anyio
HYBRIDMEM = Path(sys.executable).with_name("hybridmem")
TOOLS = {"search_memory", "add_message", "add_memory", "get_memory", "delete_memory"}


def data(result: Any) -> Any:
    assert not result.is_error, result.content
    doc = json.loads(result.content[0].text)
    assert doc == result.structured_content
    return doc


def error(result: Any, code: int) -> str:
    assert result.is_error, result.content
    text = result.content[0].text
    doc = json.loads(text)
    assert doc["code"] == code and doc["data"] is None, doc
    assert "Traceback" not in text
    return doc["message"]


@asynccontextmanager
async def stdio_session(store: Path, *args: str) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=str(HYBRIDMEM), args=["mcp", str(store), *args], env={"HF_HUB_OFFLINE": "1"}
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


async def test_stdio_tools_of_one_user(tmp_path: Path, encoder: Encoder) -> None:
    with Engine.open(tmp_path / "s", encoder=encoder) as eng:
        eng.add(SMALL)
    async with stdio_session(tmp_path / "s", "--user", "u1") as s:
        listed = {t.name: t for t in (await s.list_tools()).tools}
        assert set(listed) == TOOLS
        search_schema = listed["search_memory"].input_schema
        assert search_schema["required"] == ["query"]  # user_id defaults to the one user
        assert {"user_id", "conversation_id", "memory_limit_number", "filter"} <= set(
            search_schema["properties"]
        )
        found = data(await s.call_tool("search_memory", {"query": "what pet does the user have"}))
        assert found["memory_detail_list"][0]["id"] == "m1"
        assert {h["id"] for h in found["memory_detail_list"]} <= {"m1", "m2", "m3"}
        assert "40310" not in json.dumps(found)
        error(await s.call_tool("search_memory", {"query": "pet", "user_id": "u2"}), 40310)

        added = data(await s.call_tool("add_memory", {"memory_value": "The user plays cello."}))
        (mid,) = added["ids"]
        assert data(await s.call_tool("get_memory", {"memory_id": mid}))["user_id"] == "u1"
        hits = data(await s.call_tool("search_memory", {"query": "cello", "filter": {"id": mid}}))
        assert [h["id"] for h in hits["memory_detail_list"]] == [mid]
        msgs = [{"role": "user", "content": "I adopted a parrot."},
                {"role": "assistant", "content": "Lovely!"}]  # fmt: skip
        out = data(await s.call_tool("add_message", {"messages": msgs, "conversation_id": "c9"}))
        assert out["new_messages"] == 2 and out["new_memories"] == 1
        page = data(await s.call_tool("get_memory", {"size": 50}))
        assert page["total"] == 5 and mid in {m["id"] for m in page["memory_detail_list"]}
        assert data(await s.call_tool("delete_memory", {"memory_ids": [mid]}))["deleted"] == 1
        error(await s.call_tool("get_memory", {"memory_id": mid}), 40001)
        error(await s.call_tool("get_memory", {"memory_id": "m4"}), 40001)  # u2's reads as missing
        error(await s.call_tool("delete_memory", {"memory_ids": ["m4"]}), 40306)
        error(await s.call_tool("search_memory", {}), 40002)
        error(await s.call_tool("search_memory", {"query": "x", "memory_limit_number": "6"}), 40000)
        error(await s.call_tool("add_memory", {"memory_value": "x", "user_id": "u" * 101}), 40010)
        with pytest.raises(MCPError, match="unknown tool"):
            await s.call_tool("drop_everything", {})


def test_cli_refuses_unscoped_servers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HYBRIDMEM_API_KEY", raising=False)
    store = str(tmp_path / "never-created")
    assert main(["mcp", store]) == 2
    assert "--user" in capsys.readouterr().err
    assert main(["mcp", store, "--transport", "http"]) == 2
    assert "no API key" in capsys.readouterr().err
    monkeypatch.setenv("HYBRIDMEM_API_KEY", ALL_KEY)
    assert main(["mcp", store, "--transport", "http", "--user", "u1"]) == 2
    assert "each key names its users" in capsys.readouterr().err
    assert not Path(store).exists()


@asynccontextmanager
async def http_session(url: str, key: str) -> AsyncIterator[ClientSession]:
    client = httpx2.AsyncClient(headers={"Authorization": f"Token {key}"}, timeout=30)
    async with (
        client,
        streamable_http_client(url, http_client=client) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def test_http_keys_scope_users(tmp_path: Path) -> None:
    with Engine.open(tmp_path / "h", encoder=HashEncoder()) as eng:  # type: ignore[arg-type]
        tools = MemoryTools(eng, keys=make_keys())
        with run_app(http_app(create_server(tools), tools, host="127.0.0.1")) as origin:
            url = origin + "/mcp"
            ann = {"user_id": "app1:ann"}
            async with http_session(url, APP1_KEY) as s:
                listed = {t.name: t for t in (await s.list_tools()).tools}
                assert "user_id" in listed["search_memory"].input_schema["required"]
                args = {"memory_value": "Likes jazz records.", **ann}
                (mid,) = data(await s.call_tool("add_memory", args))["ids"]
                hits = data(await s.call_tool("search_memory", {"query": "jazz", **ann}))
                assert [h["id"] for h in hits["memory_detail_list"]] == [mid]
                error(await s.call_tool("add_memory", {**args, "user_id": "bob"}), 40310)
            async with http_session(url, ALL_KEY) as s:
                bob = {"memory_value": "Jazz fan", "user_id": "bob"}
                data(await s.call_tool("add_memory", bob))
                page = data(await s.call_tool("get_memory", ann))
                assert [m["id"] for m in page["memory_detail_list"]] == [mid]
            async with http_session(url, APP1_KEY) as s:
                error(await s.call_tool("get_memory", {"user_id": "bob"}), 40310)
                error(await s.call_tool("delete_memory", {"user_id": "bob"}), 40306)
            # no key, or a wrong one: refused before any MCP session exists
            ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
            for headers, code in [({}, 40100), ({"Authorization": "Token wrong-key-0000"}, 40132)]:
                resp = httpx2.post(url, json=ping, headers=headers, timeout=30)
                assert resp.status_code == 401 and resp.json()["code"] == code
