"""Binary-classification metrics over plain arrays: AUC ROC, average precision and
Card Precision@k. Definitions and tie rules: docs/concepts.md (Models).

>>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
0.75
>>> average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])  # doctest: +ELLIPSIS
0.833...
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["average_precision", "card_precision_at_k", "roc_auc"]


def _binary(labels: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError(f"labels and scores must be 1-d of one length, got {y.shape} and "
                         f"{s.shape}")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("binary labels must be 0 or 1")
    if np.isnan(s).any():
        raise ValueError("scores must not be NaN")
    return y, s


def roc_auc(labels: Any, scores: Any) -> float:
    """The probability that a random positive scores above a random negative, a tie
    counting one half (the Mann-Whitney U over both counts). NaN without both classes."""
    y, s = _binary(labels, scores)
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    order = np.argsort(s, kind="stable")
    sorted_scores = s[order]
    # mid-ranks: every tied score gets the mean of the ranks its group spans
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], len(s)]
    midrank = (starts + ends + 1) / 2.0
    ranks = np.empty(len(s))
    ranks[order] = np.repeat(midrank, ends - starts)
    u = ranks[y == 1].sum() - positives * (positives + 1) / 2.0
    return float(u / (positives * negatives))


def average_precision(labels: Any, scores: Any) -> float:
    """Σ (R_n − R_{n−1}) P_n over the distinct scores from the highest down, where P_n
    and R_n are the precision and recall of flagging every row scoring at least the
    n-th threshold (no interpolation). NaN without a positive."""
    y, s = _binary(labels, scores)
    positives = y.sum()
    if positives == 0:
        return float("nan")
    order = np.argsort(-s, kind="stable")
    y_sorted, s_sorted = y[order], s[order]
    last_of_threshold = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    tps = np.cumsum(y_sorted)[last_of_threshold]
    flagged = (np.arange(1, len(y) + 1))[last_of_threshold]
    precision = tps / flagged
    recall = tps / positives
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def card_precision_at_k(days: Sequence[Any] | np.ndarray, cards: Sequence[Any] | np.ndarray,
                        labels: Any, scores: Any, k: int) -> float:
    """The handbook's Card Precision@k, with its removal of detected cards.

    For each day, in order: leave out the cards detected on earlier days; a card's
    score is the max of its scores that day, its label the max of its labels; rank
    the cards by score, highest first, ties broken by the card key ascending; the
    day's precision is the number of compromised cards among the first k divided by
    k (even when fewer than k cards exist); those compromised cards are detected.
    The result is the plain mean of the days' precisions. NaN without rows.
    """
    y, s = _binary(labels, scores)
    frame = pd.DataFrame({"day": np.asarray(days), "card": np.asarray(cards), "y": y, "s": s})
    if frame.empty:
        return float("nan")
    detected: set[Any] = set()
    precisions = []
    for _, day in frame.groupby("day", sort=True):
        day = day[~day["card"].isin(detected)]
        per_card = day.groupby("card", sort=True).agg(s=("s", "max"), y=("y", "max"))
        per_card = per_card.reset_index().sort_values(["s", "card"], ascending=[False, True],
                                                      kind="stable")
        top = per_card.head(k)
        found = top.loc[top["y"] == 1, "card"]
        precisions.append(len(found) / k)
        detected.update(found.tolist())
    return float(np.mean(precisions))
