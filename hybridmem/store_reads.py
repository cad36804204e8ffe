"""The read queries of ``store.sqlite``: rows for the indexes, hits made answers, pages, owners
and counts. Mixed into :class:`hybridmem.store.Store`, whose connection it uses.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence

import numpy as np

from .filters import CompiledFilter
from .rows import DECODERS, REINDEXED, Kind, StoredRow, TableAccess, in_chunks, stored_row
from .types import Item

__all__ = ["ReadTables", "owners_of"]


class ReadTables(TableAccess):
    """The store's read operations (the host class provides the connection)."""

    def rows(self, docs: Sequence[int], *, reindexed: bool = False) -> dict[int, StoredRow]:
        """The current rows of these docs (missing docs are absent from the result).

        ``reindexed``: with the reindex embedding instead of the stored one (``None`` where the
        reindex has not encoded the item's current text yet).
        """
        out: dict[int, StoredRow] = {}
        emb = REINDEXED if reindexed else "embedding"
        with self._read() as db:
            for marks, chunk in in_chunks(docs):
                for row in db.execute(
                    f"SELECT doc, kind, user_id, status, body, {emb} FROM items "
                    f"WHERE doc IN ({marks})",
                    chunk,
                ):
                    out[row[0]] = stored_row(row)
        return out

    def owner_rows(self, user_id: str, kind: Kind) -> list[StoredRow]:
        """Every activated item of one user and kind, by doc (to repair that dense block)."""
        with self._read() as db:
            rows = db.execute(
                "SELECT doc, kind, user_id, status, body, embedding FROM items "
                "WHERE user_id = ? AND kind = ? AND status = 'activated' ORDER BY doc",
                (user_id, kind),
            ).fetchall()
        return [stored_row(r) for r in rows]

    def iter_active(
        self, batch: int = 2048, *, reindexed: bool = False
    ) -> Iterator[list[StoredRow]]:
        """Every activated item, ordered by (user, kind, doc), in batches (for rebuilds).

        The caller should read ``max_seq()`` first to know what the snapshot covers: when the
        engine's writers are blocked nothing moves meanwhile; otherwise the caller replays the
        changes after that seq. ``reindexed`` as in :meth:`rows`.
        """
        emb = REINDEXED if reindexed else "embedding"
        last = ("", "", -1)
        while True:
            with self._read() as db:
                rows = db.execute(
                    f"SELECT doc, kind, user_id, status, body, {emb} FROM items "
                    "WHERE status = 'activated' AND (user_id, kind, doc) > (?, ?, ?) "
                    "ORDER BY user_id, kind, doc LIMIT ?",
                    (*last, batch),
                ).fetchall()
            if not rows:
                return
            last = (rows[-1][2], rows[-1][1], rows[-1][0])
            yield [stored_row(r) for r in rows]

    def get(self, item_id: str) -> Item | None:
        with self._read() as db:
            row = db.execute("SELECT kind, body FROM items WHERE id = ?", (item_id,)).fetchone()
        return None if row is None else DECODERS[row[0]].decode(row[1])

    def visible(
        self, docs: Sequence[int], user_id: str, kind: Kind, flt: CompiledFilter | None
    ) -> dict[int, Item]:
        """Those of ``docs`` that are, now, activated items of ``kind`` of ``user_id`` passing
        ``flt``, decoded.

        This is where index hits become answers, so it re-checks everything a search promises:
        an index may briefly hold a doc that a concurrent write has deleted or archived.
        """
        where, params = _active_where(user_id, kind, flt)
        out: dict[int, Item] = {}
        with self._read() as db:
            for marks, chunk in in_chunks(docs):
                for doc, body in db.execute(
                    f"SELECT doc, body FROM items WHERE doc IN ({marks}) AND {where}",
                    (*chunk, *params),
                ):
                    out[doc] = DECODERS[kind].decode(body)
        return out

    def filter_docs(self, user_id: str, kind: Kind, flt: CompiledFilter) -> np.ndarray:
        """Docs of the user's activated items of ``kind`` that pass the filter (sorted int64)."""
        with self._read() as db:
            rows = db.execute(
                "SELECT doc FROM items WHERE user_id = ? AND kind = ? AND status = 'activated' "
                f"AND ({flt.sql}) ORDER BY doc",
                (user_id, kind, *flt.params),
            ).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def page(
        self, user_id: str, kind: Kind, flt: CompiledFilter | None, offset: int, limit: int
    ) -> tuple[list[Item], int]:
        """A page of the user's activated items of ``kind``, newest first, and the total."""
        where, params = _active_where(user_id, kind, flt)
        with self._read() as db:
            total = db.execute(f"SELECT count(*) FROM items WHERE {where}", params).fetchone()
            rows = db.execute(
                f"SELECT kind, body FROM items WHERE {where} "
                "ORDER BY create_time DESC, doc DESC LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
        return [DECODERS[k].decode(b) for k, b in rows], int(total[0])

    def matching(self, flt: CompiledFilter, user_id: str | None = None) -> list[str]:
        """Ids of the items (any status) that pass the filter, of one user or of all."""
        where, params = f"({flt.sql})", flt.params
        if user_id is not None:
            where, params = f"user_id = ? AND {where}", (user_id, *params)
        with self._read() as db:
            rows = db.execute(f"SELECT id FROM items WHERE {where}", params).fetchall()
        return [r[0] for r in rows]

    def owners(self, ids: Sequence[str]) -> dict[str, tuple[str, Kind]]:
        """``id -> (user_id, kind)`` for the ids that exist."""
        with self._read() as db:
            return owners_of(db, list(ids))

    def user_ids(self) -> list[str]:
        """Every user with an item (of any status) or a chat message here, sorted."""
        with self._read() as db:
            rows = db.execute(
                "SELECT user_id FROM items UNION SELECT user_id FROM messages ORDER BY 1"
            ).fetchall()
        return [r[0] for r in rows]

    def some_user(self) -> str | None:
        """The user of one activated item (any), or ``None`` in an empty store."""
        with self._read() as db:
            row = db.execute(
                "SELECT user_id FROM items WHERE status = 'activated' LIMIT 1"
            ).fetchone()
        return None if row is None else row[0]

    def count_active(self) -> int:
        """How many items are activated (maintained by triggers, O(1))."""
        with self._read() as db:
            return db.execute("SELECT n FROM counts WHERE name = 'activated'").fetchone()[0]

    def stats(self) -> dict[str, int]:
        with self._read() as db:
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


def owners_of(db: sqlite3.Connection, ids: list[str]) -> dict[str, tuple[str, Kind]]:
    """``id -> (user_id, kind)`` for those of ``ids`` stored, read on ``db`` (so a write
    transaction can check owners inside itself)."""
    out: dict[str, tuple[str, Kind]] = {}
    for marks, chunk in in_chunks(ids):
        for id_, user, kind in db.execute(
            f"SELECT id, user_id, kind FROM items WHERE id IN ({marks})", chunk
        ):
            out[id_] = (user, kind)
    return out


def _active_where(user_id: str, kind: Kind, flt: CompiledFilter | None) -> tuple[str, tuple]:
    """The WHERE clause (and its parameters) of one user's activated items of ``kind`` passing
    ``flt``."""
    where = "user_id = ? AND kind = ? AND status = 'activated'"
    params: tuple = (user_id, kind)
    if flt is not None:
        where += f" AND ({flt.sql})"
        params += flt.params
    return where, params
