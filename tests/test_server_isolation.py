"""Over HTTP: a scoped key never sees another user's memory while ids move between users and
kinds, an id cannot be taken over, and every request a client can send that is over a bound
gets a 400 with a code, never a 500."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from .hashenc import HashEncoder
from .live import ALL_KEY, APP1_KEY, serve_new_store
from .races import run_race

ALL = {"Authorization": f"Token {ALL_KEY}"}
APP1 = {"Authorization": f"Token {APP1_KEY}"}
USERS = ("app1:alice", "app1:bob")
WORDS = "coffee garden note"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_new_store(tmp_path_factory.mktemp("isolation") / "s", HashEncoder()) as url:
        yield url


def post(base: str, path: str, body: object, headers: dict = ALL) -> requests.Response:
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return requests.post(f"{base}{path}", data=data, headers=headers, timeout=60)


def code_of(resp: requests.Response) -> tuple[int, int]:
    assert resp.headers["content-type"] == "application/json", resp.text
    assert "Traceback" not in resp.text
    return resp.status_code, resp.json()["code"]


def body(id_: str, owner: str, kind: str, status: str = "activated") -> tuple[str, dict]:
    text = f"{WORDS} owner={owner} kind={kind}"
    if kind == "memory":
        item = {"id": id_, "user_id": owner, "memory_value": text, "status": status}
        return "/add/memory", {"memories": [item]}
    item = {"id": id_, "user_id": owner, "preference": text, "status": status}
    return "/add/preference", {"preferences": [item]}


def test_scoped_searches_never_see_a_moving_id_of_another_user(base: str) -> None:
    ids = [f"mv{i}" for i in range(12)]
    state = {i: (USERS[n % 2], "memory" if n % 3 else "preference") for n, i in enumerate(ids)}
    for i in ids:
        assert post(base, *body(i, *state[i])).status_code == 200
    stop = threading.Event()
    problems: list[str] = []
    counts = {"searches": 0, "writes": 0, "refused": 0}

    def searcher(user: str) -> None:
        while not stop.is_set():
            resp = post(base, "/search/memory", {"query": WORDS, "user_id": user,
                                                 "memory_limit_number": 50}, APP1)  # fmt: skip
            if resp.status_code != 200:
                problems.append(resp.text)
                continue
            data = resp.json()["data"]
            for kind, key, hits in (
                ("memory", "memory_value", data["memory_detail_list"]),
                ("preference", "preference", data["preference_detail_list"]),
            ):
                for hit in hits:
                    if f"owner={user} kind={kind}" not in hit[key] or hit["status"] != "activated":
                        problems.append(f"{user} got {hit}")
            counts["searches"] += 1

    def writer() -> None:
        rng = random.Random(3)
        while not stop.is_set():
            id_ = rng.choice(ids)
            owner, kind = state[id_]
            other = USERS[1 - USERS.index(owner)]
            op = rng.randrange(4)
            if op == 0:
                resp = post(base, *body(id_, owner, kind, rng.choice(["activated", "archived"])))
                ok = resp.status_code == 200
            elif op in (1, 2):  # another user / the other kind by upsert: 409
                moved = (
                    (other, kind)
                    if op == 1
                    else (owner, {"memory": "preference"}.get(kind, "memory"))
                )
                resp = post(base, *body(id_, *moved), APP1)
                ok = code_of(resp) == (409, 40020) and other not in resp.text
                counts["refused"] += ok
            else:  # the sanctioned move
                gone = post(base, "/delete/memory", {"memory_ids": [id_]}, APP1)
                new = (other, rng.choice(["memory", "preference"]))
                resp = post(base, *body(id_, *new), APP1)
                ok = gone.status_code == 200 and resp.status_code == 200
                state[id_] = new
            if not ok:
                problems.append(f"write op {op}: {resp.status_code} {resp.text}")
            counts["writes"] += 1

    threads = [threading.Thread(target=searcher, args=(u,)) for u in (*USERS, USERS[0])]
    threads.append(threading.Thread(target=writer))
    run_race(threads, stop, lambda: counts["searches"] > 50 and counts["writes"] > 20
             and counts["refused"] > 3)  # fmt: skip
    assert problems[:5] == []
    assert counts["searches"] > 50 and counts["writes"] > 20 and counts["refused"] > 3


DEEP = "[" * 1_000 + "]" * 1_000


def search(flt: object) -> dict:
    return {"query": "x", "user_id": "u", "filter": flt}


def messages(n: int, **extra: object) -> dict:
    return {"user_id": "u", "messages": [{"role": "user", "content": "x"}] * n, **extra}


BAD = 40000  # invalid parameter
BOUND = 40021  # over a documented bound


@pytest.mark.parametrize(
    ("path", "payload", "code"),
    [
        ("/search/memory", search({"create_time": {"gt": 2**70}}), BAD),
        ("/search/memory", search({"create_time": -5}), BAD),
        ("/search/memory", search({"update_time": {"lt": 1e300}}), BAD),
        ("/search/memory", search({"or": [{"memory_key": str(i)} for i in range(2_000)]}), BAD),
        ("/search/memory", search({"and": [{"id": {"in": ["a"] * 6_000}}] * 2}), BAD),
        ("/search/memory", '{"query": "x", "user_id": "u", "filter": {"x": ' + DEEP + "}}", BOUND),
        ("/search/memory", '{"query": "x", "user_id": "u", "unknown": ' + DEEP + "}", BOUND),
        ("/add/message", messages(1, info={"a": json.loads("[" * 40 + "]" * 40)}), BOUND),
        ("/add/message", messages(10_001), BOUND),
        ("/add/message", {**messages(1), "user_id": [f"u{i}" for i in range(101)]}, BOUND),
        ("/add/memory", {"memories": [{"id": f"c{i}", "user_id": "u", "memory_value": "v"}
                                      for i in range(1_001)]}, BOUND),
        ("/delete/memory", {"memory_ids": [f"c{i}" for i in range(10_001)]}, BOUND),
        ("/get/memory", {"user_id": "u", "filter": {"confidence": {"gt": 1e999}}}, BAD),
    ],
)  # fmt: skip
def test_requests_over_a_bound_get_a_400_with_a_code(
    base: str, path: str, payload: object, code: int
) -> None:
    assert code_of(post(base, path, payload)) == (400, code)


def test_an_id_of_another_user_is_refused_without_naming_them(base: str) -> None:
    assert post(base, *body("own-1", "app2:carol", "memory")).status_code == 200
    resp = post(base, *body("own-1", "app1:mallory", "memory"), APP1)
    assert code_of(resp) == (409, 40020) and "carol" not in resp.text
    resp = post(base, *body("own-1", "app2:carol", "preference"))  # nor its kind
    assert code_of(resp) == (409, 40020)
    kept = requests.get(f"{base}/get/memory/own-1", headers=ALL, timeout=10).json()["data"]
    assert kept["user_id"] == "app2:carol" and "memory_value" in kept


def test_a_squatted_message_id_still_stores_the_message(base: str, tmp_path: Path) -> None:
    from hybridmem.messages import memory_id

    text = "user: my locker code is 4471"
    squat = {"id": memory_id("app1:dora", "c9", text), "user_id": "app2:eve", "memory_value": "x"}
    assert post(base, "/add/memory", {"memories": [squat]}).status_code == 200
    msg = {"user_id": "app1:dora", "conversation_id": "c9",
           "messages": [{"role": "user", "content": "my locker code is 4471"}]}  # fmt: skip
    data = post(base, "/add/message", msg, APP1).json()["data"]
    assert data["new_memories"] == 1 and data["memory_ids"] != [squat["id"]]
    found = post(base, "/search/memory", {"query": "locker code", "user_id": "app1:dora"}, APP1)
    assert [m["id"] for m in found.json()["data"]["memory_detail_list"]] == data["memory_ids"]
