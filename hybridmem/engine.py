"""``Engine``: the public entry point. It checks arguments and orchestrates the parts: storage in
``store``, the indexes in ``derived``, ranking in ``retrieve``, one search in ``query``, writes
in ``writes``, reindexing in ``reindex``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import msgspec
import numpy as np

from . import validate
from .compaction import large_segments, start_compactor
from .config import EngineConfig, Ranking
from .derived import DerivedIndexes
from .encoder import Encoder, load_encoder
from .errors import (
    HybridMemError,
    InvalidRequestError,
    MissingFieldError,
    StoreClosedError,
    StoreError,
)
from .filters import compile_filter
from .generation import Generation, make_generation, open_generation
from .locks import FairLock, StoreLock
from .messages import Extractor, turn_memories
from .query import CandidateFeatures, candidate_features, run_search, search_request
from .reindex import (
    Only,
    ProgressFn,
    ReindexHost,
    ReindexReport,
    check_reindex_args,
    run_reindex,
)
from .staging import ReindexStaging
from .store import STORE_FILE, Kind, Store
from .times import now_ms
from .transfer import TransferReport, run_export, run_import
from .types import Item, Memory, Message, MessageDetail, Preference, SearchData
from .writes import AddMessagesResult, Writer

__all__ = ["AddMessagesResult", "Engine"]


class Engine:
    """A memory store in one directory: SQLite for the records, Tantivy and FAISS derived.

    Open it with :meth:`Engine.open` and close it (or use ``with``). Searches may run from many
    threads at once; writes are applied in chunks that take turns (see :mod:`hybridmem.writes`).
    One engine at a time may write a store (:class:`~hybridmem.StoreLockedError` otherwise).
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
        read_only: bool = False,
    ) -> Engine:
        """Open the store in ``path``, creating the directory and store if missing.

        Args:
            path: the store directory.
            read_only: open an existing store for reading only, beside the engine or process
                that writes it: nothing is locked or written (an index that needs catching up
                is rebuilt in memory), searches see the store as it was when opened, and writes
                raise :class:`StoreError`. A missing store is an error, not created.
            config: engine knobs (defaults are sane).
            model: embedding model name or path; overrides ``config.model``. ``None`` uses the
                model the store was built with (all-MiniLM-L6-v2 for a new store).
            encoder: an already-loaded :class:`~hybridmem.encoder.Encoder` to share between
                engines (its model must be the store's).

        Raises:
            ModelMismatchError: the store was built with a different model.
            StoreLockedError: another engine or process has the store open for writing.
            StoreError: the directory or its store cannot be used.
        """
        config = config or EngineConfig()
        if model is not None:
            config = msgspec.structs.replace(config, model=model)
        if encoder is not None and config.model is None:
            config = msgspec.structs.replace(config, model=encoder.name)
        self = object.__new__(cls)
        self._init(Path(path), config, encoder, read_only=bool(read_only))
        return self

    def _init(
        self, directory: Path, config: EngineConfig, encoder: Encoder | None, *, read_only: bool
    ) -> None:
        if read_only:
            if not (directory / STORE_FILE).is_file():
                raise StoreError(f"{directory} is not a hybridmem store (no {STORE_FILE})")
        else:
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create store directory {directory}: {exc}") from exc
        self.directory = directory
        self.read_only = read_only
        self._closed = False
        self._lock = FairLock()
        self._reindex_lock = threading.Lock()
        self._store_lock = None if read_only else StoreLock(directory)
        try:
            self._store = Store(directory, read_only=read_only)
            try:
                self._open_indexes(config, encoder)
            except BaseException:
                self._store.close()
                raise
        except BaseException:
            self._release_lock()
            raise
        self._writer = Writer(self._store, self._lock, lambda: self._gen, self._check_writable)
        self._compactor = start_compactor(
            self.config, writable=not read_only, state=self._lexical_state,
            compact=lambda stopping: self._reindex(None, 512, "lexical", False, None, stopping),
        )  # fmt: skip

    def _lexical_state(self) -> tuple[int, int, int]:
        sizes = self._gen.indexes.lexical.segment_sizes()
        large = large_segments(sizes, self.config.compact_large_docs)
        return large, sum(sizes), self._store.max_seq()

    def _open_indexes(self, config: EngineConfig, encoder: Encoder | None) -> None:
        self.config, self._gen = open_generation(
            self._store, self.directory, config, encoder, read_only=self.read_only
        )

    def _generation(self, model: str, encoder: Encoder, indexes: DerivedIndexes) -> Generation:
        return make_generation(self.config, model, encoder, indexes)

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def model(self) -> str:
        """The embedding model name or path of this store."""
        return self._gen.model

    @property
    def dim(self) -> int:
        """The dimension of the store's embeddings."""
        return self._gen.dim

    def warmup(self) -> None:
        """Load the embedding model and run the search path once, so that the first search
        is as fast as the next ones (models load on first use otherwise). Idempotent;
        ``hybridmem serve`` calls it before it reports ready.

        Raises:
            EncoderError: the model cannot be loaded.
        """
        self._check_open()
        self.encode_query("warm up")
        user = self._store.some_user()
        if user is not None:  # one real search: the indexes' readers and the relevance model
            self.search("warm up", user_id=user, memory_limit_number=1, preference_limit_number=1)

    def close(self) -> None:
        """Persist the derived indexes and release the store. Idempotent.

        Everything is released even when saving fails (e.g. a full disk): the failure is
        raised as :class:`StoreError` after the files and the writer lock are let go, and the
        next open catches the indexes up from the store."""
        self._compactor.stop()  # a compaction under way gives up (before we take the lock)
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._gen.indexes.close()
            except HybridMemError:
                raise
            except Exception as exc:  # OSError (disk full), tantivy's ValueError
                raise StoreError(f"saving the indexes of {self.directory} failed: {exc}") from exc
            finally:
                try:
                    self._store.close()
                finally:
                    self._release_lock()

    def flush(self) -> None:
        """Snapshot the dense index now (it is otherwise saved on close and every 50k changes)."""
        with self._lock:
            self._check_writable()
            self._gen.indexes.flush()

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

    def _check_writable(self) -> None:
        self._check_open()
        if self.read_only:
            raise StoreError(f"the engine for {self.directory} is read-only")

    def _release_lock(self) -> None:
        if self._store_lock is not None:
            self._store_lock.release()

    # -- writes ---------------------------------------------------------------------------------

    def add(
        self,
        items: Iterable[Item],
        *,
        embeddings: np.ndarray | None = None,
        progress: bool = False,
    ) -> int:
        """Insert or replace items by ``id``; returns how many were written.

        Items are validated first and every id's owner checked (nothing is written if one is
        invalid, or if an id belongs to another user or kind: :class:`IdConflictError`), then
        embedded (an item whose text is unchanged keeps its stored embedding) and committed in
        chunks. When this returns, every item is durable and searchable. What a failure
        part-way means is in :mod:`hybridmem.writes`: each item is stored whole or not at all,
        and a retry is idempotent.

        Args:
            items: ``Memory`` and ``Preference`` records.
            embeddings: optional precomputed ``(len(items), dim)`` vectors (normalised here),
                e.g. for bulk loads or benchmarks; skips the encoder.
            progress: show a tqdm progress bar while embedding.
        """
        return self._writer.add(items, embeddings=embeddings, now=now_ms(), progress=progress)

    def delete(
        self,
        *,
        ids: Iterable[str] | None = None,
        user_id: str | None = None,
        filter: Mapping[str, Any] | None = None,
        check_owner: Callable[[str], None] | None = None,
    ) -> int:
        """Delete items; returns how many existed.

        Exactly one of ``ids`` (those items), ``user_id`` (every item and chat message of the
        user) or ``filter`` (every item, of any user, that passes it; a non-empty MemOS filter)
        is required, except that ``filter`` with ``user_id`` deletes that user's matching items.
        ``check_owner`` (with ``ids``) is called with the user of every stored item, in the same
        transaction as the delete, and may raise to refuse it whole (an HTTP layer's access
        check: no write can move an id in between).
        """
        return self._writer.delete(ids=ids, user_id=user_id, filter=filter, check_owner=check_owner)

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
        an item whose id this user already holds is left as it is. An id that another user (or
        kind) holds is replaced by a private variant of it (:func:`~hybridmem.messages.private_id`),
        so nobody can keep a user's message from being stored by taking its id first.
        """
        return self._writer.add_messages(
            messages, user_id=user_id, conversation_id=conversation_id, tags=tags, info=info,
            extractor=extractor or turn_memories, now=now_ms(),
        )  # fmt: skip

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
        self._check_writable()
        new_model = check_reindex_args(
            model=model, batch_size=batch_size, only=only, current_model=self.model
        )
        report = self._reindex(new_model, batch_size, only, progress, on_progress, None)
        if report is None:
            raise StoreError(f"a reindex or compaction of {self.directory} is already running")
        return report

    def compact(self) -> ReindexReport:
        """Rebuild the lexical index into as few segments as ``rebuild_heap_bytes`` allows, now:
        what the background compaction does when it is due (:mod:`hybridmem.compaction`).
        Searches go on throughout; writes wait only for the final switch.

        Raises:
            StoreError: the engine is read-only, or a reindex or compaction is running.
        """
        return self.reindex(only="lexical")

    def _reindex(
        self,
        model: str | None,
        batch_size: int,
        only: Only | None,
        progress: bool,
        on_progress: ProgressFn | None,
        stopping: Callable[[], bool] | None,
    ) -> ReindexReport | None:
        """Run a reindex (``None`` when another one is running); ``stopping()`` true makes it
        give up at its next step."""
        if not self._reindex_lock.acquire(blocking=False):
            return None

        def check_open() -> None:
            self._check_open()
            if stopping is not None and stopping():
                raise StoreClosedError(f"the engine for {self.directory} is closing")

        try:
            seq = self._store.max_seq()
            host = ReindexHost(
                store=self._store, directory=self.directory, config=self.config,
                lock=self._lock, current=self._gen, make_generation=self._generation,
                install=self._install, check_open=check_open, abandon=self._abandon,
            )  # fmt: skip
            report = run_reindex(
                host, model=model, batch_size=batch_size, only=only,
                progress=progress, on_progress=on_progress or (lambda phase, done, total: None),
            )  # fmt: skip
            if only != "dense":
                self._compactor.compacted(seq)
            return report
        finally:
            self._reindex_lock.release()

    def reindex_staging(self, model: str) -> ReindexStaging:
        """The staging of a reindex to ``model``, for embeddings computed elsewhere (see
        :mod:`hybridmem.staging`); ``reindex(model=model)`` then finishes and switches.
        Loads the model (for its name and dimension)."""
        self._check_writable()
        current = self.model
        if check_reindex_args(model=model, batch_size=1, only=None, current_model=current) is None:
            raise InvalidRequestError(f"the store already holds embeddings of {model!r}")
        encoder = load_encoder(model, config=self.config)
        return ReindexStaging(self._store, target=encoder.name, dim=encoder.dim)

    def _install(self, generation: Generation) -> None:
        self.config = msgspec.structs.replace(self.config, model=generation.model)
        self._gen = generation

    def _abandon(self) -> None:
        self._closed = True
        try:
            self._store.close()
        finally:
            self._release_lock()

    # -- export / import ------------------------------------------------------------------------

    def export(
        self, out: BinaryIO, *, user_id: str | None = None, embeddings: bool = False
    ) -> TransferReport:
        """Write the store (or one user's items and messages) to ``out`` as JSON Lines
        (:mod:`hybridmem.transfer`), from one consistent state; ``embeddings`` includes the
        vectors, so an import into a store of the same model encodes nothing."""
        from . import __version__

        self._check_open()
        user = None if user_id is None else validate.user_id_arg(user_id)
        return run_export(
            self._store, out, model=self.model, dim=self.dim, version=__version__,
            user_id=user, embeddings=bool(embeddings),
        )  # fmt: skip

    def import_file(self, path: str | Path) -> TransferReport:
        """Add what an :meth:`export` wrote (upsert by id, messages appended): the file is
        checked whole before anything is written. Embeddings in the file are used when they
        come from this store's model; otherwise the items are embedded anew."""
        self._check_writable()
        return run_import(
            Path(path), model=self.model, dim=self.dim,
            add_items=lambda items, vectors: self._writer.add(items, embeddings=vectors,
                                                              now=now_ms()),
            add_messages=self._writer.restore_messages,
        )  # fmt: skip

    # -- reads ----------------------------------------------------------------------------------

    def get(self, item_id: str) -> Memory | Preference | None:
        """The stored item with this id (whatever its status), or ``None``."""
        self._check_open()
        if not isinstance(item_id, str):
            raise InvalidRequestError(f"id must be a string, got {type(item_id).__name__}")
        return self._store.get(validate.text_arg(item_id, "id"))

    def owners(self, ids: Iterable[str]) -> dict[str, str]:
        """``id -> user_id`` for those of ``ids`` that are stored."""
        self._check_open()
        return {i: user for i, (user, _) in self._store.owners(validate.ids_arg(ids)).items()}

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
            user_id: whose memories to search; nobody else's are ever returned, whatever
                writes run at the same time (every hit is re-checked against the store).
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
        request = search_request(
            query=query, user_id=user_id, conversation_id=conversation_id,
            memory_limit_number=memory_limit_number, include_preference=include_preference,
            preference_limit_number=preference_limit_number, relativity=relativity,
            filter=filter, reference_time=reference_time, ranking=ranking, explain=explain,
            now=now_ms(),
        )  # fmt: skip
        # One generation of encoder and indexes for the whole search, even if a reindex
        # switches meanwhile (it waits for us before deleting the old files).
        generation = self._gen
        with generation.users:
            return run_search(self._store, generation, request, query_embedding)

    def candidate_features(
        self,
        query: str,
        *,
        user_id: str,
        kind: Kind = "memory",
        conversation_id: str | None = None,
        reference_time: int = 0,
        k: int | None = None,
    ) -> CandidateFeatures:
        """The candidates ``hybrid`` ranks for ``query`` with the relevance model's inputs:
        what ``hybridmem calibrate`` fits the model on (``k``: per retriever, default
        ``candidate_k``)."""
        self._check_open()
        validate.user_id_arg(user_id)
        if kind not in ("memory", "preference"):
            raise InvalidRequestError(f"kind must be 'memory' or 'preference', got {kind!r}")
        generation = self._gen
        with generation.users:
            return candidate_features(
                self._store, generation, kind=kind, user_id=user_id, query=query,
                conversation_id=conversation_id, reference_time=reference_time,
                k=k or self.config.candidate_k,
            )  # fmt: skip

    def encode_query(self, text: str) -> np.ndarray:
        """The normalised query vector ``search`` would compute for ``text``."""
        self._check_open()
        if not isinstance(text, str) or not text.strip():
            raise InvalidRequestError("text must be a non-empty string")
        return self._gen.encoder.encode_query(text)

    def users(self) -> list[str]:
        """Every user with an item (of any status) or a chat message in the store, sorted."""
        self._check_open()
        return self._store.user_ids()

    def stats(self) -> dict[str, Any]:
        """Counts and index state, for ``hybridmem stats``."""
        self._check_open()
        return {
            "directory": str(self.directory),
            "model": self.model,
            "backend": self._gen.encoder.backend,
            "dim": self.dim,
            **self._store.stats(),
            **self._gen.indexes.stats(),
            "lexical_large_segments": self._lexical_state()[0],
            "compacting": self._compactor.running,
        }
