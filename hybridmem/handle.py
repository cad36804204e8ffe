"""An open store: its directory, SQLite records, writer lock, write lock and live generation.

One home for what the engine, its writer and a reindex share: opening (the store and its
indexes, wired by :func:`~hybridmem.generation.open_generation`), the "current generation"
that a reindex swaps (searches enter the one they start on and finish on it), and closing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec

from .config import EngineConfig
from .encoder import Encoder
from .errors import HybridMemError, StoreClosedError, StoreError
from .generation import Generation, open_generation
from .locks import FairLock, StoreLock
from .store import STORE_FILE, Store

__all__ = ["StoreHandle"]


class StoreHandle:
    """The store in ``directory``, opened for writing (locked) or ``read_only``.

    Raises:
        ModelMismatchError: the store was built with a different model.
        StoreLockedError: another engine or process has the store open for writing.
        StoreError: the directory or its store cannot be used.
    """

    def __init__(
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
        self.closed = False
        self.lock = FairLock()  # the write lock: chunks of writes, and a reindex's switch
        self._store_lock = None if read_only else StoreLock(directory)
        try:
            self.store = Store(directory, read_only=read_only)
            try:
                self.config, self._live = open_generation(
                    self.store, directory, config, encoder, read_only=read_only
                )
            except BaseException:
                self.store.close()
                raise
        except BaseException:
            self._release_lock()
            raise

    # -- the live generation --------------------------------------------------------------------

    @property
    def generation(self) -> Generation:
        """The live generation (the one a new search or write uses)."""
        return self._live

    @contextmanager
    def using(self) -> Iterator[Generation]:
        """The live generation, held for a whole search even if a reindex switches meanwhile
        (the reindex waits for its users before deleting the old files)."""
        generation = self._live
        with generation.users:
            yield generation

    def install(self, generation: Generation) -> None:
        """Make ``generation`` the live one (called with :attr:`lock` held)."""
        self.config = msgspec.structs.replace(self.config, model=generation.model)
        self._live = generation

    # -- state ----------------------------------------------------------------------------------

    def check_open(self) -> None:
        """Raises :class:`StoreClosedError` once closed."""
        if self.closed:
            raise StoreClosedError(f"the engine for {self.directory} is closed")

    def check_writable(self) -> None:
        """Raises unless open for writing."""
        self.check_open()
        if self.read_only:
            raise StoreError(f"the engine for {self.directory} is read-only")

    def close(self) -> None:
        """Persist the indexes and release the store, even when saving fails. Idempotent."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
            try:
                self._live.indexes.close()
            except HybridMemError:
                raise
            except Exception as exc:  # OSError (disk full), tantivy's ValueError
                raise StoreError(f"saving the indexes of {self.directory} failed: {exc}") from exc
            finally:
                try:
                    self.store.close()
                finally:
                    self._release_lock()

    def abandon(self) -> None:
        """Stop serving: the store moved on but this process could not follow."""
        self.closed = True
        try:
            self.store.close()
        finally:
            self._release_lock()

    def _release_lock(self) -> None:
        if self._store_lock is not None:
            self._store_lock.release()
