"""The HTTP service over plain HTTP: envelope, every error code, auth, paging, deletes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from hybridmem import Engine, StoreClosedError
from hybridmem.encoder import Encoder
from hybridmem.messages import MessageBatch, turn_memories
from hybridmem.server import ServerSettings

from .live import ALL_KEY, APP1_KEY, serve, serve_new_store

ALL = {"Authorization": f"Token {ALL_KEY}"}
APP1 = {"Authorization": f"Token {APP1_KEY}"}


def failing_extractor(batch: MessageBatch) -> list:
    """The default extractor, except that a message saying ``__fail__`` makes it crash."""
    if any(m.content == "__fail__" for m in batch.messages):
        raise RuntimeError("secret internal detail")
    return turn_memories(batch)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("server") / "store"
    with serve_new_store(directory, encoder, extractor=failing_extractor) as url:
        yield url


def post(base: str, path: str, body: object, headers: dict | None = ALL) -> requests.Response:
    return requests.post(f"{base}{path}", data=json.dumps(body), headers=headers, timeout=30)


def ok(resp: requests.Response) -> dict:
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["code"] == 0 and out["message"] == "ok"
    return out["data"]


def error(resp: requests.Response, status: int, code: int) -> str:
    assert resp.status_code == status, resp.text
    out = resp.json()
    assert out["code"] == code and out["data"] is None, out
    assert resp.headers["content-type"] == "application/json"
    assert "Traceback" not in resp.text
    return out["message"]


CHAT = [
    {"role": "user", "content": "I am planning a summer trip to Guangzhou. Which hotels?"},
    {"role": "assistant", "content": "Consider 7 Days Inn, Ji Hotel or Hilton."},
    {
        "role": "user",
        "content": "I prefer budget hotels under 300 yuan a night.",
        "chat_time": "2025-06-01T10:00:00Z",
    },
]


def test_openapi_is_served_without_auth(base: str) -> None:
    doc = requests.get(f"{base}/openapi.json", timeout=10).json()
    assert doc["openapi"].startswith("3.1")
    ops = {(m, p.removeprefix("/api/openmem/v1")) for p, v in doc["paths"].items() for m in v}
    assert ops == {
        ("post", "/search/memory"),
        ("post", "/add/message"),
        ("post", "/add/memory"),
        ("post", "/add/preference"),
        ("post", "/get/memory"),
        ("get", "/get/memory/{memory_id}"),
        ("post", "/get/message"),
        ("post", "/get/status"),
        ("post", "/delete/memory"),
    }


def test_add_message_then_search_get_and_replay(base: str) -> None:
    user = "chat:alice"
    body = {
        "messages": CHAT,
        "user_id": user,
        "conversation_id": "c1",
        "tags": ["trip"],
        "async_mode": True,
        "source": "unit-test",
        "allow_public": False,
    }
    data = ok(post(base, "/add/message", body))
    assert data["success"] is True and data["status"] == "completed" and data["task_id"]
    assert data["new_memories"] == 2 and data["new_messages"] == 3
    # A client retry of the same batch adds nothing.
    again = ok(post(base, "/add/message", body))
    assert again["new_memories"] == 0 and again["new_messages"] == 0
    assert again["memory_ids"] == data["memory_ids"]
    status = ok(post(base, "/get/status", {"task_id": data["task_id"]}))
    assert status == {"task_id": data["task_id"], "status": "completed"}
    error(post(base, "/get/status", {"task_id": "never-issued"}), 404, 40001)

    found = ok(
        post(
            base,
            "/search/memory",
            {
                "query": "cheap hotel for my Guangzhou trip",
                "user_id": user,
                "conversation_id": "c2",
                "knowledgebase_ids": ["kb1"],
                "include_tool_memory": True,
                "relativity": None,
                "filter": {"tags": "trip"},
            },
        )
    )
    hits = found["memory_detail_list"]
    assert {h["id"] for h in hits} == set(data["memory_ids"])
    assert all(0.0 <= h["relativity"] <= 1.0 for h in hits)
    assert hits[0]["memory_type"] == "WorkingMemory" and hits[0]["conversation_id"] == "c1"
    assert found["preference_detail_list"] == [] and found["preference_note"] == ""
    dated = next(h for h in hits if "budget" in h["memory_value"])
    assert dated["create_time"] == 1748772000000  # from chat_time

    messages = ok(post(base, "/get/message", {"user_id": user, "conversation_id": "c1"}))
    got = messages["message_detail_list"]
    assert [m["content"] for m in got] == [m["content"] for m in CHAT]
    last = ok(
        post(
            base,
            "/get/message",
            {"user_id": user, "conversation_id": "c1", "message_limit_number": 1},
        )
    )
    assert [m["role"] for m in last["message_detail_list"]] == ["user"]


def test_multipart_content_and_user_list(base: str) -> None:
    body = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "My dog is Rex"},
                    {"type": "image_url", "image_url": {"url": "x"}},
                ],
            }
        ],
        "user_id": ["chat:bob", "chat:carol"],
    }
    data = ok(post(base, "/add/message", body))
    assert data["new_memories"] == 2
    for user in ("chat:bob", "chat:carol"):
        hits = ok(post(base, "/search/memory", {"query": "dog's name", "user_id": user}))
        assert [h["memory_value"] for h in hits["memory_detail_list"]] == ["My dog is Rex"]


def test_add_memory_preference_get_by_id_and_paging(base: str) -> None:
    user = "app1:dora"
    memories = [
        {
            "id": f"dora-{i}",
            "user_id": user,
            "memory_value": f"Dora fact number {i}",
            "create_time": 1_700_000_000_000 + i,
            "tags": ["t"],
        }
        for i in range(5)
    ]
    data = ok(post(base, "/add/memory", {"memories": memories}, APP1))
    assert data == {"success": True, "count": 5, "ids": [m["id"] for m in memories]}
    pref = {"id": "dora-p", "user_id": user, "preference": "Dora likes window seats"}
    ok(post(base, "/add/preference", {"preferences": [pref]}, APP1))

    page = ok(post(base, "/get/memory", {"user_id": user, "page": 3, "size": 2}, APP1))
    assert page["total"] == 5 and page["pages"] == 3 and page["current"] == 3 and page["size"] == 2
    assert [m["id"] for m in page["memory_detail_list"]] == ["dora-0"]  # newest first
    first = ok(post(base, "/get/memory", {"user_id": user, "size": 2}, APP1))
    assert [m["id"] for m in first["memory_detail_list"]] == ["dora-4", "dora-3"]
    assert [p["id"] for p in first["preference_detail_list"]] == ["dora-p"]
    no_pref = ok(post(base, "/get/memory", {"user_id": user, "include_preference": False}, APP1))
    assert no_pref["preference_detail_list"] is None
    filtered = ok(
        post(
            base,
            "/get/memory",
            {"user_id": user, "filter": {"create_time": {"gte": 1_700_000_000_003}}},
        )
    )
    assert filtered["total"] == 2

    item = ok(requests.get(f"{base}/get/memory/dora-2", headers=APP1, timeout=10))
    assert item["memory_value"] == "Dora fact number 2" and item["user_id"] == user
    pref_item = ok(requests.get(f"{base}/get/memory/dora-p", headers=ALL, timeout=10))
    assert pref_item["preference"] == "Dora likes window seats"
    error(requests.get(f"{base}/get/memory/nope", headers=ALL, timeout=10), 404, 40001)


def test_auth(base: str) -> None:
    query = {"query": "anything", "user_id": "app1:x"}
    error(post(base, "/search/memory", query, headers={}), 401, 40100)
    error(post(base, "/search/memory", query, {"Authorization": "Basic abc"}), 401, 40100)
    error(
        post(base, "/search/memory", query, {"Authorization": "Token wrong-key-123456"}), 401, 40132
    )
    ok(post(base, "/search/memory", query, APP1))
    ok(post(base, "/search/memory", query, {"Authorization": f"Bearer {APP1_KEY}"}))
    error(post(base, "/search/memory", {**query, "user_id": "app2:x"}, APP1), 403, 40310)
    ok(post(base, "/search/memory", {**query, "user_id": "app2:x"}, ALL))
    # Auth is checked before the body is read.
    error(post(base, "/search/memory", "not an object", headers={}), 401, 40100)


def test_scope_hides_other_users_items(base: str) -> None:
    ok(
        post(
            base,
            "/add/memory",
            {"memories": [{"id": "eve-1", "user_id": "app2:eve", "memory_value": "Eve's secret"}]},
        )
    )
    error(requests.get(f"{base}/get/memory/eve-1", headers=APP1, timeout=10), 404, 40001)
    error(
        post(
            base,
            "/add/memory",
            {"memories": [{"id": "eve-2", "user_id": "app2:eve", "memory_value": "x"}]},
            APP1,
        ),
        403,
        40310,
    )
    error(post(base, "/get/memory", {"user_id": "app2:eve"}, APP1), 403, 40310)
    error(
        post(base, "/get/message", {"user_id": "app2:eve", "conversation_id": "c"}, APP1),
        403,
        40310,
    )
    # ids are unique across users: a scoped key cannot take over another user's id by upsert,
    # nor learn whose it is
    takeover = {"id": "eve-1", "user_id": "app1:mallory", "memory_value": "mine now"}
    refused = error(post(base, "/add/memory", {"memories": [takeover]}, APP1), 409, 40020)
    assert "eve" not in refused.replace("eve-1", "")
    error(post(base, "/delete/memory", {"memory_ids": ["eve-1"]}, APP1), 403, 40306)
    error(post(base, "/delete/memory", {"user_id": "app2:eve"}, APP1), 403, 40306)
    error(post(base, "/delete/memory", {"filter": {"id": "eve-1"}}, APP1), 403, 40306)
    kept = ok(requests.get(f"{base}/get/memory/eve-1", headers=ALL, timeout=10))
    assert (kept["user_id"], kept["memory_value"]) == ("app2:eve", "Eve's secret")


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/search/memory", {"user_id": "u"}, 40002),
        ("/search/memory", {"query": "", "user_id": "u"}, 40002),
        ("/search/memory", {"query": "q", "user_id": None}, 40002),
        ("/search/memory", {"query": "q", "user_id": ""}, 40002),
        ("/search/memory", {"query": "q", "user_id": "u" * 101}, 40010),
        ("/search/memory", {"query": "q", "user_id": "u", "conversation_id": "c" * 101}, 40011),
        ("/search/memory", {"query": "q", "user_id": "u", "memory_limit_number": "six"}, 40000),
        ("/search/memory", {"query": "q", "user_id": "u", "memory_limit_number": -1}, 40000),
        ("/search/memory", {"query": "q", "user_id": "u", "relativity": 1.5}, 40000),
        ("/search/memory", {"query": "q", "user_id": "u", "filter": {"colour": "red"}}, 40000),
        ("/search/memory", [1, 2], 40000),
        ("/add/message", {"user_id": "u", "messages": []}, 40002),
        ("/add/message", {"user_id": "u"}, 40002),
        ("/add/message", {"user_id": [], "messages": [{"role": "user", "content": "x"}]}, 40002),
        ("/add/message", {"user_id": "u", "messages": [{"role": "robot", "content": "x"}]}, 40000),
        (
            "/add/message",
            {"user_id": "u" * 101, "messages": [{"role": "user", "content": "x"}]},
            40010,
        ),
        ("/add/memory", {"memories": []}, 40002),
        (
            "/add/memory",
            {"memories": [{"id": "m", "user_id": "u" * 101, "memory_value": "v"}]},
            40010,
        ),
        (
            "/add/memory",
            {
                "memories": [
                    {"id": "m", "user_id": "u", "memory_value": "v", "conversation_id": "c" * 101}
                ]
            },
            40011,
        ),
        ("/add/memory", {"memories": [{"id": "m", "user_id": "u", "memory_value": ""}]}, 40000),
        (
            "/add/memory",
            {"memories": [{"id": "m", "user_id": "u", "memory_value": "v", "confidence": 2}]},
            40000,
        ),
        ("/get/memory", {"user_id": "u", "size": 51}, 40000),
        ("/get/memory", {"user_id": "u", "page": 0}, 40000),
        ("/get/message", {"user_id": "u"}, 40002),
        ("/get/message", {"user_id": "u", "conversation_id": ""}, 40002),
        (
            "/get/message",
            {"user_id": "u", "conversation_id": "c", "message_limit_number": 51},
            40000,
        ),
        ("/delete/memory", {}, 40000),
        ("/delete/memory", {"memory_ids": ["a"], "user_id": "u"}, 40000),
        ("/delete/memory", {"memory_ids": []}, 40002),
        ("/delete/memory", {"filter": {}}, 40002),
    ],
)
def test_bad_requests_get_memos_codes(base: str, path: str, body: object, code: int) -> None:
    message = error(post(base, path, body), 400, code)
    assert message


def test_malformed_json_and_unknown_routes(base: str) -> None:
    resp = requests.post(f"{base}/search/memory", data=b"{not json", headers=ALL, timeout=10)
    assert "not valid JSON" in error(resp, 400, 40000)
    error(requests.post(f"{base}/nope", data=b"{}", headers=ALL, timeout=10), 404, 40001)
    resp = requests.get(f"{base}/search/memory", headers=ALL, timeout=10)
    assert resp.status_code == 405 and resp.json()["code"] == 40000


def test_oversized_body_is_refused_and_nothing_is_written(base: str) -> None:
    big = {"memories": [{"id": "big", "user_id": "u-big", "memory_value": "x" * (1 << 20)}]}
    error(post(base, "/add/memory", big), 413, 40305)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        yield b'{"memories": [{"id": "big", "user_id": "u-big", "memory_value": "'
        for _ in range(17):
            yield b"y" * 65536
        yield b'"}]}'

    resp = requests.post(f"{base}/add/memory", data=chunks(), headers=ALL, timeout=30)
    error(resp, 413, 40305)
    error(requests.get(f"{base}/get/memory/big", headers=ALL, timeout=10), 404, 40001)


def test_internal_error_is_500_without_details(base: str) -> None:
    body = {"user_id": "u-fail", "messages": [{"role": "user", "content": "__fail__"}]}
    resp = post(base, "/add/message", body)
    message = error(resp, 500, 50000)
    assert resp.headers["x-request-id"] in message
    assert "secret internal detail" not in resp.text


def test_deletes(base: str) -> None:
    user = "app1:del"
    memories = [
        {
            "id": f"del-{i}",
            "user_id": user,
            "memory_value": f"Deletable fact {i}",
            "tags": ["odd" if i % 2 else "even"],
        }
        for i in range(6)
    ]
    ok(post(base, "/add/memory", {"memories": memories}, APP1))
    assert ok(post(base, "/delete/memory", {"memory_ids": ["del-0", "nope"]}, APP1))["deleted"] == 1
    gone = ok(post(base, "/delete/memory", {"user_id": user, "filter": {"tags": "odd"}}, APP1))
    assert gone == {"success": True, "deleted": 3}
    left = ok(post(base, "/get/memory", {"user_id": user}, APP1))["memory_detail_list"]
    assert sorted(m["id"] for m in left) == ["del-2", "del-4"]
    assert ok(post(base, "/delete/memory", {"filter": {"id": "del-2"}}))["deleted"] == 1
    assert ok(post(base, "/delete/memory", {"user_id": user}, APP1))["deleted"] == 1
    hits = ok(post(base, "/search/memory", {"query": "Deletable fact", "user_id": user}, APP1))
    assert hits["memory_detail_list"] == []


def test_concurrent_searches_with_a_writer(base: str) -> None:
    user = "conc:u"
    ok(
        post(
            base,
            "/add/memory",
            {
                "memories": [
                    {"id": "conc-0", "user_id": user, "memory_value": "The user plays the cello"}
                ]
            },
        )
    )
    failures: list[str] = []

    def searcher() -> None:
        for _ in range(5):
            resp = post(base, "/search/memory", {"query": "instrument", "user_id": user})
            if resp.status_code != 200 or not resp.json()["data"]["memory_detail_list"]:
                failures.append(resp.text)

    def writer() -> None:
        for i in range(1, 6):
            resp = post(
                base,
                "/add/memory",
                {
                    "memories": [
                        {"id": f"conc-{i}", "user_id": user, "memory_value": f"Cello lesson {i}"}
                    ]
                },
            )
            if resp.status_code != 200:
                failures.append(resp.text)

    threads = [threading.Thread(target=searcher) for _ in range(4)] + [
        threading.Thread(target=writer)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert ok(post(base, "/get/memory", {"user_id": user}))["total"] == 6


def test_no_auth_mode_and_a_custom_prefix(tmp_path: Path, encoder: Encoder) -> None:
    engine = Engine.open(tmp_path / "s", encoder=encoder)
    settings = ServerSettings(prefix="/memos", max_body_bytes=1000)
    with serve(engine, no_auth=True, settings=settings) as url:
        assert url.endswith("/memos")
        memory = {"id": "n1", "user_id": "anyone", "memory_value": "No auth here"}
        ok(post(url, "/add/memory", {"memories": [memory]}, headers={}))
        assert ok(requests.get(f"{url}/get/memory/n1", timeout=10))["id"] == "n1"
        error(
            post(
                url,
                "/add/memory",
                {"memories": [{**memory, "memory_value": "x" * 1000}]},
                headers={},
            ),
            413,
            40305,
        )
    with pytest.raises(StoreClosedError):  # the app owned the engine and closed it
        engine.get("n1")


def test_serve_refuses_to_start_without_keys(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HYBRIDMEM_API_KEY"}
    proc = subprocess.run(
        [sys.executable, "-m", "hybridmem.cli", "serve", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "no API key configured" in proc.stderr
    assert not (tmp_path / "s").exists()
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "hybridmem.cli",
            "serve",
            str(tmp_path / "s"),
            "--insecure-no-auth",
            "--search-threads",
            "0",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert bad.returncode == 2 and "search_threads" in bad.stderr


@pytest.mark.slow
def test_serve_cli_end_to_end_and_graceful_shutdown(tmp_path: Path, encoder: Encoder) -> None:
    keys = tmp_path / "keys.toml"
    keys.write_text('[[keys]]\nname = "t"\nkey = "cli-test-key-0123456789"\nusers = ["*"]\n')
    store = tmp_path / "store"
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("HYBRIDMEM_API_KEY", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hybridmem.cli",
            "serve",
            str(store),
            "--port",
            str(port),
            "--keys",
            str(keys),
            "--access-log",
            "--extractor",
            "tests.test_messages_auth:custom_extractor",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    root = f"http://127.0.0.1:{port}"
    base = f"{root}/api/openmem/v1"
    headers = {"Authorization": "Token cli-test-key-0123456789"}
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{root}/ready", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "server did not get ready"
            time.sleep(0.2)
        assert requests.get(f"{root}/health", timeout=5).json()["data"]["status"] == "alive"
        memory = {"id": "k1", "user_id": "u", "memory_value": "The user's cat is named Miso"}
        ok(post(base, "/add/memory", {"memories": [memory]}, headers))
        hits = ok(post(base, "/search/memory", {"query": "cat name", "user_id": "u"}, headers))
        assert hits["memory_detail_list"][0]["id"] == "k1"
        chat = {"user_id": "u", "messages": [{"role": "user", "content": "hello"}]}
        added = ok(post(base, "/add/message", chat, headers))  # through --extractor
        assert added["memory_ids"] == ["x-0", "x-1"]
    finally:
        proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert proc.wait(timeout=60) in (0, -signal.SIGTERM)
    assert proc.stdout is not None and proc.stderr is not None
    assert "ready: model sentence-transformers/all-MiniLM-L6-v2 warmed up in" in proc.stderr.read()
    # --access-log: uvicorn's access lines (on stdout)
    assert '"POST /api/openmem/v1/search/memory HTTP/1.1" 200' in proc.stdout.read()
    # Closed cleanly: SQLite checkpointed and removed its WAL (only a clean close does), and
    # the store reopens with its indexes as saved, no rebuild.
    import warnings

    assert (store / "store.sqlite").exists() and not (store / "store.sqlite-wal").exists()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with Engine.open(store, encoder=encoder) as eng:
            assert eng.get("k1") is not None
            assert eng.stats()["dense_vectors"] == 3  # k1 and the extractor's x-0, x-1


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
