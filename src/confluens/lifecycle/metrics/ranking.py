"""Ranking metrics per group (a query, e.g. a user): NDCG@k and HR@k.

Within a group rows are ranked by score, highest first, ties broken by the row's
position in the input (earlier first). Groups without a relevant row (label > 0)
are left out of the mean; NaN when no group has one.

>>> ndcg_at_k(["u", "u", "u"], [0, 1, 0], [0.9, 0.5, 0.1], k=2)  # doctest: +ELLIPSIS
0.630...
>>> hit_rate_at_k(["u", "u", "v", "v"], [0, 1, 1, 0], [0.9, 0.5, 0.1, 0.8], k=1)
0.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["hit_rate_at_k", "ndcg_at_k"]


def _groups(groups: Any, labels: Any, scores: Any) -> pd.DataFrame:
    y = np.asarray(labels, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    g = np.asarray(groups)
    if not (y.shape == s.shape == g.shape) or y.ndim != 1:
        raise ValueError("groups, labels and scores must be 1-d of one length")
    if (y < 0).any():
        raise ValueError("relevance labels must not be negative")
    frame = pd.DataFrame({"g": g, "y": y, "s": s, "pos": np.arange(len(y))})
    frame = frame.sort_values(["g", "s", "pos"], ascending=[True, False, True], kind="stable")
    frame["rank"] = frame.groupby("g", sort=False).cumcount()
    return frame


def ndcg_at_k(groups: Any, labels: Any, scores: Any, k: int) -> float:
    """Mean over groups of DCG@k / IDCG@k, DCG@k = Σ_{i<k} label_i / log2(i + 2) over
    the rows ranked by score, IDCG@k the same over the rows ranked by label."""
    frame = _groups(groups, labels, scores)
    top = frame[frame["rank"] < k]
    dcg = (top["y"] / np.log2(top["rank"] + 2.0)).groupby(top["g"]).sum()
    ideal = frame.sort_values(["g", "y"], ascending=[True, False], kind="stable")
    ideal_rank = ideal.groupby("g", sort=False).cumcount()
    ideal = ideal[ideal_rank < k]
    idcg: pd.Series = (ideal["y"] / np.log2(ideal_rank[ideal_rank < k] + 2.0)).groupby(
        ideal["g"]).sum()
    idcg = idcg[idcg > 0]
    if idcg.empty:
        return float("nan")
    return float((dcg.reindex(idcg.index, fill_value=0.0) / idcg).mean())


def hit_rate_at_k(groups: Any, labels: Any, scores: Any, k: int) -> float:
    """The share of groups with a relevant row among their k highest-scored rows."""
    frame = _groups(groups, labels, scores)
    relevant = frame.groupby("g")["y"].max() > 0
    hit = (frame[frame["rank"] < k].groupby("g")["y"].max() > 0).reindex(relevant.index,
                                                                          fill_value=False)
    if not relevant.any():
        return float("nan")
    return float(hit[relevant].mean())
