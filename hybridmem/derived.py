"""The derived indexes of a store directory, opened as its manifest (:mod:`hybridmem.manifest`)
says: which generation of each is live and what store change it reflects.

On open, an index that lags the store replays the change log; one that is missing, unreadable,
fails its checksums, or whose document count disagrees with the store after catching up is
rebuilt from the store (its stored embeddings: nothing is re-encoded) with an
:class:`IndexRebuiltWarning`. Checked at open: every file of the live Tantivy segments against the
crc32 in its footer (:func:`~hybridmem.tantivy_files.damaged_files`) and the dense snapshot's
``blocks.json`` and small arrays; a dense block's vectors are checked the first time the block is
read, and one that fails is rebuilt from the store's embeddings of that owner, with the warning,
and saved in the next snapshot.
"""

from __future__ import annotations

import logging
import shutil
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec

from .dense import DenseIndex
from .errors import DenseIndexError, HybridMemError, StoreError
from .lexical import LexicalIndex
from .manifest import (
    DENSE_DIR,
    FORMAT_VERSION,
    LEXICAL_DIR,
    MANIFEST,
    IndexSeq,
    Manifest,
    index_path,
    read_manifest,
    stale_generations,
    write_manifest,
)
from .store import Store, StoredRow
from .tantivy_files import damaged_files

__all__ = [
    "DENSE_DIR",
    "FORMAT_VERSION",
    "LEXICAL_DIR",
    "DerivedIndexes",
    "IndexRebuiltWarning",
    "IndexSeq",
    "Manifest",
    "build_dense",
    "build_lexical",
    "index_path",
    "read_manifest",
    "replay",
    "save_dense",
    "stale_generations",
    "write_manifest",
]

log = logging.getLogger("hybridmem")

_REPLAY_BATCH = 4096
# Snapshot the dense index once the changes newer than its last snapshot reach this many, or
# the index's own size if larger: recovery after a crash replays a bounded log, and a bulk load
# rewrites the snapshot O(log n) times, not once per 50k items.
_DENSE_SNAPSHOT_LAG = 50_000


class IndexRebuiltWarning(UserWarning):
    """A derived index was missing or damaged and has been rebuilt from the store."""


class DerivedIndexes:
    """Opens, catches up, rebuilds and saves the lexical and dense indexes of one store."""

    def __init__(
        self,
        directory: Path,
        store: Store,
        *,
        model: str,
        dim: int,
        heap_bytes: int,
        writable: bool = True,
    ) -> None:
        """Open the indexes of ``store``; ``writable=False`` (a read-only engine) writes no file:
        an index that must be rebuilt or caught up is built in memory instead."""
        self.directory = directory
        self.writable = writable
        self._store = store
        self._model = model
        self._dim = dim
        self._heap = heap_bytes
        self._lock = threading.RLock()
        # A running reindex replays the change log from here: it must not be pruned past it.
        self.retain_from: int | None = None
        manifest = read_manifest(directory)
        if manifest is None and (directory / MANIFEST).exists():
            self._warn("manifest.json is unreadable; rebuilding every index")
        elif manifest is not None and (
            manifest.format_version != FORMAT_VERSION
            or manifest.model != model
            or manifest.dim != dim
        ):
            self._warn("manifest describes another format or model; rebuilding every index")
            manifest = msgspec.structs.replace(
                manifest,
                lexical=IndexSeq(generation=manifest.lexical.generation),
                dense=IndexSeq(generation=manifest.dense.generation),
            )
        self.lexical_generation = manifest.lexical.generation if manifest else 0
        self.dense_generation = manifest.dense.generation if manifest else 0
        self.lexical, lex_seq = self._open_lexical(manifest)
        try:
            self.dense, self._dense_saved = self._open_dense(manifest)
            if not writable and lex_seq < store.max_seq():  # cannot catch up on disk: in memory
                self.lexical, lex_seq = self._rebuild_lexical()
            self._replay(lex_seq, lexical=True, dense=False)
            self._replay(self._dense_saved, lexical=False, dense=True)
            self.applied = store.max_seq()
            self._verify()
            self._write_manifest()
        except BaseException:
            self.lexical.close()  # no half-open engine keeps the index's writer lock
            raise

    # -- open -----------------------------------------------------------------------------------

    def _warn(self, message: str) -> None:
        log.info("%s: %s", self.directory, message)  # the warning below is what users see
        warnings.warn(f"{self.directory}: {message}", IndexRebuiltWarning, stacklevel=4)

    def _catchable(self, seq: int) -> bool:
        """Whether replaying the change log from ``seq`` reaches the store's state: the log
        still holds every later change, and the index is not ahead of the store (as it would be
        after ``store.sqlite`` was restored from an older backup)."""
        return self._store.min_change_seq() - 1 <= seq <= self._store.max_seq()

    def _open_lexical(self, manifest: Manifest | None) -> tuple[LexicalIndex, int]:
        path = index_path(self.directory, LEXICAL_DIR, self.lexical_generation)
        seq = manifest.lexical.seq if manifest else -1
        if self._catchable(seq) and path.is_dir():
            damage = damaged_files(path)
            try:
                if damage:
                    more = f" and {len(damage) - 1} more" if len(damage) > 1 else ""
                    raise StoreError(f"{damage[0]}{more}")
                index = LexicalIndex(path, heap_bytes=self._heap, create=False)
                index.num_docs()  # opens every segment now rather than at the first search
                return index, seq
            except Exception as exc:  # tantivy raises ValueError/OSError on damaged files
                self._warn(f"lexical index is damaged ({exc}); rebuilding it from the store")
        elif self._store_has_items() or (path.is_dir() and any(path.iterdir())):
            self._warn("lexical index is missing or too old; rebuilding it from the store")
        return self._rebuild_lexical()

    def _open_dense(self, manifest: Manifest | None) -> tuple[DenseIndex, int]:
        path = index_path(self.directory, DENSE_DIR, self.dense_generation)
        seq = manifest.dense.seq if manifest else -1
        if self._catchable(seq) and path.is_dir():
            try:
                index, saved = DenseIndex.load(path, self._dim, repair=self._repair_dense)
                if saved == seq:
                    return index, seq
                self._warn("dense snapshot does not match the manifest; rebuilding it")
            except DenseIndexError as exc:
                self._warn(f"dense index is damaged ({exc}); rebuilding it from the store")
        elif self._store_has_items() or path.exists():
            self._warn("dense index is missing or too old; rebuilding it from the store")
        return self._rebuild_dense()

    def _store_has_items(self) -> bool:
        return self._store.max_seq() > 0

    def _repair_dense(self, owner: str) -> list[StoredRow]:
        """The rows of a dense block whose saved vectors fail their checksum (replaying later
        changes over them is idempotent, so the store's current rows are right)."""
        self._warn(f"dense vectors of {owner} fail their checksum; rebuilding them from the store")
        kind, _, user_id = owner.partition(":")
        return self._store.owner_rows(user_id, kind)  # type: ignore[arg-type]

    # -- rebuild --------------------------------------------------------------------------------

    # Writers are serialised by the engine and nothing writes while a store opens, so the seq
    # read before iterating is the state the rebuilt index reflects.

    def _rebuild_lexical(self) -> tuple[LexicalIndex, int]:
        seq = self._store.max_seq()
        path = index_path(self.directory, LEXICAL_DIR, self.lexical_generation)
        return build_lexical(
            self._store, path if self.writable else None, heap_bytes=self._heap
        ), seq

    def _rebuild_dense(self) -> tuple[DenseIndex, int]:
        seq = self._store.max_seq()
        index = build_dense(self._store, self._dim)
        if self.writable:
            save_dense(index, index_path(self.directory, DENSE_DIR, self.dense_generation), seq)
        return index, seq

    def _verify(self) -> None:
        expected = self._store.count_active()
        if self.lexical.num_docs() != expected:
            self._warn(
                f"lexical index holds {self.lexical.num_docs()} docs, the store {expected}; "
                "rebuilding it"
            )
            self.lexical.close()
            self.lexical, _ = self._rebuild_lexical()
        if self.dense.count() != expected:
            self._warn(
                f"dense index holds {self.dense.count()} vectors, the store {expected}; "
                "rebuilding it"
            )
            self.dense, self._dense_saved = self._rebuild_dense()

    # -- live updates ---------------------------------------------------------------------------

    def _replay(self, since: int, *, lexical: bool, dense: bool) -> None:
        replay(self._store, since, self.lexical if lexical else None, self.dense if dense else None)

    def sync(self) -> None:
        """Apply every store change newer than the indexes (called after each write).

        Raises:
            StoreError: the update failed (e.g. the disk is full). The changes stay in the
                store's log, so the next call (the next write) or the next open catches up.
        """
        with self._lock:
            target = self._store.max_seq()
            if target == self.applied:
                return
            try:
                self._replay(self.applied, lexical=True, dense=True)
                self.applied = target
                if target - self._dense_saved >= max(_DENSE_SNAPSHOT_LAG, self.dense.count()):
                    self._save_dense()
                self._write_manifest()
            except HybridMemError:
                raise
            except Exception as exc:  # tantivy raises ValueError on I/O errors, numpy OSError
                self.lexical.discard_pending()
                raise StoreError(
                    f"the write is stored in {self._store.path.name}, but updating the search "
                    f"indexes failed ({exc}); they catch up at the next write or reopen"
                ) from exc

    def _save_dense(self) -> None:
        self.dense.save(index_path(self.directory, DENSE_DIR, self.dense_generation), self.applied)
        self._dense_saved = self.applied
        keep = (
            self._dense_saved
            if self.retain_from is None
            else min(self._dense_saved, self.retain_from)
        )
        self._store.prune_changes(keep)

    def _write_manifest(self) -> None:
        if not self.writable:
            return
        write_manifest(
            self.directory,
            Manifest(
                format_version=FORMAT_VERSION,
                model=self._model,
                dim=self._dim,
                store_seq=self.applied,
                lexical=IndexSeq(seq=self.applied, generation=self.lexical_generation),
                dense=IndexSeq(seq=self._dense_saved, generation=self.dense_generation),
            ),
        )

    def flush(self) -> None:
        """Snapshot the dense index and trim the change log."""
        with self._lock:
            if self._dense_saved != self.applied or self.dense.repaired:
                self._save_dense()
                self._write_manifest()

    def close(self) -> None:
        """Save the dense snapshot and release the lexical writer (released even if the save
        fails: the next open catches up from the store)."""
        with self._lock:
            try:
                if self.writable:
                    self.flush()
            finally:
                self.lexical.close()

    @property
    def dim(self) -> int:
        """The dimension of the dense vectors."""
        return self._dim

    @property
    def dense_saved_seq(self) -> int:
        """The store seq of the dense index's snapshot on disk."""
        return self._dense_saved

    def release(self) -> None:
        """Let go of the lexical writer without saving anything (a reindex replaced us)."""
        with self._lock:
            self.lexical.close()

    def stats(self) -> dict[str, int]:
        return {
            "lexical_docs": self.lexical.num_docs(),
            "lexical_segments": self.lexical.num_segments(),
            "dense_vectors": self.dense.count(),
            "dense_owners": self.dense.owners(),
            "applied_seq": self.applied,
            "dense_snapshot_seq": self._dense_saved,
        }


# -- building blocks, shared with reindex -----------------------------------------------------


def build_lexical(
    store: Store,
    path: Path | None,
    *,
    heap_bytes: int,
    reindexed: bool = False,
    check: Callable[[], None] | None = None,
) -> LexicalIndex:
    """A new lexical index in ``path`` (``None``: in memory) holding every activated item.

    ``check`` is called before each batch read from the store, and may raise to give up."""
    index = LexicalIndex(path, heap_bytes=heap_bytes, create=True)

    def rows() -> Iterator[StoredRow]:
        for batch in store.iter_active(reindexed=reindexed):
            if check is not None:
                check()
            yield from batch

    try:
        index.apply((), rows())
    except BaseException:
        index.close()
        raise
    return index


def build_dense(store: Store, dim: int, *, reindexed: bool = False) -> DenseIndex:
    """A new in-memory dense index of every activated item that has an embedding."""
    index = DenseIndex(dim)
    for batch in store.iter_active(reindexed=reindexed):
        index.apply((), [row for row in batch if row.embedding is not None])
    return index


def save_dense(index: DenseIndex, path: Path, seq: int) -> None:
    """Write a fresh snapshot of ``index`` to ``path`` (replacing whatever is there)."""
    if path.exists():
        shutil.rmtree(path)
    index.save(path, seq)


def replay(
    store: Store,
    since: int,
    lexical: LexicalIndex | None,
    dense: DenseIndex | None,
    *,
    reindexed: bool = False,
) -> None:
    """Apply the store changes after ``since`` to the given indexes.

    Each changed doc is dropped from its previous owner and from its current one before its
    current row is added, so replaying over an index built while writes went on (which may
    already hold some of those rows) is idempotent.
    """
    changes, _ = store.changes_since(since)
    for start in range(0, len(changes), _REPLAY_BATCH):
        part = changes[start : start + _REPLAY_BATCH]
        rows = store.rows([doc for doc, _ in part], reindexed=reindexed)
        active: list[StoredRow] = [r for r in rows.values() if r.active]
        if lexical is not None:
            lexical.apply([doc for doc, _ in part], active)
        if dense is not None:
            dense.apply([*part, *((r.doc, r.user_id) for r in rows.values())], active)
