"""The canonical store: one SQLite database (WAL) holding every item and its embedding.

Everything else in a store directory (the Tantivy and dense indexes) is derived from this file and
can be rebuilt from it. Each write also appends to ``changes``, a log of ``(seq, doc, user_id)``:
a derived index remembers the last ``seq`` it applied and catches up by replaying the log, so the
live path and the recovery path are the same code.

``doc`` is the item's integer key (SQLite rowid, stable across upserts of the same ``id``); it is
what the derived indexes store. ``user_id`` in the log is the user the doc belonged to *before*
the change, so an index can find and drop the old entry even after the row is gone or moved.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import msgspec
import numpy as np

from .errors import StoreClosedError, StoreError
from .filters import CompiledFilter
from .types import Item, Memory, MessageDetail, Preference

__all__ = ["STORE_FILE", "Kind", "Store", "StoredRow", "embedding_text", "kind_of"]

STORE_FILE = "store.sqlite"
SCHEMA_VERSION = "1"

Kind = Literal["memory", "preference"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    doc INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('memory', 'preference')),
    user_id TEXT NOT NULL,
    conversation_id TEXT,
    status TEXT NOT NULL,
    memory_type TEXT,
    memory_key TEXT,
    preference_type TEXT,
    tags TEXT,
    confidence REAL,
    create_time INTEGER,
    update_time INTEGER,
    text_hash TEXT NOT NULL,
    body BLOB NOT NULL,
    embedding BLOB
);
CREATE INDEX IF NOT EXISTS items_owner ON items (user_id, kind);
-- Chat messages as added through add_messages (the MemOS /add/message history). Not indexed:
-- they are read back by (user, conversation) only. ``hash`` makes a replayed batch a no-op.
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    chat_time TEXT,
    create_time INTEGER NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (user_id, conversation_id, hash)
);
-- Embeddings from a model being reindexed to, committed batch by batch so that a killed reindex
-- resumes; an entry counts while its text_hash matches the item's. Moved into items when the
-- reindex switches, then cleared.
CREATE TABLE IF NOT EXISTS reindex_embeddings (
    doc INTEGER PRIMARY KEY,
    text_hash TEXT NOT NULL,
    embedding BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    doc INTEGER NOT NULL,
    user_id TEXT NOT NULL
);
-- The number of activated items, kept by triggers inside each write's transaction, so that
-- opening a store of 1M items can check its indexes without a 0.5 s count(*) scan.
CREATE TABLE IF NOT EXISTS counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS items_count_insert AFTER INSERT ON items
    WHEN NEW.status = 'activated'
    BEGIN UPDATE counts SET n = n + 1 WHERE name = 'activated'; END;
CREATE TRIGGER IF NOT EXISTS items_count_delete AFTER DELETE ON items
    WHEN OLD.status = 'activated'
    BEGIN UPDATE counts SET n = n - 1 WHERE name = 'activated'; END;
CREATE TRIGGER IF NOT EXISTS items_count_update AFTER UPDATE OF status ON items
    BEGIN UPDATE counts SET n = n + (NEW.status = 'activated') - (OLD.status = 'activated')
          WHERE name = 'activated'; END;
"""

_ENCODER = msgspec.msgpack.Encoder()
_DECODERS = {
    "memory": msgspec.msgpack.Decoder(Memory),
    "preference": msgspec.msgpack.Decoder(Preference),
}


def kind_of(item: Item) -> Kind:
    return "memory" if isinstance(item, Memory) else "preference"


def embedding_text(item: Item) -> str:
    """The text that is embedded (and, with tags, indexed) for an item."""
    if isinstance(item, Memory):
        return f"{item.memory_key}: {item.memory_value}" if item.memory_key else item.memory_value
    return item.preference


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class StoredRow(msgspec.Struct, frozen=True):
    """One item as read back from the store."""

    doc: int
    kind: Kind
    user_id: str
    status: str
    item: Item
    embedding: np.ndarray | None

    @property
    def active(self) -> bool:
        return self.status == "activated"


class Store:
    """Thread-safe access to ``store.sqlite``. One connection, serialised by a lock."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / STORE_FILE
        self._lock = threading.RLock()
        try:
            self._db: sqlite3.Connection | None = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: an add that returned survives a power cut, not only a process crash.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
            if self._db.execute("SELECT 1 FROM counts WHERE name = 'activated'").fetchone() is None:
                self._db.execute(
                    "INSERT INTO counts(name, n) SELECT 'activated', count(*) FROM items "
                    "WHERE status = 'activated'"
                )
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open {self.path}: {exc}") from exc
        version = self.meta_get("schema_version")
        if version is None:
            self.meta_set("schema_version", SCHEMA_VERSION)
        elif version != SCHEMA_VERSION:
            from .errors import StoreFormatError

            raise StoreFormatError(
                f"{self.path} has schema version {version}; this hybridmem reads {SCHEMA_VERSION}"
            )

    # -- plumbing -------------------------------------------------------------------------------

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreClosedError("the store is closed")
        return self._db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``), rolled back if the block raises."""
        with self._lock:
            db = self.db
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def meta_get(self, key: str) -> str | None:
        with self._lock:
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def meta_set(self, key: str, value: str) -> None:
        with self._lock:
            self.db.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- writes ---------------------------------------------------------------------------------

    def known_embeddings(self, items: Sequence[Item]) -> dict[str, bytes]:
        """For items whose stored text is unchanged, their stored embedding (no re-encoding)."""
        wanted = {item.id: text_hash(embedding_text(item)) for item in items}
        found: dict[str, bytes] = {}
        with self._lock:
            for chunk in _chunks(list(wanted), 500):
                marks = ",".join("?" * len(chunk))
                for id_, h, emb in self.db.execute(
                    f"SELECT id, text_hash, embedding FROM items WHERE id IN ({marks})", chunk
                ):
                    if emb is not None and wanted[id_] == h:
                        found[id_] = emb
        return found

    def upsert(self, items: Sequence[Item], embeddings: np.ndarray) -> int:
        """Insert or replace items (by ``id``) in one transaction; returns the last change seq."""
        vectors = np.ascontiguousarray(embeddings, dtype="<f4")
        with self._transaction() as db:
            for item, vec in zip(items, vectors, strict=True):
                old = db.execute(
                    "SELECT doc, user_id FROM items WHERE id = ?", (item.id,)
                ).fetchone()
                doc = db.execute(_UPSERT_SQL, (*_columns(item), vec.tobytes())).fetchone()[0]
                db.execute(
                    "INSERT INTO changes(doc, user_id) VALUES (?, ?)",
                    (doc, old[1] if old else item.user_id),
                )
            return self._max_seq()

    def delete_ids(self, ids: Sequence[str]) -> int:
        """Delete items by id; returns how many existed."""
        return self._delete("id", list(ids))

    def delete_user(self, user_id: str) -> int:
        """Delete every item and message of a user; returns how many items existed."""
        return self._delete("user_id", [user_id], messages=True)

    def _delete(self, column: str, values: list[str], *, messages: bool = False) -> int:
        deleted = 0
        with self._transaction() as db:
            if messages:
                db.execute("DELETE FROM messages WHERE user_id = ?", values)
            for chunk in _chunks(values, 500):
                marks = ",".join("?" * len(chunk))
                where = f"{column} IN ({marks})"
                db.execute(
                    f"INSERT INTO changes(doc, user_id) SELECT doc, user_id FROM items "
                    f"WHERE {where} ORDER BY doc",
                    chunk,
                )
                deleted += db.execute(f"DELETE FROM items WHERE {where}", chunk).rowcount
        return deleted

    def add_messages(
        self, user_id: str, conversation_id: str, messages: Sequence[MessageDetail]
    ) -> int:
        """Append chat messages; one already stored (same role, content, chat time) is skipped.

        Returns how many were new.
        """
        rows = [
            (
                user_id,
                conversation_id,
                m.role,
                m.content,
                m.chat_time,
                m.create_time,
                text_hash(f"{m.role}\x1f{m.chat_time or ''}\x1f{m.content}"),
            )
            for m in messages
        ]
        with self._transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO messages (user_id, conversation_id, role, content, "
                "chat_time, create_time, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            return db.total_changes - before

    def prune_changes(self, upto: int) -> None:
        """Forget log entries every derived index has applied."""
        with self._lock:
            self.db.execute("DELETE FROM changes WHERE seq <= ?", (upto,))

    # -- reads ----------------------------------------------------------------------------------

    def _max_seq(self) -> int:
        row = self.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()
        return 0 if row is None else int(row[0])

    def max_seq(self) -> int:
        with self._lock:
            return self._max_seq()

    def min_change_seq(self) -> int:
        """The oldest seq still in the log (``max_seq() + 1`` when the log is empty)."""
        with self._lock:
            row = self.db.execute("SELECT min(seq) FROM changes").fetchone()
            return self._max_seq() + 1 if row[0] is None else int(row[0])

    def changes_since(self, seq: int) -> tuple[list[tuple[int, str]], int]:
        """Distinct ``(doc, previous user)`` pairs changed after ``seq``, and the newest seq."""
        with self._lock:
            rows = self.db.execute(
                "SELECT DISTINCT doc, user_id FROM changes WHERE seq > ? ORDER BY doc", (seq,)
            ).fetchall()
            return [(int(d), u) for d, u in rows], self._max_seq()

    def rows(self, docs: Sequence[int], *, reindexed: bool = False) -> dict[int, StoredRow]:
        """The current rows of these docs (missing docs are absent from the result).

        ``reindexed``: with the reindex embedding instead of the stored one (``None`` where the
        reindex has not encoded the item's current text yet).
        """
        out: dict[int, StoredRow] = {}
        emb = _REINDEXED if reindexed else "embedding"
        with self._lock:
            for chunk in _chunks(list(docs), 500):
                marks = ",".join("?" * len(chunk))
                for row in self.db.execute(
                    f"SELECT doc, kind, user_id, status, body, {emb} FROM items "
                    f"WHERE doc IN ({marks})",
                    chunk,
                ):
                    out[row[0]] = _row(row)
        return out

    def iter_active(
        self, batch: int = 2048, *, reindexed: bool = False
    ) -> Iterator[list[StoredRow]]:
        """Every activated item, ordered by (user, kind, doc), in batches (for rebuilds).

        The caller should read ``max_seq()`` first to know what the snapshot covers: when the
        engine's writers are blocked nothing moves meanwhile; otherwise the caller replays the
        changes after that seq. ``reindexed`` as in :meth:`rows`.
        """
        emb = _REINDEXED if reindexed else "embedding"
        last = (None, None, -1)
        while True:
            with self._lock:
                rows = self.db.execute(
                    f"SELECT doc, kind, user_id, status, body, {emb} FROM items "
                    "WHERE status = 'activated' AND (user_id, kind, doc) > (?, ?, ?) "
                    "ORDER BY user_id, kind, doc LIMIT ?",
                    (last[0] or "", last[1] or "", last[2], batch),
                ).fetchall()
            if not rows:
                return
            last = (rows[-1][2], rows[-1][1], rows[-1][0])
            yield [_row(r) for r in rows]

    def get(self, item_id: str) -> Item | None:
        with self._lock:
            row = self.db.execute(
                "SELECT kind, body FROM items WHERE id = ?", (item_id,)
            ).fetchone()
        return None if row is None else _DECODERS[row[0]].decode(row[1])

    def items(self, docs: Sequence[int]) -> dict[int, Item]:
        """Decoded items for docs (for building answers)."""
        out: dict[int, Item] = {}
        with self._lock:
            for chunk in _chunks(list(docs), 500):
                marks = ",".join("?" * len(chunk))
                for doc, kind, body in self.db.execute(
                    f"SELECT doc, kind, body FROM items WHERE doc IN ({marks})", chunk
                ):
                    out[doc] = _DECODERS[kind].decode(body)
        return out

    def filter_docs(self, user_id: str, kind: Kind, flt: CompiledFilter) -> np.ndarray:
        """Docs of the user's activated items of ``kind`` that pass the filter (sorted int64)."""
        with self._lock:
            rows = self.db.execute(
                "SELECT doc FROM items WHERE user_id = ? AND kind = ? AND status = 'activated' "
                f"AND ({flt.sql}) ORDER BY doc",
                (user_id, kind, *flt.params),
            ).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    # -- reindex --------------------------------------------------------------------------------

    def reindex_pending(self, after_doc: int, limit: int) -> list[tuple[int, str, str]]:
        """``(doc, text_hash, text)`` of items (any status) after ``after_doc`` whose current text
        has no reindex embedding yet, in doc order."""
        with self._lock:
            rows = self.db.execute(
                "SELECT i.doc, i.text_hash, i.kind, i.body FROM items i "
                "LEFT JOIN reindex_embeddings r ON r.doc = i.doc "
                "WHERE i.doc > ? AND (r.doc IS NULL OR r.text_hash != i.text_hash) "
                "ORDER BY i.doc LIMIT ?",
                (after_doc, limit),
            ).fetchall()
        return [(d, h, embedding_text(_DECODERS[k].decode(b))) for d, h, k, b in rows]

    def reindex_counts(self) -> tuple[int, int]:
        """``(items, items whose current text already has a reindex embedding)``."""
        with self._lock:
            total = self.db.execute("SELECT count(*) FROM items").fetchone()[0]
            done = self.db.execute(
                "SELECT count(*) FROM items i JOIN reindex_embeddings r "
                "ON r.doc = i.doc AND r.text_hash = i.text_hash"
            ).fetchone()[0]
        return int(total), int(done)

    def put_reindex_embeddings(
        self, docs: Sequence[int], hashes: Sequence[str], embeddings: np.ndarray
    ) -> None:
        """Commit one batch of reindex embeddings (replacing older ones of the same docs)."""
        vectors = np.ascontiguousarray(embeddings, dtype="<f4")
        rows = [(d, h, v.tobytes()) for d, h, v in zip(docs, hashes, vectors, strict=True)]
        with self._transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO reindex_embeddings (doc, text_hash, embedding) "
                "VALUES (?, ?, ?)",
                rows,
            )

    def clear_reindex(self) -> None:
        """Forget a reindex's embeddings and target model."""
        with self._transaction() as db:
            db.execute("DELETE FROM reindex_embeddings")
            db.execute("DELETE FROM meta WHERE key = 'reindex'")

    def switch_embeddings(self, model: str, dim: int) -> None:
        """Make the reindex embeddings the stored ones, and ``model`` the store's, atomically.

        Every item must have a current reindex embedding (the caller encodes the rest first,
        with writers blocked).
        """
        with self._transaction() as db:
            missing = db.execute(
                "SELECT count(*) FROM items i LEFT JOIN reindex_embeddings r "
                "ON r.doc = i.doc AND r.text_hash = i.text_hash WHERE r.doc IS NULL"
            ).fetchone()[0]
            if missing:
                raise StoreError(f"{missing} items have no embedding from {model!r} yet")
            db.execute(
                "UPDATE items SET embedding = r.embedding FROM reindex_embeddings r "
                "WHERE r.doc = items.doc"
            )
            self.meta_set("model", model)  # same connection: inside this transaction
            self.meta_set("dim", str(dim))
            db.execute("DELETE FROM reindex_embeddings")
            db.execute("DELETE FROM meta WHERE key = 'reindex'")

    def page(
        self, user_id: str, kind: Kind, flt: CompiledFilter | None, offset: int, limit: int
    ) -> tuple[list[Item], int]:
        """A page of the user's activated items of ``kind``, newest first, and the total."""
        where = "user_id = ? AND kind = ? AND status = 'activated'"
        params: tuple = (user_id, kind)
        if flt is not None:
            where += f" AND ({flt.sql})"
            params += flt.params
        with self._lock:
            total = self.db.execute(f"SELECT count(*) FROM items WHERE {where}", params).fetchone()
            rows = self.db.execute(
                f"SELECT kind, body FROM items WHERE {where} "
                "ORDER BY create_time DESC, doc DESC LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
        return [_DECODERS[k].decode(b) for k, b in rows], int(total[0])

    def matching(self, flt: CompiledFilter, user_id: str | None = None) -> list[str]:
        """Ids of the items (any status) that pass the filter, of one user or of all."""
        where, params = f"({flt.sql})", flt.params
        if user_id is not None:
            where, params = f"user_id = ? AND {where}", (user_id, *params)
        with self._lock:
            rows = self.db.execute(f"SELECT id FROM items WHERE {where}", params).fetchall()
        return [r[0] for r in rows]

    def owners(self, ids: Sequence[str]) -> dict[str, str]:
        """``id -> user_id`` for the ids that exist."""
        out: dict[str, str] = {}
        with self._lock:
            for chunk in _chunks(list(ids), 500):
                marks = ",".join("?" * len(chunk))
                out.update(
                    self.db.execute(
                        f"SELECT id, user_id FROM items WHERE id IN ({marks})", chunk
                    ).fetchall()
                )
        return out

    def messages(self, user_id: str, conversation_id: str, limit: int) -> list[MessageDetail]:
        """The last ``limit`` messages of a conversation, oldest first."""
        with self._lock:
            rows = self.db.execute(
                "SELECT role, content, chat_time, create_time FROM messages "
                "WHERE user_id = ? AND conversation_id = ? ORDER BY seq DESC LIMIT ?",
                (user_id, conversation_id, limit),
            ).fetchall()
        return [
            MessageDetail(
                role=role,
                content=content,
                conversation_id=conversation_id,
                chat_time=chat_time,
                create_time=created,
                update_time=created,
            )
            for role, content, chat_time, created in reversed(rows)
        ]

    def count_active(self) -> int:
        """How many items are activated (maintained by triggers, O(1))."""
        with self._lock:
            return self.db.execute("SELECT n FROM counts WHERE name = 'activated'").fetchone()[0]

    def stats(self) -> dict[str, int]:
        with self._lock:
            db = self.db
            counts = dict(
                db.execute(
                    "SELECT kind || ':' || status, count(*) FROM items GROUP BY 1"
                ).fetchall()
            )
            users = db.execute("SELECT count(DISTINCT user_id) FROM items").fetchone()[0]
        return {
            "memories": sum(v for k, v in counts.items() if k.startswith("memory:")),
            "preferences": sum(v for k, v in counts.items() if k.startswith("preference:")),
            "activated": sum(v for k, v in counts.items() if k.endswith(":activated")),
            "users": users,
        }


# The reindex embedding of an item's current text, or NULL.
_REINDEXED = (
    "(SELECT r.embedding FROM reindex_embeddings r "
    "WHERE r.doc = items.doc AND r.text_hash = items.text_hash)"
)

_UPSERT_SQL = """
INSERT INTO items (id, kind, user_id, conversation_id, status, memory_type, memory_key,
                   preference_type, tags, confidence, create_time, update_time, text_hash, body,
                   embedding)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET
    kind = excluded.kind, user_id = excluded.user_id, conversation_id = excluded.conversation_id,
    status = excluded.status, memory_type = excluded.memory_type,
    memory_key = excluded.memory_key, preference_type = excluded.preference_type,
    tags = excluded.tags, confidence = excluded.confidence, create_time = excluded.create_time,
    update_time = excluded.update_time, text_hash = excluded.text_hash, body = excluded.body,
    embedding = excluded.embedding
RETURNING doc
"""


def _columns(item: Item) -> tuple:
    common = (item.id, kind_of(item), item.user_id, item.conversation_id, item.status)
    if isinstance(item, Memory):
        typed = (
            item.memory_type,
            item.memory_key,
            None,
            msgspec.json.encode(item.tags).decode(),
            item.confidence,
        )
    else:
        typed = (None, None, item.preference_type, None, None)
    return (
        *common,
        *typed,
        item.create_time,
        item.update_time,
        text_hash(embedding_text(item)),
        _ENCODER.encode(item),
    )


def _row(row: tuple) -> StoredRow:
    doc, kind, user_id, status, body, emb = row
    return StoredRow(
        doc=doc,
        kind=kind,
        user_id=user_id,
        status=status,
        item=_DECODERS[kind].decode(body),
        embedding=None if emb is None else np.frombuffer(emb, dtype="<f4"),
    )


def _chunks(values: list, size: int) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
