"""One owner's rows of the dense index (:mod:`hybridmem.dense`): a loaded block is a view of
the memory-mapped snapshot until it first changes, then an owned, growable copy."""

from __future__ import annotations

import numpy as np

__all__ = ["Block"]


class Block:
    """One owner's rows: doc ids, vectors, creation times (ms, NaN if unknown) and interned
    conversation codes (-1 if none), the last two for the ranking boosts."""

    __slots__ = ("checked", "convs", "crc", "docs", "n", "owned", "times", "vecs")

    def __init__(
        self,
        docs: np.ndarray,
        vecs: np.ndarray,
        times: np.ndarray,
        convs: np.ndarray,
        *,
        owned: bool,
        crc: int | None = None,
    ) -> None:
        self.docs, self.vecs, self.times, self.convs = docs, vecs, times, convs
        self.n = len(docs) if not owned else 0
        self.owned = owned
        # crc: the saved crc32 of a loaded block's vectors (None once the block is owned);
        # checked: whether the mapped vectors were compared with it.
        self.crc = crc
        self.checked = owned

    @classmethod
    def empty(cls, dim: int, capacity: int = 8) -> Block:
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

    def take(self, idx: np.ndarray, dim: int) -> Block:
        """A new owned block holding rows ``idx``."""
        fresh = Block.empty(dim, capacity=max(8, len(idx)))
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
        grown = Block.empty(self.vecs.shape[1], capacity=cap)
        for dst, src in zip(grown.columns_full(), self.columns(), strict=True):
            dst[: self.n] = src
        self.docs, self.vecs, self.times, self.convs = grown.columns_full()
        self.owned = self.checked = True
        self.crc = None
