"""Keeping the lexical index in few segments: background compaction of a writable engine.

Every commit of the lexical index writes a segment, and each search pays a fixed cost per
segment (a term lookup per query term, twice: the BM25 statistics and the postings), whatever
the segment's size. Tantivy's merge policy (the default ``LogMergePolicy``; tantivy-py offers no
other and no explicit merge) merges segments of about the same size once eight of them pile up,
so a store written by many small adds keeps up to seven segments at every size level: about
twenty at 1M documents. Segments much smaller than the index hold few users' documents and cost
little; the large ones are what makes searches slow.

So a :class:`Compactor` thread rebuilds the lexical index beside the live one (the lexical-only
reindex of :mod:`hybridmem.reindex`: searches go on throughout, writes wait only for the final
switch) when the index has more than ``compact_segments`` *large* segments (of at least 1% of
its documents, and at least ``compact_large_docs``) and either no write came for
``compact_idle_seconds`` or the changes since the last compaction reach
``compact_changes_share`` of the index (so a store written without pause still gets
compacted, at a cost bounded by a constant times the writes). ``Engine.compact()`` and
``hybridmem compact`` compact on demand.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import msgspec

from .config import EngineConfig

__all__ = ["CompactionPolicy", "Compactor", "large_segments", "start_compactor"]

log = logging.getLogger("hybridmem")

#: A segment is large when it holds at least this share of the index's documents (and at least
#: ``compact_large_docs``).
_LARGE_SHARE = 0.01


def large_segments(sizes: list[int], min_docs: int) -> int:
    """How many of the segments (their live document counts) are large (see the module)."""
    floor = max(min_docs, _LARGE_SHARE * sum(sizes))
    return sum(1 for n in sizes if n >= floor)


class CompactionPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """When to compact (see the module docstring); ``max_large_segments=None``: never."""

    max_large_segments: int | None
    idle_seconds: float
    changes_share: float

    def due(self, *, large: int, docs: int, changes: int, idle: float) -> bool:
        """Whether a compaction is due now."""
        if self.max_large_segments is None or large <= self.max_large_segments:
            return False
        return idle >= self.idle_seconds or changes >= self.changes_share * max(docs, 1)


class Compactor:
    """A daemon thread that runs ``compact(stopping)`` when ``policy`` says it is due.

    ``state()`` returns ``(large segments, documents, store seq)``; a seq that moved since the
    last look is a write (the idle clock restarts). ``compact`` gets a function that tells
    whether :meth:`stop` was called, and should give up when it does."""

    def __init__(
        self,
        policy: CompactionPolicy,
        *,
        state: Callable[[], tuple[int, int, int]],
        compact: Callable[[Callable[[], bool]], object],
    ) -> None:
        self.policy = policy
        self._state = state
        self._compact = compact
        self._cond = threading.Condition()
        self._stop = False
        self._last_write = time.monotonic()
        self._base_seq = self._seen_seq = state()[2]
        self.running = False
        self._thread: threading.Thread | None = None
        if policy.max_large_segments is not None:
            self._thread = threading.Thread(target=self._loop, name="hybridmem-compactor",
                                            daemon=True)  # fmt: skip
            self._thread.start()

    def compacted(self, seq: int) -> None:
        """Note that the lexical index was rebuilt as of store change ``seq`` (a compaction or
        a reindex): later changes count towards the next one."""
        with self._cond:
            self._base_seq = max(self._base_seq, seq)

    def stopping(self) -> bool:
        with self._cond:
            return self._stop

    def stop(self) -> None:
        """Stop the thread; a compaction in progress gives up at its next step."""
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def _loop(self) -> None:
        wait = min(self.policy.idle_seconds, 5.0)
        while True:
            with self._cond:
                self._cond.wait(timeout=wait)
                if self._stop:
                    return
                idle = time.monotonic() - self._last_write
                base = self._base_seq
            try:
                large, docs, seq = self._state()
                if seq != self._seen_seq:  # written since the last look
                    self._seen_seq, self._last_write = seq, time.monotonic()
                    idle = 0.0
                if not self.policy.due(large=large, docs=docs, changes=seq - base, idle=idle):
                    continue
                self.running = True
                self._compact(self.stopping)
            except Exception as exc:  # never kills the thread; the next round tries again
                if not self.stopping():
                    log.warning("lexical compaction failed: %s", exc)
                with self._cond:  # do not retry at once: wait for the next idle period
                    self._last_write = time.monotonic()
            finally:
                self.running = False


def start_compactor(
    config: EngineConfig,
    *,
    writable: bool,
    state: Callable[[], tuple[int, int, int]],
    compact: Callable[[Callable[[], bool]], object],
) -> Compactor:
    """The compactor of an engine with ``config`` (no thread for a read-only one)."""
    policy = CompactionPolicy(
        max_large_segments=config.compact_segments if writable else None,
        idle_seconds=config.compact_idle_seconds,
        changes_share=config.compact_changes_share,
    )
    return Compactor(policy, state=state, compact=compact)
