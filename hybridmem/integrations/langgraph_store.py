"""A LangGraph ``BaseStore`` on a hybridmem engine (``pip install 'hybridmem[langchain]'``).

Namespaces map to users: the label at ``user_label`` (default the first, as in LangGraph's
``(user_id, "memories")``) is the hybridmem ``user_id``, so every search runs over one user's
memories and nobody else's. An item is a ``Memory`` whose id encodes its namespace and key
(``lg:["u1","memories","k1"]``); a value ``{"content": text}`` (``text_field``) is stored as the
plain text, which is what ranks best; any other value is stored as its JSON and indexed as such.

``search`` with a ``query`` ranks by hybridmem's hybrid relevance (``SearchItem.score`` is the
relativity in [0, 1]); without one it lists items newest first. ``filter`` is LangGraph's
filter on value fields (exact values, ``$eq $ne $gt $gte $lt $lte``), applied to at most
:data:`MAX_SCAN` candidates. The ``index`` argument of ``put`` is ignored: every item is
indexed. TTLs are not supported. Writes in one ``batch`` are applied after its reads, the last
write of a key winning, as in LangGraph's ``InMemoryStore``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

import msgspec
from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    validate_op_namespace,
)

from ..engine import Engine
from ..errors import ForbiddenError, InvalidRequestError
from ..types import Memory, TimeIn, stored_ms

__all__ = ["MAX_SCAN", "HybridMemStore"]

#: candidates a filtered search, or a list_namespaces, looks through at most.
MAX_SCAN = 1000
_ID_PREFIX = "lg:"
_PAGE = 1000


class HybridMemStore(BaseStore):
    """LangGraph long-term memory on hybridmem.

    Args:
        engine: an open engine (the store does not close it).
        user_label: which namespace label is the user id (0: the first; 1 for
            ``("memories", user_id)``). A search or list needs a prefix that reaches it.
        text_field: the value field that holds the memory text.
    """

    supports_ttl = False

    def __init__(self, engine: Engine, *, user_label: int = 0, text_field: str = "content"):
        if isinstance(user_label, bool) or not isinstance(user_label, int) or user_label < 0:
            raise InvalidRequestError(f"user_label must be an integer >= 0, got {user_label!r}")
        self.engine = engine
        self.user_label = user_label
        self.text_field = text_field

    # -- batch ----------------------------------------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run the ops: reads in order against the store as it was, then the writes."""
        ops = list(ops)
        results: list[Result] = []
        writes: dict[tuple[tuple[str, ...], str], PutOp] = {}
        for op in ops:
            validate_op_namespace(op)
            if isinstance(op, GetOp):
                results.append(self._get(op))
            elif isinstance(op, SearchOp):
                results.append(self._search(op))
            elif isinstance(op, ListNamespacesOp):
                results.append(self._list_namespaces(op))
            elif isinstance(op, PutOp):
                writes[(tuple(op.namespace), op.key)] = op
                results.append(None)
            else:
                raise InvalidRequestError(f"unknown store operation {type(op).__name__}")
        self._apply(list(writes.values()))
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """:meth:`batch` in a worker thread (the engine's calls block)."""
        return await asyncio.to_thread(self.batch, list(ops))

    # -- operations -----------------------------------------------------------------------------

    def _get(self, op: GetOp) -> Item | None:
        namespace = tuple(op.namespace)
        stored = self.engine.get(item_id(namespace, op.key))
        if not isinstance(stored, Memory) or stored.status != "activated":
            return None
        if stored.user_id != self._user(namespace):
            return None
        return Item(
            value=self._value(stored.memory_value),
            key=op.key,
            namespace=namespace,
            created_at=_time(stored.create_time),
            updated_at=_time(stored.update_time),
        )

    def _search(self, op: SearchOp) -> list[SearchItem]:
        prefix = tuple(op.namespace_prefix)
        user = self._user(prefix)
        scope = {"id": {"contains": _id_stem(prefix)}}
        wanted = op.offset + op.limit
        n = MAX_SCAN if op.filter else min(wanted, MAX_SCAN)
        found: list[SearchItem] = []
        rows: list[tuple[str, str, TimeIn | None, TimeIn | None, float | None]]
        if op.query:
            data = self.engine.search(
                op.query, user_id=user, memory_limit_number=n, include_preference=False,
                filter=scope,
            )  # fmt: skip
            rows = [(h.id, h.memory_value, h.create_time, h.update_time, h.relativity)
                    for h in data.memory_detail_list]  # fmt: skip
        else:
            rows = [(m.id, m.memory_value, m.create_time, m.update_time, None)
                    for m in self._scan(user, scope, n)]  # fmt: skip
        for rid, text, created, updated, score in rows:
            value = self._value(text)
            if op.filter and not matches(value, op.filter):
                continue
            namespace, key = parse_id(rid)
            found.append(SearchItem(
                namespace=namespace, key=key, value=value, created_at=_time(created),
                updated_at=_time(updated), score=score,
            ))  # fmt: skip
        return found[op.offset : wanted]

    def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        conditions = op.match_conditions or ()
        user = next((self._condition_user(c) for c in conditions if self._condition_user(c)), None)
        if user is None:
            raise InvalidRequestError(
                "list_namespaces needs a prefix condition naming the user "
                f"(namespace label {self.user_label})"
            )
        scope = {"id": {"contains": _id_stem((user,) if self.user_label == 0 else ())}}
        spaces = set()
        for m in self._scan(user, scope, MAX_SCAN):
            namespace, _ = parse_id(m.id)
            if all(_matches_namespace(c, namespace) for c in conditions):
                spaces.add(namespace[: op.max_depth] if op.max_depth is not None else namespace)
        return sorted(spaces)[op.offset : op.offset + op.limit]

    def _apply(self, writes: list[PutOp]) -> None:
        deletes: dict[str, list[str]] = {}
        for w in writes:
            if w.value is None:
                namespace = tuple(w.namespace)
                deletes.setdefault(self._user(namespace), []).append(item_id(namespace, w.key))
        for user, ids in deletes.items():
            self.engine.delete(ids=ids, check_owner=partial(_check_owner, user))
        puts = [(w, w.value) for w in writes if w.value is not None]
        if not puts:
            return
        memories = []
        for w, value in puts:
            namespace = tuple(w.namespace)
            mid = item_id(namespace, w.key)
            before = self.engine.get(mid)  # an update keeps the item's creation time
            memories.append(Memory(
                id=mid, user_id=self._user(namespace), memory_value=self._text(value),
                create_time=before.create_time if isinstance(before, Memory) else None,
            ))  # fmt: skip
        self.engine.add(memories)

    # -- mapping --------------------------------------------------------------------------------

    def _user(self, namespace: tuple[str, ...]) -> str:
        i = self.user_label
        if i >= len(namespace):
            raise InvalidRequestError(
                f"namespace {namespace!r:.200} has no label {i}, the user id; "
                "a search needs a prefix that reaches it"
            )
        return namespace[i]

    def _condition_user(self, condition: MatchCondition) -> str | None:
        i, path = self.user_label, condition.path
        if condition.match_type != "prefix" or i >= len(path) or path[i] == "*":
            return None
        return path[i]

    def _text(self, value: Mapping[str, Any]) -> str:
        text = value.get(self.text_field) if len(value) == 1 else None
        if isinstance(text, str) and text.strip() and not text.startswith("{"):
            return text
        try:
            return msgspec.json.encode(dict(value), order="sorted").decode()
        except (TypeError, msgspec.EncodeError) as exc:
            raise InvalidRequestError(f"the value must be JSON-serialisable: {exc}") from None

    def _value(self, text: str) -> dict[str, Any]:
        if text.startswith("{"):
            try:
                value = msgspec.json.decode(text)
            except msgspec.DecodeError:
                value = None
            if isinstance(value, dict):
                return value
        return {self.text_field: text}

    def _scan(self, user: str, scope: dict[str, Any], n: int) -> list[Memory]:
        out: list[Memory] = []
        while len(out) < n:
            page, _ = self.engine.page(user, offset=len(out), limit=min(_PAGE, n - len(out)),
                                       filter=scope)  # fmt: skip
            out.extend(m for m in page if isinstance(m, Memory))
            if len(page) < _PAGE:
                break
        return out


def item_id(namespace: tuple[str, ...], key: str) -> str:
    """The hybridmem id of a LangGraph item: its namespace and key as a JSON list."""
    return _ID_PREFIX + msgspec.json.encode([*namespace, key]).decode()


def parse_id(memory_id: str) -> tuple[tuple[str, ...], str]:
    """The ``(namespace, key)`` that :func:`item_id` made ``memory_id`` from."""
    parts = msgspec.json.decode(memory_id[len(_ID_PREFIX) :], type=list[str])
    return tuple(parts[:-1]), parts[-1]


def _id_stem(prefix: tuple[str, ...]) -> str:
    # '["a","b",' starts only the ids of namespaces under (a, b): inside a JSON string a quote
    # is escaped, so '["' cannot occur anywhere but at the start.
    return _ID_PREFIX + msgspec.json.encode(list(prefix)).decode()[:-1] + ("," if prefix else "")


def _check_owner(user: str, owner: str) -> None:
    # an lg: id that another user holds (added through another API) is not this namespace's
    if owner != user:
        raise ForbiddenError(f"the item belongs to another user than {user!r:.120}", code=40306)


def _time(value: TimeIn | None) -> datetime:
    return datetime.fromtimestamp((stored_ms(value) or 0) / 1000, UTC)


def _matches_namespace(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    path = tuple(condition.path)
    if len(namespace) < len(path):
        return False
    start = 0 if condition.match_type == "prefix" else len(namespace) - len(path)
    labels = namespace[start : start + len(path)]
    return all(p in ("*", label) for p, label in zip(path, labels, strict=True))


def matches(value: Any, flt: Mapping[str, Any]) -> bool:
    """LangGraph's value filter: each key's value equal, or passing ``{"$op": operand}``."""
    if not isinstance(value, Mapping):
        return False
    return all(_compare(value.get(k), want) for k, want in flt.items())


_OPS = {
    "$eq": lambda a, b: a == b,
    "$ne": lambda a, b: a != b,
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}


def _compare(have: Any, want: Any) -> bool:
    if isinstance(want, Mapping):
        if any(str(k).startswith("$") for k in want):
            return all(_operator(have, op, operand) for op, operand in want.items())
        return matches(have, want)
    return have == want


def _operator(have: Any, op: str, operand: Any) -> bool:
    fn = _OPS.get(op)
    if fn is None:
        raise InvalidRequestError(f"unknown filter operator {op!r:.40}; known: {', '.join(_OPS)}")
    try:
        return bool(fn(have, operand))
    except TypeError:  # None or another type than the operand's: no match, as in SQL
        return False
