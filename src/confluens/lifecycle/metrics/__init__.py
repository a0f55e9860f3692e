"""Metric computations over plain arrays (the definitions are in core/metrics.py)."""

from confluens.lifecycle.metrics.binary import average_precision, card_precision_at_k, roc_auc
from confluens.lifecycle.metrics.compute import compute
from confluens.lifecycle.metrics.ranking import hit_rate_at_k, ndcg_at_k
from confluens.lifecycle.metrics.regression import phm08, rmse

__all__ = ["average_precision", "card_precision_at_k", "compute", "hit_rate_at_k",
           "ndcg_at_k", "phm08", "rmse", "roc_auc"]
