"""Records, in the shape of the MemOS cloud API.

Inputs (``Memory``, ``Preference``) are what a service stores; outputs (``MemoryDetail``,
``PreferenceDetail``, ``SearchData``) encode with ``msgspec.json.encode`` to the ``data`` object of
MemOS's ``POST /search/memory`` response, field for field and in the same order.

Times are epoch milliseconds. A ``Memory`` or ``Preference`` added without ``create_time`` gets the
time of the add (``update_time`` likewise), as a database would stamp a new row. On input a time
may also be an ISO-8601 string (``"2025-06-01T10:00:00Z"``; no offset = UTC), as in filters: the
add stores it as epoch milliseconds, so what is read back is always a number.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

import msgspec
from msgspec import Meta

from .times import iso_ms

__all__ = [
    "Item",
    "Memory",
    "MemoryDetail",
    "MemoryType",
    "Message",
    "MessageDetail",
    "Preference",
    "PreferenceDetail",
    "PreferenceType",
    "Role",
    "SearchData",
    "Status",
    "TimeIn",
    "stored_ms",
]

MemoryType: TypeAlias = Literal["WorkingMemory", "LongTermMemory", "UserMemory"]
PreferenceType: TypeAlias = Literal["explicit_preference", "implicit_preference"]
Status: TypeAlias = Literal["activated", "archived", "deleted"]
Role: TypeAlias = Literal["user", "assistant", "system", "tool"]

# MemOS rejects ids over 100 characters (codes 40010/40011); the same bound holds here.
MAX_ID_LENGTH = 100

NonEmptyId = Annotated[str, Meta(min_length=1, max_length=1024)]
UserId = Annotated[str, Meta(min_length=1, max_length=MAX_ID_LENGTH)]
ConversationId = Annotated[str, Meta(max_length=MAX_ID_LENGTH)]
# Epoch ms up to the end of year 9999: what datetime, SQLite and msgpack all represent.
MAX_EPOCH_MS = 253_402_300_799_999
EpochMs = Annotated[int, Meta(ge=0, le=MAX_EPOCH_MS)]
#: a time as an add accepts it: epoch ms, or an ISO-8601 string (stored as epoch ms)
TimeIn: TypeAlias = EpochMs | Annotated[str, Meta(min_length=1, max_length=64)]


def stored_ms(value: TimeIn | None) -> int | None:
    """A stored item's time as epoch ms. Adds store ISO-8601 times as epoch ms, so ``value`` is
    an int already; an item made in code but not yet added may still hold the string."""
    return iso_ms(value) if isinstance(value, str) else value


Probability = Annotated[float, Meta(ge=0.0, le=1.0)]
NonEmptyText = Annotated[str, Meta(min_length=1)]


class Memory(msgspec.Struct, frozen=True, kw_only=True):
    """A fact memory about one user.

    Only ``activated`` memories are ever returned by a search; ``archived`` and ``deleted`` ones
    stay in the store (``Engine.get`` returns them) but are not indexed.
    """

    id: NonEmptyId
    user_id: UserId
    memory_value: NonEmptyText
    conversation_id: ConversationId | None = None
    memory_key: str = ""
    memory_type: MemoryType = "LongTermMemory"
    tags: list[str] = msgspec.field(default_factory=list)
    confidence: Probability = 1.0
    status: Status = "activated"
    create_time: TimeIn | None = None
    update_time: TimeIn | None = None


class Preference(msgspec.Struct, frozen=True, kw_only=True):
    """A preference of one user (explicitly stated or inferred)."""

    id: NonEmptyId
    user_id: UserId
    preference: NonEmptyText
    conversation_id: ConversationId | None = None
    preference_type: PreferenceType = "explicit_preference"
    reasoning: str = ""
    status: Status = "activated"
    create_time: TimeIn | None = None
    update_time: TimeIn | None = None


Item: TypeAlias = Memory | Preference


class MemoryDetail(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One fact memory in a search answer; ``relativity`` is its relevance in [0, 1]."""

    id: str
    memory_key: str
    memory_value: str
    memory_type: MemoryType
    create_time: int | None
    conversation_id: str | None
    status: Status
    confidence: float
    tags: list[str]
    update_time: int | None
    relativity: float
    explain: dict[str, float] | None = None  # only with search(explain=True); not in MemOS

    @classmethod
    def of(
        cls, memory: Memory, relativity: float, explain: dict[str, float] | None = None
    ) -> MemoryDetail:
        return cls(
            **_shared(memory, cls), tags=list(memory.tags), relativity=relativity, explain=explain
        )


class PreferenceDetail(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One preference memory in a search answer; ``relativity`` is its relevance in [0, 1]."""

    id: str
    preference: str
    preference_type: PreferenceType
    reasoning: str
    create_time: int | None
    conversation_id: str | None
    status: Status
    update_time: int | None
    relativity: float
    explain: dict[str, float] | None = None  # only with search(explain=True); not in MemOS

    @classmethod
    def of(
        cls, preference: Preference, relativity: float, explain: dict[str, float] | None = None
    ) -> PreferenceDetail:
        return cls(**_shared(preference, cls), relativity=relativity, explain=explain)


PREFERENCE_NOTE = (
    "The fact memories above are facts about the user; the preference memories are the user's "
    "own preferences. Use the facts as context, and make sure your answer does not violate any "
    "of the preferences."
)


class SearchData(msgspec.Struct, frozen=True, kw_only=True):
    """The ``data`` object of a MemOS ``/search/memory`` answer.

    ``preference_note`` is empty when no preference is returned, else an instruction for the LLM
    on how to use the two lists.
    """

    memory_detail_list: list[MemoryDetail]
    preference_detail_list: list[PreferenceDetail]
    preference_note: str

    @classmethod
    def of(cls, memories: list[MemoryDetail], preferences: list[PreferenceDetail]) -> SearchData:
        return cls(
            memory_detail_list=memories,
            preference_detail_list=preferences,
            preference_note=PREFERENCE_NOTE if preferences else "",
        )


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """One chat message, as MemOS ``/add/message`` takes it.

    ``chat_time`` is free text in MemOS; an ISO-8601 time or epoch milliseconds there dates the
    memories made from the message (anything else is kept as written, and the add time is used).
    """

    role: Role
    content: str
    chat_time: str | None = None


class MessageDetail(msgspec.Struct, frozen=True, kw_only=True):
    """One stored chat message, as MemOS ``/get/message`` returns it (times in epoch ms)."""

    role: str
    content: str
    conversation_id: str
    chat_time: str | None
    create_time: int
    update_time: int


# what a detail computes instead of copying from its item
_COMPUTED = frozenset({"create_time", "update_time", "tags", "relativity", "explain"})


def _shared(item: Memory | Preference, detail: type[msgspec.Struct]) -> dict[str, Any]:
    """The fields a search answer copies from ``item``, with its times as stored (epoch ms)."""
    out = {f: getattr(item, f) for f in detail.__struct_fields__ if f not in _COMPUTED}
    out["create_time"] = stored_ms(item.create_time)
    out["update_time"] = stored_ms(item.update_time)
    return out
