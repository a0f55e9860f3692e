"""One metric definition evaluated on a scored frame."""

from __future__ import annotations

import pandas as pd

from confluens.core.metrics import (
    AUC,
    NDCG,
    PHM08,
    RMSE,
    AveragePrecision,
    CardPrecision,
    HitRate,
    Metric,
)
from confluens.errors import InputError
from confluens.lifecycle.metrics.binary import average_precision, card_precision_at_k, roc_auc
from confluens.lifecycle.metrics.ranking import hit_rate_at_k, ndcg_at_k
from confluens.lifecycle.metrics.regression import phm08, rmse

__all__ = ["DAY", "compute"]

DAY = "__day"  # the UTC calendar day of each row's event time (CP@k's days)


def _column(frame: pd.DataFrame, column: str, metric: Metric) -> pd.Series:
    if column not in frame.columns:
        raise InputError(f"metric '{metric.name}'", "needs a column the scored rows lack",
                         got=column, fix=f"add '{column}' to the labels source (the training "
                         "spine), or name another column in the metric")
    return frame[column]


def compute(metric: Metric, frame: pd.DataFrame, *, label: str, score: str = "__score") -> float:
    """``metric`` of the scores in ``frame[score]`` against ``frame[label]``."""
    y, s = frame[label].to_numpy(), frame[score].to_numpy()
    if isinstance(metric, AUC):
        return roc_auc(y, s)
    if isinstance(metric, AveragePrecision):
        return average_precision(y, s)
    if isinstance(metric, CardPrecision):
        return card_precision_at_k(frame[DAY].to_numpy(),
                                   _column(frame, metric.card, metric).to_numpy(), y, s, metric.k)
    if isinstance(metric, RMSE):
        return rmse(y, s)
    if isinstance(metric, PHM08):
        return phm08(y, s)
    if isinstance(metric, NDCG):
        return ndcg_at_k(_column(frame, metric.group, metric).to_numpy(), y, s, metric.k)
    if isinstance(metric, HitRate):
        return hit_rate_at_k(_column(frame, metric.group, metric).to_numpy(), y, s, metric.k)
    raise InputError("metric", "is not a metric definition", got=metric,
                     fix="use AUC(), AveragePrecision(), CardPrecision(k=100), ...")
