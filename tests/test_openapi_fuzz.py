"""Schemathesis against the live server's own OpenAPI document: no input yields a 5xx.

Bounded (25 generated requests per operation and mode, schema-valid and invalid) so that it fits
in ``make test``; each answer must also match the documented status codes, content type and
schemas (the MemOS envelope on success and on error).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from .hashenc import HashEncoder
from .live import ALL_KEY, serve_new_store


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # The hashed encoder: what is checked is the HTTP layer's answer to any input, not the model.
    with serve_new_store(tmp_path_factory.mktemp("fuzz") / "store", HashEncoder()) as url:
        yield url


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_no_server_errors(base: str) -> None:
    """Every operation, valid and invalid inputs: the server never fails (no 5xx)."""
    api = schemathesis.openapi.from_url(f"{base}/openapi.json")
    root = base.removesuffix("/api/openmem/v1")
    headers = {"Authorization": f"Token {ALL_KEY}"}
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) == 9
    for operation, mode in itertools.product(operations, schemathesis.GenerationMode):

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=root, headers=headers, checks=CHECKS)

        run()
