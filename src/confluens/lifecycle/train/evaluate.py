"""Fit and evaluate one parameter choice on a list of folds."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from confluens.core.model import Model
from confluens.errors import InputError
from confluens.lifecycle.metrics import compute
from confluens.lifecycle.train.estimators import fit, score
from confluens.lifecycle.train.splits import Fold

__all__ = ["Evaluation", "evaluate"]

SCORE = "__score"


@dataclass(frozen=True)
class Evaluation:
    """Per metric, its value on each fold; and the fitted estimator of each fold."""

    params: Mapping[str, Any]
    values: Mapping[str, tuple[float, ...]]
    fitted: tuple[Any, ...]

    def mean(self, metric: str) -> float:
        return float(np.mean(self.values[metric]))

    def std(self, metric: str) -> float:
        return float(np.std(self.values[metric]))  # population std, as the handbook


def evaluate(model: Model, estimator: Any, params: Mapping[str, Any], frame: pd.DataFrame,
             columns: Sequence[str], folds: Sequence[Fold], *,
             on_fold: Callable[[], None] | None = None) -> Evaluation:
    values: dict[str, list[float]] = {m.name: [] for m in model.metrics}
    fitted_all = []
    for f in folds:
        for part, rows in (("training", f.train), ("test", f.test)):
            if len(rows) == 0:
                raise InputError(f"Model '{model.name}'", f"the fold starting {f.start} has "
                                 f"no {part} rows", got=str(f.start),
                                 fix="ingest labels covering the protocol's periods, or move "
                                 "its start (protocol start=, `confluens train --start`)")
        train = frame.iloc[f.train]
        y = train[model.label_column].to_numpy()
        if model.task == "binary" and len(np.unique(y)) < 2:
            raise InputError(f"Model '{model.name}'", "a binary model needs both classes in "
                             "every training period", got=f"only {np.unique(y).tolist()} from "
                             f"{f.start}", fix="use longer training periods or more data")
        groups = train[model.group].to_numpy() if model.group is not None else None
        fitted = fit(estimator, params, train[list(columns)], y, model=model.name,
                     task=model.task, groups=groups)
        test = frame.iloc[f.test].copy()
        test[SCORE] = score(fitted, test[list(columns)], model=model.name, task=model.task)
        for metric in model.metrics:
            values[metric.name].append(compute(metric, test, label=model.label_column,
                                               score=SCORE))
        fitted_all.append(fitted)
        if on_fold is not None:
            on_fold()
    return Evaluation(dict(params), {k: tuple(v) for k, v in values.items()},
                      tuple(fitted_all))
