"""The ``reindex_embeddings`` table of ``store.sqlite``: embeddings from a model a reindex moves
the store to, committed batch by batch so that a killed reindex resumes (``hybridmem.reindex``).
Mixed into :class:`hybridmem.store.Store`, whose connection and transactions it uses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import StoreError
from .rows import DECODERS, TableAccess, embedding_text

__all__ = ["ReindexTables"]


class ReindexTables(TableAccess):
    """The store's reindex operations (the host class provides the connection)."""

    def reindex_pending(
        self, after_doc: int, limit: int, *, upto_doc: int | None = None
    ) -> list[tuple[int, str, str]]:
        """``(doc, text_hash, text)`` of items (any status) after ``after_doc`` (and up to
        ``upto_doc``) whose current text has no reindex embedding yet, in doc order."""
        upto = (1 << 62) if upto_doc is None else upto_doc
        with self._read() as db:
            rows = db.execute(
                "SELECT i.doc, i.text_hash, i.kind, i.body FROM items i "
                "LEFT JOIN reindex_embeddings r ON r.doc = i.doc "
                "WHERE i.doc > ? AND i.doc <= ? AND (r.doc IS NULL OR r.text_hash != i.text_hash) "
                "ORDER BY i.doc LIMIT ?",
                (after_doc, upto, limit),
            ).fetchall()
        return [(d, h, embedding_text(DECODERS[k].decode(b))) for d, h, k, b in rows]

    def last_doc(self) -> int:
        """The highest doc number in use (0 in an empty store)."""
        with self._read() as db:
            return int(db.execute("SELECT coalesce(max(doc), 0) FROM items").fetchone()[0])

    def reindex_counts(self) -> tuple[int, int]:
        """``(items, items whose current text already has a reindex embedding)``."""
        with self._read() as db:
            total = db.execute("SELECT count(*) FROM items").fetchone()[0]
            done = db.execute(
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
