"""``Engine``: the public entry point. It checks arguments and orchestrates the parts; the
maths lives in ``fusion``/``retrieve``, storage in ``store``, the indexes in ``lexical``,
``dense`` and ``derived``.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import msgspec
import numpy as np

from . import validate
from .calibrate import load_params
from .config import DEFAULT_MODEL, EngineConfig, Ranking
from .derived import (
    DENSE_DIR,
    FORMAT_VERSION,
    LEXICAL_DIR,
    DerivedIndexes,
    IndexSeq,
    Manifest,
    build_dense,
    build_lexical,
    index_path,
    replay,
    save_dense,
    stale_generations,
    write_manifest,
)
from .encoder import Encoder
from .errors import (
    HybridMemError,
    InvalidRequestError,
    MissingFieldError,
    ModelMismatchError,
    StoreClosedError,
    StoreError,
)
from .filters import compile_filter
from .messages import Extractor, MessageBatch, message_time, turn_memories
from .reindex import Only, ProgressFn, ReindexReport, encode_pending
from .retrieve import Retriever
from .store import Kind, Store, embedding_text
from .types import (
    Item,
    Memory,
    MemoryDetail,
    Message,
    MessageDetail,
    Preference,
    PreferenceDetail,
    SearchData,
)

__all__ = ["AddMessagesResult", "Engine"]

_WRITE_CHUNK = 1024


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class _Serving:
    """What searches use: encoder, retriever and dimension, swapped as one by a reindex.

    Counts the searches using it, so a reindex can wait for them before deleting the files of
    the generation they read.
    """

    def __init__(self, encoder: Encoder, retriever: Retriever, dim: int) -> None:
        self.encoder, self.retriever, self.dim = encoder, retriever, dim
        self._users = 0
        self._lock = threading.Lock()

    def __enter__(self) -> _Serving:
        with self._lock:
            self._users += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._users -= 1

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if self._users == 0:
                    return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)


class AddMessagesResult(msgspec.Struct, frozen=True, kw_only=True):
    """What :meth:`Engine.add_messages` stored.

    Attributes:
        memory_ids: ids of the items the extractor made (new or already stored).
        new_items: how many of them were not stored before (a replayed batch adds none).
        new_messages: how many messages were not stored before.
    """

    memory_ids: list[str]
    new_items: int
    new_messages: int


class Engine:
    """A memory store in one directory: SQLite for the records, Tantivy and FAISS derived.

    Open it with :meth:`Engine.open` and close it (or use ``with``). Searches may run from many
    threads at once; writes are serialised.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("use Engine.open(path) to open or create a store")

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        config: EngineConfig | None = None,
        model: str | None = None,
        encoder: Encoder | None = None,
    ) -> Engine:
        """Open the store in ``path``, creating the directory and store if missing.

        Args:
            path: the store directory.
            config: engine knobs (defaults are sane).
            model: embedding model name or path; overrides ``config.model``. ``None`` uses the
                model the store was built with (all-MiniLM-L6-v2 for a new store).
            encoder: an already-loaded :class:`~hybridmem.encoder.Encoder` to share between
                engines (its model must be the store's).

        Raises:
            ModelMismatchError: the store was built with a different model.
            StoreError: the directory cannot be used.
        """
        config = config or EngineConfig()
        if model is not None:
            config = msgspec.structs.replace(config, model=model)
        if encoder is not None and config.model is None:
            config = msgspec.structs.replace(config, model=encoder.name)
        self = object.__new__(cls)
        self._init(Path(path), config, encoder)
        return self

    def _init(self, directory: Path, config: EngineConfig, encoder: Encoder | None) -> None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create store directory {directory}: {exc}") from exc
        self.directory = directory
        self._write_lock = threading.RLock()
        self._closed = False
        self._store = Store(directory)
        try:
            stored_model = self._store.meta_get("model")
            if stored_model and config.model and config.model != stored_model:
                raise ModelMismatchError(
                    f"{directory} was built with embedding model {stored_model!r}, not "
                    f"{config.model!r}. Open it without a model (or with that one), or rebuild "
                    "its embeddings for the new model with a reindex."
                )
            name = config.model or stored_model or DEFAULT_MODEL
            self.config = msgspec.structs.replace(config, model=name)
            if encoder is not None and encoder.name != name:
                raise ModelMismatchError(
                    f"the encoder given runs {encoder.name!r}; this store uses {name!r}"
                )
            self._encoder = encoder or Encoder(
                name,
                device=config.device,
                batch_size=config.encode_batch_size,
                query_threads=config.query_threads,
            )
            stored_dim = self._store.meta_get("dim")
            dim = int(stored_dim) if stored_dim else self._encoder.dim
            if not stored_model:
                self._store.meta_set("model", name)
                self._store.meta_set("dim", str(dim))
            self.dim = dim
            self._relevance = load_params(config.params_path)
            self._indexes = DerivedIndexes(
                directory,
                self._store,
                model=name,
                dim=dim,
                heap_bytes=config.writer_heap_bytes,
            )
        except BaseException:
            self._store.close()
            raise
        self._retriever = Retriever(
            self._indexes.lexical, self._indexes.dense, self.config, self._relevance
        )
        self._serving = _Serving(self._encoder, self._retriever, self.dim)
        self._reindex_lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def model(self) -> str:
        """The embedding model name or path of this store."""
        return self.config.model or DEFAULT_MODEL

    def close(self) -> None:
        """Persist the derived indexes and release the store. Idempotent."""
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._indexes.close()
            finally:
                self._store.close()

    def flush(self) -> None:
        """Snapshot the dense index now (it is otherwise saved on close and every 50k changes)."""
        with self._write_lock:
            self._check_open()
            self._indexes.flush()

    def __enter__(self) -> Engine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError(f"the engine for {self.directory} is closed")

    # -- writes ---------------------------------------------------------------------------------

    def add(
        self,
        items: Iterable[Item],
        *,
        embeddings: np.ndarray | None = None,
        progress: bool = False,
    ) -> int:
        """Insert or replace items by ``id``; returns how many were written.

        Items are validated first (nothing is written if one is invalid), then embedded (an item
        whose text is unchanged keeps its stored embedding), then committed in batches. When
        this returns, every item is durable and searchable.

        Args:
            items: ``Memory`` and ``Preference`` records.
            embeddings: optional precomputed ``(len(items), dim)`` vectors (normalised here),
                e.g. for bulk loads or benchmarks; skips the encoder.
            progress: show a tqdm progress bar while embedding.
        """
        with self._write_lock:
            self._check_open()
            checked = validate.check_items(items, _now_ms())
            if not checked:
                return 0
            self._indexes.lexical.ensure_writable()
            if embeddings is not None:
                vectors = validate.check_embeddings(embeddings, len(checked), self.dim)
            else:
                vectors = self._embed(checked, progress=progress)
            for start in range(0, len(checked), _WRITE_CHUNK):
                end = start + _WRITE_CHUNK
                self._store.upsert(checked[start:end], vectors[start:end])
                self._indexes.sync()
            return len(checked)

    def _embed(self, items: list[Item], *, progress: bool) -> np.ndarray:
        known = self._store.known_embeddings(items)
        vectors = np.empty((len(items), self.dim), dtype=np.float32)
        todo = []
        for i, item in enumerate(items):
            blob = known.get(item.id)
            if blob is not None:
                vectors[i] = np.frombuffer(blob, dtype="<f4")
            else:
                todo.append(i)
        if todo:
            bar = None
            if progress:
                from tqdm import tqdm

                bar = tqdm(total=len(todo), unit="item", desc="embedding")
            try:
                fresh = self._encoder.encode_docs(
                    [embedding_text(items[i]) for i in todo],
                    on_batch=bar.update if bar is not None else None,
                )
            finally:
                if bar is not None:
                    bar.close()
            if fresh.shape[1] != self.dim:
                raise ModelMismatchError(
                    f"model {self.model!r} returned {fresh.shape[1]}-d vectors; "
                    f"the store holds {self.dim}-d"
                )
            vectors[todo] = fresh
        return vectors

    def delete(
        self,
        *,
        ids: Iterable[str] | None = None,
        user_id: str | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> int:
        """Delete items; returns how many existed.

        Exactly one of ``ids`` (those items), ``user_id`` (every item and chat message of the
        user) or ``filter`` (every item, of any user, that passes it; a non-empty MemOS filter)
        is required, except that ``filter`` with ``user_id`` deletes that user's matching items.
        """
        if filter is not None and user_id is not None and ids is None:
            return self._delete_matching(filter, user_id)
        if sum(x is not None for x in (ids, user_id, filter)) != 1:
            raise InvalidRequestError(
                "delete() takes exactly one of ids=, user_id= or filter= (or filter= with user_id=)"
            )
        if filter is not None:
            return self._delete_matching(filter, None)
        with self._write_lock:
            self._check_open()
            self._indexes.lexical.ensure_writable()
            if user_id is not None:
                n = self._store.delete_user(validate.user_id_arg(user_id))
            else:
                n = self._store.delete_ids(validate.ids_arg(ids))
            self._indexes.sync()
            return n

    def _delete_matching(self, filter: Mapping[str, Any], user_id: str | None) -> int:
        if user_id is not None:
            validate.user_id_arg(user_id)
        compiled = compile_filter(filter)
        if compiled is None:
            raise MissingFieldError("a delete filter must not be empty")
        with self._write_lock:
            self._check_open()
            self._indexes.lexical.ensure_writable()
            n = self._store.delete_ids(self._store.matching(compiled, user_id))
            self._indexes.sync()
            return n

    def add_messages(
        self,
        messages: Iterable[Message],
        *,
        user_id: str,
        conversation_id: str | None = None,
        tags: Iterable[str] = (),
        info: Mapping[str, Any] | None = None,
        extractor: Extractor | None = None,
    ) -> AddMessagesResult:
        """Store chat messages and the memories made from them (MemOS ``/add/message``).

        The messages are kept for :meth:`get_messages`; ``extractor`` (default
        :func:`~hybridmem.messages.turn_memories`: one ``WorkingMemory`` per user message)
        turns them into items, which are added like :meth:`add`. Replaying the same batch stores
        nothing new: messages are deduplicated by role, time and content per conversation, and
        an item whose id is already stored is left as it is.
        """
        user_id = validate.user_id_arg(user_id)
        conversation_id = validate.conversation_id_arg(conversation_id)
        batch_messages = validate.messages_arg(messages)
        tag_list = validate.tags_arg(tags)
        now = _now_ms()
        batch = MessageBatch(
            user_id=user_id,
            conversation_id=conversation_id,
            messages=batch_messages,
            times=[message_time(m.chat_time, now) for m in batch_messages],
            tags=tag_list,
            info=dict(info or {}),
        )
        items = _run_extractor(extractor or turn_memories, batch)
        with self._write_lock:
            self._check_open()
            stored = self._store.owners([item.id for item in items])
            new = [item for item in items if item.id not in stored]
            self.add(new)
            details = [
                MessageDetail(
                    role=m.role,
                    content=m.content,
                    conversation_id=conversation_id or "",
                    chat_time=m.chat_time,
                    create_time=t,
                    update_time=t,
                )
                for m, t in zip(batch_messages, batch.times, strict=True)
            ]
            n_messages = self._store.add_messages(user_id, conversation_id or "", details)
        return AddMessagesResult(
            memory_ids=[item.id for item in items], new_items=len(new), new_messages=n_messages
        )

    # -- reindex --------------------------------------------------------------------------------

    def reindex(
        self,
        *,
        model: str | None = None,
        batch_size: int = 512,
        only: Only | None = None,
        progress: bool = False,
        on_progress: ProgressFn | None = None,
    ) -> ReindexReport:
        """Rebuild the derived indexes (and the embeddings, for a new ``model``) with no downtime.

        The next generation is built beside the live one while searches and writes go on; writes
        are blocked only for the final switch. See :mod:`hybridmem.reindex`.

        Args:
            model: embedding model to move the store to (name or local path); ``None`` keeps
                the store's model and its stored embeddings.
            batch_size: items embedded and committed per batch: a killed reindex resumes from
                its last committed batch.
            only: ``"lexical"`` or ``"dense"`` to rebuild one index (a new model always
                rebuilds the dense one, and cannot go with ``"lexical"``).
            progress: tqdm progress bars on a terminal.
            on_progress: ``(phase, done, total)`` after each step ("encode", "build", "switch").

        Raises:
            InvalidRequestError: bad arguments. StoreError: another reindex is running.
            EncoderError: the new model cannot be loaded (nothing has changed then).
        """
        self._check_open()
        if only not in (None, "lexical", "dense"):
            raise InvalidRequestError(f"only must be 'lexical' or 'dense', got {only!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidRequestError(f"batch_size must be a positive integer, got {batch_size!r}")
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise InvalidRequestError("model must be a non-empty name or path")
        new_model = model is not None and model != self.model
        if new_model and only == "lexical":
            raise InvalidRequestError(
                "a new model needs new embeddings and a new dense index: drop --only lexical"
            )
        if not self._reindex_lock.acquire(blocking=False):
            raise StoreError(f"a reindex of {self.directory} is already running")
        try:
            return self._reindex(model if new_model else None, batch_size, only, progress,
                                 on_progress or (lambda phase, done, total: None))  # fmt: skip
        finally:
            self._reindex_lock.release()

    def _reindex(
        self,
        model: str | None,
        batch_size: int,
        only: Only | None,
        progress: bool,
        on_progress: ProgressFn,
    ) -> ReindexReport:
        started = time.perf_counter()
        store, old = self._store, self._indexes
        # The live index's writer lock: refuses (StoreError) when another process writes here.
        old.lexical.ensure_writable()
        encoder, dim, target = self._encoder, self.dim, self.model
        if model is not None:
            encoder = Encoder(
                model,
                device=self.config.device,
                batch_size=self.config.encode_batch_size,
                query_threads=self.config.query_threads,
            )
            dim, target = encoder.dim, model  # loads it: fails here if it cannot
        do_lexical, do_dense = only != "dense", only != "lexical"
        generation = max(old.lexical_generation, old.dense_generation) + 1
        live = {LEXICAL_DIR: old.lexical_generation, DENSE_DIR: old.dense_generation}
        for path in stale_generations(self.directory, live):  # an interrupted reindex's
            shutil.rmtree(path, ignore_errors=True)
        lexical_path = index_path(self.directory, LEXICAL_DIR, generation)
        dense_path = index_path(self.directory, DENSE_DIR, generation)

        resumed = encoded = goal = 0
        encode_seconds = 0.0

        def encode(bar: Any = None) -> None:
            nonlocal encoded, encode_seconds
            done = encoded

            def step(n: int) -> None:
                nonlocal done
                done += n
                if bar is not None:
                    bar.update(n)
                on_progress("encode", done, goal)

            n, secs = encode_pending(store, encoder, batch_size=batch_size, on_batch=step)
            encoded += n
            encode_seconds += secs

        if model is not None:
            if store.meta_get("reindex") != model:  # another target before: start over
                store.clear_reindex()
                store.meta_set("reindex", model)
            total, resumed = store.reindex_counts()
            goal = total - resumed  # for progress only: later passes are not recounted
            bar = _bar(progress, goal, "embedding")
            try:
                encode(bar)
            finally:
                if bar is not None:
                    bar.close()

        new_lexical = None
        switched = False
        with self._write_lock:
            since = store.max_seq()  # the build reflects at least this; later changes replay
            old.retain_from = since
        try:
            if model is not None:
                encode()  # items written while the first pass ran
            on_progress("build", 0, 1)
            if do_lexical:
                new_lexical = build_lexical(
                    store, lexical_path, heap_bytes=self.config.writer_heap_bytes
                )
            new_dense = build_dense(store, dim, reindexed=model is not None) if do_dense else None
            on_progress("switch", 0, 1)
            with self._write_lock:
                self._check_open()
                if model is not None:
                    encode()  # items written while the indexes were built
                replay(store, since, new_lexical, new_dense, reindexed=model is not None)
                seq = store.max_seq()
                if new_dense is not None:
                    save_dense(new_dense, dense_path, seq)
                if new_lexical is not None:
                    new_lexical.close()
                if model is not None:
                    store.switch_embeddings(model, dim)
                switched = True
                write_manifest(
                    self.directory,
                    Manifest(
                        format_version=FORMAT_VERSION,
                        model=target,
                        dim=dim,
                        store_seq=seq,
                        lexical=IndexSeq(
                            seq=seq,
                            generation=generation if do_lexical else old.lexical_generation,
                        ),
                        dense=IndexSeq(
                            seq=seq if do_dense else old.dense_saved_seq,
                            generation=generation if do_dense else old.dense_generation,
                        ),
                    ),
                )
                old.release()
                fresh = DerivedIndexes(
                    self.directory, store, model=target, dim=dim,
                    heap_bytes=self.config.writer_heap_bytes,
                )  # fmt: skip
                self.config = msgspec.structs.replace(self.config, model=target)
                self._encoder, self.dim, self._indexes = encoder, dim, fresh
                self._retriever = Retriever(
                    fresh.lexical, fresh.dense, self.config, self._relevance
                )
                previous, self._serving = self._serving, _Serving(encoder, self._retriever, dim)
                on_progress("switch", 1, 1)
        except BaseException:
            old.retain_from = None
            if new_lexical is not None:
                new_lexical.close()
            if switched:
                # The store moved on but the engine could not follow: stop serving; reopening
                # rebuilds whatever the manifest does not match.
                self._closed = True
                self._store.close()
                raise
            for path in (lexical_path, dense_path):
                shutil.rmtree(path, ignore_errors=True)
            raise
        # Searches that started on the old generation finish before its files go.
        previous.wait_idle(timeout=30.0)
        if do_lexical:
            shutil.rmtree(index_path(self.directory, LEXICAL_DIR, old.lexical_generation),
                          ignore_errors=True)  # fmt: skip
        if do_dense:
            shutil.rmtree(index_path(self.directory, DENSE_DIR, old.dense_generation),
                          ignore_errors=True)  # fmt: skip
        seconds = time.perf_counter() - started
        items = store.reindex_counts()[0]
        return ReindexReport(
            model=target,
            dim=dim,
            items=items,
            encoded=encoded,
            resumed=resumed,
            lexical_generation=fresh.lexical_generation,
            dense_generation=fresh.dense_generation,
            seconds=seconds,
            encode_seconds=encode_seconds,
            items_per_second=(encoded if model is not None else items) / max(seconds, 1e-9),
        )

    # -- reads ----------------------------------------------------------------------------------

    def get(self, item_id: str) -> Memory | Preference | None:
        """The stored item with this id (whatever its status), or ``None``."""
        self._check_open()
        if not isinstance(item_id, str):
            raise InvalidRequestError(f"id must be a string, got {type(item_id).__name__}")
        return self._store.get(item_id)

    def owners(self, ids: Iterable[str]) -> dict[str, str]:
        """``id -> user_id`` for those of ``ids`` that are stored."""
        self._check_open()
        return self._store.owners(validate.ids_arg(ids))

    def page(
        self,
        user_id: str,
        *,
        kind: Kind = "memory",
        offset: int = 0,
        limit: int = 10,
        filter: Mapping[str, Any] | None = None,
    ) -> tuple[list[Item], int]:
        """A page of the user's activated items of ``kind``, newest first, and how many match.

        Args:
            user_id: whose items.
            kind: ``"memory"`` or ``"preference"``.
            offset: items to skip.
            limit: at most this many (0..1000).
            filter: MemOS filter, as in :meth:`search`.
        """
        self._check_open()
        user_id = validate.user_id_arg(user_id)
        if kind not in ("memory", "preference"):
            raise InvalidRequestError(f"kind must be 'memory' or 'preference', got {kind!r}")
        limit = validate.limit_arg(limit, "limit")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidRequestError(f"offset must be an integer >= 0, got {offset!r:.40}")
        return self._store.page(user_id, kind, compile_filter(filter), offset, limit)

    def get_messages(
        self, user_id: str, conversation_id: str, *, limit: int = 6
    ) -> list[MessageDetail]:
        """The last ``limit`` chat messages of a conversation (oldest first)."""
        self._check_open()
        user_id = validate.user_id_arg(user_id)
        conversation = validate.conversation_id_arg(conversation_id)
        if not conversation:
            raise MissingFieldError("conversation_id is required")
        return self._store.messages(user_id, conversation, validate.limit_arg(limit, "limit"))

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
        ranking: Ranking = "hybrid",
        query_embedding: np.ndarray | None = None,
        explain: bool = False,
    ) -> SearchData:
        """The user's memories and preferences most relevant to ``query`` (MemOS shape).

        Args:
            query: the user's message.
            user_id: whose memories to search; nobody else's are ever returned.
            conversation_id: the caller's current conversation (ranking hint, never a filter).
            memory_limit_number: at most this many fact memories (0..1000, default 6).
            include_preference: also search preference memories.
            preference_limit_number: at most this many preferences (0..1000, default 6).
            relativity: drop hits whose relativity is below this threshold (0..1).
            filter: MemOS filter (see ``hybridmem.filters``); ``{}`` or ``None`` = none.
            reference_time: "now" in epoch ms for recency (default: the current time).
            ranking: ``hybrid`` (default), ``bm25``, ``dense`` or ``rrf``.
            query_embedding: the query's vector when the caller already has it.
            explain: add each hit's score parts (``hybrid``: bm25, cosine, base probability,
                conversation and recency shifts in log-odds, final) as ``explain``.
        """
        self._check_open()
        validate.check_search(
            query=query,
            user_id=user_id,
            conversation_id=conversation_id,
            memory_limit_number=memory_limit_number,
            include_preference=include_preference,
            preference_limit_number=preference_limit_number,
            relativity=relativity,
            filter=filter,
            reference_time=reference_time,
            ranking=ranking,
            explain=explain,
        )
        compiled = compile_filter(filter)
        now = _now_ms() if reference_time is None else reference_time
        plan: list[tuple[Kind, int]] = [("memory", memory_limit_number)]
        if include_preference:
            plan.append(("preference", preference_limit_number))
        found: dict[Kind, list[tuple[int, float, dict[str, float] | None]]] = {
            "memory": [],
            "preference": [],
        }
        # One generation of encoder and indexes for the whole search, even if a reindex
        # switches meanwhile (it waits for us before deleting the old files).
        with self._serving as serving:
            if query_embedding is not None:
                qvec = validate.check_embeddings(
                    np.reshape(query_embedding, (1, -1)), 1, serving.dim
                )[0]
            elif ranking != "bm25":
                qvec = serving.encoder.encode_query(query)
            else:
                qvec = None
            for kind, limit in plan:
                if limit == 0:
                    continue
                allowed = (
                    None if compiled is None else self._store.filter_docs(user_id, kind, compiled)
                )
                ranked = serving.retriever.search(
                    kind, user_id, query, qvec, ranking=ranking, limit=limit, allowed=allowed,
                    conversation_id=conversation_id, reference_time=now, explain=explain,
                )  # fmt: skip
                for i, (doc, rel) in enumerate(
                    zip(ranked.docs.tolist(), ranked.relativity.tolist(), strict=True)
                ):
                    if rel < relativity:
                        continue
                    parts = None
                    if explain:
                        parts = (
                            {k: float(v[i]) for k, v in ranked.explain.items()}
                            if ranked.explain is not None
                            else {ranking: rel}
                        )
                    found[kind].append((doc, rel, parts))
        records = self._store.items([d for hits in found.values() for d, _, _ in hits])
        memories = [
            MemoryDetail.of(records[d], _unit(r), p) for d, r, p in found["memory"] if d in records
        ]
        preferences = [
            PreferenceDetail.of(records[d], _unit(r), p)
            for d, r, p in found["preference"]
            if d in records
        ]
        return SearchData.of(memories, preferences)

    def encode_query(self, text: str) -> np.ndarray:
        """The normalised query vector ``search`` would compute for ``text``."""
        self._check_open()
        if not isinstance(text, str) or not text.strip():
            raise InvalidRequestError("text must be a non-empty string")
        return self._serving.encoder.encode_query(text)

    def stats(self) -> dict[str, Any]:
        """Counts and index state, for ``hybridmem stats``."""
        self._check_open()
        return {
            "directory": str(self.directory),
            "model": self.model,
            "dim": self.dim,
            **self._store.stats(),
            **self._indexes.stats(),
        }


def _bar(enabled: bool, total: int, desc: str) -> Any:
    """A tqdm bar on a terminal (items/s and ETA), or ``None``."""
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="item", desc=desc, disable=None, smoothing=0.1)


def _run_extractor(extractor: Extractor, batch: MessageBatch) -> list[Item]:
    """Run a (possibly user-supplied) extractor and check what it returns."""
    try:
        items = list(extractor(batch))
    except HybridMemError:
        raise
    except Exception as exc:
        raise HybridMemError(f"the message extractor failed: {exc!r}") from exc
    for item in items:
        if not isinstance(item, Memory | Preference):
            raise HybridMemError(
                f"the message extractor returned {type(item).__name__}, not Memory/Preference"
            )
        if item.user_id != batch.user_id:
            raise HybridMemError(
                f"the message extractor returned an item of user {item.user_id!r} "
                f"for a batch of {batch.user_id!r}"
            )
    return items


def _unit(x: float) -> float:
    """Round-off safe [0, 1] float for the wire."""
    return float(min(1.0, max(0.0, x)))
