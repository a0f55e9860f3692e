"""Evaluation metrics, as definitions: what to measure, not how (lifecycle/metrics/).

Each metric has a ``name`` (the key of its figure, e.g. ``cp@100``), whether greater
is better, and the row columns it needs beyond the label and the score: a card for
Card Precision@k, a group (a query, e.g. a user) for NDCG@k and HR@k. The exact
definitions, tie rules included, are in docs/concepts.md (Models).

>>> [m.name for m in (AUC(), AveragePrecision(), CardPrecision(k=100))]
['auc', 'ap', 'cp@100']
>>> NDCG(k=10, group="user_id").name, PHM08().greater_is_better
('ndcg@10', False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

from confluens.core.names import check_column
from confluens.errors import DefinitionError

__all__ = ["AUC", "NDCG", "PHM08", "RMSE", "AveragePrecision", "CardPrecision", "HitRate",
           "Metric"]


def _k(owner: str, k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise DefinitionError(owner, "k must be a positive whole number", got=k,
                              fix="write e.g. k=100")
    return k


@dataclass(frozen=True)
class AUC:
    """Area under the ROC curve (binary labels; tied scores count one half)."""

    name: ClassVar[str] = "auc"
    greater_is_better: ClassVar[bool] = True
    task: ClassVar[str] = "binary"

    def spec(self) -> dict[str, Any]:
        return {"metric": self.name}


@dataclass(frozen=True)
class AveragePrecision:
    """Average precision: Σ (R_n − R_{n−1}) P_n over the distinct score thresholds."""

    name: ClassVar[str] = "ap"
    greater_is_better: ClassVar[bool] = True
    task: ClassVar[str] = "binary"

    def spec(self) -> dict[str, Any]:
        return {"metric": self.name}


@dataclass(frozen=True)
class CardPrecision:
    """Card Precision@k (the handbook's): per test day, the share of the k cards with
    the highest score (a card's score is its day's max) that are compromised; cards
    found compromised on an earlier test day are left out; the mean over days."""

    k: int = 100
    card: str = "customer_id"

    def __post_init__(self) -> None:
        _k("CardPrecision", self.k)
        check_column("CardPrecision card", self.card)

    @property
    def name(self) -> str:
        return f"cp@{self.k}"

    greater_is_better: ClassVar[bool] = True
    task: ClassVar[str] = "binary"

    def spec(self) -> dict[str, Any]:
        return {"metric": "cp", "k": self.k, "card": self.card}


@dataclass(frozen=True)
class RMSE:
    """Root mean squared error of a regression."""

    name: ClassVar[str] = "rmse"
    greater_is_better: ClassVar[bool] = False
    task: ClassVar[str] = "regression"

    def spec(self) -> dict[str, Any]:
        return {"metric": self.name}


@dataclass(frozen=True)
class PHM08:
    """The PHM08 score: Σ exp(−d/13) − 1 for d < 0, else exp(d/10) − 1, d = pred − true."""

    name: ClassVar[str] = "phm08"
    greater_is_better: ClassVar[bool] = False
    task: ClassVar[str] = "regression"

    def spec(self) -> dict[str, Any]:
        return {"metric": self.name}


@dataclass(frozen=True)
class NDCG:
    """NDCG@k: per group, DCG of the top k by score over the ideal DCG; mean over the
    groups with at least one relevant row."""

    k: int = 10
    group: str = "user_id"

    def __post_init__(self) -> None:
        _k("NDCG", self.k)
        check_column("NDCG group", self.group)

    @property
    def name(self) -> str:
        return f"ndcg@{self.k}"

    greater_is_better: ClassVar[bool] = True
    task: ClassVar[str] = "ranking"

    def spec(self) -> dict[str, Any]:
        return {"metric": "ndcg", "k": self.k, "group": self.group}


@dataclass(frozen=True)
class HitRate:
    """HR@k: the share of groups (with a relevant row) with a relevant row in the top k."""

    k: int = 10
    group: str = "user_id"

    def __post_init__(self) -> None:
        _k("HitRate", self.k)
        check_column("HitRate group", self.group)

    @property
    def name(self) -> str:
        return f"hr@{self.k}"

    greater_is_better: ClassVar[bool] = True
    task: ClassVar[str] = "ranking"

    def spec(self) -> dict[str, Any]:
        return {"metric": "hr", "k": self.k, "group": self.group}


Metric: TypeAlias = AUC | AveragePrecision | CardPrecision | RMSE | PHM08 | NDCG | HitRate
METRIC_TYPES = (AUC, AveragePrecision, CardPrecision, RMSE, PHM08, NDCG, HitRate)
