"""Latency of the HTTP service (pytest-benchmark), loopback, one client connection.

* ``test_http_search``: ``POST /search/memory`` through uvicorn + Starlette: body decode, auth,
  the search (MiniLM query encoding included) and the JSON answer. Compare with
  ``test_search_end_to_end`` for the cost of the HTTP layer.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import pytest
import requests

from hybridmem import Engine
from hybridmem.encoder import Encoder
from tests.live import ALL_KEY, serve

from .conftest import SCALES, Workload


@pytest.fixture(scope="module")
def base(store_path, encoder: Encoder) -> Iterator[str]:
    with serve(Engine.open(store_path, encoder=encoder)) as url:  # the server closes it
        yield url


def test_http_search(benchmark, base: str, workload: Workload, scale: str) -> None:
    order = itertools.cycle(range(len(workload.queries)))
    session = requests.Session()
    session.headers.update({"Authorization": f"Token {ALL_KEY}"})

    def one() -> None:
        i = next(order)
        body = {
            "query": workload.queries[i],
            "user_id": workload.users[i],
            "memory_limit_number": 10,
            "conversation_id": "c1",
        }
        resp = session.post(f"{base}/search/memory", data=json.dumps(body), timeout=30)
        assert resp.status_code == 200

    benchmark.extra_info.update(memories=SCALES[scale][0], users=SCALES[scale][1])
    benchmark.pedantic(one, rounds=200, iterations=1, warmup_rounds=10)
