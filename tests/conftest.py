"""Shared fixtures: the real MiniLM encoder (default backend) is loaded once per session, and
the demo store is built once and shared read-only; tests that write get their own small store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmem import DEFAULT_MODEL, Engine
from hybridmem.encoder import Encoder, load_encoder
from hybridmem.evalset import EvalSet, load_evalset

from .corpus import SMALL

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The default encoder (MiniLM on ONNX Runtime)."""
    return load_encoder(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def demo() -> EvalSet:
    return load_evalset(DATA / "demo.json")


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder, demo: EvalSet) -> Path:
    path = tmp_path_factory.mktemp("demo-store")
    with Engine.open(path, encoder=encoder) as eng:
        eng.add([*demo.memories, *demo.preferences])
    return path


@pytest.fixture(scope="session")
def demo_engine(demo_dir: Path, encoder: Encoder) -> Iterator[Engine]:
    """The demo store, opened once; tests must not write to it."""
    with Engine.open(demo_dir, encoder=encoder) as eng:
        yield eng


@pytest.fixture
def engine(tmp_path: Path, encoder: Encoder) -> Iterator[Engine]:
    """A fresh store holding SMALL; each test gets its own."""
    with Engine.open(tmp_path / "store", encoder=encoder) as eng:
        eng.add(SMALL)
        yield eng
