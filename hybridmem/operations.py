"""The MemOS operations over one engine, for every front end (the HTTP handlers, the MCP tools).

Each operation takes a decoded request (:mod:`hybridmem.wire`) and the caller's
:class:`~hybridmem.auth.Grant`, checks the grant's access to every user it touches, fills in
MemOS's defaults, calls the :class:`~hybridmem.Engine` and returns the answer's data. The
rules are the HTTP API's: a user outside the grant gets :class:`~hybridmem.ForbiddenError`
(40310; 40306 for a delete), and an item of such a user reads as missing (40001), so a caller
never learns whether another user's id exists.

Operations are synchronous and may block (encoding, SQLite): an async front end runs them in
worker threads. Reads are :meth:`search`, :meth:`get_memory`, :meth:`get_memory_by_id` and
:meth:`get_message`; the rest write. They act on a :class:`Backend`: an
:class:`~hybridmem.Engine`, or anything with the same methods, such as
:mod:`hybridmem.cluster`'s router to the shard holding each user.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Protocol, TypeVar

from . import wire
from .auth import Grant
from .engine import AddMessagesResult
from .errors import (
    ForbiddenError,
    InvalidRequestError,
    LimitExceededError,
    MissingFieldError,
    NotFoundError,
)
from .messages import Extractor
from .types import Item, MessageDetail, SearchData
from .validate import user_id_arg

__all__ = ["Backend", "Operations", "check_user"]

T = TypeVar("T")


class Backend(Protocol):
    """The :class:`~hybridmem.Engine` methods the operations (and the server) call, with the
    engine's arguments, answers and errors."""

    @property
    def model(self) -> str: ...

    def warmup(self) -> None: ...

    # The keyword-rich calls are typed loosely: Engine and the cluster's ShardRouter spell out
    # their keywords, and a third copy of each signature here would only drift from them.
    @property
    def search(self) -> Callable[..., SearchData]: ...

    @property
    def page(self) -> Callable[..., tuple[list[Item], int]]: ...

    def get(self, item_id: str) -> Item | None: ...

    def get_messages(
        self, user_id: str, conversation_id: str, *, limit: int = 6
    ) -> list[MessageDetail]: ...

    def add(self, items: Iterable[Item]) -> int: ...

    @property
    def add_messages(self) -> Callable[..., AddMessagesResult]: ...

    @property
    def delete(self) -> Callable[..., int]: ...

    def close(self) -> None: ...


class Operations:
    """The operations, bound to one engine (or another :class:`Backend`).

    Args:
        engine: the open engine they act on (the caller keeps ownership).
        extractor: turns ``add_message`` messages into memories (default: one per user turn).
        default_memory_limit: ``memory_limit_number`` when a search leaves it out (MemOS: 6).
    """

    def __init__(
        self,
        engine: Backend,
        *,
        extractor: Extractor | None = None,
        default_memory_limit: int = 6,
    ) -> None:
        self.engine = engine
        self.extractor = extractor
        self.default_memory_limit = default_memory_limit

    # -- reads ----------------------------------------------------------------------------------

    def search(self, req: wire.SearchMemoryRequest, grant: Grant) -> SearchData:
        """``/search/memory``: the user's most relevant memories and preferences."""
        check_user(req.user_id, grant)
        return self.engine.search(
            req.query,
            user_id=req.user_id,
            conversation_id=req.conversation_id or None,
            memory_limit_number=_default(req.memory_limit_number, self.default_memory_limit),
            include_preference=_default(req.include_preference, True),
            preference_limit_number=_default(req.preference_limit_number, 6),
            relativity=_finite(_default(req.relativity, 0.0), "relativity"),
            filter=req.filter,
            reference_time=req.reference_time,
            explain=req.explain,
        )

    def get_memory(self, req: wire.GetMemoryRequest, grant: Grant) -> wire.GetMemoryData:
        """``/get/memory``: a page (1-based) of the user's memories (and preferences)."""
        check_user(req.user_id, grant)
        page = _default(req.page, 1)
        size = _default(req.size, 10)
        if isinstance(page, bool) or page < 1:
            raise InvalidRequestError(f"page must be an integer >= 1, got {page}")
        if isinstance(size, bool) or not 1 <= size <= wire.MAX_PAGE_SIZE:
            raise InvalidRequestError(f"size must be between 1 and {wire.MAX_PAGE_SIZE}")
        offset = (page - 1) * size
        if offset > 1 << 40:
            raise InvalidRequestError("page is out of range")
        memories, total = self.engine.page(
            req.user_id, offset=offset, limit=size, filter=req.filter
        )
        preferences = None
        if _default(req.include_preference, True):
            preferences, _ = self.engine.page(
                req.user_id, kind="preference", offset=offset, limit=size, filter=req.filter
            )
        return wire.GetMemoryData(
            memory_detail_list=memories,  # type: ignore[arg-type]
            preference_detail_list=preferences,  # type: ignore[arg-type]
            total=total,
            size=size,
            current=page,
            pages=math.ceil(total / size),
        )

    def get_memory_by_id(self, memory_id: str, grant: Grant) -> Item:
        """One memory or preference by id; another user's reads as missing (40001)."""
        item = self.engine.get(memory_id)
        if item is None or not grant.allows(item.user_id):
            raise NotFoundError(f"no memory with id {memory_id!r:.120}")
        return item

    def get_message(self, req: wire.GetMessageRequest, grant: Grant) -> wire.GetMessageData:
        """``/get/message``: the last messages of a conversation (oldest first)."""
        check_user(req.user_id, grant)
        limit = _default(req.message_limit_number, 6)
        if isinstance(limit, bool) or not 1 <= limit <= wire.MAX_PAGE_SIZE:
            raise InvalidRequestError(
                f"message_limit_number must be between 1 and {wire.MAX_PAGE_SIZE}"
            )
        messages = self.engine.get_messages(req.user_id, req.conversation_id, limit=limit)
        return wire.GetMessageData(message_detail_list=messages)

    # -- writes ---------------------------------------------------------------------------------

    def add_message(self, req: wire.AddMessageRequest, grant: Grant) -> AddMessagesResult:
        """``/add/message``: store the messages (and their memories) for each user named.

        Every user is checked before anything is written; the result sums over the users."""
        users = [req.user_id] if isinstance(req.user_id, str) else req.user_id
        if not users:
            raise MissingFieldError("user_id must not be empty")
        if len(users) > wire.MAX_USERS:
            raise LimitExceededError(f"at most {wire.MAX_USERS} user ids per request")
        if len(req.messages) > wire.MAX_MESSAGES:
            raise LimitExceededError(f"at most {wire.MAX_MESSAGES} messages per request")
        for user in users:
            check_user(user, grant)
        wire.check_depth(req.info, "info")
        messages = [wire.to_message(i, m) for i, m in enumerate(req.messages)]
        results = [
            self.engine.add_messages(
                messages,
                user_id=user,
                conversation_id=req.conversation_id or None,
                tags=req.tags or (),
                info=req.info,
                extractor=self.extractor,
            )
            for user in users
        ]
        return AddMessagesResult(
            memory_ids=[i for r in results for i in r.memory_ids],
            new_items=sum(r.new_items for r in results),
            new_messages=sum(r.new_messages for r in results),
        )

    def add_memory(self, req: wire.AddMemoryRequest, grant: Grant) -> wire.AddedItemsData:
        """``/add/memory``: insert or replace memories by id."""
        return self._add(req.memories, grant)

    def add_preference(self, req: wire.AddPreferenceRequest, grant: Grant) -> wire.AddedItemsData:
        """``/add/preference``: insert or replace preferences by id."""
        return self._add(req.preferences, grant)

    def _add(self, items: Sequence[Item], grant: Grant) -> wire.AddedItemsData:
        if not items:
            raise MissingFieldError("the list of items must not be empty")
        for item in items:
            check_user(item.user_id, grant)
        if len(items) > wire.MAX_ITEMS:
            raise LimitExceededError(f"at most {wire.MAX_ITEMS} items per request")
        # Ids are global and keep their owner: the store refuses (IdConflictError, 409) an
        # upsert of an id another user holds, so a key cannot take over anyone's memory.
        n = self.engine.add(items)
        return wire.AddedItemsData(success=True, count=n, ids=[item.id for item in items])

    def delete_memory(self, req: wire.DeleteMemoryRequest, grant: Grant) -> wire.DeletedData:
        """``/delete/memory``: by ids, by user, by filter, or by filter within one user.

        A key limited to some users may delete by ids only where it may access every stored
        owner (checked in the delete's own transaction), and by filter only within a user."""
        ids, user_id, flt = req.memory_ids, req.user_id, req.filter
        if flt is not None and user_id is not None and ids is None:
            check_user(user_id, grant, code=40306)
            return _deleted(self.engine.delete(filter=flt, user_id=user_id))
        if sum(x is not None for x in (ids, user_id, flt)) != 1:
            raise InvalidRequestError(
                "give exactly one of memory_ids, user_id or filter (or filter with user_id)"
            )
        if ids is not None:
            if not ids:
                raise MissingFieldError("memory_ids must not be empty")
            if len(ids) > wire.MAX_IDS:
                raise LimitExceededError(f"at most {wire.MAX_IDS} memory_ids per request")
            check = None if grant.unrestricted else partial(grant.check, code=40306)
            return _deleted(self.engine.delete(ids=ids, check_owner=check))
        if user_id is not None:
            check_user(user_id, grant, code=40306)
            return _deleted(self.engine.delete(user_id=user_id))
        if not grant.unrestricted:
            raise ForbiddenError(
                "this API key is limited to some users: name the user with user_id alongside "
                "filter",
                code=40306,
            )
        return _deleted(self.engine.delete(filter=flt))


def check_user(user_id: str, grant: Grant, *, code: int = 40310) -> None:
    """Validate the id (so a too-long id gets 40010, not 403), then the grant's access to it."""
    grant.check(user_id_arg(user_id), code=code)


def _deleted(n: int) -> wire.DeletedData:
    return wire.DeletedData(success=True, deleted=n)


def _default(value: T | None, default: T) -> T:
    return default if value is None else value


def _finite(value: float, name: str) -> float:
    if not math.isfinite(value):
        raise InvalidRequestError(f"{name} must be a finite number")
    return value
