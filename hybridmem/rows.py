"""How items are laid out in ``store.sqlite``: the schema, and the codecs between rows and
records. Used by :mod:`hybridmem.store` (the only module that runs SQL on the store).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal, TypeVar

import msgspec
import numpy as np

from .types import Item, Memory, Preference

__all__ = [
    "DECODERS",
    "IN_CHUNK",
    "REINDEXED",
    "SCHEMA",
    "UPSERT_SQL",
    "Kind",
    "StoredRow",
    "TableAccess",
    "columns",
    "embedding_text",
    "in_chunks",
    "kind_of",
    "stored_row",
    "text_hash",
]

Kind = Literal["memory", "preference"]
T = TypeVar("T")


class TableAccess:
    """What the table mixins of :class:`hybridmem.store.Store` use of it: the connection for
    reads, and write transactions (each rolled back whole on failure)."""

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def meta_set(self, key: str, value: str) -> None:
        raise NotImplementedError


SCHEMA = """
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
DECODERS: dict[str, msgspec.msgpack.Decoder[Memory] | msgspec.msgpack.Decoder[Preference]] = {
    "memory": msgspec.msgpack.Decoder(Memory),
    "preference": msgspec.msgpack.Decoder(Preference),
}


def kind_of(item: Item) -> Kind:
    """``"memory"`` or ``"preference"``."""
    return "memory" if isinstance(item, Memory) else "preference"


def embedding_text(item: Item) -> str:
    """The text that is embedded (and, with tags, indexed) for an item."""
    if isinstance(item, Memory):
        return f"{item.memory_key}: {item.memory_value}" if item.memory_key else item.memory_value
    return item.preference


def text_hash(text: str) -> str:
    """The digest that tells whether an item's embedded text changed."""
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


# The reindex embedding of an item's current text, or NULL.
REINDEXED = (
    "(SELECT r.embedding FROM reindex_embeddings r "
    "WHERE r.doc = items.doc AND r.text_hash = items.text_hash)"
)

UPSERT_SQL = """
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


def columns(item: Item) -> tuple:
    """The ``items`` columns of ``UPSERT_SQL`` for an item, but its embedding."""
    common = (item.id, kind_of(item), item.user_id, item.conversation_id, item.status)
    typed: tuple[Any, ...]
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


def stored_row(row: tuple) -> StoredRow:
    """A ``(doc, kind, user_id, status, body, embedding)`` row, decoded."""
    doc, kind, user_id, status, body, emb = row
    return StoredRow(
        doc=doc,
        kind=kind,
        user_id=user_id,
        status=status,
        item=DECODERS[kind].decode(body),
        embedding=None if emb is None else np.frombuffer(emb, dtype="<f4"),
    )


#: ids or docs bound in one statement (SQLite bounds a statement's parameters).
IN_CHUNK = 500


def in_chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[tuple[str, list[T]]]:
    """``values`` in slices one statement can bind, each with its ``?,?,…`` marks for
    ``IN (…)``: ``for marks, chunk in in_chunks(ids): db.execute(f"… IN ({marks})", chunk)``."""
    for start in range(0, len(values), size):
        chunk = list(values[start : start + size])
        yield ",".join("?" * len(chunk)), chunk
