"""The eval-set file format: memories, preferences and labelled queries in one JSON document.

It is both what ``hybridmem ingest`` accepts and what every quality run reads::

    {"name": "demo",
     "memories": [Memory, ...], "preferences": [Preference, ...],
     "queries": [{"id", "user_id", "query", "conversation_id"?, "now"?, "relevant": [ids],
                  "relevant_preferences"?: [ids], "stale"?: [ids], "kind"?}]}

``stale`` lists memories that once answered the query but were replaced by a newer one (the
user moved, changed jobs): a search should rank every relevant memory above them.

Decoding is strict; an error names the item and field (``$.queries[3].relevant``).
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from .errors import InvalidRequestError
from .types import ConversationId, EpochMs, Memory, NonEmptyText, Preference, UserId

__all__ = ["EvalQuery", "EvalSet", "load_evalset"]


class EvalQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A labelled query: ``relevant`` lists the memory ids a perfect search returns."""

    id: str
    user_id: UserId
    query: NonEmptyText
    conversation_id: ConversationId | None = None
    now: EpochMs | None = None
    relevant: list[str] = msgspec.field(default_factory=list)
    relevant_preferences: list[str] = msgspec.field(default_factory=list)
    stale: list[str] = msgspec.field(default_factory=list)
    kind: str | None = None


class EvalSet(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    memories: list[Memory] = msgspec.field(default_factory=list)
    preferences: list[Preference] = msgspec.field(default_factory=list)
    queries: list[EvalQuery] = msgspec.field(default_factory=list)


def load_evalset(path: str | Path) -> EvalSet:
    """Read and check an eval-set file (labels must name items of the query's own user)."""
    p = Path(path)
    try:
        data = msgspec.json.decode(p.read_bytes(), type=EvalSet)
    except OSError as exc:
        raise InvalidRequestError(f"cannot read {p}: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise InvalidRequestError(f"{p}: {exc}") from exc
    owner = {m.id: m.user_id for m in data.memories}
    owner.update({pr.id: pr.user_id for pr in data.preferences})
    if len(owner) != len(data.memories) + len(data.preferences):
        raise InvalidRequestError(f"{p}: item ids are not unique")
    for i, q in enumerate(data.queries):
        for field, ids in (
            ("relevant", q.relevant),
            ("relevant_preferences", q.relevant_preferences),
            ("stale", q.stale),
        ):
            for rid in ids:
                if owner.get(rid) != q.user_id:
                    raise InvalidRequestError(
                        f"{p}: $.queries[{i}].{field}: {rid!r} is not an item of user {q.user_id!r}"
                    )
    return data
