"""The cluster's :class:`~hybridmem.operations.Backend`: engine calls routed to shards.

The HTTP ingress runs the ordinary handlers and operations (:mod:`hybridmem.handlers`,
:mod:`hybridmem.operations`) on a :class:`ShardRouter` instead of an engine, so auth, wire
shapes and error codes are those of ``hybridmem serve``. A call naming a user goes to the
shard holding that user; a call naming ids (get by id, delete by ids) or a filter alone asks
every shard at once. Queries are encoded by the encoder deployment (which batches concurrent
searches), and shards search with the vector.

The router is synchronous (the handlers run operations in worker threads); each shard call is
a Ray Serve ``DeploymentHandle`` call, started for every shard before any is waited on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..engine import AddMessagesResult
from ..errors import HybridMemError
from ..query import search_request
from ..store import check_owners, kind_of
from ..types import Item, Message, MessageDetail, SearchData
from ..validate import check_items, ids_arg, user_id_arg
from .shardmap import ClusterManifest

__all__ = ["ShardRouter", "WriteGate", "unwrap"]


def unwrap(response: Any) -> Any:
    """The result of a Serve call; a hybridmem error raised in the replica is re-raised as
    itself (Ray wraps it in a ``RayTaskError``)."""
    from ray.exceptions import RayTaskError

    try:
        return response.result()
    except RayTaskError as exc:
        if isinstance(exc.cause, HybridMemError):
            raise exc.cause from None
        raise


class WriteGate:
    """Lets writes through, or holds new ones while a reshard moves users (:meth:`pause`
    returns once the writes in flight have finished)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._paused = False
        self._writing = 0

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            while self._paused:
                self._cond.wait()
            self._writing += 1
        try:
            yield
        finally:
            with self._cond:
                self._writing -= 1
                self._cond.notify_all()

    def pause(self) -> None:
        with self._cond:
            self._paused = True
            while self._writing:
                self._cond.wait()

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()


class ShardRouter:
    """Routes the engine's methods to shard deployments by ``user_id``.

    Args:
        manifest: the cluster's manifest (users to shard names, a reshard's progress).
        shards: ``shard name -> handle`` of each live shard deployment (method ``call``).
        encoder: handle of the query-encoder deployment (method ``encode``).
        model: the embedding model the shards' stores hold.
    """

    def __init__(
        self, manifest: ClusterManifest, shards: Mapping[str, Any], encoder: Any, *, model: str
    ) -> None:
        self.model = model
        self.models: dict[str, str] = {}  # shard name -> the model it holds, where it changed
        self.manifest = manifest
        self.shards = dict(shards)
        self.encoder = encoder
        self.lock = threading.Lock()
        self.gate = WriteGate()

    def set_manifest(self, manifest: ClusterManifest, shards: Mapping[str, Any]) -> None:
        """Route by another manifest from now on (a reshard's progress or switch)."""
        with self.lock:
            self.manifest, self.shards = manifest, {**self.shards, **shards}

    def _of(self, user_id: str) -> Any:
        with self.lock:
            return self.shards[self.manifest.shard_of(user_id).name]

    def _index(self, user_id: str) -> int:
        with self.lock:
            return self.manifest.index_of(user_id)

    def _all(self) -> list[Any]:
        """Every live shard, in :attr:`ClusterManifest.live` order."""
        with self.lock:
            return [self.shards[s.name] for s in self.manifest.live]

    @staticmethod
    def _call(shard: Any, method: str, /, *args: Any, **kwargs: Any) -> Any:
        return shard.call.remote(method, args, kwargs)

    def _each(self, method: str, /, *args: Any, **kwargs: Any) -> list[Any]:
        """``method`` on every shard at once; their results in shard order."""
        responses = [self._call(s, method, *args, **kwargs) for s in self._all()]
        return [unwrap(r) for r in responses]

    def _user(self, owner: str, method: str, /, *args: Any, **kwargs: Any) -> Any:
        return unwrap(self._call(self._of(user_id_arg(owner)), method, *args, **kwargs))

    def warmup(self) -> None:
        """Every shard warmed up (its model and indexes loaded) and the encoder answering."""
        self._each("warmup")
        unwrap(self.encoder.encode.remote("warm up", self.model))

    # -- reads ----------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        user_id: str,
        conversation_id: str | None = None,
        memory_limit_number: int = 6,
        include_preference: bool = True,
        preference_limit_number: int = 6,
        relativity: float = 0.0,
        filter: Mapping[str, Any] | None = None,
        reference_time: int | None = None,
        ranking: str = "hybrid",
        explain: bool = False,
    ) -> SearchData:
        """``Engine.search`` on the user's shard, with the query encoded by the encoder."""
        options = dict(
            conversation_id=conversation_id, memory_limit_number=memory_limit_number,
            include_preference=include_preference, preference_limit_number=preference_limit_number,
            relativity=relativity, filter=filter, reference_time=reference_time, ranking=ranking,
            explain=explain,
        )  # fmt: skip
        # the engine's checks first, so a bad request never reaches the encoder
        search_request(now=0, query=query, user_id=user_id, **options)
        with self.lock:
            name = self.manifest.shard_of(user_id).name
            shard, model = self.shards[name], self.models.get(name, self.model)
        vector = None if ranking == "bm25" else unwrap(self.encoder.encode.remote(query, model))
        answer = unwrap(shard.search.remote(query, vector, model, {"user_id": user_id, **options}))
        if answer.model != model:
            with self.lock:
                self.models[name] = answer.model
        return answer.data

    def page(self, user_id: str, **options: Any) -> tuple[list[Item], int]:
        return self._user(user_id, "page", user_id, **options)

    def get_messages(
        self, user_id: str, conversation_id: str, *, limit: int = 6
    ) -> list[MessageDetail]:
        return self._user(user_id, "get_messages", user_id, conversation_id, limit=limit)

    def get(self, item_id: str) -> Item | None:
        """The item with this id on whichever shard holds it."""
        found = [item for item in self._each("get", item_id) if item is not None]
        return found[0] if found else None

    def owners(self, ids: Iterable[str]) -> dict[str, str]:
        """``id -> user_id`` over every shard."""
        out: dict[str, str] = {}
        for part in self._each("owners", ids_arg(list(ids))):
            out.update(part)
        return out

    # -- writes ---------------------------------------------------------------------------------

    def add(self, items: Iterable[Item], *, embeddings: np.ndarray | None = None) -> int:
        """``Engine.add``, each user's items on their shard (all shards' writes at once).

        Everything is checked before any shard writes: the items themselves, and that no id
        is held by another user on another shard (ids are global, as in one store).
        ``embeddings``: the items' vectors, as ``Engine.add`` takes them (a bulk load)."""
        items = check_items(items, int(time.time() * 1000))
        by_id = {item.id: item for item in items}
        stored = self.owners(list(by_id))
        check_owners({i: (user, kind_of(by_id[i])) for i, user in stored.items()}, items)
        with self.gate.write():
            return self._add(items, embeddings)

    def _add(self, items: list[Item], embeddings: np.ndarray | None) -> int:
        groups: dict[int, list[int]] = {}
        for at, item in enumerate(items):
            groups.setdefault(self._index(item.user_id), []).append(at)
        shards = self._all()
        responses = [
            self._call(
                shards[g],
                "add",
                [items[i] for i in part],
                embeddings=None if embeddings is None else embeddings[part],
            )
            for g, part in groups.items()
        ]
        return sum(unwrap(r) for r in responses)

    def add_messages(
        self, messages: Sequence[Message], *, user_id: str, **options: Any
    ) -> AddMessagesResult:
        with self.gate.write():
            return self._user(user_id, "add_messages", messages, user_id=user_id, **options)

    def delete(
        self,
        *,
        ids: Iterable[str] | None = None,
        user_id: str | None = None,
        filter: Mapping[str, Any] | None = None,
        check_owner: Callable[[str], None] | None = None,
    ) -> int:
        """``Engine.delete``: by user (and filter) on its shard; by filter alone on every
        shard; by ids on the shards holding them, after ``check_owner`` has passed every
        stored owner (nothing is deleted when it refuses one)."""
        with self.gate.write():
            return self._delete(ids, user_id, filter, check_owner)

    def _delete(
        self,
        ids: Iterable[str] | None,
        user_id: str | None,
        filter: Mapping[str, Any] | None,
        check_owner: Callable[[str], None] | None,
    ) -> int:
        if user_id is not None:
            return self._user(user_id, "delete", user_id=user_id, filter=filter)
        if ids is None:
            return sum(self._each("delete", filter=filter))
        wanted = ids_arg(ids)
        owners = self.owners(wanted)
        if check_owner is not None:
            for owner in set(owners.values()):
                check_owner(owner)
        by_shard: dict[int, list[str]] = {}
        for item_id, owner in owners.items():
            by_shard.setdefault(self._index(owner), []).append(item_id)
        shards = self._all()
        responses = [
            self._call(shards[g], "delete", ids=part, check_owner=check_owner)
            for g, part in by_shard.items()
        ]
        return sum(unwrap(r) for r in responses)

    def close(self) -> None:
        """Nothing to release: each shard replica owns and closes its store."""
