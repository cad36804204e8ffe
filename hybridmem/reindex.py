"""Offline reindex: rebuild a store's derived indexes (and its embeddings, for a new model)
beside the live ones, then switch, while searches and writes go on.

The phases (``Engine.reindex`` runs them; only the last blocks writers, and never searches):

1. **encode** (new model only): every item's text is embedded by :func:`embed_batch` in batches;
   each batch is committed to the store's ``reindex_embeddings`` table, so a killed reindex
   resumes from its last committed batch. Items written meanwhile are picked up later.
2. **build**: the next generation of the lexical and/or dense index is built from the store as
   of change ``seq`` S, in new directories (``lexical-g``, ``dense-g``); the live ones are
   untouched and keep serving. The change log after S is kept.
3. **switch** (writers blocked): items written since are encoded, the changes after S replayed
   into the new indexes, the dense snapshot saved, the new embeddings and model committed to
   SQLite in one transaction, and ``manifest.json`` replaced atomically. The engine then serves
   the new generation; searches already running finish on the old one, whose directories are
   removed (their open files stay readable until closed).

A crash before the SQLite commit leaves the old generation live and the encoded batches kept; a
crash between that commit and the manifest makes the next open rebuild the indexes from the
store (with an ``IndexRebuiltWarning``). Either way the store opens and answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Literal, TypeAlias

import msgspec
import numpy as np

from .encoder import Encoder
from .store import Store

__all__ = ["Only", "ReindexReport", "embed_batch", "encode_pending"]

Only: TypeAlias = Literal["lexical", "dense"]

#: ``on_progress(phase, done, total)``: phase is "encode", "build" or "switch".
ProgressFn: TypeAlias = Callable[[str, int, int], None]


class ReindexReport(msgspec.Struct, frozen=True, kw_only=True):
    """What a reindex did.

    Attributes:
        model: the store's embedding model after the reindex.
        dim: its dimension.
        items: items in the store at the switch.
        encoded: items embedded by this run (0 unless the model changed).
        resumed: items whose embeddings an earlier, interrupted run had already committed.
        lexical_generation / dense_generation: the live generations after the switch.
        seconds: wall time of the whole reindex.
        encode_seconds: time spent embedding (the encoder's share of ``seconds``).
        items_per_second: ``encoded / seconds`` when embedding, else ``items / seconds``.
    """

    model: str
    dim: int
    items: int
    encoded: int
    resumed: int
    lexical_generation: int
    dense_generation: int
    seconds: float
    encode_seconds: float
    items_per_second: float


def embed_batch(encoder: Encoder, ids: Sequence[int], texts: Sequence[str]) -> np.ndarray:
    """The unit of embedding work: ``(len(texts), dim)`` L2-normalised float32 for ``texts``.

    Pure in its inputs (ids only label the batch), so the same step can run on another worker
    over a shard of (ids, texts), e.g. a distributed engine across user shards.
    """
    if len(ids) != len(texts):
        raise ValueError("ids and texts differ in length")
    return encoder.encode_docs(list(texts))


def encode_pending(
    store: Store,
    encoder: Encoder,
    *,
    batch_size: int,
    on_batch: Callable[[int], None] | None = None,
) -> tuple[int, float]:
    """Embed every item that has no reindex embedding of its current text yet.

    Each batch is committed before the next starts. Returns ``(items encoded, seconds spent in
    the encoder)``.
    """
    encoded, seconds, after = 0, 0.0, 0
    while True:
        pending = store.reindex_pending(after, batch_size)
        if not pending:
            return encoded, seconds
        docs = [d for d, _, _ in pending]
        start = time.perf_counter()
        vectors = embed_batch(encoder, docs, [t for _, _, t in pending])
        seconds += time.perf_counter() - start
        store.put_reindex_embeddings(docs, [h for _, h, _ in pending], vectors)
        encoded += len(pending)
        after = docs[-1]
        if on_batch is not None:
            on_batch(len(pending))
