"""Offline reindex: new model with searches and writes going on, single-index rebuilds, a
reindex killed with SIGKILL that resumes, and the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

from hybridmem import (
    EncoderError,
    Engine,
    InvalidRequestError,
    Memory,
    ModelMismatchError,
    StoreError,
)
from hybridmem.cli import main
from hybridmem.encoder import Encoder
from hybridmem.reindex import embed_batch

from .corpus import SMALL, TINY_DIM

ROOT = Path(__file__).resolve().parent.parent


def corpus(n: int) -> list[Memory]:
    topics = ["cello lessons", "hiking trips", "sourdough baking", "chess openings", "tea"]
    return [
        Memory(
            id=f"r{i}",
            user_id=f"user{i % 2}",
            memory_value=f"The user talked about {topics[i % len(topics)]} (note {i}).",
            create_time=1_700_000_000_000 + i,
        )
        for i in range(n)
    ]


def make_store(path: Path, encoder: Encoder, n: int = 30) -> None:
    with Engine.open(path, encoder=encoder) as eng:
        eng.add([*SMALL, *corpus(n)])


def index_dirs(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if p.name.startswith(("lexical", "dense")))


def test_new_model_while_searches_and_writes_go_on(
    tmp_path: Path, encoder: Encoder, tiny_model: str
) -> None:
    path = tmp_path / "store"
    make_store(path, encoder)
    errors: list[BaseException] = []
    searches = 0
    done = threading.Event()
    with Engine.open(path, encoder=encoder) as eng:

        def search_loop() -> None:
            nonlocal searches
            while not done.is_set():
                try:
                    hits = eng.search("baking bread", user_id="user1").memory_detail_list
                    # (the random model makes most vectors near-duplicates: few hits survive)
                    assert hits and all(0.0 <= h.relativity <= 1.0 for h in hits)
                    searches += 1
                except BaseException as exc:
                    errors.append(exc)
                    return

        writes: list[str] = []

        def on_progress(phase: str, done_items: int, total: int) -> None:
            # Writes land in every phase: mid-encode (a new item, and a changed text of an
            # item already encoded), during the build, and just before the switch.
            if phase == "encode" and done_items == 8 and not writes:
                eng.add([Memory(id="w-encode", user_id="user0", memory_value="Kayak in Norway")])
                eng.add([Memory(id="r0", user_id="user0", memory_value="Loves violin duets")])
                writes.append("encode")
            elif phase == "build":
                eng.add([Memory(id="w-build", user_id="user1", memory_value="Owns a tortoise")])
                eng.delete(ids=["r3"])
                writes.append("build")

        reader = threading.Thread(target=search_loop)
        reader.start()
        try:
            report = eng.reindex(model=tiny_model, batch_size=4, on_progress=on_progress)
        finally:
            done.set()
            reader.join()
        assert errors == [] and searches > 0
        assert writes == ["encode", "build"]
        assert report.model == tiny_model and report.dim == TINY_DIM
        assert report.items == len(SMALL) + 30 + 2 - 1 and report.resumed == 0
        # every item once, plus r0 again (its text changed) and r3 (deleted after encoding)
        assert report.encoded == report.items + 2
        assert report.lexical_generation == report.dense_generation == 1
        assert eng.dim == TINY_DIM and eng.model == tiny_model
        assert eng.encode_query("hello").shape == (TINY_DIM,)
        stats = eng.stats()
        assert stats["dense_vectors"] == stats["lexical_docs"] == stats["activated"]
        # Writes made during the reindex are searchable, with the new model's vectors.
        for query, user, wanted in [
            ("kayak Norway", "user0", "w-encode"),
            ("violin", "user0", "r0"),
            ("tortoise", "user1", "w-build"),
        ]:
            hits = eng.search(query, user_id=user, ranking="bm25").memory_detail_list
            assert hits[0].id == wanted
            dense = eng.search(query, user_id=user, ranking="dense", memory_limit_number=100)
            assert wanted in {h.id for h in dense.memory_detail_list}
        assert eng.get("r3") is None
        eng.add([Memory(id="after", user_id="user0", memory_value="Plays the oboe")])
        assert eng.search("oboe", user_id="user0", ranking="bm25").memory_detail_list[0].id == (
            "after"
        )
    assert index_dirs(path) == ["dense-1", "lexical-1"]  # the old generation is gone
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reopens from the new generation, no rebuild
        with Engine.open(path) as eng:
            assert eng.model == tiny_model and eng.dim == TINY_DIM
            assert eng.stats()["dense_vectors"] == eng.stats()["activated"]
    with pytest.raises(ModelMismatchError):
        Engine.open(path, encoder=encoder)


def test_single_index_rebuilds_keep_results(tmp_path: Path, encoder: Encoder) -> None:
    path = tmp_path / "store"
    make_store(path, encoder, n=10)
    with Engine.open(path, encoder=encoder) as eng:
        before = eng.search("chess", user_id="user1", memory_limit_number=5)
        lexical = eng.reindex(only="lexical")
        assert (lexical.lexical_generation, lexical.dense_generation) == (1, 0)
        assert lexical.encoded == 0 and lexical.model == eng.model
        dense = eng.reindex(only="dense")
        assert (dense.lexical_generation, dense.dense_generation) == (1, 2)
        both = eng.reindex()
        assert (both.lexical_generation, both.dense_generation) == (3, 3)
        assert eng.search("chess", user_id="user1", memory_limit_number=5) == before
        assert index_dirs(path) == ["dense-3", "lexical-3"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with Engine.open(path, encoder=encoder) as eng:
            assert eng.search("chess", user_id="user1", memory_limit_number=5) == before


def test_bad_arguments_change_nothing(tmp_path: Path, encoder: Encoder, tiny_model: str) -> None:
    path = tmp_path / "store"
    make_store(path, encoder, n=4)
    with Engine.open(path, encoder=encoder) as eng:
        for kwargs in [
            {"only": "both"},
            {"batch_size": 0},
            {"batch_size": True},
            {"model": " "},
            {"model": tiny_model, "only": "lexical"},
        ]:
            with pytest.raises(InvalidRequestError):
                eng.reindex(**kwargs)  # type: ignore[arg-type]
        with pytest.raises(EncoderError):
            eng.reindex(model=str(tmp_path / "no-such-model"))

        def nested(phase: str, done: int, total: int) -> None:
            with pytest.raises(StoreError, match="already running"):
                eng.reindex()

        eng.reindex(on_progress=nested)
        assert eng.dim == 384 and eng.search("tea", user_id="user0").memory_detail_list
    assert index_dirs(path) == ["dense-1", "lexical-1"]
    with pytest.raises(ValueError):
        embed_batch(encoder, [1, 2], ["only one text"])


KILL_SCRIPT = """
import os, signal, sys
from hybridmem import Engine
path, model, phase = sys.argv[1:4]

def on_progress(p, done, total):
    if (phase == "encode" and p == "encode" and done >= 8) or (phase == "build" and p == "switch"):
        os.kill(os.getpid(), signal.SIGKILL)

with Engine.open(path) as eng:
    eng.reindex(model=model, batch_size=4, on_progress=on_progress)
"""


@pytest.mark.parametrize("phase", ["encode", "build"])
def test_killed_reindex_leaves_a_working_store_and_resumes(
    tmp_path: Path, encoder: Encoder, tiny_model: str, phase: str
) -> None:
    path = tmp_path / "store"
    make_store(path, encoder, n=20)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(path), tiny_model, phase],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    with Engine.open(path, encoder=encoder) as eng:  # still the old model, and it answers
        assert eng.dim == 384
        assert eng.search("sourdough", user_id="user0").memory_detail_list
        report = eng.reindex(model=tiny_model, batch_size=4)
        total = len(SMALL) + 20
        assert report.items == total and report.encoded + report.resumed == total
        assert report.resumed >= 8  # the committed batches were kept
        assert eng.dim == TINY_DIM
        assert eng.search("sourdough", user_id="user0", ranking="bm25").memory_detail_list
    assert index_dirs(path) == ["dense-1", "lexical-1"]


def test_cli_reindex(
    tmp_path: Path, encoder: Encoder, capsys: pytest.CaptureFixture[str], tiny_model: str
) -> None:
    path = tmp_path / "store"
    make_store(path, encoder, n=4)
    assert main(["reindex", str(path), "--only", "dense", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"reindexed {path}: {len(SMALL) + 4} items") and "items/s" in out
    assert main(["reindex", str(path), "--model", str(tmp_path / "nope"), "--quiet"]) == 2
    assert "cannot load embedding model" in capsys.readouterr().err
    assert main(["reindex", str(tmp_path / "missing"), "--quiet"]) == 2
    assert main(["reindex", str(path), "--model", tiny_model, "--batch-size", "3", "--quiet"]) == 0
    assert f"({TINY_DIM}-d)" in capsys.readouterr().out
    with Engine.open(path) as eng:
        vec = eng.encode_query("x")
        assert vec.shape == (TINY_DIM,) and np.isclose(np.linalg.norm(vec), 1.0)
