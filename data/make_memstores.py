"""Writes data/memstores-fit.json and data/memstores-report.json from data/memstores/users_*.py.

The fit/report data of the relevance model on stores like the product's (one user's MemOS-style
fact and preference memories written over months, plus raw chat turns), written for hybridmem.
See ``data/memstores/memstore_schema.py`` for the hand-written form. Users are split into fit and report
by their ``split`` field (never a user in both); run ``python data/make_memstores.py`` after
editing a content module, and ``--check`` to validate without writing.

Raw chat turns become memories through hybridmem's own ``/add/message`` extractor
(``hybridmem.messages.turn_memories``), so their ids and text are what a live store holds.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "memstores"))
sys.path.insert(0, str(HERE.parent))

from memstore_schema import User, decode_users, epoch_ms, ref_turn, validate  # noqa: E402

from hybridmem.messages import MessageBatch, turn_memories  # noqa: E402
from hybridmem.types import Message  # noqa: E402

MODULES = sorted(p.stem for p in (HERE / "memstores").glob("users_*.py"))


def load_users() -> list[User]:
    users: list[User] = []
    for name in MODULES:
        users.extend(decode_users(importlib.import_module(name).USERS))
    return users


def turn_items(user: User) -> tuple[list[dict], dict[str, str]]:
    """The WorkingMemory items of the user's chat turns, and ``turn ref -> item id``."""
    items: list[dict] = []
    ids: dict[str, str] = {}
    for conv in user.conversations:
        messages, times = [], []
        for turn in conv.turns:
            t = epoch_ms(conv.date, turn.time)
            messages.append(Message(role="user", content=turn.user))
            times.append(t)
            if turn.assistant:
                messages.append(Message(role="assistant", content=turn.assistant))
                times.append(t)
        batch = MessageBatch(
            user_id=user.user_id, conversation_id=conv.id, messages=messages, times=times
        )
        memories = turn_memories(batch)
        for n, memory in enumerate(memories):
            ids[f"{conv.id}#{n}"] = memory.id
            items.append(json.loads(_encode(memory)))
    return items, ids


def _encode(obj: object) -> bytes:
    import msgspec

    return msgspec.json.encode(obj)


def build(user: User) -> tuple[list[dict], list[dict], list[dict]]:
    """The user's memories, preferences and queries in the eval-set format."""
    memories, turn_ids = turn_items(user)
    uid = user.user_id

    def item_id(ref: str) -> str:
        return turn_ids[ref] if ref_turn(ref) is not None else f"{uid}:{ref}"

    facts = {f.key: f for f in user.facts}
    for f in user.facts:
        t = epoch_ms(f.date)
        memories.append(
            {
                "id": item_id(f.key),
                "user_id": uid,
                "conversation_id": f.conversation,
                "memory_key": f.memory_key,
                "memory_value": f.value,
                "memory_type": f.memory_type,
                "tags": f.tags,
                "confidence": f.confidence,
                "status": f.status,
                "create_time": t,
                "update_time": t,
            }
        )
    preferences = [
        {
            "id": item_id(p.key),
            "user_id": uid,
            "conversation_id": p.conversation,
            "preference_type": p.type,
            "preference": p.text,
            "reasoning": p.reasoning,
            "status": "activated",
            "create_time": epoch_ms(p.date),
            "update_time": epoch_ms(p.date),
        }
        for p in user.preferences
    ]

    def expand(refs: list[str]) -> list[str]:
        out = []
        for ref in refs:
            out.append(item_id(ref))
            source = facts[ref].source if ref in facts else None
            if source is not None:
                out.append(item_id(source))
        return list(dict.fromkeys(out))

    archived = {item_id(f.key) for f in user.facts if f.status != "activated"}
    queries = []
    for i, q in enumerate(user.queries):
        queries.append(
            {
                "id": f"{uid}:q{i:03d}",
                "user_id": uid,
                "query": q.query,
                "conversation_id": q.conversation,
                "now": epoch_ms(q.now),
                # an archived memory is never returned, so it cannot be a label either
                "relevant": [r for r in expand(q.relevant) if r not in archived],
                "relevant_preferences": [item_id(p) for p in q.preferences],
                "stale": [r for r in expand(q.stale) if r not in archived],
                "kind": q.kind,
            }
        )
    return memories, preferences, queries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="validate only")
    args = parser.parse_args()
    users = load_users()
    errors = [e for u in users for e in validate(u)]
    if len({u.user_id for u in users}) != len(users):
        errors.append("duplicate user ids")
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        return 1
    for split in ("fit", "report"):
        out: dict[str, list] = {"memories": [], "preferences": [], "queries": []}
        for user in users:
            if user.split == split:
                for key, part in zip(out, build(user), strict=True):
                    out[key].extend(part)
        doc = {"name": f"memstores-{split}", **out}
        path = HERE / f"memstores-{split}.json"
        if not args.check:
            path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
        kinds: dict[str, int] = {}
        for q in out["queries"]:
            kinds[q["kind"]] = kinds.get(q["kind"], 0) + 1
        print(
            f"{path.name}: {sum(u.split == split for u in users)} users, "
            f"{len(out['memories'])} memories, {len(out['preferences'])} preferences, "
            f"{len(out['queries'])} queries {dict(sorted(kinds.items()))}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
