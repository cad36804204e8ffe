"""Derived indexes are rebuilt or caught up from the SQLite store, never a crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import msgspec
import numpy as np
import pytest

from hybridmem import Engine, IndexRebuiltWarning, Memory
from hybridmem.encoder import Encoder

from .corpus import SMALL

QUERIES = [("cat Miso", "u1"), ("where does the user live", "u1"), ("咖啡", "u2"), ("dog", "u2")]


def answers(eng: Engine) -> list[bytes]:
    return [
        msgspec.json.encode(eng.search(q, user_id=u, ranking=r, reference_time=10_000))
        for q, u in QUERIES
        for r in ("bm25", "dense", "hybrid")
    ]


@pytest.fixture
def store(tmp_path: Path, encoder: Encoder) -> tuple[Path, list[bytes]]:
    path = tmp_path / "s"
    with Engine.open(path, encoder=encoder) as eng:
        eng.add(SMALL)
        return path, answers(eng)


def reopen_expecting_rebuild(path: Path, encoder: Encoder, expected: list[bytes]) -> None:
    with pytest.warns(IndexRebuiltWarning):
        eng = Engine.open(path, encoder=encoder)
    with eng:
        assert answers(eng) == expected
    with Engine.open(path, encoder=encoder) as eng:  # and the rebuilt index is saved
        assert answers(eng) == expected


def test_clean_reopen_does_not_warn(store, encoder: Encoder, recwarn) -> None:
    path, expected = store
    with Engine.open(path, encoder=encoder) as eng:
        assert answers(eng) == expected
    assert not [w for w in recwarn if issubclass(w.category, IndexRebuiltWarning)]


@pytest.mark.parametrize("index", ["lexical", "dense"])
def test_deleted_index_is_rebuilt(store, encoder: Encoder, index: str) -> None:
    import shutil

    path, expected = store
    shutil.rmtree(path / index)
    reopen_expecting_rebuild(path, encoder, expected)


def test_corrupt_lexical_index_is_rebuilt(store, encoder: Encoder) -> None:
    path, expected = store
    (path / "lexical" / "meta.json").write_text("{ not json")
    reopen_expecting_rebuild(path, encoder, expected)


def test_truncated_dense_vectors_are_rebuilt(store, encoder: Encoder) -> None:
    path, expected = store
    (vectors,) = (path / "dense").glob("vectors-*.npy")
    vectors.write_bytes(vectors.read_bytes()[:200])
    reopen_expecting_rebuild(path, encoder, expected)


def test_garbage_dense_manifest_is_rebuilt(store, encoder: Encoder) -> None:
    path, expected = store
    (path / "dense" / "blocks.json").write_text(json.dumps({"format": 1, "dim": 384}))
    reopen_expecting_rebuild(path, encoder, expected)


def test_corrupt_manifest_rebuilds_everything(store, encoder: Encoder) -> None:
    path, expected = store
    (path / "manifest.json").write_text("\x00garbage")
    reopen_expecting_rebuild(path, encoder, expected)


CRASHING_WRITER = """
import os, sys
import numpy as np
from hybridmem import Engine, Memory
eng = Engine.open(sys.argv[1])
vecs = np.random.default_rng(1).normal(size=(2, eng.dim)).astype(np.float32)
eng.add([Memory(id="late1", user_id="u1", memory_value="The user bought a red kayak."),
         Memory(id="late2", user_id="u9", memory_value="Another user, another kayak.")],
        embeddings=vecs)
eng.delete(ids=["m2"])
np.save(sys.argv[2], vecs)
os._exit(0)  # a crash: no close(), so the dense snapshot and manifest lag the store
"""


def test_indexes_catch_up_after_a_crash(store, encoder: Encoder, tmp_path: Path) -> None:
    path, _ = store
    vec_file = tmp_path / "vecs.npy"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    subprocess.run(
        [sys.executable, "-c", CRASHING_WRITER, str(path), str(vec_file)], check=True, env=env
    )
    vecs = np.load(vec_file)
    with Engine.open(path, encoder=encoder) as eng:
        assert eng.get("late1").memory_value == "The user bought a red kayak."
        hits = eng.search("kayak", user_id="u1", ranking="bm25")
        assert [m.id for m in hits.memory_detail_list] == ["late1"]
        dense = eng.search("x", user_id="u1", ranking="dense", query_embedding=vecs[0])
        assert dense.memory_detail_list[0].id == "late1"
        assert eng.get("m2") is None
        assert "m2" not in [m.id for m in eng.search("Hangzhou", user_id="u1").memory_detail_list]
        stats = eng.stats()
        assert stats["lexical_docs"] == stats["dense_vectors"] == stats["activated"]


def test_empty_store_round_trip(tmp_path: Path, encoder: Encoder) -> None:
    with Engine.open(tmp_path / "empty", encoder=encoder) as eng:
        assert eng.search("anything", user_id="u").memory_detail_list == []
    with Engine.open(tmp_path / "empty", encoder=encoder) as eng:
        eng.add([Memory(id="a", user_id="u", memory_value="first memory")])
        assert [m.id for m in eng.search("first", user_id="u").memory_detail_list] == ["a"]


def test_index_ahead_of_the_store_is_rebuilt(store, encoder: Encoder, tmp_path: Path) -> None:
    """store.sqlite restored from an older backup: the indexes describe changes it lacks."""
    import shutil

    path, expected = store
    backup = tmp_path / "backup.sqlite"
    shutil.copy(path / "store.sqlite", backup)
    with Engine.open(path, encoder=encoder) as eng:
        eng.add([Memory(id="new", user_id="u1", memory_value="The user bought a kayak.")])
    shutil.copy(backup, path / "store.sqlite")
    for extra in ("store.sqlite-wal", "store.sqlite-shm"):
        (path / extra).unlink(missing_ok=True)
    reopen_expecting_rebuild(path, encoder, expected)


def test_garbage_store_file_is_a_store_error(tmp_path: Path, encoder: Encoder) -> None:
    from hybridmem import StoreError

    (tmp_path / "store.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match=r"store\.sqlite"):
        Engine.open(tmp_path, encoder=encoder)


def test_second_writer_gets_a_clear_error(store, encoder: Encoder) -> None:
    from hybridmem import StoreError, StoreLockedError

    path, _ = store
    with Engine.open(path, encoder=encoder) as first:
        first.add([Memory(id="w", user_id="u1", memory_value="first writer")])
        with pytest.raises(StoreLockedError, match="another engine or process"):
            Engine.open(path, encoder=encoder)  # refused before it reads or rebuilds anything
        with Engine.open(path, encoder=encoder, read_only=True) as second:  # reading is fine
            assert second.get("w") is not None
            assert [m.id for m in second.search("first writer", user_id="u1").memory_detail_list][
                :1
            ] == ["w"]
            with pytest.raises(StoreError, match="read-only"):
                second.add([Memory(id="w2", user_id="u1", memory_value="second writer")])
            assert second.get("w2") is None
