"""Boundary checks: every argument from a caller is checked here, before anything is written.

Each failure is an :class:`~hybridmem.errors.InvalidRequestError` (or a subclass carrying the
MemOS error code) whose message names the argument, or the item's position and id.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar, cast

import msgspec
import numpy as np

from . import wire
from .config import RANKINGS
from .encoder.names import model_id
from .errors import FieldTooLongError, InvalidRequestError, MissingFieldError
from .rows import Kind
from .times import iso_ms
from .types import MAX_EPOCH_MS, MAX_ID_LENGTH, Item, Memory, Message, Preference

__all__ = [
    "MAX_LIMIT",
    "check_embeddings",
    "check_items",
    "check_reindex",
    "check_search",
    "conversation_id_arg",
    "ids_arg",
    "info_arg",
    "item_id_arg",
    "kind_arg",
    "limit_arg",
    "messages_arg",
    "offset_arg",
    "query_text_arg",
    "required_conversation_arg",
    "revalidated",
    "tags_arg",
    "text_arg",
    "user_id_arg",
]

MAX_LIMIT = 1000
S = TypeVar("S", bound=msgspec.Struct)
_UNIT_TOLERANCE = 1e-6  # a float32 vector normalised once has a norm this close to 1


def text_arg(value: str, name: str) -> str:
    """``value`` if it can be stored: a lone UTF-16 surrogate (``"\\ud800"``) cannot be encoded
    as UTF-8, which SQLite, Tantivy and JSON all need. (Over HTTP the JSON decoder refuses
    them; from Python they would otherwise fail deep in a write.)"""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequestError(
            f"{name} is not valid Unicode text (it holds a lone surrogate)"
        ) from None
    return value


def _id_field(value: Any, name: str, *, required: bool, code_too_long: int) -> str | None:
    if value is None:
        if required:
            raise MissingFieldError(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise InvalidRequestError(f"{name} must be a string, got {type(value).__name__}")
    if required and not value.strip():
        raise MissingFieldError(f"{name} must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise FieldTooLongError(
            f"{name} is {len(value)} characters; at most {MAX_ID_LENGTH} allowed",
            code=code_too_long,
        )
    return text_arg(value, name)


def user_id_arg(value: Any) -> str:
    out = _id_field(value, "user_id", required=True, code_too_long=40010)
    assert out is not None
    return out


def conversation_id_arg(value: Any) -> str | None:
    return _id_field(value, "conversation_id", required=False, code_too_long=40011)


def limit_arg(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequestError(f"{name} must be an integer, got {value!r:.40}")
    if not 0 <= value <= MAX_LIMIT:
        raise InvalidRequestError(f"{name} must be between 0 and {MAX_LIMIT}, got {value}")
    return value


def offset_arg(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequestError(f"offset must be an integer >= 0, got {value!r:.40}")
    return value


def kind_arg(value: Any) -> Kind:
    if value not in ("memory", "preference"):
        raise InvalidRequestError(f"kind must be 'memory' or 'preference', got {value!r}")
    return cast(Kind, value)


def item_id_arg(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidRequestError(f"id must be a string, got {type(value).__name__}")
    return text_arg(value, "id")


def required_conversation_arg(value: Any) -> str:
    conversation = conversation_id_arg(value)
    if not conversation:
        raise MissingFieldError("conversation_id is required")
    return conversation


def query_text_arg(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError("text must be a non-empty string")
    return value


def check_reindex(*, model: Any, batch_size: Any, only: Any, current_model: str) -> str | None:
    """Check a reindex's arguments; returns the model to move to (``None``: keep the store's).

    Raises:
        InvalidRequestError: on the first bad argument.
    """
    if only not in (None, "lexical", "dense"):
        raise InvalidRequestError(f"only must be 'lexical' or 'dense', got {only!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidRequestError(f"batch_size must be a positive integer, got {batch_size!r}")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise InvalidRequestError("model must be a non-empty name or path")
    if model is None or model_id(model) == current_model:  # another backend of the same model
        return None
    if only == "lexical":
        raise InvalidRequestError(
            "a new model needs new embeddings and a new dense index: drop --only lexical"
        )
    return model


def _strings(value: Any, name: str) -> list[str]:
    """A list of strings (a bare string is refused: it would iterate characters)."""
    if isinstance(value, str | bytes):
        raise InvalidRequestError(f"{name} must be a list of strings, not a string")
    if not isinstance(value, Iterable):
        raise InvalidRequestError(f"{name} must be a list of strings, not {type(value).__name__}")
    out = list(value)
    if not all(isinstance(v, str) for v in out):
        raise InvalidRequestError(f"{name} must be strings")
    for v in out:
        text_arg(v, name)
    return out


def ids_arg(ids: Any) -> list[str]:
    return _strings(ids, "ids")


def tags_arg(tags: Any) -> list[str]:
    return _strings(tags, "tags")


def messages_arg(messages: Any) -> list[Message]:
    """A non-empty list of :class:`~hybridmem.types.Message`, re-validated as a decoder would.

    An element may also be a message as the HTTP API takes it: a mapping in OpenAI style
    (``{"role": "user", "content": "..." | [{"type": "text", "text": "..."}]}``, optional
    ``chat_time``) or a :class:`~hybridmem.wire.WireMessage`; it is decoded the same way."""
    if isinstance(messages, Message | str | bytes | Mapping) or not isinstance(messages, Iterable):
        raise InvalidRequestError("messages must be a list of Message (or of message dicts)")
    out = [_message(i, msg) for i, msg in enumerate(messages)]
    if not out:
        raise MissingFieldError("messages must not be empty")
    return out


def _message(i: int, msg: Any) -> Message:
    if isinstance(msg, Mapping | wire.WireMessage):
        try:
            decoded = msgspec.convert(msgspec.to_builtins(msg), wire.WireMessage)
        except (msgspec.ValidationError, TypeError) as exc:
            raise InvalidRequestError(f"messages[{i}]: {exc}") from None
        msg = wire.to_message(i, decoded)
    if not isinstance(msg, Message):
        raise InvalidRequestError(
            f"messages[{i}]: expected Message or a message dict, got {type(msg).__name__}"
        )
    return revalidated(msg, f"messages[{i}]", "the text")


def revalidated(value: S, where: str, text: str) -> S:
    """``value`` checked against its own Struct type, as a decoder would check it, and
    encodable as the store writes it (``text`` names what holds a lone surrogate in errors)."""
    try:
        checked = msgspec.convert(msgspec.to_builtins(value), type(value))
        msgspec.msgpack.encode(checked)
    except (msgspec.ValidationError, TypeError) as exc:
        raise InvalidRequestError(f"{where}: {exc}") from None
    except UnicodeEncodeError:
        raise InvalidRequestError(
            f"{where}: {text} is not valid Unicode (it holds a lone surrogate)"
        ) from None
    return checked


def info_arg(info: Any) -> dict[str, Any]:
    """``add_messages``'s free-form ``info``: a mapping (``None``: empty)."""
    if info is None:
        return {}
    if not isinstance(info, Mapping):
        raise InvalidRequestError(f"info must be a mapping, got {type(info).__name__}")
    return dict(info)


def check_search(
    *,
    query: Any,
    user_id: Any,
    conversation_id: Any,
    memory_limit_number: Any,
    include_preference: Any,
    preference_limit_number: Any,
    relativity: Any,
    filter: Any,
    reference_time: Any,
    ranking: Any,
    explain: Any = False,
) -> None:
    """Raise on the first invalid search argument."""
    if query is None:
        raise MissingFieldError("query is required")
    if not isinstance(query, str):
        raise InvalidRequestError(f"query must be a string, got {type(query).__name__}")
    if not query.strip():
        raise MissingFieldError("query must not be empty")
    text_arg(query, "query")
    user_id_arg(user_id)
    conversation_id_arg(conversation_id)
    limit_arg(memory_limit_number, "memory_limit_number")
    limit_arg(preference_limit_number, "preference_limit_number")
    if not isinstance(include_preference, bool):
        raise InvalidRequestError("include_preference must be true or false")
    if (
        isinstance(relativity, bool)
        or not isinstance(relativity, int | float)
        or not 0.0 <= relativity <= 1.0
    ):
        raise InvalidRequestError(f"relativity must be a number in [0, 1], got {relativity!r:.40}")
    if filter is not None and not isinstance(filter, Mapping):
        raise InvalidRequestError(f"filter must be an object, got {type(filter).__name__}")
    if reference_time is not None and (
        isinstance(reference_time, bool)
        or not isinstance(reference_time, int)
        or not 0 <= reference_time <= MAX_EPOCH_MS
    ):
        raise InvalidRequestError(
            f"reference_time must be epoch milliseconds (int >= 0), got {reference_time!r:.40}"
        )
    if ranking not in RANKINGS:
        raise InvalidRequestError(f"ranking must be one of {', '.join(RANKINGS)}, got {ranking!r}")
    if not isinstance(explain, bool):
        raise InvalidRequestError("explain must be true or false")


def check_items(items: Iterable[Any], now_ms: int) -> list[Item]:
    """Validate items fully (types and ranges, as a decoder would) and stamp missing times."""
    if isinstance(items, Memory | Preference | str | bytes | Mapping) or not isinstance(
        items, Iterable
    ):
        raise InvalidRequestError("add() takes a list of Memory / Preference items")
    out: list[Item] = []
    for i, item in enumerate(items):
        if not isinstance(item, Memory | Preference):
            raise InvalidRequestError(
                f"item {i}: expected Memory or Preference, got {type(item).__name__}"
            )
        where = f"item {i} (id={getattr(item, 'id', None)!r:.60})"
        try:
            user_id_arg(item.user_id)
            conversation_id_arg(item.conversation_id)
        except InvalidRequestError as exc:
            raise type(exc)(f"{where}: {exc.message}", code=exc.code) from None
        checked = revalidated(_epoch_times(item, where), where, "a text field")
        if isinstance(checked, Memory) and not math.isfinite(checked.confidence):
            raise InvalidRequestError(f"{where}: confidence must be finite")
        created = checked.create_time if checked.create_time is not None else now_ms
        updated = checked.update_time if checked.update_time is not None else created
        if (created, updated) != (checked.create_time, checked.update_time):
            checked = msgspec.structs.replace(checked, create_time=created, update_time=updated)
        out.append(checked)
    return out


def _epoch_times(item: Item, where: str) -> Item:
    """The item with ISO-8601 ``create_time`` / ``update_time`` as epoch ms (as filters read
    them: no offset = UTC); other values are left for the type check."""
    times = {}
    for name in ("create_time", "update_time"):
        value = getattr(item, name)
        if isinstance(value, str):
            ms = iso_ms(value.strip())
            if ms is None:
                raise InvalidRequestError(
                    f"{where}: {name} must be epoch milliseconds or an ISO-8601 time, "
                    f"got {value!r:.80}"
                )
            times[name] = ms
    return msgspec.structs.replace(item, **times) if times else item


def check_embeddings(embeddings: Any, n: int, dim: int) -> np.ndarray:
    """Caller-supplied embeddings: ``(n, dim)``, finite, non-zero; returned L2-normalised."""
    try:
        arr = np.asarray(embeddings, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise InvalidRequestError(f"embeddings must be a numeric array: {exc}") from None
    if arr.shape != (n, dim):
        raise InvalidRequestError(f"embeddings must have shape ({n}, {dim}), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise InvalidRequestError("embeddings contain NaN or infinity")
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    if (norms == 0).any():
        raise InvalidRequestError("embeddings contain an all-zero vector")
    # Unit vectors are kept bit for bit (re-dividing by a norm of 1 +- rounding would change
    # the last bits), so stored embeddings given back, as by an import, are stored unchanged.
    norms[np.abs(norms - 1.0) <= _UNIT_TOLERANCE] = 1.0
    return np.ascontiguousarray(arr / norms, dtype=np.float32)
