"""``Engine``: the public entry point. It checks arguments and orchestrates the parts: the open
store and its live generation in ``handle``, storage in ``store``, the indexes in ``derived``,
ranking in ``retrieve``, one search in ``query``, writes in ``writes``, reindexing in
``reindex``; the read methods are in ``reads``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from . import validate
from .compaction import Compactor, large_segments, start_compactor
from .config import EngineConfig
from .encoder import Encoder
from .errors import StoreError
from .generation import asked_config
from .handle import StoreHandle
from .messages import Extractor, turn_memories
from .reads import EngineReads
from .reindex import Only, ProgressFn, Reindexer, ReindexReport
from .staging import ReindexStaging
from .times import now_ms
from .transfer import TransferReport, run_export, run_import
from .types import Item, Message
from .writes import AddMessagesResult, Writer

__all__ = ["AddMessagesResult", "Engine"]


class Engine(EngineReads):
    """A memory store in one directory: SQLite for the records, Tantivy and FAISS derived.

    Open it with :meth:`Engine.open` and close it (or use ``with``). Searches may run from many
    threads at once; writes are applied in chunks that take turns (see :mod:`hybridmem.writes`).
    One engine at a time may write a store (:class:`~hybridmem.StoreLockedError` otherwise).
    """

    directory: Path  #: the store directory
    read_only: bool  #: opened for reading only
    _h: StoreHandle
    _writer: Writer
    _reindexer: Reindexer
    _compactor: Compactor

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
        self = object.__new__(cls)
        self._h = handle = StoreHandle(
            Path(path), asked_config(config, model, encoder), encoder, read_only=bool(read_only)
        )
        self.directory, self.read_only = handle.directory, handle.read_only
        self._writer = Writer(
            handle.store, handle.lock, lambda: handle.generation, handle.check_writable
        )
        self._reindexer = Reindexer(handle, rebuilt=lambda seq: self._compactor.compacted(seq))
        self._compactor = start_compactor(
            handle.config, writable=not handle.read_only, state=self._lexical_state,
            compact=lambda stopping: self._reindexer.run(None, 512, "lexical", False, None,
                                                         stopping),
        )  # fmt: skip
        return self

    def _lexical_state(self) -> tuple[int, int, int]:
        sizes = self._h.generation.indexes.lexical.segment_sizes()
        large = large_segments(sizes, self.config.compact_large_docs)
        return large, sum(sizes), self._h.store.max_seq()

    @property
    def config(self) -> EngineConfig:
        """The engine's knobs (``model`` names the store's model)."""
        return self._h.config

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def model(self) -> str:
        """The embedding model name or path of this store."""
        return self._h.generation.model

    @property
    def dim(self) -> int:
        """The dimension of the store's embeddings."""
        return self._h.generation.dim

    def warmup(self) -> None:
        """Load the embedding model and run the search path once, so that the first search
        is as fast as the next ones (models load on first use otherwise). Idempotent;
        ``hybridmem serve`` calls it before it reports ready.

        Raises:
            EncoderError: the model cannot be loaded.
        """
        self._h.check_open()
        self.encode_query("warm up")
        user = self._h.store.some_user()
        if user is not None:  # one real search: the indexes' readers and the relevance model
            self.search("warm up", user_id=user, memory_limit_number=1, preference_limit_number=1)

    def close(self) -> None:
        """Persist the derived indexes and release the store. Idempotent.

        Everything is released even when saving fails (e.g. a full disk): the failure is
        raised as :class:`StoreError` after the files and the writer lock are let go, and the
        next open catches the indexes up from the store."""
        self._compactor.stop()  # a compaction under way gives up (before we take the lock)
        self._h.close()

    def flush(self) -> None:
        """Snapshot the dense index now (it is otherwise saved on close and every 50k changes)."""
        with self._h.lock:
            self._h.check_writable()
            self._h.generation.indexes.flush()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        self._h.check_writable()
        new_model = validate.check_reindex(
            model=model, batch_size=batch_size, only=only, current_model=self.model
        )
        report = self._reindexer.run(new_model, batch_size, only, progress, on_progress, None)
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

    def reindex_staging(self, model: str) -> ReindexStaging:
        """The staging of a reindex to ``model``, for embeddings computed elsewhere (see
        :mod:`hybridmem.staging`); ``reindex(model=model)`` then finishes and switches.
        Loads the model (for its name and dimension)."""
        self._h.check_writable()
        return self._reindexer.staging(model)

    # -- export / import ------------------------------------------------------------------------

    def export(
        self, out: BinaryIO, *, user_id: str | None = None, embeddings: bool = False
    ) -> TransferReport:
        """Write the store (or one user's items and messages) to ``out`` as JSON Lines
        (:mod:`hybridmem.transfer`), from one consistent state; ``embeddings`` includes the
        vectors, so an import into a store of the same model encodes nothing."""
        from . import __version__

        self._h.check_open()
        user = None if user_id is None else validate.user_id_arg(user_id)
        return run_export(
            self._h.store, out, model=self.model, dim=self.dim, version=__version__,
            user_id=user, embeddings=bool(embeddings),
        )  # fmt: skip

    def import_file(self, path: str | Path) -> TransferReport:
        """Add what an :meth:`export` wrote (upsert by id, messages appended): the file is
        checked whole before anything is written. Embeddings in the file are used when they
        come from this store's model; otherwise the items are embedded anew."""
        self._h.check_writable()
        return run_import(
            Path(path), model=self.model, dim=self.dim,
            add_items=lambda items, vectors: self._writer.add(items, embeddings=vectors,
                                                              now=now_ms()),
            add_messages=self._writer.restore_messages,
        )  # fmt: skip

    def stats(self) -> dict[str, Any]:
        """Counts and index state, for ``hybridmem stats``."""
        self._h.check_open()
        return {
            "directory": str(self.directory),
            "model": self.model,
            "backend": self._h.generation.encoder.backend,
            "dim": self.dim,
            **self._h.store.stats(),
            **self._h.generation.indexes.stats(),
            "lexical_large_segments": self._lexical_state()[0],
            "compacting": self._compactor.running,
        }
