"""What training hands to the registry, and what serving loads back from it.

Two values cross the line between training, the registry and serving:

- `TrainedModel`: a fitted estimator with everything the registry must record
  about it (features in order, params, metrics, an input example, lineage).
- `LoadedModel`: what the registry gives back for a name and an alias or
  version. Serving and stream scoring use only this protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

__all__ = ["ArrayPredict", "Lineage", "LoadedModel", "TrainedModel", "array_predict"]


@dataclass(frozen=True)
class Lineage:
    """Where a model came from, enough to rebuild its training set."""

    definitions_hash: str  # hash of the project's definitions when it was trained
    data_snapshot: str  # the offline store's version / as-of the training set read
    code_version: str  # git commit of the project, else the confluens version
    training_set: Mapping[str, Any] = field(default_factory=dict)  # rows, time range, spine


@dataclass(frozen=True)
class TrainedModel:
    """A fitted estimator and what the registry records with it."""

    model: str  # the Model definition's name; the registered model's name
    estimator: Any  # fitted; scikit-learn compatible, or a River model
    flavor: str  # "lightgbm" | "xgboost" | "sklearn" | "river"
    features: tuple[str, ...]  # feature references in input order ("view:feature")
    columns: tuple[str, ...]  # the estimator's input column names, same order
    task: str  # "binary" | "regression" | "ranking"
    params: Mapping[str, Any]
    metrics: Mapping[str, float]
    input_example: pd.DataFrame  # a few rows of estimator input, `columns` in order
    lineage: Lineage
    artifacts: Mapping[str, Path] = field(default_factory=dict)  # extra files to log


class LoadedModel(Protocol):
    """A registered model version, ready to score.

    A model may also have ``predict_array``: the same scores from a float64 matrix
    (``columns`` in order, NaN for missing), or None. Serving uses it when the inputs
    are all numbers, and skips building a pandas frame per request (see
    ``array_predict``).
    """

    name: str
    version: int
    features: tuple[str, ...]
    columns: tuple[str, ...]
    task: str

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Scores, one per row of `frame` (`columns` in order).

        For a binary task, the probability of the positive class.
        """
        ...


ArrayPredict = Callable[[np.ndarray], np.ndarray]
"""Scores a float64 matrix, one row per input row, the model's ``columns`` in order."""


def array_predict(model: LoadedModel) -> ArrayPredict | None:
    """``model``'s ``predict_array``, if it has one (a model scored from a float
    matrix, e.g. a LightGBM booster), else None."""
    found = getattr(model, "predict_array", None)
    return found if callable(found) else None
