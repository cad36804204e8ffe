"""Shared fixtures: the real MiniLM encoder is loaded once per session, and the demo store is
built once and shared read-only; tests that write get their own small store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmem import DEFAULT_MODEL, Engine, Memory, Preference
from hybridmem.encoder import Encoder
from hybridmem.evalset import EvalSet, load_evalset

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    return Encoder(DEFAULT_MODEL)


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


# A tiny canonical corpus (three users, both kinds), in the spirit of tantivy-py's fixtures.
SMALL = [
    Memory(
        id="m1",
        user_id="u1",
        memory_key="Pet",
        memory_value="The user has a cat named Miso.",
        tags=["pet"],
        conversation_id="c1",
        create_time=1_000,
        update_time=1_000,
    ),
    Memory(
        id="m2",
        user_id="u1",
        memory_value="The user lives in Hangzhou and works remotely.",
        tags=["home"],
        conversation_id="c1",
        create_time=2_000,
        update_time=2_000,
    ),
    Memory(
        id="m3",
        user_id="u1",
        memory_value="The user is allergic to peanuts.",
        memory_type="UserMemory",
        tags=["health", "food"],
        conversation_id="c2",
        create_time=3_000,
        update_time=3_000,
    ),
    Memory(
        id="m4",
        user_id="u2",
        memory_value="The user has a dog named Rex.",
        tags=["pet"],
        create_time=1_500,
        update_time=1_500,
    ),
    Memory(
        id="m5",
        user_id="u2",
        memory_value="用户喜欢喝咖啡，每天早上一杯。",
        tags=["饮食"],
        create_time=2_500,
        update_time=2_500,
    ),
    Preference(
        id="p1",
        user_id="u1",
        preference="The user prefers vegetarian restaurants.",
        create_time=1_000,
        update_time=1_000,
    ),
    Preference(
        id="p2",
        user_id="u2",
        preference="The user wants short answers.",
        create_time=1_000,
        update_time=1_000,
    ),
]


@pytest.fixture
def engine(tmp_path: Path, encoder: Encoder) -> Iterator[Engine]:
    """A fresh store holding SMALL; each test gets its own."""
    with Engine.open(tmp_path / "store", encoder=encoder) as eng:
        eng.add(SMALL)
        yield eng
