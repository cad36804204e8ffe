"""The canonical store: one SQLite database (WAL) holding every item and its embedding.

Everything else in a store directory (the Tantivy and dense indexes) is derived from this file and
can be rebuilt from it. Each write also appends to ``changes``, a log of ``(seq, doc, user_id)``:
a derived index remembers the last ``seq`` it applied and catches up by replaying the log, so the
live path and the recovery path are the same code.

``doc`` is the item's integer key (SQLite rowid, stable across upserts of the same ``id``); it is
what the derived indexes store. An id keeps its user and kind for life (an upsert that would
change either is refused), and a deleted doc number is never reused, so a doc never changes
owner. ``user_id`` in the log is the doc's user, so an index can find and drop the old entry
even after the row is gone.

Every SQLite failure (disk full, I/O error, a damaged file) surfaces as :class:`StoreError`;
each write is one transaction, rolled back whole when it fails.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .errors import HybridMemError, IdConflictError, StoreClosedError, StoreError, StoreFormatError
from .rows import (
    SCHEMA,
    UPSERT_SQL,
    Kind,
    StoredRow,
    columns,
    embedding_text,
    in_chunks,
    kind_of,
    text_hash,
)
from .sqlite_file import QUICK_CHECK_MAX_BYTES, check_header, check_structure
from .store_export import ExportTables
from .store_messages import MessageTables
from .store_reads import ReadTables, owners_of
from .store_reindex import ReindexTables
from .types import Item

__all__ = ["STORE_FILE", "Kind", "Store", "StoredRow", "check_owners", "embedding_text", "kind_of"]

STORE_FILE = "store.sqlite"
SCHEMA_VERSION = "1"


class Store(ReadTables, MessageTables, ReindexTables, ExportTables):
    """Thread-safe access to ``store.sqlite``. One connection, serialised by a lock.

    Opening an existing file checks it first (:mod:`hybridmem.sqlite_file`) and raises
    :class:`StoreError` if it is damaged, holding nothing open. ``read_only`` opens it without
    creating or changing anything (``hybridmem check``).
    """

    def __init__(self, directory: Path, *, read_only: bool = False) -> None:
        self.path = directory / STORE_FILE
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        try:
            size = self.path.stat().st_size if self.path.exists() else 0
            if size or read_only:
                check_header(self.path)
            uri = f"{self.path.resolve().as_uri()}?mode=ro" if read_only else str(self.path)
            self._db = sqlite3.connect(
                uri, uri=read_only, isolation_level=None, check_same_thread=False
            )
            if size or read_only:
                check_structure(self._db, self.path, quick=size <= QUICK_CHECK_MAX_BYTES)
            if not read_only:
                self._create()
        except BaseException as exc:
            self.close()
            if isinstance(exc, sqlite3.Error | OSError):
                raise StoreError(f"cannot open {self.path}: {exc}") from exc
            raise

    def _create(self) -> None:
        """Set the connection up for writing; create the schema where it is missing."""
        with self._read() as db:
            db.execute("PRAGMA journal_mode=WAL")
            # FULL: an add that returned survives a power cut, not only a process crash.
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            db.executescript(SCHEMA)
            if db.execute("SELECT 1 FROM counts WHERE name = 'activated'").fetchone() is None:
                db.execute(
                    "INSERT INTO counts(name, n) SELECT 'activated', count(*) FROM items "
                    "WHERE status = 'activated'"
                )
        version = self.meta_get("schema_version")
        if version is None:
            self.meta_set("schema_version", SCHEMA_VERSION)
        elif version != SCHEMA_VERSION:
            raise StoreFormatError(
                f"{self.path} has schema version {version}; this hybridmem reads {SCHEMA_VERSION}"
            )

    def integrity_errors(self, limit: int = 100) -> list[str]:
        """What ``PRAGMA integrity_check`` finds (empty when the file is sound); reads it all."""
        with self._read() as db:
            rows = [r[0] for r in db.execute(f"PRAGMA integrity_check({int(limit)})")]
        return [] if rows == ["ok"] else rows

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """Reads inside the block all see one state of the store (one read transaction)."""
        with self._read() as db:
            db.execute("BEGIN")
            try:
                yield
            finally:
                db.execute("COMMIT")

    # -- plumbing -------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                try:
                    self._db.close()
                finally:
                    self._db = None

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """The connection, for reads; SQLite failures become :class:`StoreError`."""
        with self._lock:
            if self._db is None:
                raise StoreClosedError("the store is closed")
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise StoreError(f"reading {self.path} failed: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``), rolled back whole if the block raises."""
        with self._read() as db:
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
            except HybridMemError:
                raise
            except sqlite3.Error as exc:
                raise StoreError(
                    f"writing {self.path} failed (nothing was written): {exc}"
                ) from exc

    def meta_get(self, key: str) -> str | None:
        with self._read() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def meta_set(self, key: str, value: str) -> None:
        with self._read() as db:
            db.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def secret(self) -> str:
        """A random value made once per store (keys ids that must not be guessable)."""
        with self._lock:
            value = self.meta_get("secret")
            if value is None:
                value = secrets.token_hex(16)
                self.meta_set("secret", value)
            return value

    # -- writes ---------------------------------------------------------------------------------

    def known_embeddings(self, items: Sequence[Item]) -> dict[str, bytes]:
        """For items whose stored text is unchanged, their stored embedding (no re-encoding)."""
        wanted = {item.id: text_hash(embedding_text(item)) for item in items}
        found: dict[str, bytes] = {}
        with self._read() as db:
            for marks, chunk in in_chunks(list(wanted)):
                for id_, h, emb in db.execute(
                    f"SELECT id, text_hash, embedding FROM items WHERE id IN ({marks})", chunk
                ):
                    if emb is not None and wanted[id_] == h:
                        found[id_] = emb
        return found

    def upsert(self, items: Sequence[Item], embeddings: np.ndarray) -> int:
        """Insert or replace items (by ``id``) in one transaction; returns the last change seq.

        Raises:
            IdConflictError: an id belongs to another user or is an item of the other kind
                (nothing is written).
        """
        vectors = np.ascontiguousarray(embeddings, dtype="<f4")
        with self._transaction() as db:
            check_owners(owners_of(db, [item.id for item in items]), items)
            for item, vec in zip(items, vectors, strict=True):
                doc = db.execute(UPSERT_SQL, (*columns(item), vec.tobytes())).fetchone()[0]
                db.execute("INSERT INTO changes(doc, user_id) VALUES (?, ?)", (doc, item.user_id))
            return _max_seq(db)

    def delete_ids(
        self, ids: Sequence[str], *, check_owner: Callable[[str], None] | None = None
    ) -> int:
        """Delete items by id; returns how many existed.

        ``check_owner`` is called with the user of each stored item first, in the same
        transaction, and may raise to refuse the whole delete (nothing is deleted then).
        """
        return self._delete("id", list(ids), check_owner=check_owner)

    def delete_user(self, user_id: str) -> int:
        """Delete every item and message of a user; returns how many items existed."""
        return self._delete("user_id", [user_id], messages=True)

    def _delete(
        self,
        column: str,
        values: list[str],
        *,
        messages: bool = False,
        check_owner: Callable[[str], None] | None = None,
    ) -> int:
        deleted = 0
        with self._transaction() as db:
            if check_owner is not None:
                for owner, _ in set(owners_of(db, values).values()):
                    check_owner(owner)
            if messages:
                db.execute("DELETE FROM messages WHERE user_id = ?", values)
            for marks, chunk in in_chunks(values):
                where = f"{column} IN ({marks})"
                db.execute(
                    f"INSERT INTO changes(doc, user_id) SELECT doc, user_id FROM items "
                    f"WHERE {where} ORDER BY doc",
                    chunk,
                )
                deleted += db.execute(f"DELETE FROM items WHERE {where}", chunk).rowcount
        return deleted

    def prune_changes(self, upto: int) -> None:
        """Forget log entries every derived index has applied."""
        with self._read() as db:
            db.execute("DELETE FROM changes WHERE seq <= ?", (upto,))

    # -- the change log -------------------------------------------------------------------------

    def max_seq(self) -> int:
        with self._read() as db:
            return _max_seq(db)

    def min_change_seq(self) -> int:
        """The oldest seq still in the log (``max_seq() + 1`` when the log is empty)."""
        with self._read() as db:
            row = db.execute("SELECT min(seq) FROM changes").fetchone()
            return _max_seq(db) + 1 if row[0] is None else int(row[0])

    def changes_since(self, seq: int) -> tuple[list[tuple[int, str]], int]:
        """Distinct ``(doc, previous user)`` pairs changed after ``seq``, and the newest seq."""
        with self._read() as db:
            rows = db.execute(
                "SELECT DISTINCT doc, user_id FROM changes WHERE seq > ? ORDER BY doc", (seq,)
            ).fetchall()
            return [(int(d), u) for d, u in rows], _max_seq(db)


def check_owners(stored: dict[str, tuple[str, Kind]], items: Sequence[Item]) -> None:
    """Refuse items whose id is held by another user, or by an item of the other kind (also
    within ``items`` themselves). ``stored`` is :meth:`Store.owners` of their ids."""
    seen = dict(stored)
    for item in items:
        mine = (item.user_id, kind_of(item))
        held = seen.setdefault(item.id, mine)
        if held == mine:
            continue
        if held[0] != item.user_id:
            raise IdConflictError(
                f"id {item.id!r:.120} is taken by another user's item; ids are global: choose "
                "another id (a memory moves to another user by delete and add)"
            )
        raise IdConflictError(
            f"id {item.id!r:.120} is a {held[1]} of this user; a {mine[1]} cannot take its id "
            "(delete it first, or choose another id)"
        )


def _max_seq(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()
    return 0 if row is None else int(row[0])
