"""Damage is detected: same-size garbage in any derived file is rebuilt from the store with an
``IndexRebuiltWarning`` (answers as after a fresh rebuild), a damaged ``store.sqlite`` is a
``StoreError`` at open, and ``hybridmem check`` reports each kind of damage."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import warnings
from collections.abc import Callable
from pathlib import Path

import msgspec
import numpy as np
import pytest

from hybridmem import Engine, IndexRebuiltWarning, Memory, StoreError
from hybridmem.cli import main
from hybridmem.encoder import Encoder

from .corpus import SMALL

FILLER = [
    Memory(
        id=f"f{i}",
        user_id="u9",
        memory_value=f"Note {i} on topic {i % 7}, item {i % 13}.",
        conversation_id=f"c{i % 5}",
        create_time=i,
    )
    for i in range(300)
]
QUERIES = [("cat Miso", "u1"), ("where does the user live", "u1"), ("咖啡", "u2"), ("dog", "u2")]


def answers(eng: Engine) -> list[bytes]:
    return [
        msgspec.json.encode(eng.search(q, user_id=u, ranking=r, reference_time=10_000))
        for q, u in QUERIES
        for r in ("bm25", "dense", "hybrid")
    ]


def garble(
    path: Path, *, start: int = 0, end: int | None = None, n: int = 16, seed: int = 0
) -> None:
    """Random bytes in the middle of ``path[start:end]``; the file keeps its size."""
    data = bytearray(path.read_bytes())
    end = len(data) if end is None else end
    n = min(n, end - start)
    at = start + (end - start - n) // 2
    new = np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()
    assert new != bytes(data[at : at + n])
    data[at : at + n] = new
    path.write_bytes(bytes(data))


def only(path: Path, pattern: str) -> Path:
    (found,) = path.glob(pattern)
    return found


def largest(path: Path, pattern: str) -> Path:
    """The largest file matching (the index may hold several segments)."""
    return max(path.glob(pattern), key=lambda f: f.stat().st_size)


def npy_data_start(path: Path) -> int:
    """Where the array's data begins (after the .npy header)."""
    return path.stat().st_size - np.load(path, mmap_mode="r").nbytes


def tantivy_body_end(path: Path) -> int:
    """Where the footer Tantivy appends to each segment file begins: garbage in the body is
    what Tantivy itself does not notice when it opens the index."""
    data = path.read_bytes()
    footer = int.from_bytes(data[-8:-4], "little")
    return len(data) - 8 - footer


def damage_lexical(ext: str) -> Callable[[Path], None]:
    def damage(store: Path) -> None:
        file = largest(store / "lexical", f"*.{ext}")
        garble(file, end=tantivy_body_end(file))

    return damage


def stored_embedding(store: Path, item_id: str) -> bytes:
    con = sqlite3.connect(store / "store.sqlite")
    try:
        return con.execute("SELECT embedding FROM items WHERE id = ?", (item_id,)).fetchone()[0]
    finally:
        con.close()


def damage_vectors(store: Path) -> None:
    """Garbage in the vector of m4 (user u2, whom the answers ask about)."""
    file = only(store / "dense", "vectors-*.npy")
    at = file.read_bytes().index(stored_embedding(store, "m4"))
    garble(file, start=at, end=at + 384 * 4)


def damage_array(name: str) -> Callable[[Path], None]:
    def damage(store: Path) -> None:
        file = only(store / "dense", f"{name}-*.npy")
        garble(file, start=npy_data_start(file))

    return damage


def edit_middle(path: Path, edit: Callable[[bytes], bytes], n: int = 16) -> None:
    """Replace ``n`` bytes in the middle of the file's data by ``edit`` of them (same size)."""
    data = bytearray(path.read_bytes())
    start = npy_data_start(path) if path.suffix == ".npy" else 0
    end = tantivy_body_end(path) if path.suffix == ".del" else len(data)
    at = start + (end - start - n) // 16 * 8  # whole array elements
    new = edit(bytes(data[at : at + n]))
    assert new != data[at : at + n] and len(new) == n
    data[at : at + n] = new
    path.write_bytes(bytes(data))


def next_code(raw: bytes) -> bytes:
    """Other conversation codes, still in range: a range check cannot tell."""
    codes = np.frombuffer(raw, dtype="<i4")
    return ((codes + 1) % 2).astype("<i4").tobytes()


def reversed_bits(raw: bytes) -> bytes:
    """The same number of set bits (deleted docs), other docs: a doc count cannot tell."""
    return bytes(int(f"{b:08b}"[::-1], 2) for b in raw)


def shift_a_block(store: Path) -> None:
    """A same-size edit that keeps blocks.json valid JSON: one owner's block starts elsewhere."""
    path = store / "dense" / "blocks.json"
    text = path.read_text()
    edited = re.sub(r'("memory:u2",)(\d)', lambda m: m[1] + str((int(m[2]) + 9) % 10), text)
    assert edited != text and len(edited) == len(text)
    path.write_text(edited)


DERIVED_DAMAGE = {
    **{f"tantivy-{ext}": damage_lexical(ext) for ext in ("term", "idx", "fast", "fieldnorm")},
    "tantivy-store": damage_lexical("store"),
    "dense-docs": damage_array("docs"),
    "dense-vectors": damage_vectors,
    "dense-times": damage_array("times"),
    "dense-convs-valid": lambda s: edit_middle(only(s / "dense", "convs-*.npy"), next_code),
    "blocks-json-valid": shift_a_block,
    # Detected before too (by a parser or a range check); kept so that it stays so.
    "dense-convs": damage_array("convs"),
    "tantivy-pos": damage_lexical("pos"),  # no positions are indexed: all structure
    "tantivy-meta": lambda s: garble(s / "lexical" / "meta.json"),
    "blocks-json": lambda s: garble(s / "dense" / "blocks.json"),
    "manifest": lambda s: garble(s / "manifest.json"),
}


@pytest.fixture(scope="module")
def pristine(
    tmp_path_factory: pytest.TempPathFactory, encoder: Encoder
) -> tuple[Path, list[bytes]]:
    path = tmp_path_factory.mktemp("integrity") / "s"
    with Engine.open(path, encoder=encoder) as eng:
        eng.add(SMALL)
        # another user's 300 memories give every file a body larger than its structure, so
        # garbage in the middle lands in data that nothing checked before
        vectors = np.random.default_rng(9).standard_normal((len(FILLER), eng.dim))
        eng.add(FILLER, embeddings=vectors)
        return path, answers(eng)


@pytest.fixture
def store(pristine, tmp_path: Path) -> tuple[Path, list[bytes]]:
    """A copy of a closed SMALL store, and its answers."""
    source, expected = pristine
    shutil.copytree(source, tmp_path / "s")
    return tmp_path / "s", expected


def reopen_expecting_rebuild(path: Path, encoder: Encoder, expected: list[bytes]) -> None:
    """Open (and search) warns once and answers as before; the repair is saved, so the next
    open is clean."""
    with pytest.warns(IndexRebuiltWarning), Engine.open(path, encoder=encoder) as eng:
        assert answers(eng) == expected
    with warnings.catch_warnings():
        warnings.simplefilter("error", IndexRebuiltWarning)
        with Engine.open(path, encoder=encoder) as eng:
            assert answers(eng) == expected


@pytest.mark.parametrize("damage", DERIVED_DAMAGE.values(), ids=DERIVED_DAMAGE.keys())
def test_damaged_derived_file_is_rebuilt(store, encoder: Encoder, damage) -> None:
    path, expected = store
    damage(path)
    reopen_expecting_rebuild(path, encoder, expected)


@pytest.mark.parametrize("same_count", [True, False], ids=["same-count", "random"])
def test_damaged_delete_file_is_rebuilt(
    store, encoder: Encoder, tmp_path: Path, same_count: bool
) -> None:
    path, _ = store
    with Engine.open(path, encoder=encoder) as eng:
        eng.delete(ids=[f.id for f in FILLER[::2]])  # tombstones: a .del file
    fresh = tmp_path / "fresh"  # the answers of a fresh rebuild, which holds no deleted docs
    shutil.copytree(path, fresh)
    shutil.rmtree(fresh / "lexical")
    shutil.rmtree(fresh / "dense")
    (fresh / "manifest.json").unlink()
    with pytest.warns(IndexRebuiltWarning), Engine.open(fresh, encoder=encoder) as eng:
        expected = answers(eng)
    tombstones = largest(path / "lexical", "*.del")
    if same_count:
        edit_middle(tombstones, reversed_bits)
    else:
        damage_lexical("del")(path)  # the doc count changes: detected before too
    reopen_expecting_rebuild(path, encoder, expected)


def test_vectors_are_checked_when_their_block_is_first_read(store, encoder: Encoder) -> None:
    path, expected = store
    damage_vectors(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", IndexRebuiltWarning)
        eng = Engine.open(path, encoder=encoder)  # 1.5 GB at 1M items: not read at open
    with eng, pytest.warns(IndexRebuiltWarning, match="memory:u2"):
        assert answers(eng) == expected


# -- store.sqlite -------------------------------------------------------------------------------


def garble_middle_page(store: Path) -> None:
    """Garbage over the header and cell pointers of the middle leaf page of a table."""
    db = store / "store.sqlite"
    data = db.read_bytes()
    leaves = [p for p in range(1, len(data) // 4096) if data[p * 4096] == 0x0D]
    garble(db, start=leaves[len(leaves) // 2] * 4096, n=4096 - 32)


SQLITE_DAMAGE = {
    "middle-page": garble_middle_page,
    # fields SQLite trusts at open: freelist, schema cookie, reserved bytes
    "header-unchecked-fields": lambda s: garble_range(s / "store.sqlite", 32, 44, 72, 92),
    "header-whole": lambda s: garble_range(s / "store.sqlite", 16, 100),
}


def garble_range(path: Path, *bounds: int) -> None:
    """Random bytes over ``path[start:end]`` for each ``start, end`` pair."""
    with open(path, "r+b") as fh:
        for start, end in zip(bounds[::2], bounds[1::2], strict=True):
            fh.seek(start)
            fh.write(np.random.default_rng(start).integers(0, 256, end - start, np.uint8).tobytes())


def open_files_under(path: Path) -> list[str]:
    fds = Path("/proc/self/fd")
    out = []
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(path.resolve())):
            out.append(target)
    return out


@pytest.mark.parametrize("damage", SQLITE_DAMAGE.values(), ids=SQLITE_DAMAGE.keys())
def test_damaged_store_file_is_a_store_error_at_open(store, encoder: Encoder, damage) -> None:
    path, _ = store
    damage(path)
    with pytest.raises(StoreError, match=r"store\.sqlite") as info:
        Engine.open(path, encoder=encoder)
    assert not isinstance(info.value, sqlite3.Error)
    assert open_files_under(path) == []  # nothing half-open


# -- hybridmem check ----------------------------------------------------------------------------


def contents(path: Path) -> dict[str, str]:
    """Every file under ``path`` (SQLite's -wal/-shm side files aside) and a hash of it."""
    return {
        str(f.relative_to(path)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(path.rglob("*"))
        if f.is_file() and not f.name.endswith(("-wal", "-shm"))
    }


def test_check_a_sound_store_writes_nothing(store, capsys) -> None:
    path, _ = store
    before = contents(path)
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "sound" in out and "DAMAGED" not in out
    assert "307 vectors of 5 owners" in out
    assert contents(path) == before


def test_check_while_another_engine_serves_the_store(store, encoder: Encoder, capsys) -> None:
    path, _ = store
    with Engine.open(path, encoder=encoder) as eng:
        eng.add([Memory(id="live", user_id="u1", memory_value="Written by the serving engine.")])
        eng.delete(ids=["m4"])  # the dense snapshot now lags the store: check catches it up
        assert main(["check", str(path)]) == 0
        assert "sound" in capsys.readouterr().out
        assert eng.search("serving engine", user_id="u1").memory_detail_list[0].id == "live"


CHECK_DAMAGE = {
    **{name: (damage, "lexical") for name, damage in DERIVED_DAMAGE.items() if "tantivy" in name},
    **{name: (damage, "dense") for name, damage in DERIVED_DAMAGE.items() if "-json" in name},
    **{name: (damage, "dense") for name, damage in DERIVED_DAMAGE.items() if "dense-" in name},
    "manifest": (DERIVED_DAMAGE["manifest"], "manifest.json"),
    **{name: (damage, "store.sqlite") for name, damage in SQLITE_DAMAGE.items()},
}


@pytest.mark.parametrize("damage, part", CHECK_DAMAGE.values(), ids=CHECK_DAMAGE.keys())
def test_check_reports_damage(store, capsys, damage, part: str) -> None:
    path, _ = store
    damage(path)
    before = contents(path)
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert re.search(rf"^{re.escape(part)} +DAMAGED", out, re.M), out
    assert contents(path) == before


def test_check_finds_a_damaged_embedding_in_the_store(store, encoder: Encoder, capsys) -> None:
    """Garbage inside a row's payload passes SQLite's own checks; the dense index's
    checksummed copy of the embeddings gives it away."""
    path, _ = store
    db = path / "store.sqlite"
    at = db.read_bytes().index(stored_embedding(path, "m1")) + 700
    garble_range(db, at, at + 8)
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^store\.sqlite +DAMAGED", out, re.M) and "not unit length" in out
    assert re.search(r"^dense +DAMAGED", out, re.M) and "differs from the stored" in out


def test_check_a_missing_directory_creates_nothing(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nowhere"
    assert main(["check", str(missing)]) == 2
    assert "not a hybridmem store" in capsys.readouterr().err
    assert not missing.exists()
