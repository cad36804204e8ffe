"""MemOS-style search filters, validated and compiled to SQL.

Grammar (as in the MemOS ``filter`` request field)::

    filter    := {} | {"and": [filter, ...]} | {"or": [filter, ...]} | condition
    condition := {field: value} | {field: {op: value, ...}} | several fields in one dict (AND)
    op        := "gt" | "gte" | "lt" | "lte" | "contains" | "in"

Fields: ``id, user_id, conversation_id, memory_type, memory_key, preference_type, tags,
confidence, create_time, update_time``. Times are epoch milliseconds or ISO-8601 strings
(``"2025-11-01"``, ``"2025-11-01T08:00:00Z"``; naive times are UTC). ``{"tags": "x"}`` and
``{"tags": {"contains": "x"}}`` mean "has tag x"; ``{"tags": {"in": [...]}}`` means "has any of
these tags"; ``contains`` on a text field is a substring test. A filter applies to memories and
preferences alike; a field that one kind lacks (``tags`` on a preference, say) never matches an
item of that kind. ``user_id`` matters only where no user is given (a delete by filter).

The filter is compiled once to a parameterised SQL ``WHERE`` fragment over the store's ``items``
table; the store resolves it to the user's allowed items *before* either retriever ranks them.

Bounds (an :class:`InvalidFilterError` beyond them, never a database error): nesting at most
:data:`MAX_DEPTH` levels, at most :data:`MAX_CONDITIONS` conditions and :data:`MAX_VALUES` values
(``in`` lists included) in one filter; times between 0 and the end of year 9999; numbers finite.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import msgspec

from .errors import InvalidFilterError
from .times import iso_ms
from .types import MAX_EPOCH_MS

__all__ = [
    "FIELDS",
    "MAX_CONDITIONS",
    "MAX_DEPTH",
    "MAX_VALUES",
    "CompiledFilter",
    "compile_filter",
]

_TEXT = "text"
_TIME = "time"
_NUMBER = "number"
_TAGS = "tags"

#: filterable field -> its kind.
FIELDS: dict[str, str] = {
    "id": _TEXT,
    "user_id": _TEXT,
    "conversation_id": _TEXT,
    "memory_type": _TEXT,
    "memory_key": _TEXT,
    "preference_type": _TEXT,
    "tags": _TAGS,
    "confidence": _NUMBER,
    "create_time": _TIME,
    "update_time": _TIME,
}
_COMPARE = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_OPS = (*_COMPARE, "contains", "in")
#: how deep ``and``/``or`` may nest.
MAX_DEPTH = 32
#: conditions (``field: value`` or one operator of a field) in one filter. SQLite bounds an
#: expression's depth (1,000), and a flat ``or`` of n conditions is n deep.
MAX_CONDITIONS = 256
#: values in one filter, ``in`` lists included (SQLite bounds a statement's parameters).
MAX_VALUES = 10_000


class CompiledFilter(msgspec.Struct, frozen=True):
    """A validated filter: ``sql`` is a boolean expression over ``items`` with ``?`` params."""

    sql: str
    params: tuple[Any, ...]


def compile_filter(spec: Mapping[str, Any] | None) -> CompiledFilter | None:
    """Validate a MemOS filter and compile it; ``None`` or ``{}`` means no filter.

    Raises:
        InvalidFilterError: unknown field or operator, wrong value type, or malformed nesting.
    """
    if spec is None:
        return None
    if not isinstance(spec, Mapping):
        raise InvalidFilterError(f"filter must be an object, got {type(spec).__name__}")
    if not spec:
        return None
    params: list[Any] = []
    budget = _Budget()
    sql = _node(spec, params, budget, depth=0, path="filter")
    return CompiledFilter(sql=sql, params=tuple(params))


class _Budget:
    """Counts a filter's conditions as it compiles, to refuse one over the bounds early."""

    def __init__(self) -> None:
        self.conditions = 0

    def spend(self, path: str) -> None:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise InvalidFilterError(f"{path}: a filter holds at most {MAX_CONDITIONS} conditions")


def _node(spec: Any, params: list[Any], budget: _Budget, *, depth: int, path: str) -> str:
    if depth > MAX_DEPTH:
        raise InvalidFilterError(f"{path}: nested deeper than {MAX_DEPTH} levels")
    if not isinstance(spec, Mapping) or not spec:
        raise InvalidFilterError(f"{path}: expected a non-empty object, got {spec!r:.80}")
    parts = []
    for key, value in spec.items():
        if key in ("and", "or"):
            if not isinstance(value, list) or not value:
                raise InvalidFilterError(f"{path}.{key}: expected a non-empty list of filters")
            if len(value) > MAX_CONDITIONS:
                raise InvalidFilterError(
                    f"{path}.{key}: a filter holds at most {MAX_CONDITIONS} conditions"
                )
            subs = [
                _node(v, params, budget, depth=depth + 1, path=f"{path}.{key}[{i}]")
                for i, v in enumerate(value)
            ]
            parts.append("(" + f" {key.upper()} ".join(subs) + ")")
        else:
            parts.append(_condition(key, value, params, budget, path=f"{path}.{key}"))
    return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"


def _condition(field: Any, value: Any, params: list[Any], budget: _Budget, *, path: str) -> str:
    if field not in FIELDS:
        known = ", ".join(sorted(FIELDS))
        raise InvalidFilterError(f"{path}: unknown filter field {field!r} (known: {known}, and/or)")
    if not isinstance(value, Mapping):
        budget.spend(path)
        return _apply(field, "eq", value, params, path=path)
    if not value:
        raise InvalidFilterError(f"{path}: empty operator object")
    parts = []
    for op, operand in value.items():
        if op not in _OPS:
            raise InvalidFilterError(f"{path}: unknown operator {op!r} (known: {', '.join(_OPS)})")
        budget.spend(path)
        parts.append(_apply(field, op, operand, params, path=f"{path}.{op}"))
    return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"


def _apply(field: str, op: str, value: Any, params: list[Any], *, path: str) -> str:
    kind = FIELDS[field]
    if op == "in":
        if not isinstance(value, list) or not value:
            raise InvalidFilterError(f"{path}: 'in' needs a non-empty list")
        if len(params) + len(value) > MAX_VALUES:
            raise InvalidFilterError(f"{path}: a filter holds at most {MAX_VALUES} values")
        values = [_scalar(kind, v, path) for v in value]
        marks = ",".join("?" * len(values))
        params.extend(values)
        if kind == _TAGS:
            return f"EXISTS (SELECT 1 FROM json_each(items.tags) AS t WHERE t.value IN ({marks}))"
        return f"items.{field} IN ({marks})"
    if len(params) >= MAX_VALUES:
        raise InvalidFilterError(f"{path}: a filter holds at most {MAX_VALUES} values")
    scalar = _scalar(kind, value, path)
    if op in _COMPARE:
        if kind not in (_TIME, _NUMBER):
            raise InvalidFilterError(f"{path}: {op!r} applies to times and numbers, not {field}")
        params.append(scalar)
        return f"items.{field} {_COMPARE[op]} ?"
    params.append(scalar)
    if kind == _TAGS:  # equality and contains both mean "has this tag"
        return "EXISTS (SELECT 1 FROM json_each(items.tags) AS t WHERE t.value = ?)"
    if op == "contains":
        if kind != _TEXT:
            raise InvalidFilterError(f"{path}: 'contains' applies to text fields and tags")
        return f"instr(items.{field}, ?) > 0"
    return f"items.{field} = ?"


def _scalar(kind: str, value: Any, path: str) -> Any:
    if kind in (_TEXT, _TAGS):
        if not isinstance(value, str):
            raise InvalidFilterError(f"{path}: expected a string, got {value!r:.80}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidFilterError(f"{path}: not valid Unicode (a lone surrogate)") from None
        return value
    if kind == _NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidFilterError(f"{path}: expected a number, got {value!r:.80}")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise InvalidFilterError(f"{path}: expected a finite number, got {value!r:.80}")
        return number
    ms = _epoch_ms(value, path)
    if not 0 <= ms <= MAX_EPOCH_MS:
        raise InvalidFilterError(
            f"{path}: times are epoch milliseconds between 0 and the end of year 9999, "
            f"got {value!r:.80}"
        )
    return ms


def _epoch_ms(value: Any, path: str) -> int:
    if isinstance(value, bool):
        raise InvalidFilterError(f"{path}: expected epoch milliseconds or an ISO date, got bool")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        ms = iso_ms(value)
        if ms is not None:
            return ms
    raise InvalidFilterError(
        f"{path}: expected epoch milliseconds or an ISO-8601 date, got {value!r:.80}"
    )
