"""Synchronisation: the store's writer lock, the fair write lock, and a use counter."""

from __future__ import annotations

import os
import threading
from collections import deque
from pathlib import Path

from .errors import StoreError, StoreLockedError

__all__ = ["FairLock", "StoreLock", "UseCounter"]


class FairLock:
    """A first-come, first-served mutex (not reentrant).

    ``threading.Lock`` lets the thread that just released it take it again at once, so a bulk
    add that writes chunk after chunk could starve a one-item add waiting beside it. Here each
    waiter takes a ticket and the lock passes to the oldest one, so a writer waits for at most
    the chunks already queued ahead of it.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._queue: deque[object] = deque()
        self._held = False

    def acquire(self) -> None:
        ticket = object()
        with self._cond:
            self._queue.append(ticket)
            while self._held or self._queue[0] is not ticket:
                self._cond.wait()
            self._queue.popleft()
            self._held = True

    def release(self) -> None:
        with self._cond:
            if not self._held:
                raise RuntimeError("release of an unheld FairLock")
            self._held = False
            self._cond.notify_all()

    def __enter__(self) -> FairLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class UseCounter:
    """Counts the threads inside ``with counter:``, so one can wait for all to leave."""

    def __init__(self) -> None:
        self._users = 0
        self._cond = threading.Condition(threading.Lock())

    def __enter__(self) -> UseCounter:
        with self._cond:
            self._users += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._users -= 1
            if self._users == 0:
                self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Whether every user left within ``timeout`` seconds."""
        with self._cond:
            return self._cond.wait_for(lambda: self._users == 0, timeout=timeout)


class StoreLock:
    """The one-writer-per-store lock: an exclusive ``flock`` on ``writer.lock`` in the store.

    Taken when an engine opens a store for writing, before anything is read or rebuilt, so a
    second writer (another process, or another engine in this one) is refused before it can
    touch a file. The kernel drops it if the process dies.
    """

    FILE = "writer.lock"

    def __init__(self, directory: Path) -> None:
        import fcntl

        self.path = directory / self.FILE
        try:
            self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot create {self.path}: {exc}") from exc
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(self._fd)
            self._fd = None
            raise StoreLockedError(
                f"{directory} is open for writing by another engine or process (one writer per "
                "store): stop it first, or open this store read-only"
            ) from exc

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the descriptor drops the flock
