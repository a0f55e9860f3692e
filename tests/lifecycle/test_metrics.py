"""Metrics against small, obviously correct references and against scikit-learn."""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confluens.lifecycle.metrics import (
    average_precision,
    card_precision_at_k,
    hit_rate_at_k,
    ndcg_at_k,
    phm08,
    rmse,
    roc_auc,
)

sklearn_metrics = pytest.importorskip("sklearn.metrics")

# scores on a coarse grid, so that ties are frequent
scores = st.lists(st.integers(0, 6).map(lambda v: v / 6), min_size=2, max_size=40)


@st.composite
def labelled(draw: st.DrawFn) -> tuple[list[int], list[float]]:
    s = draw(scores)
    y = draw(st.lists(st.integers(0, 1), min_size=len(s), max_size=len(s)))
    return y, s


def auc_by_pairs(y: list[int], s: list[float]) -> float:
    """Every (positive, negative) pair: 1 if the positive scores higher, 1/2 if tied."""
    pos = [v for v, t in zip(s, y, strict=True) if t == 1]
    neg = [v for v, t in zip(s, y, strict=True) if t == 0]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in product(pos, neg))
    return wins / (len(pos) * len(neg))


def ap_by_thresholds(y: list[int], s: list[float]) -> float:
    """For each distinct score, highest first: recall gained times the precision there."""
    total, previous_recall = 0.0, 0.0
    for threshold in sorted(set(s), reverse=True):
        flagged = [t for v, t in zip(s, y, strict=True) if v >= threshold]
        recall = sum(flagged) / sum(y)
        total += (recall - previous_recall) * sum(flagged) / len(flagged)
        previous_recall = recall
    return total


@given(labelled())
@settings(max_examples=200, deadline=None)
def test_auc_matches_pair_counting_and_sklearn(case: tuple[list[int], list[float]]) -> None:
    y, s = case
    if len(set(y)) < 2:
        assert math.isnan(roc_auc(y, s))
        return
    assert roc_auc(y, s) == pytest.approx(auc_by_pairs(y, s))
    assert roc_auc(y, s) == pytest.approx(sklearn_metrics.roc_auc_score(y, s))


@given(labelled())
@settings(max_examples=200, deadline=None)
def test_average_precision_matches_thresholds_and_sklearn(
        case: tuple[list[int], list[float]]) -> None:
    y, s = case
    if sum(y) == 0:
        assert math.isnan(average_precision(y, s))
        return
    assert average_precision(y, s) == pytest.approx(ap_by_thresholds(y, s))
    assert average_precision(y, s) == pytest.approx(
        sklearn_metrics.average_precision_score(y, s))


def cp_reference(days: list[int], cards: list[int], y: list[int], s: list[float],
                 k: int) -> float:
    """The handbook's Card Precision@k, written out with dicts and sorted()."""
    detected: set[int] = set()
    precisions = []
    for day in sorted(set(days)):
        best: dict[int, tuple[float, int]] = {}
        for d, c, t, v in zip(days, cards, y, s, strict=True):
            if d == day and c not in detected:
                old = best.get(c, (-math.inf, 0))
                best[c] = (max(old[0], v), max(old[1], t))
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], item[0]))[:k]
        found = [c for c, (_, t) in ranked if t == 1]
        precisions.append(len(found) / k)
        detected.update(found)
    return sum(precisions) / len(precisions)


@st.composite
def card_days(draw: st.DrawFn) -> tuple[list[int], list[int], list[int], list[float], int]:
    n = draw(st.integers(1, 40))
    days = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    cards = draw(st.lists(st.integers(0, 8), min_size=n, max_size=n))
    y = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    s = draw(st.lists(st.integers(0, 4).map(lambda v: v / 4), min_size=n, max_size=n))
    return days, cards, y, s, draw(st.integers(1, 5))


@given(card_days())
@settings(max_examples=200, deadline=None)
def test_card_precision_matches_reference(
        case: tuple[list[int], list[int], list[int], list[float], int]) -> None:
    days, cards, y, s, k = case
    assert card_precision_at_k(days, cards, y, s, k) == pytest.approx(
        cp_reference(days, cards, y, s, k))


def test_card_precision_removes_cards_detected_earlier_and_divides_by_k() -> None:
    # day 0: card 1 (fraud) is top and found; day 1: card 1 again scores highest but is
    # left out, so card 2 (genuine) is the top-1
    days, cards = [0, 0, 1, 1], [1, 2, 1, 2]
    y, s = [1, 0, 1, 0], [0.9, 0.1, 0.9, 0.5]
    assert card_precision_at_k(days, cards, y, s, k=1) == pytest.approx(0.5)
    # k larger than the cards there are: hits / k all the same
    assert card_precision_at_k([0, 0], [1, 2], [1, 0], [0.2, 0.1], k=4) == pytest.approx(0.25)


def test_card_precision_tie_rule_is_the_card_key_ascending() -> None:
    # two cards tie at the top; only the smaller key makes the top 1
    assert card_precision_at_k([0, 0], ["b", "a"], [1, 0], [0.5, 0.5], k=1) == 0.0
    assert card_precision_at_k([0, 0], ["a", "b"], [1, 0], [0.5, 0.5], k=1) == 1.0


@given(st.lists(st.tuples(st.floats(-50, 50), st.floats(-50, 50)), min_size=1, max_size=30))
@settings(max_examples=100, deadline=None)
def test_rmse_and_phm08_match_their_formulas(pairs: list[tuple[float, float]]) -> None:
    truth = [t for t, _ in pairs]
    predicted = [p for _, p in pairs]
    assert rmse(truth, predicted) == pytest.approx(
        math.sqrt(sum((p - t) ** 2 for t, p in pairs) / len(pairs)))
    assert rmse(truth, predicted) == pytest.approx(
        math.sqrt(sklearn_metrics.mean_squared_error(truth, predicted)))
    expected = sum(math.exp(-(p - t) / 13) - 1 if p - t < 0 else math.exp((p - t) / 10) - 1
                   for t, p in pairs)
    assert phm08(truth, predicted) == pytest.approx(expected)


def test_phm08_punishes_late_predictions_more() -> None:
    assert phm08([50.0], [60.0]) > phm08([50.0], [40.0]) > 0


def ndcg_reference(groups: list[int], y: list[int], s: list[float], k: int) -> float:
    values = []
    for g in sorted(set(groups)):
        rows = [(i, t, v) for i, (gg, t, v) in enumerate(zip(groups, y, s, strict=True))
                if gg == g]
        ranked = sorted(rows, key=lambda r: (-r[2], r[0]))[:k]
        dcg = sum(t / math.log2(i + 2) for i, (_, t, _) in enumerate(ranked))
        ideal = sorted((t for _, t, _ in rows), reverse=True)[:k]
        idcg = sum(t / math.log2(i + 2) for i, t in enumerate(ideal))
        if idcg > 0:
            values.append(dcg / idcg)
    return sum(values) / len(values) if values else math.nan


def hr_reference(groups: list[int], y: list[int], s: list[float], k: int) -> float:
    hits = []
    for g in sorted(set(groups)):
        rows = [(i, t, v) for i, (gg, t, v) in enumerate(zip(groups, y, s, strict=True))
                if gg == g]
        if any(t > 0 for _, t, _ in rows):
            top = sorted(rows, key=lambda r: (-r[2], r[0]))[:k]
            hits.append(any(t > 0 for _, t, _ in top))
    return sum(hits) / len(hits) if hits else math.nan


@st.composite
def ranked(draw: st.DrawFn) -> tuple[list[int], list[int], list[float], int]:
    n = draw(st.integers(1, 30))
    groups = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    y = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    s = draw(st.lists(st.integers(0, 5).map(float), min_size=n, max_size=n))
    return groups, y, s, draw(st.integers(1, 6))


@given(ranked())
@settings(max_examples=200, deadline=None)
def test_ndcg_and_hit_rate_match_references(
        case: tuple[list[int], list[int], list[float], int]) -> None:
    groups, y, s, k = case
    for ours, reference in ((ndcg_at_k, ndcg_reference), (hit_rate_at_k, hr_reference)):
        expected = reference(groups, y, s, k)
        got = ours(groups, y, s, k)
        assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected)


@given(st.lists(st.tuples(st.integers(0, 3), st.floats(0, 1, allow_subnormal=False)),
                min_size=2, max_size=20, unique_by=lambda r: r[1]), st.integers(1, 8))
@settings(max_examples=100, deadline=None)
def test_ndcg_matches_sklearn_for_one_group_with_distinct_scores(
        rows: list[tuple[int, float]], k: int) -> None:
    y = [r[0] for r in rows]
    s = [r[1] for r in rows]
    if sum(y) == 0:
        return
    expected = sklearn_metrics.ndcg_score(np.array([y]), np.array([s]), k=k)
    assert ndcg_at_k([0] * len(y), y, s, k) == pytest.approx(expected)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="0 or 1"):
        roc_auc([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="one length"):
        average_precision([0, 1], [0.1])
