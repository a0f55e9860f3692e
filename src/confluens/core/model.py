"""A model: features, a label, an estimator, an evaluation protocol and metrics.

The core holds the user's estimator object as given (it never imports a learning
library): training clones it before fitting. An :class:`Estimator` names the class
instead (``"lightgbm.LGBMClassifier"``) with its parameters, so that loading a
project's definitions imports no learning library; training builds it.

>>> from confluens.core.metrics import AUC
>>> m = Model("fraud_model", features=["customer_spending", "terminal_risk"],
...           label="fraud_labels.tx_fraud",
...           estimator=Estimator("sklearn.linear_model.LogisticRegression", C=1.0),
...           protocol=TimeSplit(start="2018-07-25"), metrics=[AUC()])
>>> m.label_source, m.label_column, m.task
('fraud_labels', 'tx_fraud', 'binary')
>>> Model("m", features=[], label="a.b", estimator=m.estimator, protocol=m.protocol,
...       metrics=[AUC()])
Traceback (most recent call last):
...
confluens.errors.DefinitionError: Model 'm': needs at least one feature; got []. ...
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluens.core.metrics import METRIC_TYPES, Metric
from confluens.core.names import check_column, check_name
from confluens.core.protocols import Prequential, Protocol, TimeSplit
from confluens.errors import DefinitionError

__all__ = ["Estimator", "Model"]

_CLASS_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
_FEATURE = re.compile(r"^[a-z][a-z0-9_]*(\[[^\]]+\])?(:[A-Za-z0-9_]+)?$")
_TASKS = ("binary", "regression", "ranking")


@dataclass(frozen=True)
class Estimator:
    """An estimator named by its class's import path, with its constructor parameters."""

    path: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __init__(self, path: str, **params: Any) -> None:
        if not isinstance(path, str) or not _CLASS_PATH.match(path):
            raise DefinitionError("Estimator", "needs the import path of a class, "
                                  "'module.Class'", got=path,
                                  fix="write e.g. Estimator('lightgbm.LGBMClassifier')")
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "params", dict(params))

    def __hash__(self) -> int:
        return hash((self.path, repr(sorted(self.params.items()))))

    def spec(self) -> dict[str, Any]:
        return {"class": self.path, "params": {k: repr(v) for k, v in sorted(self.params.items())}}


def _estimator_spec(estimator: Any) -> dict[str, Any]:
    if isinstance(estimator, Estimator):
        return estimator.spec()
    cls = type(estimator)
    params: dict[str, Any] = {}
    get_params = getattr(estimator, "get_params", None) or getattr(estimator, "_get_params", None)
    if callable(get_params):
        try:
            params = {k: repr(v) for k, v in sorted(dict(get_params()).items())}
        except Exception:  # an estimator that cannot list its parameters: its repr is all
            params = {"repr": repr(estimator)}
    return {"class": f"{cls.__module__}.{cls.__qualname__}", "params": params}


def _check_estimator(owner: str, estimator: Any) -> None:
    if isinstance(estimator, Estimator):
        return
    sklearn_like = callable(getattr(estimator, "fit", None)) and (
        callable(getattr(estimator, "predict_proba", None))
        or callable(getattr(estimator, "predict", None)))
    river_like = callable(getattr(estimator, "learn_one", None))
    if isinstance(estimator, type) or not (sklearn_like or river_like):
        raise DefinitionError(owner, "estimator must be a scikit-learn-compatible object "
                              "(fit, predict/predict_proba), a River model (learn_one) or an "
                              "Estimator('module.Class', ...)", got=estimator,
                              fix="pass an instance, e.g. LGBMClassifier(), not the class")


@dataclass(frozen=True, eq=False)
class Model:
    """What to learn, from which features, and how to judge it.

    ``features`` are feature references as training sets take them (``"view"``,
    ``"view:feature"``, ``"view[col]:feature"``). ``label`` is ``"source.column"``: the
    labels source is the training spine (one row per label record), and each record
    counts only once known (its source's ``known_at``) when the protocol allows.

    ``group`` (ranking models only) names the spine column whose values make the
    queries of learning to rank (a user, a session): estimators whose ``fit`` takes
    query groups (LightGBM's ``LGBMRanker``: ``group=``; XGBoost's ``XGBRanker``:
    ``qid=``) get them, with each fit's rows ordered by group, in time order within it.
    Other estimators (a regressor used to rank) are fitted as usual.
    """

    name: str
    features: tuple[str, ...]
    label: str
    estimator: Any
    protocol: Protocol
    metrics: tuple[Metric, ...]
    task: str = "binary"
    description: str = ""
    group: str | None = None

    def __init__(self, name: str, *, features: Sequence[str], label: str, estimator: Any,
                 protocol: Protocol, metrics: Sequence[Metric], task: str = "binary",
                 description: str = "", group: str | None = None) -> None:
        check_name("Model", name)
        owner = f"Model '{name}'"
        if isinstance(features, str) or not isinstance(features, Sequence):
            raise DefinitionError(owner, "features must be a list of feature references",
                                  got=features, fix="write e.g. features=['customer_spending']")
        if not features:
            raise DefinitionError(owner, "needs at least one feature", got=list(features),
                                  fix="list e.g. 'customer_spending' or 'view:feature'")
        for ref in features:
            if not isinstance(ref, str) or not _FEATURE.match(ref):
                raise DefinitionError(owner, "a feature reference is 'view', 'view:feature' or "
                                      "'view[column]:feature'", got=ref,
                                      fix="write e.g. 'customer_spending:customer_nb_tx_7d'")
        if len(set(features)) != len(features):
            raise DefinitionError(owner, "lists a feature twice", got=list(features),
                                  fix="list each reference once")
        source, dot, column = label.partition(".") if isinstance(label, str) else ("", "", "")
        if not dot or not source or not column:
            raise DefinitionError(owner, "label must be 'source.column'", got=label,
                                  fix="write e.g. label='fraud_labels.tx_fraud'")
        _check_estimator(owner, estimator)
        if not isinstance(protocol, TimeSplit | Prequential):
            raise DefinitionError(owner, "protocol must be TimeSplit(...) or Prequential(...)",
                                  got=protocol, fix="write e.g. protocol=TimeSplit(train='7d', "
                                  "delay='7d', test='7d')")
        if task not in _TASKS:
            raise DefinitionError(owner, f"task must be one of {list(_TASKS)}", got=task,
                                  fix="write e.g. task='binary'")
        if group is not None:
            if task != "ranking":
                raise DefinitionError(owner, "group (the queries of learning to rank) is for "
                                      "ranking models", got={"task": task, "group": group},
                                      fix="drop group=, or set task='ranking'")
            check_column(f"{owner} group", group)
        if isinstance(metrics, str) or not isinstance(metrics, Sequence) or not metrics:
            raise DefinitionError(owner, "needs a list of at least one metric", got=metrics,
                                  fix="write e.g. metrics=[AUC(), AveragePrecision()]")
        names: list[str] = []
        for metric in metrics:
            if not isinstance(metric, METRIC_TYPES):
                raise DefinitionError(owner, "metrics must be metric definitions", got=metric,
                                      fix="use AUC(), AveragePrecision(), CardPrecision(k=100), "
                                      "RMSE(), PHM08(), NDCG(k=10) or HitRate(k=10)")
            if metric.task != task:
                raise DefinitionError(owner, f"metric '{metric.name}' is for {metric.task} "
                                      f"models, not {task} ones", got=metric.name,
                                      fix=f"drop it, or set task='{metric.task}'")
            if metric.name in names:
                raise DefinitionError(owner, "lists a metric twice", got=metric.name,
                                      fix="list each metric once")
            names.append(metric.name)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "features", tuple(features))
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "estimator", estimator)
        object.__setattr__(self, "protocol", protocol)
        object.__setattr__(self, "metrics", tuple(metrics))
        object.__setattr__(self, "task", task)
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "group", group)

    @property
    def label_source(self) -> str:
        return self.label.partition(".")[0]

    @property
    def label_column(self) -> str:
        return self.label.partition(".")[2]

    def spec(self) -> dict[str, Any]:
        """A JSON-able description: what the definitions hash covers."""
        return {"name": self.name, "features": list(self.features), "label": self.label,
                "estimator": _estimator_spec(self.estimator), "protocol": self.protocol.spec(),
                "metrics": [m.spec() for m in self.metrics], "task": self.task,
                **({"group": self.group} if self.group is not None else {})}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and self.spec() == other.spec()

    def __hash__(self) -> int:
        return hash(self.name)
