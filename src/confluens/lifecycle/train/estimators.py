"""The user's estimator: built, cloned, fitted and scored inside the user-code boundary.

Two shapes are supported: scikit-learn-compatible estimators (``fit``, then
``predict_proba``/``predict``; LightGBM, XGBoost and scikit-learn all qualify) and
River online models (``learn_one``, then ``predict_proba_one``/``predict_one``). The
definition's estimator is never fitted itself: each fit works on a deep copy.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from confluens.core.boundary import user_code
from confluens.core.model import Estimator
from confluens.errors import DefinitionError, MissingExtraError

__all__ = ["build", "fit", "flavor", "score"]

_EXTRAS = {"lightgbm": "models", "xgboost": "models", "sklearn": "models", "river": "river"}


def build(estimator: Any, model: str) -> Any:
    """The estimator object: ``Estimator('module.Class', ...)`` imported and built."""
    if not isinstance(estimator, Estimator):
        return estimator
    module_name, _, class_name = estimator.path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        top = (exc.name or module_name).split(".")[0]
        if top in _EXTRAS:
            raise MissingExtraError(f"Model '{model}' estimator {estimator.path}",
                                    _EXTRAS[top], top) from None
        raise DefinitionError(f"Model '{model}'", "estimator names a module that cannot be "
                              "imported", got=estimator.path,
                              fix="check the path, or install the package") from None
    cls = getattr(module, class_name, None)
    if cls is None:
        raise DefinitionError(f"Model '{model}'", f"module '{module_name}' has no such class",
                              got=class_name, fix="check the estimator's import path")
    with user_code(f"Model '{model}' estimator {estimator.path}(...)"):
        return cls(**estimator.params)


def flavor(estimator: Any) -> str:
    """``lightgbm``, ``xgboost``, ``river`` or ``sklearn`` (any other compatible one)."""
    top = type(estimator).__module__.split(".")[0]
    return top if top in ("lightgbm", "xgboost", "river") else "sklearn"


def _is_river(estimator: Any) -> bool:
    return callable(getattr(estimator, "learn_one", None))


def fit(estimator: Any, params: Mapping[str, Any], x: pd.DataFrame, y: np.ndarray,
        *, model: str, task: str) -> Any:
    """A fitted copy of ``estimator`` with ``params`` set; rows in ``x`` in time order."""
    with user_code(f"Model '{model}' estimator {type(estimator).__name__}"):
        if _is_river(estimator):
            fitted = estimator.clone(dict(params)) if params else estimator.clone()
            for row, target in zip(x.to_dict(orient="records"), y.tolist(), strict=True):
                fitted.learn_one(row, bool(target) if task == "binary" else target)
            return fitted
        fitted = copy.deepcopy(estimator)
        if params:
            fitted.set_params(**params)
        fitted.fit(x, y)
        return fitted


def score(fitted: Any, x: pd.DataFrame, *, model: str, task: str) -> np.ndarray:
    """One score per row: the positive class's probability for a binary task."""
    with user_code(f"Model '{model}' estimator {type(fitted).__name__}"):
        if _is_river(fitted):
            if task == "binary":
                rows = x.to_dict(orient="records")
                return np.array([_positive(fitted.predict_proba_one(r)) for r in rows])
            return np.array([fitted.predict_one(r) for r in x.to_dict(orient="records")],
                            dtype=np.float64)
        if task == "binary" and callable(getattr(fitted, "predict_proba", None)):
            return np.asarray(fitted.predict_proba(x))[:, 1].astype(np.float64)
        if task == "binary" and callable(getattr(fitted, "decision_function", None)):
            return np.asarray(fitted.decision_function(x), dtype=np.float64)
        return np.asarray(fitted.predict(x), dtype=np.float64)


def _positive(probabilities: Mapping[Any, float]) -> float:
    for key in (True, 1):
        if key in probabilities:
            return float(probabilities[key])
    return 0.0
