"""Metrics against hand-computed values."""

import math

import pytest

from hybridmem.bench import metrics

RANKED = ["a", "b", "c", "d"]
RELEVANT = {"b", "d", "e"}


def test_recall() -> None:
    assert metrics.recall_at(RANKED, RELEVANT, 1) == 0.0
    assert metrics.recall_at(RANKED, RELEVANT, 2) == pytest.approx(1 / 3)
    assert metrics.recall_at(RANKED, RELEVANT, 10) == pytest.approx(2 / 3)


def test_ndcg_binary_gains_ideal_over_min_k_relevant() -> None:
    dcg = 1 / math.log2(3) + 1 / math.log2(5)  # hits at ranks 2 and 4
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)  # 3 relevant, k = 4
    assert metrics.ndcg_at(RANKED, RELEVANT, 4) == pytest.approx(dcg / ideal)
    assert metrics.ndcg_at(RANKED, RELEVANT, 4) == pytest.approx(0.498189, abs=1e-6)
    assert metrics.ndcg_at(["x", "y"], {"y"}, 1) == 0.0
    assert metrics.ndcg_at(["y"], {"y"}, 10) == 1.0


def test_mrr() -> None:
    assert metrics.mrr_at(RANKED, RELEVANT, 100) == 0.5
    assert metrics.mrr_at(RANKED, RELEVANT, 1) == 0.0
    assert metrics.mrr_at([], RELEVANT, 100) == 0.0


def test_ece_and_brier() -> None:
    probs = [0.1, 0.9, 0.95, 0.5]
    labels = [0, 1, 0, 1]
    # every hit in its own bin: mean of |y - p| = (0.1 + 0.1 + 0.95 + 0.5) / 4
    assert metrics.ece(probs, labels) == pytest.approx(0.4125)
    assert metrics.brier(probs, labels) == pytest.approx((0.01 + 0.01 + 0.9025 + 0.25) / 4)
    # two hits sharing bin [0.2, 0.2667): |0.5 - 0.205|
    assert metrics.ece([0.2, 0.21], [1, 0]) == pytest.approx(0.295)
    # p = 1 belongs to the last bin; a perfectly calibrated certain hit costs nothing
    assert metrics.ece([1.0, 1.0], [1, 1]) == 0.0
    assert metrics.ece([], []) == 0.0


def test_metrics_reject_bad_input() -> None:
    with pytest.raises(ValueError):
        metrics.recall_at(RANKED, set(), 5)
    with pytest.raises(ValueError):
        metrics.ece([1.2], [1])
    with pytest.raises(ValueError):
        metrics.brier([0.5, 0.5], [1])


def test_percentile_ms() -> None:
    assert metrics.percentile_ms([0.001, 0.002, 0.003], 50) == pytest.approx(2.0)


def test_hit_and_stale_first() -> None:
    assert metrics.hit_at(RANKED, RELEVANT, 1) == 0.0
    assert metrics.hit_at(RANKED, RELEVANT, 2) == 1.0
    assert metrics.stale_first(["x", "old", "new"], {"new"}, {"old"}) is True
    assert metrics.stale_first(["new", "old"], {"new"}, {"old"}) is False
    assert metrics.stale_first(["x"], {"new"}, {"old"}) is False  # neither returned
    assert metrics.stale_first(["old"], {"new"}, {"old"}) is True  # only the stale one


def test_kept_and_surface() -> None:
    probs, labels = [0.9, 0.6, 0.3, 0.1], [True, False, True, False]
    assert metrics.kept_at(probs, labels, 0.5) == (2, 0.5, 0.5)
    assert metrics.kept_at(probs, labels, 0.3) == (3, pytest.approx(2 / 3), 1.0)
    kept, precision, recall = metrics.kept_at(probs, labels, 0.95)
    assert kept == 0 and math.isnan(precision) and recall == 0.0
    assert math.isnan(metrics.kept_at([0.5], [False], 0.1)[2])  # nothing relevant returned
    assert metrics.surface_rate([0.2, 0.31, 0.5, 0.0], 0.3) == 0.5
    assert math.isnan(metrics.surface_rate([], 0.3))
