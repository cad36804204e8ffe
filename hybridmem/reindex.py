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
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeAlias

import msgspec
import numpy as np

from .derived import DerivedIndexes, build_dense, build_lexical, replay, save_dense
from .encoder import Encoder, load_encoder
from .errors import InvalidRequestError, StoreClosedError
from .generation import Generation, make_generation
from .handle import StoreHandle
from .manifest import (
    DENSE_DIR,
    FORMAT_VERSION,
    LEXICAL_DIR,
    IndexSeq,
    Manifest,
    index_path,
    stale_generations,
    write_manifest,
)
from .progress import bar
from .staging import ReindexStaging, begin_staging
from .store import Store
from .validate import check_reindex

__all__ = [
    "Only",
    "ProgressFn",
    "ReindexReport",
    "Reindexer",
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


class Reindexer:
    """Runs the reindexes of one open store, one at a time.

    ``rebuilt(seq)`` is told when a lexical rebuild reflecting change ``seq`` switched in (the
    compactor's clock)."""

    def __init__(self, handle: StoreHandle, rebuilt: Callable[[int], None]) -> None:
        self._handle = handle
        self._rebuilt = rebuilt
        self._running = threading.Lock()

    def run(
        self,
        model: str | None,
        batch_size: int,
        only: Only | None,
        progress: bool,
        on_progress: ProgressFn | None,
        stopping: Callable[[], bool] | None,
    ) -> ReindexReport | None:
        """Run a reindex (``None`` when another one is running); ``stopping()`` true makes it
        give up at its next step."""
        if not self._running.acquire(blocking=False):
            return None
        try:
            seq = self._handle.store.max_seq()
            report = run_reindex(
                self._handle, model=model, batch_size=batch_size, only=only, progress=progress,
                on_progress=on_progress or (lambda phase, done, total: None), stopping=stopping,
            )  # fmt: skip
            if only != "dense":
                self._rebuilt(seq)
            return report
        finally:
            self._running.release()

    def staging(self, model: str) -> ReindexStaging:
        """The staging of a reindex to ``model`` (loads the model, for its name and dimension).

        Raises:
            InvalidRequestError: the store already holds that model's embeddings.
        """
        handle = self._handle
        current = handle.generation.model
        if check_reindex(model=model, batch_size=1, only=None, current_model=current) is None:
            raise InvalidRequestError(f"the store already holds embeddings of {model!r}")
        encoder = load_encoder(model, config=handle.config)
        return ReindexStaging(handle.store, target=encoder.name, dim=encoder.dim)


def run_reindex(
    handle: StoreHandle,
    *,
    model: str | None,
    batch_size: int,
    only: Only | None,
    progress: bool,
    on_progress: ProgressFn,
    stopping: Callable[[], bool] | None = None,
) -> ReindexReport:
    """Rebuild the indexes of ``handle``'s store (see the module docstring for the phases)."""
    started = time.perf_counter()
    current = handle.generation
    work = _plan(handle, current, model, batch_size, only, on_progress)
    if model is not None:
        _encode_phase(handle.store, work, progress)

    def check_open() -> None:
        handle.check_open()
        if stopping is not None and stopping():
            raise StoreClosedError(f"the engine for {handle.directory} is closing")

    fresh = _build_and_switch(handle, current, work, check_open)
    # Searches that started on the old generation finish before its files go.
    current.users.wait_idle(timeout=30.0)
    old = current.indexes
    for name, on, gen in (
        (LEXICAL_DIR, work.do_lexical, old.lexical_generation),
        (DENSE_DIR, work.do_dense, old.dense_generation),
    ):
        if on:
            shutil.rmtree(index_path(handle.directory, name, gen), ignore_errors=True)
    seconds = time.perf_counter() - started
    items = handle.store.reindex_counts()[0]
    return ReindexReport(
        model=work.target,
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


def _plan(
    handle: StoreHandle,
    current: Generation,
    model: str | None,
    batch_size: int,
    only: Only | None,
    on_progress: ProgressFn,
) -> _Work:
    """The run's targets (loading a new model: it fails here, before anything changed), with
    an interrupted reindex's directories removed."""
    old = current.indexes
    encoder, target = current.encoder, current.model
    if model is not None:
        encoder = load_encoder(model, config=handle.config)
        target = encoder.name  # what the store records (a backend suffix may differ)
    work = _Work(
        model=model,
        encoder=encoder,
        dim=encoder.dim if model is not None else old.dim,
        target=target,
        generation=max(old.lexical_generation, old.dense_generation) + 1,
        do_lexical=only != "dense",
        do_dense=only != "lexical",
        batch_size=batch_size,
        on_progress=on_progress,
    )
    live = {LEXICAL_DIR: old.lexical_generation, DENSE_DIR: old.dense_generation}
    for path in stale_generations(handle.directory, live):
        shutil.rmtree(path, ignore_errors=True)
    return work


def _encode_phase(store: Store, work: _Work, progress: bool) -> None:
    """Phase 1: embed every item for the new model, resuming an interrupted run's batches."""
    begin_staging(store, work.target)  # another target before: start over
    total, work.resumed = store.reindex_counts()
    work.goal = total - work.resumed  # for progress only: later passes are not recounted
    progress_bar = bar(progress, work.goal, "embedding")
    try:
        work.encode(store, progress_bar)
    finally:
        if progress_bar is not None:
            progress_bar.close()


def _build_and_switch(
    handle: StoreHandle, current: Generation, work: _Work, check_open: Callable[[], None]
) -> DerivedIndexes:
    """Build the next generation beside the live one, then switch to it with writers blocked.

    Returns the new indexes. On failure the new directories are removed and the old
    generation keeps serving, unless the store had already switched (then the engine stops:
    reopening rebuilds whatever the manifest does not match)."""
    store, old = handle.store, current.indexes
    lexical_path = index_path(handle.directory, LEXICAL_DIR, work.generation)
    dense_path = index_path(handle.directory, DENSE_DIR, work.generation)
    reindexed = work.model is not None
    with handle.lock:
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
                store, lexical_path, heap_bytes=handle.config.rebuild_heap_bytes,
                check=check_open,
            )  # fmt: skip
        new_dense = build_dense(store, work.dim, reindexed=reindexed) if work.do_dense else None
        work.on_progress("switch", 0, 1)
        with handle.lock:
            check_open()
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
            write_manifest(handle.directory, _manifest(old, work, seq))
            old.release()
            fresh = DerivedIndexes(
                handle.directory, store, model=work.target, dim=work.dim,
                heap_bytes=handle.config.writer_heap_bytes,
            )  # fmt: skip
            handle.install(make_generation(handle.config, work.target, work.encoder, fresh))
            work.on_progress("switch", 1, 1)
            return fresh
    except BaseException:
        old.retain_from = None
        if new_lexical is not None:
            new_lexical.close()
        if switched:
            handle.abandon()
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
