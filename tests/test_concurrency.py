"""Searches from several threads while another thread writes."""

from __future__ import annotations

import threading

import numpy as np

from hybridmem import Engine, Memory


def test_concurrent_search_and_writes(engine: Engine) -> None:
    errors: list[BaseException] = []
    stop = threading.Event()
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(200, engine.dim)).astype(np.float32)

    def writer() -> None:
        try:
            for i in range(0, 200, 10):
                engine.add([Memory(id=f"w{j}", user_id="u1", memory_value=f"writer note {j}")
                            for j in range(i, i + 10)], embeddings=vecs[i : i + 10])  # fmt: skip
                engine.delete(ids=[f"w{i}"])
        except BaseException as exc:
            errors.append(exc)
        finally:
            stop.set()

    def reader(user: str) -> None:
        try:
            while not stop.is_set():
                for ranking in ("hybrid", "bm25", "dense"):
                    data = engine.search(
                        "writer note cat", user_id=user, ranking=ranking,
                        query_embedding=vecs[0], memory_limit_number=20,
                    )  # fmt: skip
                    for m in data.memory_detail_list:
                        item = engine.get(m.id)  # may be deleted meanwhile, never moved
                        assert item is None or item.user_id == user
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer)] + [
        threading.Thread(target=reader, args=(u,)) for u in ("u1", "u2", "u1")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    stats = engine.stats()
    assert stats["lexical_docs"] == stats["dense_vectors"] == stats["activated"]
    assert engine.get("w0") is None and engine.get("w199") is not None
