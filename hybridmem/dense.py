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
dimension, the store seq it reflects, each owner's ``[start, count, crc32 of its vectors]``, the
crc32 of the other three arrays and the conversation ids, and carries the crc32 of its own bytes. A
snapshot is written as a new generation and switched by replacing ``blocks.json`` atomically, so a
crash mid-save leaves the previous snapshot intact. Loading checks ``blocks.json`` and the small
arrays whole and maps the vectors read-only (fast reopen: they are 1.5 GB at 1M items); a block's
vectors are checked against their crc32 the first time the block is read, and a block that fails
is rebuilt through the index's ``repair`` callback (from the store). A block is copied into memory
the first time it changes.
"""

from __future__ import annotations

import itertools
import os
import threading
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
import numpy as np

from .dense_block import Block
from .errors import DenseIndexError
from .lazy import LazyModule
from .store import StoredRow
from .terms import empty_hits, owner_key

if TYPE_CHECKING:
    import faiss
else:
    faiss = LazyModule("faiss")

__all__ = ["DenseIndex", "DenseIndexError", "Repair"]

_FORMAT = 3  # 2: per-row creation times and conversation codes; 3: crc32 checksums
_MANIFEST = "blocks.json"
_SAVES = itertools.count()
_ARRAYS = ("docs", "times", "convs")  # checked whole at load; the vectors per block

#: Called with an owner key when that owner's saved vectors fail their checksum; returns the
#: owner's activated rows (from the store), which replace the block.
Repair = Callable[[str], Sequence[StoredRow]]


class _Snapshot(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``blocks.json``: which generation is live and where each owner's block starts."""

    format: int
    dim: int
    seq: int
    count: int
    generation: str
    blocks: list[tuple[str, int, int, int]]  # owner, start, rows, crc32 of its vectors
    conversations: list[str]
    crc32: dict[str, int]  # of the data of docs, times and convs


class _Sealed(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What ``blocks.json`` holds: the snapshot's JSON and the crc32 of exactly those bytes."""

    crc32: int
    snapshot: msgspec.Raw


class DenseIndex:
    """Per-owner blocks of normalised embeddings. Thread-safe.

    ``repair`` rebuilds a loaded block whose vectors fail their checksum (without it, reading
    such a block raises :class:`DenseIndexError`); ``repaired`` then tells that the snapshot on
    disk is damaged and should be saved again.
    """

    def __init__(self, dim: int, *, repair: Repair | None = None) -> None:
        self.dim = dim
        self._blocks: dict[str, Block] = {}
        self._conv_names: list[str] = []  # interned conversation ids, by code
        self._conv_codes: dict[str, int] = {}
        self._lock = threading.RLock()
        self._repair = repair
        self.repaired = False

    def _block(self, owner: str) -> Block | None:
        """The owner's block, its mapped vectors checked against their crc32 on first use."""
        block = self._blocks.get(owner)
        if block is None or block.checked:
            return block
        if _crc32(block.vecs) == block.crc:
            block.checked = True
            return block
        if self._repair is None:
            raise DenseIndexError(f"the saved vectors of {owner!r} fail their checksum")
        del self._blocks[owner]
        rows = [r for r in self._repair(owner) if r.embedding is not None]
        if any(r.embedding is None or r.embedding.shape != (self.dim,) for r in rows):
            raise DenseIndexError(f"the store has no {self.dim}-d embeddings for {owner!r}")
        if rows:
            self._append(owner, rows)
        self.repaired = True
        return self._blocks.get(owner)

    def verify(self) -> None:
        """Check every loaded block's vectors now (``repair`` rebuilds those that fail)."""
        with self._lock:
            for owner in list(self._blocks):
                self._block(owner)

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
        block = self._block(owner)
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
        block = self._block(owner)
        if block is None:
            block = self._blocks[owner] = Block.empty(self.dim, capacity=max(8, len(rows)))
        block.own(len(rows))
        end = block.n + len(rows)
        block.docs[block.n : end] = [r.doc for r in rows]
        block.vecs[block.n : end] = np.stack([r.embedding for r in rows if r.embedding is not None])
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
            block = self._block(owner_key(kind, user_id))
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
    def _rows(block: Block, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
            block = self._block(owner_key(kind, user_id))
            if block is None or len(docs) == 0:
                return out
            rows, found = self._rows(block, docs)
            out[found] = block.vecs[rows[found]]
        return out

    def conversation_code(self, conversation_id: str | None) -> int:
        """The interned code of a conversation id (-1 for ``None`` or an id no row has)."""
        if conversation_id is None:
            return -1
        with self._lock:
            return self._conv_codes.get(conversation_id, -1)

    def context_codes_of(
        self, kind: str, user_id: str, docs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per doc: its conversation's code (:meth:`conversation_code`; -1 for none or an
        unknown doc) and creation time in ms (NaN if unknown)."""
        codes = np.full(len(docs), -1, dtype=np.int64)
        times = np.full(len(docs), np.nan)
        with self._lock:
            block = self._block(owner_key(kind, user_id))
            if block is None or len(docs) == 0:
                return codes, times
            rows, found = self._rows(block, docs)
            codes[found] = block.convs[rows[found]]
            times[found] = block.times[rows[found]]
        return codes, times

    def context_of(
        self, kind: str, user_id: str, docs: np.ndarray
    ) -> tuple[list[str | None], np.ndarray]:
        """Per doc: its conversation id and creation time in ms (``None`` / NaN if unknown)."""
        codes, times = self.context_codes_of(kind, user_id, docs)
        with self._lock:
            return [None if c < 0 else self._conv_names[c] for c in codes.tolist()], times

    def scores_of(self, kind: str, user_id: str, query: np.ndarray, docs: np.ndarray) -> np.ndarray:
        """Cosine of ``query`` with each of ``docs`` (NaN for a doc not in the owner's block)."""
        return (self.vectors_of(kind, user_id, docs) @ query).astype(np.float32)

    def owner_keys(self) -> list[str]:
        """Every owner (``kind:user_id``) that has a block, sorted."""
        with self._lock:
            return sorted(self._blocks)

    def contents(self, owner: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str | None]]:
        """One owner's docs, vectors, creation times and conversation ids, in block order."""
        with self._lock:
            block = self._block(owner)
            if block is None:
                return np.empty(0, np.int64), np.empty((0, self.dim), np.float32), np.empty(0), []
            docs, vecs, times, convs = (np.array(c) for c in block.columns())
            names = [None if c < 0 else self._conv_names[c] for c in convs.tolist()]
        return docs, vecs, times, names

    # -- persistence ----------------------------------------------------------------------------

    def save(self, directory: Path, seq: int) -> None:
        """Write a snapshot reflecting store change ``seq`` (crash-safe generation switch)."""
        directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            owners = sorted(self._blocks)
            total = sum(self._blocks[o].n for o in owners)
            # Never the live generation's name, even for a save at the same seq (after a
            # repair): its vectors file is mapped by the blocks being copied.
            gen = f"{seq}-{os.getpid()}-{next(_SAVES)}"
            vecs = np.lib.format.open_memmap(
                directory / f"vectors-{gen}.npy", mode="w+", dtype=np.float32,
                shape=(total, self.dim),
            )  # fmt: skip
            docs = np.empty(total, dtype=np.int64)
            times = np.empty(total, dtype=np.float64)
            convs = np.empty(total, dtype=np.int32)
            spans = []
            start = 0
            targets: tuple[np.ndarray, ...] = (docs, vecs, times, convs)
            for owner in owners:
                b = self._blocks[owner]
                end = start + b.n
                for dst, src in zip(targets, b.columns(), strict=True):
                    dst[start:end] = src
                # A loaded block's bytes are copied as they are, so its saved crc still holds
                # (and still catches damage it was not yet checked for).
                crc = b.crc if b.crc is not None else _crc32(b.vecs[: b.n])
                spans.append((owner, start, b.n, crc))
                start = end
            vecs.flush()
            del vecs
            arrays: dict[str, np.ndarray] = dict(zip(_ARRAYS, (docs, times, convs), strict=True))
            for name, arr in arrays.items():
                np.save(directory / f"{name}-{gen}.npy", arr)
            snapshot = _Snapshot(
                format=_FORMAT, dim=self.dim, seq=seq, count=total, generation=gen,
                blocks=spans, conversations=list(self._conv_names),
                crc32={name: _crc32(arr) for name, arr in arrays.items()},
            )  # fmt: skip
            self.repaired = False
        body = msgspec.json.encode(snapshot)
        tmp = directory / f"{_MANIFEST}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(
                msgspec.json.encode(_Sealed(crc32=zlib.crc32(body), snapshot=msgspec.Raw(body)))
            )
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, directory / _MANIFEST)
        for old in directory.iterdir():  # previous generations
            if old.suffix == ".npy" and gen not in old.name:
                old.unlink(missing_ok=True)

    @classmethod
    def load(
        cls, directory: Path, dim: int, *, repair: Repair | None = None
    ) -> tuple[DenseIndex, int]:
        """Open a snapshot; returns the index and the store seq it reflects.

        ``blocks.json`` and the docs, times and conversation arrays are checked against their
        crc32 here, each block's vectors when the block is first read (see :class:`DenseIndex`).
        """
        try:
            snap = _read_snapshot(directory / _MANIFEST)
            if snap.format != _FORMAT or snap.dim != dim:
                raise DenseIndexError(
                    f"format {snap.format} / dim {snap.dim}, expected {_FORMAT} / {dim}"
                )
            gen = snap.generation
            # a plain ndarray view of the map: slicing a np.memmap costs a subclass round trip
            vecs = np.load(directory / f"vectors-{gen}.npy", mmap_mode="r").view(np.ndarray)
            docs, times, convs = (np.load(directory / f"{n}-{gen}.npy") for n in _ARRAYS)
            count = snap.count
            if (
                vecs.shape != (count, dim)
                or vecs.dtype != np.float32
                or not vecs.flags.c_contiguous
                or not docs.shape == times.shape == convs.shape == (count,)
            ):
                raise DenseIndexError(f"arrays do not match the manifest (count {count})")
            for name, arr in zip(_ARRAYS, (docs, times, convs), strict=True):
                if _crc32(arr) != snap.crc32.get(name):
                    raise DenseIndexError(f"{name}-{gen}.npy fails its checksum")
            if count and int(convs.max()) >= len(snap.conversations):
                raise DenseIndexError("conversation codes out of range")
            index = cls(dim, repair=repair)
            index._conv_names = list(snap.conversations)
            index._conv_codes = {c: i for i, c in enumerate(snap.conversations)}
            for owner, start, n, crc in snap.blocks:
                if not (start >= 0 and n > 0 and start + n <= count):
                    raise DenseIndexError(f"block {owner!r} out of range")
                end = start + n
                index._blocks[owner] = Block(
                    docs[start:end], vecs[start:end], times[start:end], convs[start:end],
                    owned=False, crc=crc,
                )  # fmt: skip
            return index, snap.seq
        except DenseIndexError:
            raise
        except (OSError, ValueError, msgspec.DecodeError) as exc:
            raise DenseIndexError(f"cannot load the dense index in {directory}: {exc}") from exc


def _read_snapshot(path: Path) -> _Snapshot:
    """``blocks.json``, its checksum verified."""
    try:
        sealed = msgspec.json.decode(path.read_bytes(), type=_Sealed)
    except msgspec.ValidationError as exc:
        raise DenseIndexError(f"{path.name} is damaged or from an older hybridmem ({exc})") from exc
    if zlib.crc32(sealed.snapshot) != sealed.crc32:
        raise DenseIndexError(f"{path.name} fails its checksum")
    return msgspec.json.decode(sealed.snapshot, type=_Snapshot)


def _crc32(arr: np.ndarray) -> int:
    """The crc32 of an array's bytes (C order; a contiguous array is not copied)."""
    return zlib.crc32(np.ascontiguousarray(arr).data)
