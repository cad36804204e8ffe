"""What the integrity checks cost (pytest-benchmark). Run: ``make bench`` / ``make bench-1m``,
or ``HYBRIDMEM_BENCH_SCALES=10k,1m pytest benchmarks/test_integrity.py --benchmark-only``.

* ``test_open_check``: each check that :meth:`Engine.open` runs, alone, on the cached store
  (``test_speed.py::test_reopen`` times the whole open with all of them):
  ``store`` (SQLite header and schema, and ``quick_check`` up to 16 MiB), ``lexical``
  (every live Tantivy segment file against its footer crc32) and ``dense`` (loading the
  snapshot: ``blocks.json`` and the docs/times/conversation arrays against their crc32), and
  ``quick`` (``PRAGMA quick_check`` of the 10k store, which is above the size that gets it).
* ``test_block_checks``: the lazy check of every dense block's vectors (what the first search of
  each user pays, summed over all users).
* ``test_check_store``: ``hybridmem check`` (the full verification).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hybridmem import Engine
from hybridmem.dense import DenseIndex
from hybridmem.derived import read_manifest
from hybridmem.encoder import Encoder
from hybridmem.integrity import check_store
from hybridmem.store import STORE_FILE, Store
from hybridmem.tantivy_files import damaged_files

from .conftest import SCALES


@pytest.fixture(scope="module")
def opened(store_path: Path, encoder: Encoder) -> Path:
    """The cached store, opened once (a store built before the checksums is rebuilt here)."""
    Engine.open(store_path, encoder=encoder).close()
    return store_path


def _store(path: Path) -> None:
    Store(path).close()


def _quick_check(path: Path) -> None:
    """What a store under QUICK_CHECK_MAX_BYTES adds per MB (the 10k store is above it)."""
    db = sqlite3.connect(f"{(path / STORE_FILE).resolve().as_uri()}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    finally:
        db.close()


def _lexical(path: Path) -> None:
    assert damaged_files(path / "lexical") == []


def _dense(path: Path) -> None:
    manifest = read_manifest(path)
    assert manifest is not None
    DenseIndex.load(path / "dense", manifest.dim)


@pytest.mark.parametrize(
    "part", [_store, _lexical, _dense, _quick_check], ids=["store", "lexical", "dense", "quick"]
)
def test_open_check(benchmark, opened: Path, scale: str, part) -> None:
    if part is _quick_check and scale != "10k":
        pytest.skip("quick_check reads the whole file (seconds at 1M): only a small store")
    size = (opened / STORE_FILE).stat().st_size
    benchmark.extra_info.update(memories=SCALES[scale][0], users=SCALES[scale][1], bytes=size)
    benchmark.pedantic(part, args=(opened,), rounds=10, iterations=1, warmup_rounds=1)


def test_block_checks(benchmark, opened: Path, scale: str) -> None:
    manifest = read_manifest(opened)
    assert manifest is not None

    def setup():
        return (DenseIndex.load(opened / "dense", manifest.dim)[0],), {}

    benchmark.extra_info.update(memories=SCALES[scale][0], users=SCALES[scale][1])
    benchmark.pedantic(DenseIndex.verify, setup=setup, rounds=3, iterations=1, warmup_rounds=1)


def test_check_store(benchmark, opened: Path, scale: str) -> None:
    def run() -> None:
        assert check_store(opened).sound

    benchmark.extra_info.update(memories=SCALES[scale][0], users=SCALES[scale][1])
    benchmark.pedantic(run, rounds=1 if scale == "1m" else 3, iterations=1)
