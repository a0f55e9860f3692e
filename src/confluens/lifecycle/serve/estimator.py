"""A fitted estimator as a `LoadedModel`, for serving before (or besides) the registry.

The registry hands serving `LoadedModel`s; this adapter makes one from an estimator
fitted in the same process (a test, a benchmark, a notebook), so the serving path is
the same either way. Nothing here loads a file.

>>> import numpy as np, pandas as pd
>>> from sklearn.linear_model import LogisticRegression
>>> X = pd.DataFrame({"n": [0.0, 1.0, 2.0, 3.0]})
>>> fitted = LogisticRegression().fit(X, [0, 0, 1, 1])
>>> model = EstimatorModel("fraud", fitted, features=["spend:n"], columns=["n"])
>>> model.predict(X).shape, model.task
((4,), 'binary')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from confluens.errors import DefinitionError
from confluens.lifecycle.booster_rows import booster_rows
from confluens.lifecycle.trained import ArrayPredict

__all__ = ["EstimatorModel"]

TASKS = ("binary", "regression", "ranking")


class EstimatorModel:
    """``estimator`` (scikit-learn compatible, fitted) served under ``name``/``version``.

    ``features`` are feature references in input order (``"view:feature"``, or
    ``"request:field"`` for a value only the request carries); ``columns`` the
    estimator's input column names, one per feature. For a binary task, ``predict``
    gives the positive class's probability (``predict_proba``); otherwise ``predict``.

    A LightGBM model (scikit-learn API) is scored through its booster, on one thread,
    with the frame's values in ``columns`` order (or a float matrix, ``predict_array``),
    one row through LightGBM's single-row fast path (lifecycle/booster_rows.py): the
    wrapper's checks and a predictor built per call cost far more than the few rows a
    request batch holds (see benchmarks/serving.py).
    """

    def __init__(self, name: str, estimator: Any, *, features: Sequence[str],
                 columns: Sequence[str] | None = None, task: str = "binary",
                 version: int = 1) -> None:
        columns = list(features if columns is None else columns)
        if len(columns) != len(features):
            raise DefinitionError(f"model '{name}'", "needs one input column per feature",
                                  got={"features": len(features), "columns": len(columns)},
                                  fix="pass columns in the order of features")
        if task not in TASKS:
            raise DefinitionError(f"model '{name}'", f"task must be one of {list(TASKS)}",
                                  got=task, fix="pick one of them")
        method = "predict_proba" if task == "binary" else "predict"
        if not callable(getattr(estimator, method, None)):
            raise DefinitionError(f"model '{name}'", f"a {task} estimator needs {method}()",
                                  got=type(estimator).__name__,
                                  fix="pass a fitted scikit-learn compatible estimator")
        self.name = name
        self.version = version
        self.features = tuple(features)
        self.columns = tuple(columns)
        self.task = task
        self.estimator = estimator
        booster = getattr(estimator, "booster_", None) if task != "ranking" else None
        self._booster = booster if callable(getattr(booster, "predict", None)) else None
        # one row through LightGBM's single-row fast path (booster_rows.py)
        self._rows = booster_rows(self._booster) if self._booster is not None else None

    def __repr__(self) -> str:
        return (f"EstimatorModel({self.name!r}, version={self.version}, "
                f"{type(self.estimator).__name__}, {len(self.columns)} columns)")

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        if self._booster is not None:
            return self._predict_booster(frame.to_numpy(dtype=np.float64, na_value=np.nan))
        if self.task == "binary":
            return np.asarray(self.estimator.predict_proba(frame))[:, 1]
        return np.asarray(self.estimator.predict(frame), dtype=float)

    @property
    def predict_array(self) -> ArrayPredict | None:
        """Scores from a float matrix (``columns`` in order), for a LightGBM model; None
        for other estimators, which are given a frame (with its column names)."""
        return self._predict_booster if self._booster is not None else None

    def _predict_booster(self, values: np.ndarray) -> np.ndarray:
        if self._rows is not None:
            return self._rows(values)
        assert self._booster is not None
        return np.asarray(self._booster.predict(values, num_threads=1), dtype=float)
