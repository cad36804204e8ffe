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

import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeAlias

import msgspec
import numpy as np

from .config import EngineConfig
from .derived import (
    DENSE_DIR,
    FORMAT_VERSION,
    LEXICAL_DIR,
    DerivedIndexes,
    IndexSeq,
    Manifest,
    build_dense,
    build_lexical,
    index_path,
    replay,
    save_dense,
    stale_generations,
    write_manifest,
)
from .encoder import Encoder, load_encoder, model_id
from .errors import InvalidRequestError
from .generation import Generation
from .locks import FairLock
from .progress import bar
from .staging import begin_staging
from .store import Store

__all__ = [
    "Only",
    "ProgressFn",
    "ReindexHost",
    "ReindexReport",
    "check_reindex_args",
    "embed_batch",
    "encode_pending",
    "run_reindex",
]

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


def check_reindex_args(*, model: Any, batch_size: Any, only: Any, current_model: str) -> str | None:
    """Check a reindex's arguments; returns the model to move to (``None``: keep the store's).

    Raises:
        InvalidRequestError: on the first bad argument.
    """
    if only not in (None, "lexical", "dense"):
        raise InvalidRequestError(f"only must be 'lexical' or 'dense', got {only!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidRequestError(f"batch_size must be a positive integer, got {batch_size!r}")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise InvalidRequestError("model must be a non-empty name or path")
    if model is None or model_id(model) == current_model:  # another backend of the same model
        return None
    if only == "lexical":
        raise InvalidRequestError(
            "a new model needs new embeddings and a new dense index: drop --only lexical"
        )
    return model


class ReindexHost(msgspec.Struct, frozen=True, kw_only=True):
    """What a reindex needs of the engine it runs in.

    Attributes:
        store, directory, config, lock: the engine's store, its directory and config, and its
            write lock (held for the final switch only).
        current: the live generation when the reindex starts.
        make_generation: ``(model, encoder, indexes) -> Generation`` over new indexes.
        install: makes a generation the live one (called with the lock held).
        check_open: raises if the engine was closed meanwhile.
        abandon: stops the engine when the store moved on but the engine could not follow.
    """

    store: Store
    directory: Path
    config: EngineConfig
    lock: FairLock
    current: Generation
    make_generation: Callable[[str, Encoder, DerivedIndexes], Generation]
    install: Callable[[Generation], None]
    check_open: Callable[[], None]
    abandon: Callable[[], None]


class _Work(msgspec.Struct, kw_only=True):
    """One reindex run's targets and counters."""

    model: str | None  # the new model, or None to keep the store's
    encoder: Encoder
    dim: int
    target: str
    generation: int
    do_lexical: bool
    do_dense: bool
    batch_size: int
    on_progress: ProgressFn
    encoded: int = 0
    resumed: int = 0
    goal: int = 0
    encode_seconds: float = 0.0

    def encode(self, store: Store, progress_bar: Any = None) -> None:
        """Embed what has no reindex embedding yet (only when moving to a new model)."""
        done = self.encoded

        def step(n: int) -> None:
            nonlocal done
            done += n
            if progress_bar is not None:
                progress_bar.update(n)
            self.on_progress("encode", done, self.goal)

        n, secs = encode_pending(store, self.encoder, batch_size=self.batch_size, on_batch=step)
        self.encoded += n
        self.encode_seconds += secs


def run_reindex(
    host: ReindexHost,
    *,
    model: str | None,
    batch_size: int,
    only: Only | None,
    progress: bool,
    on_progress: ProgressFn,
) -> ReindexReport:
    """Rebuild the indexes of ``host``'s store (see the module docstring for the phases)."""
    started = time.perf_counter()
    store, old = host.store, host.current.indexes
    encoder, target = host.current.encoder, host.current.model
    if model is not None:
        encoder = load_encoder(model, config=host.config)
        target = encoder.name  # what the store records (a backend suffix may differ)
    work = _Work(
        model=model,
        encoder=encoder,
        dim=encoder.dim if model is not None else old.dim,  # loads a new model: fails here
        target=target,
        generation=max(old.lexical_generation, old.dense_generation) + 1,
        do_lexical=only != "dense",
        do_dense=only != "lexical",
        batch_size=batch_size,
        on_progress=on_progress,
    )
    live = {LEXICAL_DIR: old.lexical_generation, DENSE_DIR: old.dense_generation}
    for path in stale_generations(host.directory, live):  # an interrupted reindex's
        shutil.rmtree(path, ignore_errors=True)
    if model is not None:
        begin_staging(store, target)  # another target before: start over
        total, work.resumed = store.reindex_counts()
        work.goal = total - work.resumed  # for progress only: later passes are not recounted
        progress_bar = bar(progress, work.goal, "embedding")
        try:
            work.encode(store, progress_bar)
        finally:
            if progress_bar is not None:
                progress_bar.close()
    fresh = _build_and_switch(host, work)
    # Searches that started on the old generation finish before its files go.
    host.current.users.wait_idle(timeout=30.0)
    for name, on, gen in (
        (LEXICAL_DIR, work.do_lexical, old.lexical_generation),
        (DENSE_DIR, work.do_dense, old.dense_generation),
    ):
        if on:
            shutil.rmtree(index_path(host.directory, name, gen), ignore_errors=True)
    seconds = time.perf_counter() - started
    items = store.reindex_counts()[0]
    return ReindexReport(
        model=target,
        dim=work.dim,
        items=items,
        encoded=work.encoded,
        resumed=work.resumed,
        lexical_generation=fresh.lexical_generation,
        dense_generation=fresh.dense_generation,
        seconds=seconds,
        encode_seconds=work.encode_seconds,
        items_per_second=(work.encoded if model is not None else items) / max(seconds, 1e-9),
    )


def _build_and_switch(host: ReindexHost, work: _Work) -> DerivedIndexes:
    """Build the next generation beside the live one, then switch to it with writers blocked.

    Returns the new indexes. On failure the new directories are removed and the old
    generation keeps serving, unless the store had already switched (then the engine stops:
    reopening rebuilds whatever the manifest does not match)."""
    store, old = host.store, host.current.indexes
    lexical_path = index_path(host.directory, LEXICAL_DIR, work.generation)
    dense_path = index_path(host.directory, DENSE_DIR, work.generation)
    reindexed = work.model is not None
    with host.lock:
        since = store.max_seq()  # the build reflects at least this; later changes replay
        old.retain_from = since
    new_lexical = None
    switched = False
    try:
        if reindexed:
            work.encode(store)  # items written while the first pass ran
        work.on_progress("build", 0, 1)
        if work.do_lexical:
            new_lexical = build_lexical(
                store, lexical_path, heap_bytes=host.config.rebuild_heap_bytes,
                check=host.check_open,
            )  # fmt: skip
        new_dense = build_dense(store, work.dim, reindexed=reindexed) if work.do_dense else None
        work.on_progress("switch", 0, 1)
        with host.lock:
            host.check_open()
            if reindexed:
                work.encode(store)  # items written while the indexes were built
            replay(store, since, new_lexical, new_dense, reindexed=reindexed)
            seq = store.max_seq()
            if new_dense is not None:
                save_dense(new_dense, dense_path, seq)
            if new_lexical is not None:
                new_lexical.close()
            if reindexed:
                store.switch_embeddings(work.target, work.dim)
            switched = True
            write_manifest(host.directory, _manifest(old, work, seq))
            old.release()
            fresh = DerivedIndexes(
                host.directory, store, model=work.target, dim=work.dim,
                heap_bytes=host.config.writer_heap_bytes,
            )  # fmt: skip
            host.install(host.make_generation(work.target, work.encoder, fresh))
            work.on_progress("switch", 1, 1)
            return fresh
    except BaseException:
        old.retain_from = None
        if new_lexical is not None:
            new_lexical.close()
        if switched:
            host.abandon()
            raise
        for path in (lexical_path, dense_path):
            shutil.rmtree(path, ignore_errors=True)
        raise


def _manifest(old: DerivedIndexes, work: _Work, seq: int) -> Manifest:
    return Manifest(
        format_version=FORMAT_VERSION,
        model=work.target,
        dim=work.dim,
        store_seq=seq,
        lexical=IndexSeq(
            seq=seq, generation=work.generation if work.do_lexical else old.lexical_generation
        ),
        dense=IndexSeq(
            seq=seq if work.do_dense else old.dense_saved_seq,
            generation=work.generation if work.do_dense else old.dense_generation,
        ),
    )
