"""The HTTP handlers of ``hybridmem serve``: one method per MemOS endpoint, bound to an engine,
a key ring and the server's settings (:mod:`hybridmem.server` mounts them).

Each handler decodes the body (:mod:`hybridmem.wire`), checks the key's access to the user,
calls the :class:`~hybridmem.Engine` in a worker thread and returns what goes in the envelope.
Searches and reads run in a thread pool (``search_threads`` at once); up to ``write_threads``
writes are in flight, and the engine applies their chunks in turn, so a long add blocks
neither searches nor a short add.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, TypeVar, get_args

import anyio
import anyio.to_thread
import msgspec
from msgspec import Meta
from starlette.requests import Request
from starlette.responses import Response

from . import wire
from .auth import OPEN_GRANT, Grant, KeyRing
from .engine import Engine
from .errors import (
    ForbiddenError,
    HybridMemError,
    InvalidRequestError,
    LimitExceededError,
    MissingFieldError,
    NotFoundError,
    PayloadTooLargeError,
)
from .messages import Extractor
from .types import Message, Role
from .validate import user_id_arg

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
_ROLES: tuple[str, ...] = get_args(Role)
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
        engine: Engine,
        keys: KeyRing | None,
        settings: ServerSettings,
        extractor: Extractor | None,
    ) -> None:
        self.engine = engine
        self.keys = keys
        self.settings = settings
        self.extractor = extractor
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
        _check_user(req.user_id, grant)
        return await self.read(
            self.engine.search,
            req.query,
            user_id=req.user_id,
            conversation_id=req.conversation_id or None,
            memory_limit_number=_default(
                req.memory_limit_number, self.settings.default_memory_limit
            ),
            include_preference=_default(req.include_preference, True),
            preference_limit_number=_default(req.preference_limit_number, 6),
            relativity=_finite(_default(req.relativity, 0.0), "relativity"),
            filter=req.filter,
            reference_time=req.reference_time,
            explain=req.explain,
        )

    async def add_message(self, request: Request, grant: Grant) -> Any:
        req = await self.body(request, wire.AddMessageRequest)
        users = [req.user_id] if isinstance(req.user_id, str) else req.user_id
        if not users:
            raise MissingFieldError("user_id must not be empty")
        if len(users) > wire.MAX_USERS:
            raise LimitExceededError(f"at most {wire.MAX_USERS} user ids per request")
        if len(req.messages) > wire.MAX_MESSAGES:
            raise LimitExceededError(f"at most {wire.MAX_MESSAGES} messages per request")
        for user in users:
            _check_user(user, grant)
        wire.check_depth(req.info, "info")
        messages = [_message(i, m) for i, m in enumerate(req.messages)]
        results = []
        for user in users:
            results.append(
                await self.write(
                    self.engine.add_messages,
                    messages,
                    user_id=user,
                    conversation_id=req.conversation_id or None,
                    tags=req.tags or (),
                    info=req.info,
                    extractor=self.extractor,
                )
            )
        task_id = uuid.uuid4().hex
        self.tasks[task_id] = None
        while len(self.tasks) > _MAX_TASKS:
            self.tasks.popitem(last=False)
        return wire.AddedData(
            success=True,
            task_id=task_id,
            status="completed",
            memory_ids=[i for r in results for i in r.memory_ids],
            new_memories=sum(r.new_items for r in results),
            new_messages=sum(r.new_messages for r in results),
        )

    async def add_memory(self, request: Request, grant: Grant) -> Any:
        req = await self.body(request, wire.AddMemoryRequest)
        return await self._add(req.memories, grant)

    async def add_preference(self, request: Request, grant: Grant) -> Any:
        req = await self.body(request, wire.AddPreferenceRequest)
        return await self._add(req.preferences, grant)

    async def _add(self, items: list[Any], grant: Grant) -> wire.AddedItemsData:
        if not items:
            raise MissingFieldError("the list of items must not be empty")
        for item in items:
            _check_user(item.user_id, grant)

        if len(items) > wire.MAX_ITEMS:
            raise LimitExceededError(f"at most {wire.MAX_ITEMS} items per request")
        # Ids are global and keep their owner: the store refuses (IdConflictError, 409) an
        # upsert of an id another user holds, so a key cannot take over anyone's memory.
        n = await self.write(self.engine.add, items)
        return wire.AddedItemsData(success=True, count=n, ids=[item.id for item in items])

    async def get_memory(self, request: Request, grant: Grant) -> Any:
        req = await self.body(request, wire.GetMemoryRequest)
        _check_user(req.user_id, grant)
        page = _default(req.page, 1)
        size = _default(req.size, 10)
        if isinstance(page, bool) or page < 1:
            raise InvalidRequestError(f"page must be an integer >= 1, got {page}")
        if isinstance(size, bool) or not 1 <= size <= wire.MAX_PAGE_SIZE:
            raise InvalidRequestError(f"size must be between 1 and {wire.MAX_PAGE_SIZE}")
        offset = (page - 1) * size
        if offset > 1 << 40:
            raise InvalidRequestError("page is out of range")
        memories, total = await self.read(
            self.engine.page, req.user_id, offset=offset, limit=size, filter=req.filter
        )
        preferences = None
        if _default(req.include_preference, True):
            preferences, _ = await self.read(
                self.engine.page,
                req.user_id,
                kind="preference",
                offset=offset,
                limit=size,
                filter=req.filter,
            )
        return wire.GetMemoryData(
            memory_detail_list=memories,
            preference_detail_list=preferences,
            total=total,
            size=size,
            current=page,
            pages=math.ceil(total / size),
        )

    async def get_memory_by_id(self, request: Request, grant: Grant) -> Any:
        memory_id = request.path_params["memory_id"]
        item = await self.read(self.engine.get, memory_id)
        if item is None or not grant.allows(item.user_id):
            raise NotFoundError(f"no memory with id {memory_id!r:.120}")
        return item

    async def get_message(self, request: Request, grant: Grant) -> Any:
        req = await self.body(request, wire.GetMessageRequest)
        _check_user(req.user_id, grant)
        limit = _default(req.message_limit_number, 6)
        if isinstance(limit, bool) or not 1 <= limit <= wire.MAX_PAGE_SIZE:
            raise InvalidRequestError(
                f"message_limit_number must be between 1 and {wire.MAX_PAGE_SIZE}"
            )
        messages = await self.read(
            self.engine.get_messages, req.user_id, req.conversation_id, limit=limit
        )
        return wire.GetMessageData(message_detail_list=messages)

    async def get_status(self, request: Request, grant: Grant) -> Any:
        req = await self.body(request, wire.GetStatusRequest)
        if not req.task_id:
            raise MissingFieldError("task_id must not be empty")
        if req.task_id not in self.tasks:
            raise NotFoundError(f"no recent task {req.task_id!r:.80}")
        return wire.StatusData(task_id=req.task_id, status="completed")

    async def delete_memory(self, request: Request, grant: Grant) -> Any:
        req = await self.body(request, wire.DeleteMemoryRequest)
        ids, user_id, flt = req.memory_ids, req.user_id, req.filter
        if flt is not None and user_id is not None and ids is None:
            _check_user(user_id, grant, code=40306)
            n = await self.write(self.engine.delete, filter=flt, user_id=user_id)
            return wire.DeletedData(success=True, deleted=n)
        if sum(x is not None for x in (ids, user_id, flt)) != 1:
            raise InvalidRequestError(
                "give exactly one of memory_ids, user_id or filter (or filter with user_id)"
            )
        if ids is not None:
            if not ids:
                raise MissingFieldError("memory_ids must not be empty")

            if len(ids) > wire.MAX_IDS:
                raise LimitExceededError(f"at most {wire.MAX_IDS} memory_ids per request")
            # the key's access to each stored owner is checked in the delete's own transaction
            n = await self.write(
                self.engine.delete,
                ids=ids,
                check_owner=None if grant.unrestricted else partial(grant.check, code=40306),
            )
        elif user_id is not None:
            _check_user(user_id, grant, code=40306)
            n = await self.write(self.engine.delete, user_id=user_id)
        else:
            if not grant.unrestricted:
                raise ForbiddenError(
                    "this API key is limited to some users: name the user with user_id "
                    "alongside filter",
                    code=40306,
                )
            n = await self.write(self.engine.delete, filter=flt)
        return wire.DeletedData(success=True, deleted=n)

    async def openapi(self, request: Request) -> Response:
        from . import __version__

        doc = wire.openapi(self.settings.prefix, title="hybridmem", version=__version__)
        return _json(doc)


def _check_user(user_id: str, grant: Grant, *, code: int = 40310) -> None:
    """Validate the id (so a too-long id gets 40010, not 403), then the key's access to it."""
    grant.check(user_id_arg(user_id), code=code)


def _default(value: T | None, default: T) -> T:
    return default if value is None else value


def _finite(value: float, name: str) -> float:
    if not math.isfinite(value):
        raise InvalidRequestError(f"{name} must be a finite number")
    return value


def _message(i: int, m: wire.WireMessage) -> Message:
    if m.role not in _ROLES:
        raise InvalidRequestError(f"messages[{i}].role must be one of {', '.join(_ROLES)}")
    chat_time = m.chat_time
    if isinstance(chat_time, float) and not math.isfinite(chat_time):
        raise InvalidRequestError(f"messages[{i}].chat_time must be finite")
    return Message(
        role=m.role,  # type: ignore[arg-type]
        content=m.text(),
        chat_time=None if chat_time is None else str(chat_time),
    )
