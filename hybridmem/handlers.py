"""The HTTP handlers of ``hybridmem serve``: one method per MemOS endpoint, bound to an engine,
a key ring and the server's settings (:mod:`hybridmem.server` mounts them).

Each handler decodes the body (:mod:`hybridmem.wire`) and runs its operation
(:mod:`hybridmem.operations`: the key's access to the user, MemOS defaults, the
:class:`~hybridmem.Engine` call) in a worker thread; what it returns goes in the envelope.
Searches and reads run in a thread pool (``search_threads`` at once); up to ``write_threads``
writes are in flight, and the engine applies their chunks in turn, so a long add blocks
neither searches nor a short add.
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
import msgspec
from msgspec import Meta
from starlette.requests import Request
from starlette.responses import Response

from . import wire
from .auth import OPEN_GRANT, Grant, KeyRing
from .errors import HybridMemError, MissingFieldError, NotFoundError, PayloadTooLargeError
from .messages import Extractor
from .operations import Backend, Operations

__all__ = ["Handlers", "ServerSettings", "error_response", "status_of"]

log = logging.getLogger("hybridmem.server")
T = TypeVar("T")

_STATUS = {
    40001: 404,
    40020: 409,
    40100: 401,
    40132: 401,
    40305: 413,
    40306: 403,
    40310: 403,
}
_MAX_TASKS = 10_000


class ServerSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Knobs of the HTTP server.

    Attributes:
        prefix: where the API is mounted (MemOS cloud: ``/api/openmem/v1``).
        max_body_bytes: larger request bodies get HTTP 413 (code 40305).
        search_threads: searches and reads served at once.
        write_threads: write requests in flight at once (the engine applies their chunks in
            turn).
        default_memory_limit: ``memory_limit_number`` when a request leaves it out (MemOS: 6).
    """

    prefix: Annotated[str, Meta(pattern="^/")] = "/api/openmem/v1"
    max_body_bytes: Annotated[int, Meta(ge=1)] = 1 << 20
    search_threads: Annotated[int, Meta(ge=1, le=1024)] = 8
    write_threads: Annotated[int, Meta(ge=1, le=64)] = 4
    default_memory_limit: Annotated[int, Meta(ge=0, le=1000)] = 6


def status_of(code: int) -> int:
    """The HTTP status for a MemOS error code."""
    return _STATUS.get(code, 400 if code < 50000 else 500)


def _json(obj: Any, status: int = 200, request_id: str = "") -> Response:
    headers = {"X-Request-Id": request_id} if request_id else None
    return Response(msgspec.json.encode(obj), status, headers, media_type="application/json")


def _ok(data: Any, request_id: str) -> Response:
    return _json(wire.Envelope(data=data), 200, request_id)


def error_response(code: int, message: str, request_id: str) -> Response:
    """A MemOS error envelope with the status of its code."""
    return _json(wire.ErrorEnvelope(code=code, message=message), status_of(code), request_id)


class Handlers:
    """The handlers, bound to one engine, key ring and settings."""

    def __init__(
        self,
        engine: Backend,
        keys: KeyRing | None,
        settings: ServerSettings,
        extractor: Extractor | None,
    ) -> None:
        self.engine = engine
        self.keys = keys
        self.settings = settings
        self.ops = Operations(
            engine, extractor=extractor, default_memory_limit=settings.default_memory_limit
        )
        self.readers = anyio.CapacityLimiter(settings.search_threads)
        # The engine serialises writes chunk by chunk (fairly), so several write requests may
        # be in flight: a small add is not queued behind the whole of a big one.
        self.writer = anyio.CapacityLimiter(settings.write_threads)
        # task ids of recent /add/message calls (they complete before answering), newest last
        self.tasks: OrderedDict[str, None] = OrderedDict()

    # -- plumbing -------------------------------------------------------------------------------

    def endpoint(self, handler: Callable[[Request, Grant], Any]) -> Callable[[Request], Any]:
        async def run(request: Request) -> Response:
            request_id = uuid.uuid4().hex[:16]
            try:
                grant = (
                    OPEN_GRANT
                    if self.keys is None
                    else self.keys.authenticate(request.headers.get("authorization"))
                )
                data = await handler(request, grant)
            except HybridMemError as exc:
                if exc.code >= 50000:
                    log.exception("request %s failed", request_id)
                    return error_response(
                        exc.code, f"internal error (request id {request_id})", request_id
                    )
                return error_response(exc.code, exc.message, request_id)
            except Exception:
                log.exception("request %s failed", request_id)
                return error_response(
                    50000, f"internal error (request id {request_id})", request_id
                )
            return _ok(data, request_id)

        return run

    async def body(self, request: Request, kind: type[T]) -> T:
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLargeError(f"the body is over the {limit}-byte limit")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLargeError(f"the body is over the {limit}-byte limit")
            chunks.append(chunk)
        return wire.decode(b"".join(chunks), kind)

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs), limiter=self.readers)

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs), limiter=self.writer)

    # -- handlers -------------------------------------------------------------------------------

    async def search(self, request: Request, grant: Grant) -> Any:
        req = await self.body(request, wire.SearchMemoryRequest)
        return await self.read(self.ops.search, req, grant)

    async def add_message(self, request: Request, grant: Grant) -> Any:
        req = await self.body(request, wire.AddMessageRequest)
        result = await self.write(self.ops.add_message, req, grant)
        task_id = uuid.uuid4().hex
        self.tasks[task_id] = None
        while len(self.tasks) > _MAX_TASKS:
            self.tasks.popitem(last=False)
        return wire.AddedData(
            success=True,
            task_id=task_id,
            status="completed",
            memory_ids=result.memory_ids,
            new_memories=result.new_items,
            new_messages=result.new_messages,
        )

    async def add_memory(self, request: Request, grant: Grant) -> Any:
        req = await self.body(request, wire.AddMemoryRequest)
        return await self.write(self.ops.add_memory, req, grant)

    async def add_preference(self, request: Request, grant: Grant) -> Any:
        req = await self.body(request, wire.AddPreferenceRequest)
        return await self.write(self.ops.add_preference, req, grant)

    async def get_memory(self, request: Request, grant: Grant) -> Any:
        req = await self.body(request, wire.GetMemoryRequest)
        return await self.read(self.ops.get_memory, req, grant)

    async def get_memory_by_id(self, request: Request, grant: Grant) -> Any:
        return await self.read(self.ops.get_memory_by_id, request.path_params["memory_id"], grant)

    async def get_message(self, request: Request, grant: Grant) -> Any:
        req = await self.body(request, wire.GetMessageRequest)
        return await self.read(self.ops.get_message, req, grant)

    async def get_status(self, request: Request, grant: Grant) -> Any:
        req = await self.body(request, wire.GetStatusRequest)
        if not req.task_id:
            raise MissingFieldError("task_id must not be empty")
        if req.task_id not in self.tasks:
            raise NotFoundError(f"no recent task {req.task_id!r:.80}")
        return wire.StatusData(task_id=req.task_id, status="completed")

    async def delete_memory(self, request: Request, grant: Grant) -> Any:
        req = await self.body(request, wire.DeleteMemoryRequest)
        return await self.write(self.ops.delete_memory, req, grant)

    async def openapi(self, request: Request) -> Response:
        from . import __version__

        doc = wire.openapi(self.settings.prefix, title="hybridmem", version=__version__)
        return _json(doc)
