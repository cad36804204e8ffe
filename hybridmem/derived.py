"""The derived indexes of a store directory and their manifest.

``manifest.json`` records the format version, the embedding model and dimension, and for each
derived index the last store change (``seq``) it reflects::

    {"format_version": 1, "model": "...", "dim": 384, "store_seq": 120,
     "lexical": {"seq": 120}, "dense": {"seq": 100}}

On open, an index that lags the store replays the change log; one that is missing, unreadable, or
whose document count disagrees with the store after catching up is rebuilt from the store (its
stored embeddings: nothing is re-encoded) with an :class:`IndexRebuiltWarning`.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import warnings
from pathlib import Path

import msgspec

from .dense import DenseIndex, DenseIndexError
from .lexical import LexicalIndex
from .store import Store, StoredRow

__all__ = ["FORMAT_VERSION", "DerivedIndexes", "IndexRebuiltWarning", "Manifest"]

log = logging.getLogger("hybridmem")

FORMAT_VERSION = 2  # 2: lexical segments sorted by owner
MANIFEST = "manifest.json"
LEXICAL_DIR = "lexical"
DENSE_DIR = "dense"
_REPLAY_BATCH = 4096
# Snapshot the dense index once the changes newer than its last snapshot reach this many, or
# the index's own size if larger: recovery after a crash replays a bounded log, and a bulk load
# rewrites the snapshot O(log n) times, not once per 50k items.
_DENSE_SNAPSHOT_LAG = 50_000


class IndexRebuiltWarning(UserWarning):
    """A derived index was missing or damaged and has been rebuilt from the store."""


class IndexSeq(msgspec.Struct, frozen=True, kw_only=True):
    seq: int = -1


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    format_version: int
    model: str
    dim: int
    store_seq: int = 0
    lexical: IndexSeq = msgspec.field(default_factory=IndexSeq)
    dense: IndexSeq = msgspec.field(default_factory=IndexSeq)


def read_manifest(directory: Path) -> Manifest | None:
    try:
        return msgspec.json.decode((directory / MANIFEST).read_bytes(), type=Manifest)
    except (OSError, msgspec.DecodeError):
        return None


def write_manifest(directory: Path, manifest: Manifest) -> None:
    tmp = directory / f"{MANIFEST}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(msgspec.json.format(msgspec.json.encode(manifest)))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, directory / MANIFEST)


class DerivedIndexes:
    """Opens, catches up, rebuilds and saves the lexical and dense indexes of one store."""

    def __init__(
        self, directory: Path, store: Store, *, model: str, dim: int, heap_bytes: int
    ) -> None:
        self.directory = directory
        self._store = store
        self._model = model
        self._dim = dim
        self._heap = heap_bytes
        self._lock = threading.RLock()
        manifest = read_manifest(directory)
        if manifest is None and (directory / MANIFEST).exists():
            self._warn("manifest.json is unreadable; rebuilding every index")
        elif manifest is not None and (
            manifest.format_version != FORMAT_VERSION
            or manifest.model != model
            or manifest.dim != dim
        ):
            self._warn("manifest describes another format or model; rebuilding every index")
            manifest = None
        self.lexical, lex_seq = self._open_lexical(manifest)
        self.dense, self._dense_saved = self._open_dense(manifest)
        self._replay(lex_seq, lexical=True, dense=False)
        self._replay(self._dense_saved, lexical=False, dense=True)
        self.applied = store.max_seq()
        self._verify()
        self._write_manifest()

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
        path = self.directory / LEXICAL_DIR
        seq = manifest.lexical.seq if manifest else -1
        if self._catchable(seq) and path.is_dir():
            try:
                return LexicalIndex(path, heap_bytes=self._heap, create=False), seq
            except Exception as exc:  # tantivy raises ValueError/OSError on damaged files
                self._warn(f"lexical index is damaged ({exc}); rebuilding it from the store")
        elif self._store_has_items() or path.exists():
            self._warn("lexical index is missing or too old; rebuilding it from the store")
        return self._rebuild_lexical()

    def _open_dense(self, manifest: Manifest | None) -> tuple[DenseIndex, int]:
        path = self.directory / DENSE_DIR
        seq = manifest.dense.seq if manifest else -1
        if self._catchable(seq) and path.is_dir():
            try:
                index, saved = DenseIndex.load(path, self._dim)
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

    # -- rebuild --------------------------------------------------------------------------------

    # Writers are serialised by the engine and nothing writes while a store opens, so the seq
    # read before iterating is the state the rebuilt index reflects.

    def _rebuild_lexical(self) -> tuple[LexicalIndex, int]:
        seq = self._store.max_seq()
        index = LexicalIndex(self.directory / LEXICAL_DIR, heap_bytes=self._heap, create=True)
        index.apply((), (row for batch in self._store.iter_active() for row in batch))
        return index, seq

    def _rebuild_dense(self) -> tuple[DenseIndex, int]:
        seq = self._store.max_seq()
        index = DenseIndex(self._dim)
        for batch in self._store.iter_active():
            index.apply((), batch)
        path = self.directory / DENSE_DIR
        if path.exists():
            shutil.rmtree(path)
        index.save(path, seq)
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
        changes, _ = self._store.changes_since(since)
        for start in range(0, len(changes), _REPLAY_BATCH):
            part = changes[start : start + _REPLAY_BATCH]
            rows = self._store.rows([doc for doc, _ in part])
            active: list[StoredRow] = [r for r in rows.values() if r.active]
            if lexical:
                self.lexical.apply([doc for doc, _ in part], active)
            if dense:
                self.dense.apply(part, active)

    def sync(self) -> None:
        """Apply every store change newer than the indexes (called after each write)."""
        with self._lock:
            target = self._store.max_seq()
            if target == self.applied:
                return
            self._replay(self.applied, lexical=True, dense=True)
            self.applied = target
            if target - self._dense_saved >= max(_DENSE_SNAPSHOT_LAG, self.dense.count()):
                self._save_dense()
            self._write_manifest()

    def _save_dense(self) -> None:
        self.dense.save(self.directory / DENSE_DIR, self.applied)
        self._dense_saved = self.applied
        self._store.prune_changes(self._dense_saved)

    def _write_manifest(self) -> None:
        write_manifest(
            self.directory,
            Manifest(
                format_version=FORMAT_VERSION,
                model=self._model,
                dim=self._dim,
                store_seq=self.applied,
                lexical=IndexSeq(seq=self.applied),
                dense=IndexSeq(seq=self._dense_saved),
            ),
        )

    def flush(self) -> None:
        """Snapshot the dense index and trim the change log."""
        with self._lock:
            if self._dense_saved != self.applied:
                self._save_dense()
                self._write_manifest()

    def close(self) -> None:
        with self._lock:
            self.flush()
            self.lexical.close()

    def stats(self) -> dict[str, int]:
        return {
            "lexical_docs": self.lexical.num_docs(),
            "dense_vectors": self.dense.count(),
            "dense_owners": self.dense.owners(),
            "applied_seq": self.applied,
            "dense_snapshot_seq": self._dense_saved,
        }
