"""The shard map of a cluster: which shard (an ordinary store directory) holds each user.

A cluster root holds ``cluster.json`` and one store directory per shard::

    {"format_version": 1,
     "current": {"version": 1, "shards": [{"name": "shard-0000", "directory": "shard-0000"}, ...]},
     "next": null}

A user lives on shard ``stable_hash(user_id) mod len(shards)`` of the ``current`` map; the hash
is BLAKE2b of the id's UTF-8 bytes, so every process, host and Python version agrees. ``next``
is set only while a reshard moves users to another map. The move goes in units (a source shard
and one of :data:`MOVE_BUCKETS` buckets of a second hash of the user id); ``moved`` lists the
units done, whose users live on their ``next`` shard already (:meth:`ClusterManifest.index_of`).
The final switch makes ``next`` the ``current`` map (its ``version`` is one higher). Each change
replaces the manifest atomically (written aside, fsynced, renamed). Each shard directory is a
plain hybridmem store, so every single-store tool (``hybridmem stats``, ``check``,
``reindex``...) works on it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta

from ..errors import InvalidRequestError, StoreError
from ..manifest import write_json_atomic

__all__ = [
    "MANIFEST_FILE",
    "ClusterManifest",
    "ShardMap",
    "ShardSpec",
    "create_cluster",
    "manifest_lock",
    "read_manifest",
    "shard_index",
    "shard_name",
    "write_manifest",
]

MANIFEST_FILE = "cluster.json"
#: move units per source shard of a reshard (writes pause while one unit moves)
MOVE_BUCKETS = 8
FORMAT_VERSION = 1
_LOCK_FILE = "cluster.lock"


def shard_index(user_id: str, shards: int) -> int:
    """The shard (0-based) of ``user_id`` among ``shards``: stable everywhere and forever."""
    if shards < 1:
        raise InvalidRequestError(f"a cluster needs at least one shard, got {shards}")
    digest = hashlib.blake2b(user_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def move_bucket(user_id: str) -> int:
    """The bucket of ``user_id`` within its source shard during a reshard (a second hash)."""
    digest = hashlib.blake2b(
        user_id.encode("utf-8", "surrogatepass"), digest_size=8, person=b"hybridmem-move"
    ).digest()
    return int.from_bytes(digest, "big") % MOVE_BUCKETS


def move_unit(source: int, bucket: int) -> str:
    """The name of a move unit in ``ClusterManifest.moved``."""
    return f"{source}/{bucket}"


def shard_name(index: int) -> str:
    """The name (and directory) of shard ``index``."""
    return f"shard-{index:04d}"


class ShardSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One shard: its name and its store directory (relative to the cluster root)."""

    name: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    directory: Annotated[str, Meta(min_length=1)]


def _specs(indexes: Iterable[int]) -> list[ShardSpec]:
    return [ShardSpec(name=shard_name(i), directory=shard_name(i)) for i in indexes]


class ShardMap(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A versioned list of shards; users map onto it by :func:`shard_index`."""

    version: Annotated[int, Meta(ge=1)]
    shards: Annotated[list[ShardSpec], Meta(min_length=1)]

    def index_of(self, user_id: str) -> int:
        """The index of the shard holding ``user_id``."""
        return shard_index(user_id, len(self.shards))

    def shard_of(self, user_id: str) -> ShardSpec:
        """The shard holding ``user_id``."""
        return self.shards[self.index_of(user_id)]

    def group(self, user_ids: Iterable[str]) -> dict[int, list[str]]:
        """``shard index -> user ids`` (each id once, in first-seen order)."""
        out: dict[int, list[str]] = {}
        for user in dict.fromkeys(user_ids):
            out.setdefault(self.index_of(user), []).append(user)
        return out

    def resized(self, shards: int) -> ShardMap:
        """The next version of this map with ``shards`` shards (existing ones kept by index)."""
        if shards < 1:
            raise InvalidRequestError(f"a cluster needs at least one shard, got {shards}")
        specs = [*self.shards[:shards], *_specs(range(len(self.shards), shards))]
        return ShardMap(version=self.version + 1, shards=specs)


class ClusterManifest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``cluster.json``: the live shard map and, during a reshard, the one it moves to."""

    format_version: int = FORMAT_VERSION
    current: ShardMap
    next: ShardMap | None = None
    moved: list[str] = msgspec.field(default_factory=list)

    def directory(self, root: str | Path, spec: ShardSpec) -> Path:
        """The store directory of ``spec`` under the cluster ``root``."""
        return Path(root) / spec.directory

    @property
    def live(self) -> list[ShardSpec]:
        """Every shard that may hold users now (during a reshard: those of both maps)."""
        if self.next is None:
            return self.current.shards
        names = {s.name for s in self.next.shards}
        return self.next.shards + [s for s in self.current.shards if s.name not in names]

    def index_of(self, user_id: str) -> int:
        """The index in :attr:`live` of the shard holding ``user_id`` now."""
        old = self.current.index_of(user_id)
        if self.next is None:
            return old
        new = self.next.index_of(user_id)
        done = new == old or move_unit(old, move_bucket(user_id)) in self.moved
        target = self.next.shards[new] if done else self.current.shards[old]
        return [s.name for s in self.live].index(target.name)

    def shard_of(self, user_id: str) -> ShardSpec:
        """The shard holding ``user_id`` now."""
        return self.live[self.index_of(user_id)]


def read_manifest(root: str | Path) -> ClusterManifest:
    """The manifest of the cluster in ``root``.

    Raises:
        StoreError: no manifest there, or one that cannot be read.
    """
    path = Path(root) / MANIFEST_FILE
    try:
        manifest = msgspec.json.decode(path.read_bytes(), type=ClusterManifest)
    except FileNotFoundError:
        raise StoreError(f"{root} is not a hybridmem cluster (no {MANIFEST_FILE})") from None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise StoreError(f"invalid {path}: {exc}") from exc
    if manifest.format_version != FORMAT_VERSION:
        raise StoreError(f"{path} has format version {manifest.format_version}")
    return manifest


def write_manifest(root: str | Path, manifest: ClusterManifest) -> None:
    """Replace the manifest atomically: a reader sees the old one or the new one, whole."""
    root = Path(root)
    write_json_atomic(root / MANIFEST_FILE, manifest)
    fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(fd)  # the rename itself survives a power cut
    finally:
        os.close(fd)


@contextmanager
def manifest_lock(root: str | Path) -> Iterator[None]:
    """Hold the cluster's manifest lock (an exclusive ``flock``) for a read-modify-write."""
    import fcntl

    fd = os.open(Path(root) / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def create_cluster(root: str | Path, *, shards: int) -> ClusterManifest:
    """A new cluster of ``shards`` empty shard directories in ``root`` (version 1).

    Raises:
        StoreError: ``root`` already holds a cluster.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with manifest_lock(root):
        if (root / MANIFEST_FILE).exists():
            raise StoreError(f"{root} already holds a cluster")
        if shards < 1:
            raise InvalidRequestError(f"a cluster needs at least one shard, got {shards}")
        current = ShardMap(version=1, shards=_specs(range(shards)))
        for spec in current.shards:
            (root / spec.directory).mkdir(exist_ok=True)
        manifest = ClusterManifest(current=current)
        write_manifest(root, manifest)
        return manifest
