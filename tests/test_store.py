"""The SQLite store on its own: upserts, the change log, and batched iteration."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hybridmem import IdConflictError
from hybridmem.store import Store
from hybridmem.types import Memory, Preference


def items(n: int) -> list[Memory]:
    return [Memory(id=f"m{i}", user_id=f"u{i % 3}", memory_value=f"text {i}") for i in range(n)]


def test_iter_active_visits_every_row_once_in_owner_order(tmp_path: Path) -> None:
    store = Store(tmp_path)
    its = [*items(10), Preference(id="p", user_id="u1", preference="tea")]
    store.upsert(its, np.ones((len(its), 4), np.float32))
    store.upsert([Memory(id="m4", user_id="u1", memory_value="x", status="archived")],
                 np.ones((1, 4), np.float32))  # fmt: skip
    seen = [(r.user_id, r.kind, r.doc) for batch in store.iter_active(batch=2) for r in batch]
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 10  # m4 is archived
    store.close()


def test_change_log_and_ids_that_keep_their_owner(tmp_path: Path) -> None:
    store = Store(tmp_path)
    vec = np.ones((1, 4), np.float32)
    s1 = store.upsert([Memory(id="a", user_id="u1", memory_value="x")], vec)
    for other in (
        Memory(id="a", user_id="u2", memory_value="x"),  # another user
        Preference(id="a", user_id="u1", preference="x"),  # another kind
    ):
        with pytest.raises(IdConflictError):
            store.upsert([Memory(id="b", user_id="u1", memory_value="y"), other], np.ones((2, 4)))
    assert store.get("b") is None and store.max_seq() == s1  # refused whole
    s2 = store.upsert([Memory(id="a", user_id="u1", memory_value="z")], vec)
    assert s2 == s1 + 1
    changes, newest = store.changes_since(s1)
    assert newest == s2 and [u for _, u in changes] == ["u1"]
    assert store.delete_user("u1") == 1
    changes, newest = store.changes_since(s2)
    assert [u for _, u in changes] == ["u1"] and newest == s2 + 1
    store.prune_changes(newest)
    assert store.min_change_seq() == newest + 1
    store.close()


def test_known_embeddings_only_for_unchanged_text(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.upsert(items(2), np.arange(8, dtype=np.float32).reshape(2, 4))
    known = store.known_embeddings(
        [Memory(id="m0", user_id="u0", memory_value="text 0"),
         Memory(id="m1", user_id="u1", memory_value="changed")]
    )  # fmt: skip
    assert list(known) == ["m0"]
    assert np.frombuffer(known["m0"], dtype="<f4").tolist() == [0, 1, 2, 3]
    store.close()


def test_activated_count_follows_every_kind_of_write(tmp_path: Path) -> None:
    store = Store(tmp_path)
    vec = np.ones((1, 4), np.float32)

    def truth() -> int:
        return store.stats()["activated"]

    store.upsert(items(5), np.ones((5, 4), np.float32))
    store.upsert([Memory(id="m1", user_id="u1", memory_value="x", status="archived")], vec)
    store.upsert([Memory(id="m1", user_id="u1", memory_value="y", status="deleted")], vec)
    store.upsert([Memory(id="m2", user_id="u2", memory_value="z")], vec)  # activated -> activated
    store.upsert([Memory(id="m1", user_id="u1", memory_value="x")], vec)  # back to activated
    store.delete_ids(["m0"])
    store.upsert([Memory(id="m9", user_id="u1", memory_value="x", status="archived")], vec)
    store.delete_ids(["m9"])
    store.delete_user("u2")
    assert store.count_active() == truth() == 3  # m1, m3, m4
    store.close()
    reopened = Store(tmp_path)
    assert reopened.count_active() == 3
    reopened.close()
