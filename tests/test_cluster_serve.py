"""The cluster's HTTP ingress on a local Ray (Serve): the real MemOS client and plain HTTP get the
answers of one local store (``hybridmem serve``) holding the same data, and no user's items
reach another user's answers.

Both sides embed with the real default model, so answers can be compared hit by hit. BM25's
term statistics (document frequencies, average length) are those of the index, so a shard scores
a little differently from one store holding everybody: near-zero hits (relativity under 0.05)
may swap places, so the searches compared here ask for ``relativity >= 0.05``, and then the
hit lists must be equal and relativities within 0.02.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hybridmem import Engine, Preference
from hybridmem.cluster import create_cluster, read_manifest
from hybridmem.encoder import Encoder
from hybridmem.evalset import EvalSet

from .clusterkit import cluster_config, deploy, local_ray, post
from .corpus import SMALL
from .live import ALL_KEY, APP1_KEY, serve
from .test_memos_client import MEMOS_PYTHON, REQUIRED

pytestmark = pytest.mark.cluster

FLOW_USER = "memos_user_123"  # memos_client_flow.py's user: kept out of the seeded data
APP1 = [
    msgspec.structs.replace(m, id=f"app1-{m.id}", user_id=f"app1:{m.user_id}") for m in SMALL
]
REFERENCE_TIME = 1_764_201_600_000
RELATIVITY_TOLERANCE = 0.02
THRESHOLD = 0.05


class Servers(msgspec.Struct, frozen=True, kw_only=True):
    cluster: str
    local: str
    root: Path
    users: list[str]
    owner: dict[str, str]


def _seed(base: str, items: list[Any]) -> None:
    memories = [msgspec.to_builtins(i) for i in items if not isinstance(i, Preference)]
    preferences = [msgspec.to_builtins(i) for i in items if isinstance(i, Preference)]
    for path, field, part in (
        ("/add/memory", "memories", memories),
        ("/add/preference", "preferences", preferences),
    ):
        if part:
            r = post(base, path, {field: part})
            assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, encoder: Encoder, demo: EvalSet
) -> Iterator[Servers]:
    items = [
        *SMALL,
        *APP1,
        *(i for i in [*demo.memories, *demo.preferences] if i.user_id != FLOW_USER),
    ]
    assert encoder.dim  # the model is exported to the cache before the replicas load it
    root = tmp_path_factory.mktemp("cluster") / "root"
    create_cluster(root, shards=2)
    with local_ray():
        base = deploy(cluster_config(root, encoder_factory=None))
        _seed(base, items)
        engine = Engine.open(tmp_path_factory.mktemp("one-store") / "store", encoder=encoder)
        engine.add(items)
        with serve(engine) as local:
            yield Servers(
                cluster=base,
                local=local,
                root=root,
                users=sorted({i.user_id for i in items}),
                owner={i.id: i.user_id for i in items},
            )


def _without_scores(data: dict) -> tuple[dict, list[float]]:
    scores = []
    for key in ("memory_detail_list", "preference_detail_list"):
        for hit in data[key]:
            scores.append(hit.pop("relativity"))
    return data, scores


def assert_same_answer(cluster: dict, local: dict) -> None:
    a, a_scores = _without_scores(cluster)
    b, b_scores = _without_scores(local)
    assert a == b
    assert a_scores == pytest.approx(b_scores, abs=RELATIVITY_TOLERANCE)


def test_the_users_are_spread_over_both_shards(servers: Servers) -> None:
    shard_map = read_manifest(servers.root).current
    assert {shard_map.index_of(u) for u in servers.users} == {0, 1}


def test_searches_answer_as_one_store(servers: Servers, demo: EvalSet) -> None:
    queries = [(q.user_id, q.query) for q in demo.queries if q.user_id != FLOW_USER][:12]
    queries += [("u1", "pets at home"), ("app1:u2", "what food"), ("u2", "where do I live")]
    for user, query in queries:
        body = {"query": query, "user_id": user, "reference_time": REFERENCE_TIME,
                "relativity": THRESHOLD}  # fmt: skip
        a = post(servers.cluster, "/search/memory", body)
        b = post(servers.local, "/search/memory", body)
        assert a.status_code == b.status_code == 200, (a.text, b.text)
        assert_same_answer(a.json()["data"], b.json()["data"])


def test_no_user_sees_another_users_items(servers: Servers) -> None:
    for user in servers.users:
        body = {"query": "the user likes", "user_id": user, "memory_limit_number": 100,
                "preference_limit_number": 100}  # fmt: skip
        data = post(servers.cluster, "/search/memory", body).json()["data"]
        found = [h["id"] for k in ("memory_detail_list", "preference_detail_list") for h in data[k]]
        assert all(servers.owner[i] == user for i in found), (user, found)
        listed = post(servers.cluster, "/get/memory", {"user_id": user, "size": 50}).json()["data"]
        assert {m["user_id"] for m in listed["memory_detail_list"]} <= {user}


def test_reads_and_refusals_answer_as_one_store(servers: Servers) -> None:
    other = next(i for i, u in servers.owner.items() if not u.startswith("app1:"))
    cases: list[tuple[str, str, dict | None, str]] = [
        ("POST", "/get/memory", {"user_id": "u1", "size": 3, "page": 2}, ALL_KEY),
        ("POST", "/get/memory", {"user_id": "u1", "filter": {"tags": {"contains": "pet"}}},
         ALL_KEY),
        ("GET", f"/get/memory/{other}", None, ALL_KEY),
        ("GET", f"/get/memory/{other}", None, APP1_KEY),  # another user's id reads as missing
        ("GET", "/get/memory/no-such-id", None, ALL_KEY),
        ("POST", "/search/memory", {"query": "x", "user_id": "u1"}, APP1_KEY),  # 403
        ("POST", "/search/memory", {"query": "", "user_id": "u1"}, ALL_KEY),
        ("POST", "/search/memory", {"user_id": "u1"}, ALL_KEY),
        ("POST", "/search/memory", {"query": "x", "user_id": "u" * 101}, ALL_KEY),
        ("POST", "/search/memory", {"query": "x", "user_id": "u1", "filter": {"nope": 1}}, ALL_KEY),
        ("POST", "/add/memory", {"memories": [{"id": other, "user_id": "app1:zz",
                                               "memory_value": "take it"}]}, ALL_KEY),  # 409
        ("POST", "/delete/memory", {"memory_ids": [other]}, APP1_KEY),  # 403, nothing deleted
        ("POST", "/delete/memory", {"filter": {"tags": {"contains": "pet"}}}, APP1_KEY),
        ("POST", "/get/message", {"user_id": "u1", "conversation_id": ""}, ALL_KEY),
    ]  # fmt: skip
    import requests

    for method, path, body, key in cases:
        answers = []
        for base in (servers.cluster, servers.local):
            headers = {"Authorization": f"Token {key}"}
            r = requests.request(method, base + path, json=body, headers=headers, timeout=60)
            answers.append((r.status_code, r.json()))
        assert answers[0] == answers[1], (path, body)
    assert post(servers.cluster, "/get/memory", {"user_id": servers.owner[other]}).json()[
        "data"
    ]["total"] > 0


def test_add_message_for_users_on_both_shards(servers: Servers) -> None:
    users = ["fan-a", "fan-b", "fan-c", "fan-d"]
    shard_map = read_manifest(servers.root).current
    assert len({shard_map.index_of(u) for u in users}) == 2
    message = {"role": "user", "content": "I collect vintage typewriters."}
    body = {"user_id": users, "conversation_id": "c9", "messages": [message]}
    added = post(servers.cluster, "/add/message", body).json()["data"]
    assert added["new_memories"] == 4 and added["new_messages"] == 4
    for user in users:
        listed = post(servers.cluster, "/get/memory", {"user_id": user}).json()["data"]
        assert [m["user_id"] for m in listed["memory_detail_list"]] == [user]
        got = post(servers.cluster, "/get/message", {"user_id": user, "conversation_id": "c9"})
        assert len(got.json()["data"]["message_detail_list"]) == 1
    # each user's memory is in the store directory of its own shard, and only there
    for index, spec in enumerate(shard_map.shards):
        store = read_manifest(servers.root).directory(servers.root, spec)
        with Engine.open(store, read_only=True) as eng:
            mine = {u for u in users if shard_map.index_of(u) == index}
            for user in users:
                total = eng.page(user)[1]
                assert total == (1 if user in mine else 0), (spec.name, user)


def _flow(base: str, tmp_path: Path) -> dict:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path),
           "NO_PROXY": "127.0.0.1,localhost"}  # fmt: skip
    proc = subprocess.run(
        [str(MEMOS_PYTHON), str(Path(__file__).with_name("memos_client_flow.py")), base, ALL_KEY],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    summary["added"].pop("task_id")
    for hit in summary["search"]["memory_detail_list"]:
        hit.pop("create_time"), hit.pop("update_time")
    return summary


@pytest.mark.skipif(
    not REQUIRED and not MEMOS_PYTHON.exists(), reason=f"no MemOS client venv at {MEMOS_PYTHON}"
)
def test_real_memos_client_gets_the_answers_of_one_store(servers: Servers, tmp_path: Path) -> None:
    cluster = _flow(servers.cluster, tmp_path)
    local = _flow(servers.local, tmp_path)
    cluster["search"], local["search"] = (
        _without_scores(cluster["search"]),
        _without_scores(local["search"]),
    )
    assert cluster["search"][0] == local["search"][0]
    assert cluster["search"][1] == pytest.approx(local["search"][1], abs=RELATIVITY_TOLERANCE)
    cluster.pop("search"), local.pop("search")
    assert cluster == local
