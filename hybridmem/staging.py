"""A reindex's staging, open to embeddings computed elsewhere (:mod:`hybridmem.cluster`'s
distributed reindex): the texts still to embed go out in batches, their vectors come back and
are committed as :func:`hybridmem.reindex.encode_pending` commits its own. A later
``Engine.reindex(model=...)`` to the same model finds them staged, embeds only what is still
missing (items written meanwhile) and switches, so the same resumable staging and atomic switch
serve a local and a distributed reindex.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import numpy as np

from .errors import InvalidRequestError
from .store import Store

__all__ = ["PendingBatch", "ReindexStaging", "begin_staging"]


class PendingBatch(msgspec.Struct, frozen=True, kw_only=True):
    """Items to embed, in doc order: their docs, current text hashes and texts."""

    docs: list[int]
    hashes: list[str]
    texts: list[str]


def begin_staging(store: Store, target: str) -> None:
    """Stage embeddings of ``target`` from now on; those of another target are dropped."""
    if store.meta_get("reindex") != target:
        store.clear_reindex()
        store.meta_set("reindex", target)


class ReindexStaging:
    """The staging of ``store`` for model ``target`` (dimension ``dim``)."""

    def __init__(self, store: Store, *, target: str, dim: int) -> None:
        self.store, self.target, self.dim = store, target, dim
        begin_staging(store, target)

    def pending(self, after_doc: int, limit: int, *, upto_doc: int | None = None) -> PendingBatch:
        """Up to ``limit`` items after ``after_doc`` (up to ``upto_doc``) with no staged
        embedding of their text."""
        rows = self.store.reindex_pending(after_doc, limit, upto_doc=upto_doc)
        return PendingBatch(
            docs=[r[0] for r in rows], hashes=[r[1] for r in rows], texts=[r[2] for r in rows]
        )

    def put(self, docs: Sequence[int], hashes: Sequence[str], vectors: np.ndarray) -> int:
        """Commit one batch of embeddings (of the texts whose hashes are given); returns its
        size. A text changed since it was read keeps its old hash here and is embedded again
        by the reindex."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape != (len(docs), self.dim) or len(hashes) != len(docs):
            raise InvalidRequestError(
                f"expected {len(docs)} vectors of dimension {self.dim} for {self.target!r}, "
                f"got shape {vectors.shape}"
            )
        if self.store.meta_get("reindex") != self.target:
            raise InvalidRequestError(f"the store is no longer staging {self.target!r}")
        self.store.put_reindex_embeddings(docs, hashes, vectors)
        return len(docs)

    def last_doc(self) -> int:
        """The highest doc number in use: the pending items lie in ``(0, last_doc]``, so
        readers can split the range between them."""
        return self.store.last_doc()

    def counts(self) -> tuple[int, int]:
        """``(items, items whose current text has a staged embedding)``."""
        return self.store.reindex_counts()
