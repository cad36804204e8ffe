"""The hand-written form of the memory-store fit/report data (``data/make_memstores.py``).

Each content module in this folder (``users_*.py``) defines ``USERS``: a list of plain dicts,
one per user, decoded strictly into :class:`User` here (a typo in a field name is an error).
Everything in them was written for hybridmem; no third-party data.

A user is what a MemOS-style service holds about one person after months of use:

* ``conversations``: raw chat turns, stored as ``/add/message`` stores them (one
  ``WorkingMemory`` per user message, with the assistant's reply as context). A turn is
  referred to as ``"<conversation id>#<n>"``, ``n`` counting the user messages from 0.
* ``facts``: extracted fact memories in MemOS style: ``memory_key`` a topic ("Job",
  "Residence"), ``value`` a dated third-person sentence ("On 2025-03-14 the user said she had
  moved from Boston to Denver."). ``replaces`` names the older fact this one updates (a move,
  a new job); ``status="archived"`` marks one a service has already retired.
* ``preferences``: explicit (stated) or implicit (inferred, with ``reasoning``).
* ``queries``: what the user later asks, each with **every** relevant item labelled (fact keys,
  turn refs, preference keys); a fact's ``source`` turn is added to a query's relevant (or
  stale) items automatically.

Dates are ISO-8601 (``2025-03-14`` or ``2025-03-14T09:30``), UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

import msgspec

__all__ = [
    "KINDS",
    "Conversation",
    "Fact",
    "Pref",
    "Query",
    "Turn",
    "User",
    "decode_users",
    "epoch_ms",
    "validate",
]

#: query kinds; ``offtopic`` queries have no relevant item at all.
KINDS = (
    "current",  # the present state of a fact that changed ("where do I live now?")
    "history",  # a past state ("where did I live before Denver?")
    "time_window",  # an explicit time phrase ("last week", "in March", "上个月")
    "paraphrase",  # no content word shared with the answer
    "lexical",  # a name, number or rare word decides
    "multi",  # needs several memories
    "conversation",  # a twin of the answer sits in another conversation
    "preference",  # needs a preference that shares no word with the request
    "chinese",  # a Chinese question
    "mixed",  # code-mixed, or the question's language differs from the memory's
    "offtopic",  # nothing in the store is relevant
)

Kind = Literal[
    "current", "history", "time_window", "paraphrase", "lexical", "multi", "conversation",
    "preference", "chinese", "mixed", "offtopic",
]  # fmt: skip

_REF = re.compile(r"^(?P<conv>[^#]+)#(?P<n>\d+)$")


class Turn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One user message and the assistant's reply; ``time`` is ``HH:MM`` on the day."""

    user: str
    assistant: str = ""
    time: str | None = None


class Conversation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: str
    date: str
    turns: list[Turn]


class Fact(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    key: str
    memory_key: str
    value: str
    date: str
    conversation: str | None = None
    tags: list[str] = msgspec.field(default_factory=list)
    memory_type: Literal["LongTermMemory", "UserMemory", "WorkingMemory"] = "LongTermMemory"
    status: Literal["activated", "archived"] = "activated"
    confidence: float = 0.9
    source: str | None = None  # "c01#2": the turn it was extracted from
    replaces: str | None = None  # key of the fact it updates


class Pref(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    key: str
    text: str
    date: str
    conversation: str | None = None
    type: Literal["explicit_preference", "implicit_preference"] = "explicit_preference"
    reasoning: str = ""
    source: str | None = None


class Query(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    query: str
    kind: Kind
    now: str
    conversation: str | None = None
    relevant: list[str] = msgspec.field(default_factory=list)  # fact keys / turn refs
    preferences: list[str] = msgspec.field(default_factory=list)  # preference keys
    stale: list[str] = msgspec.field(default_factory=list)  # outdated answers (current kind)


class User(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    user_id: str
    lang: Literal["en", "zh", "mixed"]
    split: Literal["fit", "report"]
    persona: str
    conversations: list[Conversation] = msgspec.field(default_factory=list)
    facts: list[Fact] = msgspec.field(default_factory=list)
    preferences: list[Pref] = msgspec.field(default_factory=list)
    queries: list[Query] = msgspec.field(default_factory=list)


def decode_users(raw: Iterable[dict]) -> list[User]:
    """Strictly decode a content module's ``USERS``."""
    return [msgspec.convert(u, User) for u in raw]


def epoch_ms(date: str, hhmm: str | None = None) -> int:
    """``2025-03-14`` (+ ``09:30``) or ``2025-03-14T09:30`` as epoch ms, UTC."""
    text = date if hhmm is None else f"{date[:10]}T{hhmm}"
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def turn_refs(user: User) -> set[str]:
    return {f"{c.id}#{n}" for c in user.conversations for n in range(len(c.turns))}


def validate(user: User) -> list[str]:
    """Everything wrong with one user's content (an empty list when it is sound)."""
    errors: list[str] = []
    where = user.user_id
    facts = {f.key: f for f in user.facts}
    prefs = {p.key for p in user.preferences}
    turns = turn_refs(user)
    convs = {c.id for c in user.conversations} | {
        x.conversation for x in [*user.facts, *user.preferences] if x.conversation
    }
    if len(facts) != len(user.facts) or len(prefs) != len(user.preferences):
        errors.append(f"{where}: duplicate fact or preference keys")
    if facts.keys() & prefs:
        errors.append(f"{where}: keys shared by a fact and a preference")
    if any("#" in k for k in [*facts, *prefs]):
        errors.append(f"{where}: a fact or preference key holds '#' (kept for turn refs)")
    n_memories = len(user.facts) + len(turns)
    if not 8 <= n_memories <= 300:
        errors.append(f"{where}: {n_memories} memories (facts + turns); 8..300 expected")
    for f in user.facts:
        if f.source is not None and f.source not in turns:
            errors.append(f"{where}: fact {f.key}: unknown source turn {f.source}")
        if f.replaces is not None and f.replaces not in facts:
            errors.append(f"{where}: fact {f.key}: replaces unknown fact {f.replaces}")
    for p in user.preferences:
        if p.source is not None and p.source not in turns:
            errors.append(f"{where}: preference {p.key}: unknown source turn {p.source}")
    for x in [*user.conversations, *user.facts, *user.preferences]:
        try:
            epoch_ms(x.date)
        except ValueError:
            errors.append(f"{where}: bad date {x.date!r}")
    for i, q in enumerate(user.queries):
        at = f"{where}: query {i} ({q.query[:40]!r})"
        try:
            epoch_ms(q.now)
        except ValueError:
            errors.append(f"{at}: bad now {q.now!r}")
        for ref in [*q.relevant, *q.stale]:
            if ref not in facts and ref not in turns:
                errors.append(f"{at}: unknown fact or turn {ref}")
        for ref in q.preferences:
            if ref not in prefs:
                errors.append(f"{at}: unknown preference {ref}")
        if set(q.relevant) & set(q.stale):
            errors.append(f"{at}: an item is both relevant and stale")
        if q.kind == "offtopic" and (q.relevant or q.preferences):
            errors.append(f"{at}: an off-topic query has relevant items")
        if q.kind != "offtopic" and not (q.relevant or q.preferences):
            errors.append(f"{at}: no relevant item")
        if q.kind == "preference" and not q.preferences:
            errors.append(f"{at}: a preference query names no preference")
        if q.kind == "current" and not q.stale:
            errors.append(f"{at}: a current-state query names no stale item")
        if q.kind == "conversation" and not q.conversation:
            errors.append(f"{at}: a conversation query has no conversation")
        if q.conversation is not None and q.conversation not in convs:
            errors.append(f"{at}: unknown conversation {q.conversation}")
    return errors


def ref_turn(ref: str) -> tuple[str, int] | None:
    """``"c01#2"`` -> ``("c01", 2)``; ``None`` for a fact key."""
    m = _REF.match(ref)
    return None if m is None else (m["conv"], int(m["n"]))
