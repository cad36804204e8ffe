"""No read crosses users, whatever writers do; ids keep their owner and kind; /add/message ids
cannot be squatted; filters over their bounds are refused with a clear error."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest

from hybridmem import (
    Engine,
    IdConflictError,
    InvalidFilterError,
    InvalidRequestError,
    Memory,
    Message,
    Preference,
)
from hybridmem.filters import MAX_CONDITIONS, MAX_VALUES
from hybridmem.messages import memory_id

from .hashenc import HashEncoder
from .races import run_race

USERS = ("alice", "bob")
QUERY = "coffee garden note"


def item(id_: str, owner: str, kind: str, status: str = "activated") -> Memory | Preference:
    """An item whose text says whose and what it is, so a search can tell a leak."""
    text = f"{QUERY} owner={owner} kind={kind}"
    if kind == "memory":
        return Memory(id=id_, user_id=owner, memory_value=text, status=status)  # type: ignore[arg-type]
    return Preference(id=id_, user_id=owner, preference=text, status=status)  # type: ignore[arg-type]


class Race:
    """Searchers of both users against one writer that re-adds, archives, deletes and moves
    ids between users and kinds (the moves by upsert must be refused)."""

    def __init__(self, engine: Engine, encoder: HashEncoder) -> None:
        self.engine = engine
        self.qvec = encoder.encode_query(QUERY)
        self.stop = threading.Event()
        self.problems: list[str] = []
        self.searches = 0
        self.writes = 0
        self.refusals = 0

    def check(self, user: str, data: object) -> None:
        for kind, hits in (
            ("memory", data.memory_detail_list),  # type: ignore[attr-defined]
            ("preference", data.preference_detail_list),  # type: ignore[attr-defined]
        ):
            for hit in hits:
                text = hit.memory_value if kind == "memory" else hit.preference
                if f"owner={user}" not in text or f"kind={kind}" not in text:
                    self.problems.append(f"{user} got {hit.id}: {text}")
                if hit.status != "activated":
                    self.problems.append(f"{user} got {hit.id} ({hit.status})")

    def searcher(self, user: str) -> None:
        while not self.stop.is_set():
            for ranking in ("hybrid", "bm25", "dense", "rrf"):
                try:
                    data = self.engine.search(
                        QUERY, user_id=user, ranking=ranking, memory_limit_number=50,
                        preference_limit_number=50,
                        query_embedding=None if ranking == "bm25" else self.qvec,
                    )  # fmt: skip
                except Exception as exc:
                    self.problems.append(f"search raised {exc!r}")
                    continue
                self.check(user, data)
                self.searches += 1

    def writer(self, ids: list[str], state: dict[str, tuple[str, str]]) -> None:
        rng = random.Random(7)
        while not self.stop.is_set():
            id_ = rng.choice(ids)
            owner, kind = state[id_]
            other = USERS[1 - USERS.index(owner)]
            op = rng.randrange(5)
            try:
                if op == 0:
                    self.engine.add([item(id_, owner, kind)])
                elif op == 1:
                    self.engine.add([item(id_, owner, kind, "archived")])
                elif op in (2, 3):  # another user, or the other kind, by upsert: refused
                    moved = (
                        item(id_, other, kind)
                        if op == 2
                        else item(id_, owner, "preference" if kind == "memory" else "memory")
                    )
                    try:
                        self.engine.add([moved])
                        self.problems.append(f"upsert moved {id_} (op {op})")
                    except IdConflictError:
                        self.refusals += 1
                else:  # the sanctioned move: delete, then add anew
                    self.engine.delete(ids=[id_])
                    new_kind = rng.choice(("memory", "preference"))
                    self.engine.add([item(id_, other, new_kind)])
                    state[id_] = (other, new_kind)
            except Exception as exc:
                self.problems.append(f"write raised {exc!r}")
            self.writes += 1


def test_concurrent_writes_never_leak_across_users_kinds_or_status(tmp_path: Path) -> None:
    encoder = HashEncoder()
    with Engine.open(tmp_path / "s", encoder=encoder) as engine:  # type: ignore[arg-type]
        ids = [f"x{i}" for i in range(24)]
        state = {
            i: (USERS[n % 2], ("memory", "preference")[(n // 2) % 2]) for n, i in enumerate(ids)
        }
        engine.add([item(i, *state[i]) for i in ids])
        race = Race(engine, encoder)
        threads = [threading.Thread(target=race.searcher, args=(u,)) for u in (*USERS, *USERS)]
        threads.append(threading.Thread(target=race.writer, args=(ids, state)))
        run_race(threads, race.stop, lambda: race.searches > 200 and race.writes > 30
                 and race.refusals > 5)  # fmt: skip
        assert race.problems[:5] == []
        assert race.searches > 200 and race.writes > 30 and race.refusals > 5


def test_an_id_keeps_its_kind(engine: Engine) -> None:
    with pytest.raises(IdConflictError, match="is a memory of this user"):
        engine.add([Preference(id="m1", user_id="u1", preference="x")])
    with pytest.raises(IdConflictError):  # nor within one add
        engine.add([item("n1", "u1", "memory"), item("n1", "u1", "preference")])
    with pytest.raises(IdConflictError):
        engine.add([item("n2", "u1", "memory"), item("n2", "u2", "memory")])
    assert engine.get("n1") is None and engine.get("n2") is None  # nothing written
    assert isinstance(engine.get("m1"), Memory)


def test_add_messages_cannot_be_squatted(tmp_path: Path) -> None:
    """An id that /add/message derives for alice, taken first by someone else, must not
    swallow her memory: it is stored under a private variant of the id."""
    messages = [Message(role="user", content="I moved to Denver"),
                Message(role="assistant", content="Nice!")]  # fmt: skip
    derived = memory_id("alice", "c1", "user: I moved to Denver\nassistant: Nice!")
    with Engine.open(tmp_path / "s", encoder=HashEncoder()) as eng:  # type: ignore[arg-type]
        eng.add([Memory(id=derived, user_id="mallory", memory_value="squatted")])
        first = eng.add_messages(messages, user_id="alice", conversation_id="c1")
        (mine,) = first.memory_ids
        assert first.new_items == 1 and mine != derived
        stored = eng.get(mine)
        assert stored is not None and stored.user_id == "alice"
        hits = eng.search("Denver", user_id="alice", ranking="bm25").memory_detail_list
        assert [h.id for h in hits] == [mine]
        again = eng.add_messages(messages, user_id="alice", conversation_id="c1")  # a retry
        assert again.memory_ids == [mine] and again.new_items == 0
        squatter = eng.get(derived)
        assert squatter is not None and squatter.memory_value == "squatted"  # untouched


@pytest.mark.parametrize(
    ("flt", "message"),
    [
        ({"create_time": {"gt": 10**30}}, "between 0 and the end of year 9999"),
        ({"create_time": {"lt": -1}}, "between 0 and the end of year 9999"),
        ({"update_time": "1960-01-01"}, "between 0 and the end of year 9999"),
        ({"confidence": {"gt": 10**400}}, "finite"),
        ({"confidence": {"gt": float("inf")}}, "finite"),
        ({"or": [{"memory_key": f"k{i}"} for i in range(2000)]}, "at most"),
        ({"and": [{"memory_key": {"contains": "a"}}] * (MAX_CONDITIONS + 1)}, "at most"),
        ({"id": {"in": [f"x{i}" for i in range(MAX_VALUES + 1)]}}, "at most"),
        ({"or": [{"id": {"in": [f"x{i}" for i in range(5_000)]}}] * 3}, "at most"),
    ],
)
def test_filters_over_their_bounds_are_refused(engine: Engine, flt: dict, message: str) -> None:
    with pytest.raises(InvalidFilterError, match=message):
        engine.search("cat", user_id="u1", filter=flt)
    with pytest.raises(InvalidFilterError, match=message):
        engine.delete(filter=flt)
    assert engine.get("m1") is not None


def test_filters_at_their_bounds_work(engine: Engine) -> None:
    wide = {"or": [{"memory_key": f"k{i}"} for i in range(MAX_CONDITIONS - 1)] + [{"tags": "pet"}]}
    assert [m.id for m in engine.search("cat", user_id="u1", filter=wide).memory_detail_list] == [
        "m1"
    ]
    many = {"id": {"in": ["m1", *(f"x{i}" for i in range(MAX_VALUES - 1))]}}
    assert [m.id for m in engine.search("cat", user_id="u1", filter=many).memory_detail_list] == [
        "m1"
    ]


def test_text_that_cannot_be_stored_is_refused(engine: Engine) -> None:
    """A lone surrogate cannot be encoded as UTF-8 (SQLite, Tantivy, JSON): a clear error at
    the boundary, never a UnicodeEncodeError from deep in a write."""
    bad = "x\ud800"
    calls = [
        lambda: engine.add([Memory(id="ok", user_id="u1", memory_value=bad)]),
        lambda: engine.add([Memory(id=bad, user_id="u1", memory_value="v")]),
        lambda: engine.add([Preference(id="p9", user_id="u1", preference="p", reasoning=bad)]),
        lambda: engine.search(bad, user_id="u1"),
        lambda: engine.search("cat", user_id=bad),
        lambda: engine.search("cat", user_id="u1", filter={"tags": bad}),
        lambda: engine.get(bad),
        lambda: engine.delete(ids=[bad]),
        lambda: engine.add_messages([Message(role="user", content=bad)], user_id="u1"),
        lambda: engine.get_messages("u1", bad),
    ]
    for call in calls:
        with pytest.raises(InvalidRequestError, match="Unicode"):
            call()
    assert engine.get("ok") is None
