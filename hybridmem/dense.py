"""Exact dense search, one contiguous block of vectors per owner (kind + user).

Layout for many tenants: instead of one global matrix searched with a post-filter, every owner
(``kind:user_id``) has its own contiguous ``(n, dim)`` float32 block. A search touches only the
caller's block, so its cost is that user's size (~0.01 ms for 100 vectors, ~1 ms for 10k), not the
store's. Scoring is FAISS's exact inner-product k-NN (``faiss.knn``) over the block; embeddings are
L2-normalised, so scores are cosines. Approximate indexes (HNSW, IVF) are not used: they cannot
restrict to one user without losing recall, and per-user blocks are small enough to scan.

Each row also keeps the memory's creation time and (interned) conversation id, which the ranking
boosts read without a trip to SQLite.

On disk (``dense/``): ``vectors-<gen>.npy``, ``docs-<gen>.npy``, ``times-<gen>.npy`` and
``convs-<gen>.npy`` hold all blocks back to back; ``blocks.json`` names the generation, the
dimension, the store seq it reflects, each owner's ``[start, count]`` and the conversation ids. A
snapshot is written as a new generation and switched by replacing ``blocks.json`` atomically, so a
crash mid-save leaves the previous snapshot intact. Loading maps the vectors read-only (fast
reopen); a block is copied into memory the first time it changes.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import faiss
import msgspec
import numpy as np

from .lexical import empty_hits, owner_key
from .store import StoredRow

__all__ = ["DenseIndex", "DenseIndexError"]

_FORMAT = 2  # 2: per-row creation times and conversation codes
_MANIFEST = "blocks.json"


class DenseIndexError(Exception):
    """The saved dense index is missing or inconsistent (the engine rebuilds it)."""


class _Snapshot(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``blocks.json``: which generation is live and where each owner's block starts."""

    format: int
    dim: int
    seq: int
    count: int
    generation: str
    blocks: list[tuple[str, int, int]]
    conversations: list[str]


class _Block:
    """One owner's rows: doc ids, vectors, creation times (ms, NaN if unknown) and interned
    conversation codes (-1 if none), the last two for the ranking boosts."""

    __slots__ = ("convs", "docs", "n", "owned", "times", "vecs")

    def __init__(
        self,
        docs: np.ndarray,
        vecs: np.ndarray,
        times: np.ndarray,
        convs: np.ndarray,
        *,
        owned: bool,
    ) -> None:
        self.docs, self.vecs, self.times, self.convs = docs, vecs, times, convs
        self.n = len(docs) if not owned else 0
        self.owned = owned

    @classmethod
    def empty(cls, dim: int, capacity: int = 8) -> _Block:
        return cls(
            np.empty(capacity, dtype=np.int64),
            np.empty((capacity, dim), dtype=np.float32),
            np.empty(capacity, dtype=np.float64),
            np.empty(capacity, dtype=np.int32),
            owned=True,
        )

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        n = self.n
        return self.docs[:n], self.vecs[:n], self.times[:n], self.convs[:n]

    def take(self, idx: np.ndarray, dim: int) -> _Block:
        """A new owned block holding rows ``idx``."""
        fresh = _Block.empty(dim, capacity=max(8, len(idx)))
        for dst, src in zip(fresh.columns_full(), self.columns(), strict=True):
            dst[: len(idx)] = src[idx]
        fresh.n = len(idx)
        return fresh

    def columns_full(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.docs, self.vecs, self.times, self.convs

    def own(self, extra: int) -> None:
        """Make the block writable with room for ``extra`` more rows (amortised doubling)."""
        need = self.n + extra
        if self.owned and need <= len(self.docs):
            return
        cap = max(8, need, 2 * len(self.docs) if self.owned else need)
        grown = _Block.empty(self.vecs.shape[1], capacity=cap)
        for dst, src in zip(grown.columns_full(), self.columns(), strict=True):
            dst[: self.n] = src
        self.docs, self.vecs, self.times, self.convs = grown.columns_full()
        self.owned = True


class DenseIndex:
    """Per-owner blocks of normalised embeddings. Thread-safe."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._blocks: dict[str, _Block] = {}
        self._conv_names: list[str] = []  # interned conversation ids, by code
        self._conv_codes: dict[str, int] = {}
        self._lock = threading.RLock()

    def _conv_code(self, conversation_id: str | None) -> int:
        if conversation_id is None:
            return -1
        code = self._conv_codes.get(conversation_id)
        if code is None:
            code = self._conv_codes[conversation_id] = len(self._conv_names)
            self._conv_names.append(conversation_id)
        return code

    # -- updates --------------------------------------------------------------------------------

    def apply(self, remove: Iterable[tuple[int, str]], add: Iterable[StoredRow]) -> None:
        """Drop ``(doc, previous user)`` entries (either kind), then append ``add`` rows."""
        gone: dict[str, list[int]] = defaultdict(list)
        for doc, user_id in remove:
            gone[owner_key("memory", user_id)].append(doc)
            gone[owner_key("preference", user_id)].append(doc)
        new: dict[str, list[StoredRow]] = defaultdict(list)
        for row in add:
            if row.embedding is None or row.embedding.shape != (self.dim,):
                raise DenseIndexError(f"doc {row.doc} has no {self.dim}-d embedding")
            new[owner_key(row.kind, row.user_id)].append(row)
        with self._lock:
            for owner, docs in gone.items():
                self._remove(owner, np.asarray(docs, dtype=np.int64))
            for owner, rows in new.items():
                self._append(owner, rows)

    def _remove(self, owner: str, docs: np.ndarray) -> None:
        block = self._blocks.get(owner)
        if block is None:
            return
        keep = ~np.isin(block.docs[: block.n], docs)
        if keep.all():
            return
        if not keep.any():
            del self._blocks[owner]
            return
        self._blocks[owner] = block.take(np.flatnonzero(keep), self.dim)

    def _append(self, owner: str, rows: list[StoredRow]) -> None:
        block = self._blocks.get(owner)
        if block is None:
            block = self._blocks[owner] = _Block.empty(self.dim, capacity=max(8, len(rows)))
        block.own(len(rows))
        end = block.n + len(rows)
        block.docs[block.n : end] = [r.doc for r in rows]
        block.vecs[block.n : end] = np.stack([r.embedding for r in rows])
        block.times[block.n : end] = [
            np.nan if r.item.create_time is None else r.item.create_time for r in rows
        ]
        block.convs[block.n : end] = [self._conv_code(r.item.conversation_id) for r in rows]
        block.n = end

    # -- queries --------------------------------------------------------------------------------

    def count(self) -> int:
        with self._lock:
            return sum(b.n for b in self._blocks.values())

    def owner_size(self, kind: str, user_id: str) -> int:
        """How many activated items the owner has (0 when none)."""
        block = self._blocks.get(owner_key(kind, user_id))
        return 0 if block is None else block.n

    def owners(self) -> int:
        with self._lock:
            return len(self._blocks)

    def search(
        self, kind: str, user_id: str, query: np.ndarray, k: int, *, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` cosines in one owner's block: ``(docs int64, cosines float32)``, best first."""
        with self._lock:
            block = self._blocks.get(owner_key(kind, user_id))
            if block is None or k <= 0:
                return empty_hits()
            docs = block.docs[: block.n]
            vecs = block.vecs[: block.n]
            if allowed is not None:
                idx = np.flatnonzero(np.isin(docs, allowed))
                docs, vecs = docs[idx], np.ascontiguousarray(vecs[idx])
            if len(docs) == 0:
                return empty_hits()
            k = min(k, len(docs))
            scores, pos = faiss.knn(
                query.reshape(1, -1), vecs, k, metric=faiss.METRIC_INNER_PRODUCT
            )
            return docs[pos[0]].copy(), scores[0].astype(np.float32)

    @staticmethod
    def _rows(block: _Block, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions of ``docs`` in the block, and which of them were found."""
        mine = block.docs[: block.n]
        order = np.argsort(mine, kind="stable")
        where = np.minimum(np.searchsorted(mine, docs, sorter=order), len(mine) - 1)
        rows = order[where]
        return rows, mine[rows] == docs

    def vectors_of(self, kind: str, user_id: str, docs: np.ndarray) -> np.ndarray:
        """The stored vectors of ``docs`` in the owner's block (NaN rows for unknown docs)."""
        out = np.full((len(docs), self.dim), np.nan, dtype=np.float32)
        with self._lock:
            block = self._blocks.get(owner_key(kind, user_id))
            if block is None or len(docs) == 0:
                return out
            rows, found = self._rows(block, docs)
            out[found] = block.vecs[rows[found]]
        return out

    def context_of(
        self, kind: str, user_id: str, docs: np.ndarray
    ) -> tuple[list[str | None], np.ndarray]:
        """Per doc: its conversation id and creation time in ms (``None`` / NaN if unknown)."""
        convs: list[str | None] = [None] * len(docs)
        times = np.full(len(docs), np.nan)
        with self._lock:
            block = self._blocks.get(owner_key(kind, user_id))
            if block is None or len(docs) == 0:
                return convs, times
            rows, found = self._rows(block, docs)
            for i in np.flatnonzero(found):
                code = int(block.convs[rows[i]])
                convs[i] = None if code < 0 else self._conv_names[code]
            times[found] = block.times[rows[found]]
        return convs, times

    def scores_of(self, kind: str, user_id: str, query: np.ndarray, docs: np.ndarray) -> np.ndarray:
        """Cosine of ``query`` with each of ``docs`` (NaN for a doc not in the owner's block)."""
        return (self.vectors_of(kind, user_id, docs) @ query).astype(np.float32)

    # -- persistence ----------------------------------------------------------------------------

    def save(self, directory: Path, seq: int) -> None:
        """Write a snapshot reflecting store change ``seq`` (crash-safe generation switch)."""
        directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            owners = sorted(self._blocks)
            total = sum(self._blocks[o].n for o in owners)
            gen = f"{seq}-{os.getpid()}-{threading.get_ident()}"
            vecs = np.lib.format.open_memmap(
                directory / f"vectors-{gen}.npy", mode="w+", dtype=np.float32,
                shape=(total, self.dim),
            )  # fmt: skip
            docs = np.empty(total, dtype=np.int64)
            times = np.empty(total, dtype=np.float64)
            convs = np.empty(total, dtype=np.int32)
            spans = []
            start = 0
            for owner in owners:
                b = self._blocks[owner]
                end = start + b.n
                for dst, src in zip((docs, vecs, times, convs), b.columns(), strict=True):
                    dst[start:end] = src
                spans.append((owner, start, b.n))
                start = end
            vecs.flush()
            del vecs
            np.save(directory / f"docs-{gen}.npy", docs)
            np.save(directory / f"times-{gen}.npy", times)
            np.save(directory / f"convs-{gen}.npy", convs)
            snapshot = _Snapshot(
                format=_FORMAT, dim=self.dim, seq=seq, count=total, generation=gen,
                blocks=spans, conversations=list(self._conv_names),
            )  # fmt: skip
        tmp = directory / f"{_MANIFEST}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(msgspec.json.encode(snapshot))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, directory / _MANIFEST)
        for old in directory.iterdir():  # previous generations
            if old.suffix == ".npy" and gen not in old.name:
                old.unlink(missing_ok=True)

    @classmethod
    def load(cls, directory: Path, dim: int) -> tuple[DenseIndex, int]:
        """Open a snapshot; returns the index and the store seq it reflects."""
        try:
            snap = msgspec.json.decode((directory / _MANIFEST).read_bytes(), type=_Snapshot)
            if snap.format != _FORMAT or snap.dim != dim:
                raise DenseIndexError(
                    f"format {snap.format} / dim {snap.dim}, expected {_FORMAT} / {dim}"
                )
            gen = snap.generation
            vecs = np.load(directory / f"vectors-{gen}.npy", mmap_mode="r")
            docs = np.load(directory / f"docs-{gen}.npy")
            times = np.load(directory / f"times-{gen}.npy")
            convs = np.load(directory / f"convs-{gen}.npy")
            count = snap.count
            if (
                vecs.shape != (count, dim)
                or vecs.dtype != np.float32
                or not docs.shape == times.shape == convs.shape == (count,)
                or (count and int(convs.max()) >= len(snap.conversations))
            ):
                raise DenseIndexError(f"arrays do not match the manifest (count {count})")
            index = cls(dim)
            index._conv_names = list(snap.conversations)
            index._conv_codes = {c: i for i, c in enumerate(snap.conversations)}
            for owner, start, n in snap.blocks:
                if not (start >= 0 and n > 0 and start + n <= count):
                    raise DenseIndexError(f"block {owner!r} out of range")
                end = start + n
                index._blocks[owner] = _Block(
                    docs[start:end], vecs[start:end], times[start:end], convs[start:end],
                    owned=False,
                )  # fmt: skip
            return index, snap.seq
        except DenseIndexError:
            raise
        except (OSError, ValueError, msgspec.DecodeError) as exc:
            raise DenseIndexError(f"cannot load the dense index in {directory}: {exc}") from exc
