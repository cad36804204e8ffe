"""The MCP server of ``hybridmem mcp`` (``pip install 'hybridmem[mcp]'``), on the official MCP
Python SDK's low-level server, over stdio or streamable HTTP.

Tools: ``search_memory``, ``add_message``, ``add_memory``, ``get_memory`` and
``delete_memory``, with the MemOS argument names (``user_id``, ``query``, ``conversation_id``,
``memory_limit_number``, ``filter``...). Their input schemas come from the same request Structs
as the HTTP API (:mod:`hybridmem.wire`), arguments are decoded by the same decoder, and the
work is done by :class:`~hybridmem.operations.Operations`, so validation, defaults and
ownership rules are the HTTP API's. A tool's answer is the ``data`` of the HTTP answer, as JSON
text and as structured content; a failure is a tool error (``isError``) whose content is
``{"code": <MemOS code>, "message": ..., "data": null}``, never a traceback.

Who may touch which users is a :class:`~hybridmem.auth.Grant`: fixed for the server (the
``--user`` patterns) or, over HTTP, that of the API key each request carries
(``Authorization: Token <key>``, as ``serve``). When the grant names exactly one user (no glob),
``user_id`` may be left out of the searches and adds and means that user.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import anyio.to_thread
import mcp.types as mt
import msgspec
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import wire
from ..auth import Grant, KeyRing
from ..engine import Engine
from ..errors import AccessError, HybridMemError, InvalidRequestError
from ..messages import Extractor
from ..operations import Operations
from ..types import ConversationId, Memory, MemoryType, NonEmptyId, NonEmptyText, UserId

__all__ = [
    "AddMemoryArgs",
    "GetMemoryArgs",
    "MemoryTools",
    "MessagesAddedData",
    "create_server",
    "default_user",
    "http_app",
    "serve_stdio",
]

log = logging.getLogger("hybridmem.mcp")
_GLOB = set("*?[")


class AddMemoryArgs(msgspec.Struct, kw_only=True):
    """``add_memory``: one fact memory (the HTTP ``/add/memory`` takes a list of them)."""

    memory_value: NonEmptyText
    user_id: UserId
    memory_key: str = ""
    memory_type: MemoryType = "LongTermMemory"
    tags: list[str] = msgspec.field(default_factory=list)
    conversation_id: ConversationId | None = None
    id: NonEmptyId | None = None  # default: derived from user and text, so a retry adds nothing


class GetMemoryArgs(wire.GetMemoryRequest, kw_only=True):
    """``get_memory``: one item by ``memory_id``, or a page of the user's memories (without
    ``user_id``, the page request answers 40002 as over HTTP)."""

    user_id: str | None = None  # type: ignore[assignment]
    memory_id: NonEmptyId | None = None


class MessagesAddedData(msgspec.Struct, kw_only=True):
    """``add_message``'s answer: what was stored (the add completes before answering)."""

    success: bool
    memory_ids: list[str]
    new_memories: int
    new_messages: int


class _Tool(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    description: str
    request: type
    run: str  # the MemoryTools method that runs it
    writes: bool
    takes_user: bool  # user_id may default to the grant's one user


_TOOLS = (
    _Tool(name="search_memory", request=wire.SearchMemoryRequest, run="_search", writes=False,
          takes_user=True, description="Search one user's memories and preferences for those "
          "relevant to `query` (MemOS /search/memory). Each hit has a `relativity` in [0, 1]."),
    _Tool(name="add_message", request=wire.AddMessageRequest, run="_add_message", writes=True,
          takes_user=True, description="Store chat messages ({role, content, chat_time}) of a "
          "conversation; each user message becomes a memory (MemOS /add/message)."),
    _Tool(name="add_memory", request=AddMemoryArgs, run="_add_memory", writes=True,
          takes_user=True, description="Store one fact memory about the user (`memory_value`); "
          "the same id replaces it."),
    _Tool(name="get_memory", request=GetMemoryArgs, run="_get_memory", writes=False,
          takes_user=True, description="One memory by `memory_id`, or a page (`page`, `size` "
          "up to 50) of the user's memories, newest first (MemOS /get/memory)."),
    _Tool(name="delete_memory", request=wire.DeleteMemoryRequest, run="_delete", writes=True,
          takes_user=False, description="Delete memories: exactly one of `memory_ids`, "
          "`user_id` (all of the user's), `filter` (or `filter` with `user_id`)."),
)  # fmt: skip


class MemoryTools:
    """The tools over one engine, independent of the transport.

    Args:
        engine: the open engine (the caller closes it).
        grant: the fixed grant (stdio, or HTTP without keys); ignored when ``keys`` is given.
        keys: over HTTP, each call is granted what its ``Authorization`` key allows.
        extractor: turns ``add_message`` messages into memories (default: one per user turn).
        search_threads: reads served at once. write_threads: writes in flight at once.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        grant: Grant | None = None,
        keys: KeyRing | None = None,
        extractor: Extractor | None = None,
        search_threads: int = 8,
        write_threads: int = 4,
    ) -> None:
        if grant is None and keys is None:
            raise InvalidRequestError("give the grant of the server's users, or API keys")
        self.ops = Operations(engine, extractor=extractor)
        self.grant = grant
        self.keys = keys
        self.readers = anyio.CapacityLimiter(search_threads)
        self.writers = anyio.CapacityLimiter(write_threads)

    def grant_for(self, headers: Mapping[str, str] | None) -> Grant:
        """The caller's grant: the key in ``headers`` when keys are configured, else fixed."""
        if self.keys is not None:
            return self.keys.authenticate((headers or {}).get("authorization"))
        assert self.grant is not None
        return self.grant

    def list_tools(self, grant: Grant) -> list[mt.Tool]:
        """The tools, their input schemas made from the request Structs."""
        user = default_user(grant)
        return [_tool_entry(t, optional_user=t.takes_user and user is not None) for t in _TOOLS]

    async def call(self, name: str, arguments: Mapping[str, Any], grant: Grant) -> Any:
        """Run one tool; returns its answer's ``data``. Raises HybridMemError on failure."""
        tool = next((t for t in _TOOLS if t.name == name), None)
        if tool is None:
            raise MCPError(mt.INVALID_PARAMS, f"unknown tool {name!r:.80}")
        args = dict(arguments)
        user = default_user(grant)
        if tool.takes_user and user is not None and "memory_id" not in args:
            args.setdefault("user_id", user)
        req: Any = wire.decode(msgspec.json.encode(args), tool.request)
        run: Callable[[Any, Grant], Any] = getattr(self, tool.run)
        limiter = self.writers if tool.writes else self.readers
        return await anyio.to_thread.run_sync(lambda: run(req, grant), limiter=limiter)

    # -- the tools (in worker threads) ----------------------------------------------------------

    def _search(self, req: wire.SearchMemoryRequest, grant: Grant) -> Any:
        return self.ops.search(req, grant)

    def _add_message(self, req: wire.AddMessageRequest, grant: Grant) -> MessagesAddedData:
        r = self.ops.add_message(req, grant)
        return MessagesAddedData(success=True, memory_ids=r.memory_ids, new_memories=r.new_items,
                                 new_messages=r.new_messages)  # fmt: skip

    def _add_memory(self, req: AddMemoryArgs, grant: Grant) -> wire.AddedItemsData:
        fields = msgspec.structs.asdict(req)
        if req.id is None:
            digest = hashlib.blake2b(f"{req.user_id}\0{req.memory_value}".encode(), digest_size=12)
            fields["id"] = "mcp-" + digest.hexdigest()
        return self.ops.add_memory(wire.AddMemoryRequest(memories=[Memory(**fields)]), grant)

    def _get_memory(self, req: GetMemoryArgs, grant: Grant) -> Any:
        if req.memory_id is not None:
            return self.ops.get_memory_by_id(req.memory_id, grant)
        return self.ops.get_memory(req, grant)

    def _delete(self, req: wire.DeleteMemoryRequest, grant: Grant) -> wire.DeletedData:
        return self.ops.delete_memory(req, grant)


def default_user(grant: Grant) -> str | None:
    """The one user a grant names, if it names exactly one and no pattern."""
    if len(grant.users) == 1 and not _GLOB & set(grant.users[0]):
        return grant.users[0]
    return None


def _tool_entry(tool: _Tool, *, optional_user: bool) -> mt.Tool:
    (ref,), components = msgspec.json.schema_components([tool.request])
    name = ref["$ref"].rsplit("/", 1)[1]
    schema = dict(components.pop(name))
    if components:
        schema["$defs"] = components
    if optional_user:
        schema["required"] = [f for f in schema.get("required", []) if f != "user_id"]
    return mt.Tool(
        name=tool.name,
        description=tool.description,
        input_schema=schema,
        annotations=mt.ToolAnnotations(read_only_hint=not tool.writes,
                                       destructive_hint=tool.name == "delete_memory",
                                       open_world_hint=False),
    )  # fmt: skip


def _result(data: Any) -> mt.CallToolResult:
    doc = msgspec.to_builtins(data)
    return mt.CallToolResult(
        content=[mt.TextContent(text=msgspec.json.encode(doc).decode())], structured_content=doc
    )


def _error(code: int, message: str) -> mt.CallToolResult:
    doc = msgspec.to_builtins(wire.ErrorEnvelope(code=code, message=message))
    return mt.CallToolResult(
        content=[mt.TextContent(text=msgspec.json.encode(doc).decode())],
        structured_content=doc,
        is_error=True,
    )


def create_server(tools: MemoryTools, *, version: str = "") -> Server[Any]:
    """The low-level MCP server answering ``tools/list`` and ``tools/call`` with ``tools``."""

    def grant_of(ctx: Any) -> Grant:
        return tools.grant_for(getattr(ctx.request, "headers", None))

    async def list_tools(ctx: Any, params: Any) -> mt.ListToolsResult:
        return mt.ListToolsResult(tools=tools.list_tools(grant_of(ctx)))

    async def call_tool(ctx: Any, params: mt.CallToolRequestParams) -> mt.CallToolResult:
        call_id = uuid.uuid4().hex[:16]
        try:
            return _result(await tools.call(params.name, params.arguments or {}, grant_of(ctx)))
        except MCPError:
            raise
        except HybridMemError as exc:
            if exc.code < 50000:
                return _error(exc.code, exc.message)
            log.exception("tool call %s failed", call_id)
        except Exception:
            log.exception("tool call %s failed", call_id)
        return _error(50000, f"internal error (call id {call_id})")

    return Server(
        "hybridmem", version=version, on_list_tools=list_tools, on_call_tool=call_tool,
        instructions="Long-term memory of users: search it before answering, add what is worth "
        "remembering. Answers are MemOS-shaped; each hit's relativity is in [0, 1].",
    )  # fmt: skip


class _RequireKey:
    """Refuses HTTP requests without a valid API key (401, a MemOS error body) before the MCP
    transport sees them, so a caller without a key cannot even open a session."""

    def __init__(self, app: ASGIApp, keys: KeyRing) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                self.keys.authenticate(Headers(scope=scope).get("authorization"))
            except AccessError as exc:
                body = msgspec.json.encode(wire.ErrorEnvelope(code=exc.code, message=exc.message))
                await Response(body, 401, media_type="application/json")(scope, receive, send)
                return
        await self.app(scope, receive, send)


def http_app(server: Server[Any], tools: MemoryTools, *, host: str, path: str = "/mcp") -> ASGIApp:
    """The streamable HTTP app at ``path`` (keys checked on every request when configured)."""
    app = server.streamable_http_app(streamable_http_path=path, host=host)
    return app if tools.keys is None else _RequireKey(app, tools.keys)


async def serve_stdio(server: Server[Any]) -> None:
    """Serve ``server`` over this process's stdin and stdout until the client disconnects."""
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())
