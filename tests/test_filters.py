import pytest

from hybridmem import InvalidFilterError
from hybridmem.filters import compile_filter


def test_empty_and_none_mean_no_filter() -> None:
    assert compile_filter(None) is None
    assert compile_filter({}) is None


def test_compiles_nested_and_or() -> None:
    f = compile_filter(
        {
            "and": [
                {"memory_type": "UserMemory"},
                {"or": [{"tags": "x"}, {"create_time": {"gte": 5}}]},
            ]
        }
    )
    assert f is not None
    assert f.params == ("UserMemory", "x", 5)
    assert " AND " in f.sql and " OR " in f.sql


def test_iso_dates_become_epoch_ms() -> None:
    f = compile_filter({"create_time": {"lt": "2025-01-02"}})
    assert f is not None and f.params == (1735776000000,)


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"colour": "red"}, "unknown filter field 'colour'"),
        ({"tags": {"near": "x"}}, "unknown operator 'near'"),
        ({"memory_type": {"gt": "A"}}, "applies to times and numbers"),
        ({"create_time": {"gt": "yesterday"}}, "ISO-8601"),
        ({"and": {}}, "non-empty list"),
        ({"or": []}, "non-empty list"),
        ({"tags": {"in": []}}, "non-empty list"),
        ({"confidence": {"gte": "high"}}, "expected a number"),
        ({"create_time": {}}, "empty operator"),
        ({"and": [1]}, "expected a non-empty object"),
    ],
)
def test_bad_filters_raise_clear_errors(spec: dict, message: str) -> None:
    with pytest.raises(InvalidFilterError, match=message):
        compile_filter(spec)


def test_non_object_filter_is_rejected() -> None:
    with pytest.raises(InvalidFilterError):
        compile_filter(["memory_type"])  # type: ignore[arg-type]
