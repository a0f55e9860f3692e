"""Regression metrics: RMSE and the PHM08 score.

>>> rmse([1.0, 2.0], [1.0, 4.0])  # doctest: +ELLIPSIS
1.414...
>>> round(phm08([10.0, 10.0], [0.0, 23.0]), 4)  # d = -10: e^(10/13)-1; d = 13: e^1.3-1
3.8274
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["phm08", "rmse"]


def _pair(truth: Any, predicted: Any) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(truth, dtype=np.float64)
    p = np.asarray(predicted, dtype=np.float64)
    if t.shape != p.shape or t.ndim != 1:
        raise ValueError(f"truth and predictions must be 1-d of one length, got {t.shape} "
                         f"and {p.shape}")
    return t, p


def rmse(truth: Any, predicted: Any) -> float:
    """sqrt(mean((predicted − truth)²)); NaN without rows."""
    t, p = _pair(truth, predicted)
    return float(np.sqrt(np.mean((p - t) ** 2))) if len(t) else float("nan")


def phm08(truth: Any, predicted: Any) -> float:
    """Σ exp(−d/13) − 1 for d < 0 and Σ exp(d/10) − 1 otherwise, d = predicted − truth:
    late predictions (d > 0) cost more than early ones. 0 without rows."""
    t, p = _pair(truth, predicted)
    d = p - t
    return float(np.sum(np.where(d < 0, np.exp(-d / 13.0), np.exp(d / 10.0)) - 1.0))
