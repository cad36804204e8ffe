"""Chat messages to memories: what ``Engine.add_messages`` (MemOS ``/add/message``) stores.

MemOS turns messages into memories with an LLM. hybridmem needs none by default:
:func:`turn_memories` keeps each user message as one ``WorkingMemory`` (with the assistant's
reply that follows it as context), so what the user said is searchable at once. A deployment
with its own LLM names another *extractor*, any callable ``(MessageBatch) -> list[Memory |
Preference]``, in ``hybridmem serve --extractor package.module:function`` (or passes it to
``add_messages``).

Extractors should derive each item's ``id`` from its content (as :func:`memory_id` does): a
client that retries a batch then rewrites the same ids instead of adding duplicates.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import msgspec

from .errors import HybridMemError, InvalidRequestError
from .times import iso_ms
from .types import MAX_EPOCH_MS, Item, Memory, Message, Preference

__all__ = [
    "Extractor",
    "MessageBatch",
    "load_extractor",
    "memory_id",
    "message_time",
    "private_id",
    "run_extractor",
    "turn_memories",
]

#: the assistant's reply is kept as context up to this many characters.
REPLY_CONTEXT_CHARS = 500


class MessageBatch(msgspec.Struct, frozen=True, kw_only=True):
    """One ``add_messages`` call, as an extractor sees it.

    Attributes:
        user_id: whose messages these are; every item returned must belong to this user.
        conversation_id: the conversation they were said in (``None`` if the caller gave none).
        messages: the messages in order.
        times: each message's time in epoch ms (its ``chat_time`` if parseable, else the add time).
        tags: tags the caller asked to put on the memories.
        info: the caller's free-form metadata (MemOS ``info``); hybridmem itself ignores it.
    """

    user_id: str
    conversation_id: str | None
    messages: list[Message]
    times: list[int]
    tags: list[str] = msgspec.field(default_factory=list)
    info: dict[str, Any] = msgspec.field(default_factory=dict)


Extractor: TypeAlias = Callable[[MessageBatch], Sequence[Item]]


def message_time(chat_time: str | None, default_ms: int) -> int:
    """``chat_time`` as epoch ms: an ISO-8601 time (naive = UTC) or a number of ms or seconds.

    Anything else (MemOS lets it be free text) falls back to ``default_ms``.
    """
    if chat_time is None:
        return default_ms
    text = chat_time.strip()
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        ms = value if value >= 1e11 else value * 1000  # ms, or seconds since 1970
        if not 0 <= ms <= MAX_EPOCH_MS:  # also NaN
            return default_ms
        return int(ms)
    parsed = iso_ms(text)
    return default_ms if parsed is None else min(MAX_EPOCH_MS, max(0, parsed))


def memory_id(user_id: str, conversation_id: str | None, text: str) -> str:
    """A content-derived id: the same text in the same user's conversation is one memory."""
    key = f"{user_id}\x1f{conversation_id or ''}\x1f{text}".encode()
    return "msg_" + hashlib.blake2b(key, digest_size=16).hexdigest()


def private_id(item_id: str, user_id: str, kind: str, secret: str) -> str:
    """The id a derived item takes when another user (or kind) already holds ``item_id``.

    Keyed by the store's secret, so nobody can compute and take it first: a client that
    stored an item under the id ``/add/message`` would derive for someone else's message
    cannot make that message's memory disappear.
    """
    key = f"{secret}\x1f{user_id}\x1f{kind}\x1f{item_id}".encode()
    return f"{item_id[:900]}~{hashlib.blake2b(key, digest_size=12).hexdigest()}"


def run_extractor(extractor: Extractor, batch: MessageBatch) -> list[Item]:
    """Run a (possibly user-supplied) extractor and check what it returns."""
    try:
        items = list(extractor(batch))
    except HybridMemError:
        raise
    except Exception as exc:
        raise HybridMemError(f"the message extractor failed: {exc!r}") from exc
    for item in items:
        if not isinstance(item, Memory | Preference):
            raise HybridMemError(
                f"the message extractor returned {type(item).__name__}, not Memory/Preference"
            )
        if item.user_id != batch.user_id:
            raise HybridMemError(
                f"the message extractor returned an item of user {item.user_id!r} "
                f"for a batch of {batch.user_id!r}"
            )
    return items


def turn_memories(batch: MessageBatch) -> list[Memory]:
    """The default extractor: one ``WorkingMemory`` per non-empty user message.

    The memory's value is the user's words; when an assistant reply follows, it is appended as
    ``"user: ...\\nassistant: ..."`` (reply cut at 500 characters), so the memory reads as the
    exchange it came from. System and tool messages make no memory.
    """
    out: list[Memory] = []
    msgs = batch.messages
    for i, msg in enumerate(msgs):
        text = msg.content.strip()
        if msg.role != "user" or not text:
            continue
        reply = msgs[i + 1].content.strip() if i + 1 < len(msgs) else ""
        if reply and msgs[i + 1].role == "assistant":
            if len(reply) > REPLY_CONTEXT_CHARS:
                reply = reply[:REPLY_CONTEXT_CHARS].rstrip() + "…"
            text = f"user: {text}\nassistant: {reply}"
        out.append(
            Memory(
                id=memory_id(batch.user_id, batch.conversation_id, text),
                user_id=batch.user_id,
                memory_value=text,
                conversation_id=batch.conversation_id,
                memory_type="WorkingMemory",
                tags=list(batch.tags),
                create_time=batch.times[i],
                update_time=batch.times[i],
            )
        )
    return out


def load_extractor(spec: str) -> Extractor:
    """Import ``package.module:function`` (or ``package.module.function``) as an extractor."""
    module_name, sep, attr = spec.partition(":")
    if not sep:
        module_name, _, attr = spec.rpartition(".")
    if not module_name or not attr:
        raise InvalidRequestError(f"extractor must be 'package.module:function', got {spec!r}")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise InvalidRequestError(f"cannot import extractor {spec!r}: {exc}") from exc
    if not callable(target):
        raise InvalidRequestError(f"extractor {spec!r} is not callable")
    return target
