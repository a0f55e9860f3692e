"""The user's estimator: built, cloned, fitted and scored inside the user-code boundary.

Two shapes are supported: scikit-learn-compatible estimators (``fit``, then
``predict_proba``/``predict``; LightGBM, XGBoost and scikit-learn all qualify) and
River online models (``learn_one``, then ``predict_proba_one``/``predict_one``). The
definition's estimator is never fitted itself: each fit works on a deep copy.

Learning-to-rank estimators get their query groups (``Model(group=...)``): the rows
are ordered by group (stably, so in time order within each) and ``fit`` gets
``group=`` (the sizes of the consecutive groups: LightGBM's ``LGBMRanker``) or ``qid=``
(a query id per row: XGBoost's ``XGBRanker``), whichever its signature takes.
"""

from __future__ import annotations

import copy
import importlib
import inspect
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
        *, model: str, task: str, groups: np.ndarray | None = None) -> Any:
    """A fitted copy of ``estimator`` with ``params`` set; rows in ``x`` in time order;
    ``groups`` the query of each row, for a ranking model defined with one."""
    with user_code(f"Model '{model}' estimator {type(estimator).__name__}"):
        if _is_river(estimator):
            fitted = estimator.clone(dict(params)) if params else estimator.clone()
            for row, target in zip(x.to_dict(orient="records"), y.tolist(), strict=True):
                fitted.learn_one(row, bool(target) if task == "binary" else target)
            return fitted
        fitted = copy.deepcopy(estimator)
        if params:
            fitted.set_params(**params)
        takes = _query_argument(fitted) if groups is not None else None
        if takes is None or groups is None:
            fitted.fit(x, y)
            return fitted
        codes = pd.factorize(groups)[0]  # queries numbered by first appearance
        order = np.argsort(codes, kind="stable")
        x, y, codes = x.iloc[order], y[order], codes[order]
        if takes == "group":
            fitted.fit(x, y, group=np.bincount(codes))
        else:
            fitted.fit(x, y, qid=codes)
        return fitted


def _query_argument(estimator: Any) -> str | None:
    """``group`` or ``qid``: how the estimator's ``fit`` takes query groups, if it does."""
    try:
        parameters = inspect.signature(estimator.fit).parameters
    except (TypeError, ValueError):
        return None
    return next((name for name in ("group", "qid") if name in parameters), None)


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
