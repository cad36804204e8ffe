"""The cluster's shard map: a stable hash of the user id, a versioned manifest written atomically,
and shard directories that are ordinary stores."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import msgspec
import pytest

from hybridmem import Engine, Memory, StoreError
from hybridmem.cluster import (
    MANIFEST_FILE,
    ClusterManifest,
    create_cluster,
    read_manifest,
    shard_index,
    write_manifest,
)
from hybridmem.cluster.shardmap import shard_name

from .hashenc import HashEncoder


def test_shard_index_is_the_same_in_another_process() -> None:
    users = [f"user-{i}" for i in range(50)] + ["用户", "a:b/c", ""]
    here = [shard_index(u, 7) for u in users]
    code = (
        "import json, sys; from hybridmem.cluster import shard_index; "
        "print(json.dumps([shard_index(u, 7) for u in json.loads(sys.argv[1])]))"
    )
    import json

    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(users)],
        capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": "123"},
    )  # fmt: skip
    assert json.loads(out.stdout) == here


def test_users_spread_over_every_shard() -> None:
    counts = Counter(shard_index(f"u{i}", 4) for i in range(4000))
    assert sorted(counts) == [0, 1, 2, 3]
    assert min(counts.values()) > 850  # 1000 each on average


def test_doubling_moves_a_user_only_to_its_sibling_shard() -> None:
    for i in range(500):
        user = f"u{i}"
        old, new = shard_index(user, 2), shard_index(user, 4)
        assert new in (old, old + 2)


def test_shard_index_refuses_zero_shards() -> None:
    with pytest.raises(ValueError):
        shard_index("u", 0)


def test_create_cluster_makes_the_manifest_and_directories(tmp_path: Path) -> None:
    manifest = create_cluster(tmp_path / "c", shards=3)
    assert manifest.current.version == 1 and manifest.next is None
    assert [s.name for s in manifest.current.shards] == [shard_name(i) for i in range(3)]
    assert read_manifest(tmp_path / "c") == manifest
    for spec in manifest.current.shards:
        assert manifest.directory(tmp_path / "c", spec).is_dir()
    with pytest.raises(StoreError, match="already holds a cluster"):
        create_cluster(tmp_path / "c", shards=2)


def test_group_and_shard_of_agree(tmp_path: Path) -> None:
    current = create_cluster(tmp_path, shards=4).current
    users = ["a", "b", "c", "d", "e", "a"]
    groups = current.group(users)
    assert sorted(u for us in groups.values() for u in us) == ["a", "b", "c", "d", "e"]
    for index, members in groups.items():
        for user in members:
            assert current.shard_of(user) == current.shards[index]


def test_resized_keeps_existing_shards_and_bumps_the_version(tmp_path: Path) -> None:
    current = create_cluster(tmp_path, shards=2).current
    bigger = current.resized(4)
    assert bigger.version == 2
    assert bigger.shards[:2] == current.shards
    assert [s.name for s in bigger.shards[2:]] == [shard_name(2), shard_name(3)]


def test_write_manifest_replaces_it_whole(tmp_path: Path) -> None:
    manifest = create_cluster(tmp_path, shards=2)
    moved = msgspec.structs.replace(manifest, next=manifest.current.resized(4))
    write_manifest(tmp_path, moved)
    assert read_manifest(tmp_path) == moved
    assert not (tmp_path / f"{MANIFEST_FILE}.tmp").exists()


def test_a_damaged_or_missing_manifest_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a hybridmem cluster"):
        read_manifest(tmp_path)
    (tmp_path / MANIFEST_FILE).write_text('{"current": {"version": 0, "shards": []}}')
    with pytest.raises(StoreError, match="invalid"):
        read_manifest(tmp_path)
    (tmp_path / MANIFEST_FILE).write_text('{"current": {"version": 1, "shards": []}}')
    with pytest.raises(StoreError, match="invalid"):
        read_manifest(tmp_path)


def test_unknown_fields_are_refused(tmp_path: Path) -> None:
    manifest = create_cluster(tmp_path, shards=1)
    raw = msgspec.json.decode(msgspec.json.encode(manifest))
    raw["current"]["replicas"] = 3
    (tmp_path / MANIFEST_FILE).write_bytes(msgspec.json.encode(raw))
    with pytest.raises(StoreError, match="replicas"):
        read_manifest(tmp_path)
    assert msgspec.json.decode(msgspec.json.encode(manifest), type=ClusterManifest) == manifest


def test_a_shard_directory_is_an_ordinary_store(tmp_path: Path) -> None:
    manifest = create_cluster(tmp_path, shards=2)
    spec = manifest.current.shard_of("alice")
    with Engine.open(manifest.directory(tmp_path, spec), encoder=HashEncoder()) as eng:
        eng.add([Memory(id="m1", user_id="alice", memory_value="alice likes tea")])
    with Engine.open(
        manifest.directory(tmp_path, spec), encoder=HashEncoder(), read_only=True
    ) as eng:
        assert eng.get("m1") is not None


def test_during_a_reshard_users_follow_their_unit(tmp_path: Path) -> None:
    from hybridmem.cluster.shardmap import MOVE_BUCKETS, move_bucket, move_unit

    manifest = create_cluster(tmp_path, shards=2)
    moving = msgspec.structs.replace(manifest, next=manifest.current.resized(4))
    users = [f"u{i}" for i in range(300)]
    assert moving.live == moving.next.shards
    assert all(moving.shard_of(u) == manifest.current.shard_of(u) for u in users)
    half = [move_unit(0, b) for b in range(MOVE_BUCKETS)] + [move_unit(1, 0)]
    part = msgspec.structs.replace(moving, moved=half)
    for u in users:
        old = manifest.current.index_of(u)
        done = old == 0 or move_bucket(u) == 0
        expected = moving.next.shard_of(u) if done else manifest.current.shard_of(u)
        assert part.shard_of(u) == expected
    every = [move_unit(s, b) for s in (0, 1) for b in range(MOVE_BUCKETS)]
    full = msgspec.structs.replace(moving, moved=every)
    assert all(full.shard_of(u) == moving.next.shard_of(u) for u in users)


def test_the_cluster_api_is_pinned_and_imports_no_ray() -> None:
    import hybridmem.cluster as cluster

    assert cluster.__all__ == [
        "MANIFEST_FILE",
        "ClusterConfig",
        "ClusterManifest",
        "ShardMap",
        "ShardSpec",
        "create_cluster",
        "load_cluster_config",
        "read_manifest",
        "shard_index",
        "write_manifest",
    ]
    code = "import sys, hybridmem.cluster, hybridmem.cli; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
