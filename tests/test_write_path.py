"""Writes take turns chunk by chunk; a full disk surfaces as StoreError and loses nothing that
was acknowledged; close always lets go of the store; one writer per store, made explicit."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from hybridmem import Engine, Memory, Message, StoreError, StoreLockedError
from hybridmem.cli import main
from hybridmem.locks import FairLock

from .hashenc import HashEncoder


def test_fair_lock_serves_waiters_in_arrival_order() -> None:
    lock, order = FairLock(), []
    lock.acquire()
    threads = []
    for i in range(5):
        t = threading.Thread(target=lambda i=i: (lock.acquire(), order.append(i), lock.release()))
        t.start()
        threads.append(t)
        time.sleep(0.05)  # let each queue up before the next
    lock.release()
    for t in threads:
        t.join(timeout=10)
    assert order == [0, 1, 2, 3, 4]
    with pytest.raises(RuntimeError):
        lock.release()


def test_a_small_add_does_not_wait_for_a_big_one(tmp_path: Path) -> None:
    """5,000 messages make about 2,500 memories (ten chunks); a one-item add started after the
    first chunk is stored finishes while the big add still has chunks to go."""
    encoder = HashEncoder(delay=0.05)  # each chunk costs its encode time outside the lock
    with Engine.open(tmp_path / "s", encoder=encoder) as eng:  # type: ignore[arg-type]
        msgs = [
            Message(role=r, content=f"{r} message {i} about the garden")
            for i in range(2_500)
            for r in ("user", "assistant")
        ]
        done: dict[str, float] = {}

        def big() -> None:
            eng.add_messages(msgs, user_id="bulk", conversation_id="c")
            done["big"] = time.monotonic()

        thread = threading.Thread(target=big)
        thread.start()
        while eng.stats()["activated"] == 0:
            time.sleep(0.005)
        eng.add([Memory(id="small", user_id="other", memory_value="one quick fact")])
        done["small"] = time.monotonic()
        thread.join(timeout=120)
        assert done["small"] < done["big"]
        assert eng.stats()["activated"] == 2_501


# -- a full disk ----------------------------------------------------------------------------


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A small tmpfs mounted at ``path`` (needs root; the test is skipped without it)."""
    path.mkdir(parents=True, exist_ok=True)
    run = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                         capture_output=True, text=True)  # fmt: skip
    if run.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {run.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(directory: Path) -> Path:
    """Write a file into ``directory`` until its file system is full."""
    filler = directory / "filler"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
        with suppress(OSError):
            os.fsync(fh.fileno())
    return filler


def facts(prefix: str, n: int) -> list[Memory]:
    return [Memory(id=f"{prefix}{i}", user_id="u", memory_value=f"{prefix} fact number {i} "
                   + "words " * 40) for i in range(n)]  # fmt: skip


def bm25_ids(eng: Engine, query: str) -> set[str]:
    found = eng.search(query, user_id="u", ranking="bm25", memory_limit_number=1000)
    return {m.id for m in found.memory_detail_list}


def test_full_index_disk_after_the_commit_is_a_store_error_and_catches_up(tmp_path: Path) -> None:
    store = tmp_path / "s"
    with tmpfs(store / "lexical", "2m") as lexical:
        eng = Engine.open(store, encoder=HashEncoder())  # type: ignore[arg-type]
        eng.add(facts("before", 5))
        filler = fill(lexical)
        with pytest.raises(StoreError, match="stored"):
            eng.add(facts("during", 200))
        assert eng.get("during0") is not None  # committed to SQLite: acknowledged as stored
        filler.unlink()
        eng.close()
        with Engine.open(store, encoder=HashEncoder()) as again:  # type: ignore[arg-type]
            assert len(bm25_ids(again, "during")) == 200  # the index caught up


def test_full_store_disk_writes_nothing_and_close_releases(tmp_path: Path) -> None:
    store = tmp_path / "s"
    with tmpfs(store, "4m"):
        eng = Engine.open(store, encoder=HashEncoder())  # type: ignore[arg-type]
        eng.add(facts("before", 5))
        filler = fill(store)
        with pytest.raises(StoreError):
            eng.add(facts("during", 300))
        with pytest.raises(StoreError):
            eng.close()  # the dense snapshot cannot be saved: said so, and the lock let go
        filler.unlink()
        with Engine.open(store, encoder=HashEncoder()) as again:  # type: ignore[arg-type]
            assert bm25_ids(again, "before") == {f"before{i}" for i in range(5)}
            stored = {f"during{i}" for i in range(300) if again.get(f"during{i}") is not None}
            assert bm25_ids(again, "during") == stored  # whole chunks or nothing
            again.add(facts("during", 300))  # and the retry completes the add
            assert len(bm25_ids(again, "during")) == 300


# -- one writer per store -------------------------------------------------------------------


def test_writing_commands_refuse_a_store_another_engine_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "s"
    items = tmp_path / "items.jsonl"
    items.write_text('{"id": "j1", "user_id": "u", "memory_value": "from the file"}\n')
    with Engine.open(store, encoder=HashEncoder()) as eng:  # type: ignore[arg-type]
        eng.add([Memory(id="m", user_id="u", memory_value="served fact")])
        for argv in (
            ["serve", str(store), "--insecure-no-auth", "--port", "0"],
            ["ingest", str(store), str(items), "--quiet"],
            ["reindex", str(store), "--quiet"],
        ):
            assert main(argv) == 2, argv
            assert "open for writing by another" in capsys.readouterr().err
        with pytest.raises(StoreLockedError):
            Engine.open(store, encoder=HashEncoder())  # type: ignore[arg-type]
        assert eng.get("j1") is None


@pytest.mark.parametrize("command", ["search", "stats"])
def test_reading_commands_on_a_missing_store_create_nothing(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo"
    argv = [command, str(missing)] + (["--user", "u", "query"] if command == "search" else [])
    assert main(argv) == 2
    assert "not a hybridmem store" in capsys.readouterr().err
    assert not missing.exists()


def test_search_reads_a_store_another_engine_writes(tmp_path: Path, encoder, capsys) -> None:
    store = tmp_path / "s"
    with Engine.open(store, encoder=encoder) as eng:
        eng.add([Memory(id="m", user_id="u", memory_value="The user keeps bees in the garden.")])
        assert main(["search", str(store), "--user", "u", "--ranking", "bm25", "bees"]) == 0
        assert '"id": "m"' in capsys.readouterr().out
        assert main(["stats", str(store)]) == 0
        assert '"activated": 1' in capsys.readouterr().out
    shutil.rmtree(store)
