"""How each kind of estimator is written to a file and read back, without pickle
where the library allows it.

======== ====================== ==========================================
flavor   file                   format
======== ====================== ==========================================
lightgbm ``model.txt``          LightGBM's own text model (the booster)
xgboost  ``model.ubj``          XGBoost's own binary JSON (UBJSON) model
sklearn  ``model.skops``        skops, loaded with an explicit trust list
river    ``model.pkl``          pickle: River models have no other format
======== ====================== ==========================================

A River model is unpickled only by the registry's own loader, from a file it has
just downloaded from the registry's artifact store, after checking the file's
SHA-256 against the one recorded in the registry when the model was registered
(see loading.py); never from a path a user gives.

Every flavor scores the same way: for a binary task, the probability of the
positive class; otherwise the estimator's prediction.
"""

from __future__ import annotations

import importlib
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from confluens.errors import InputError, MissingExtraError, NotSupportedError
from confluens.lifecycle.booster_rows import booster_rows

__all__ = ["FLAVORS", "SKOPS_TRUSTED_MODULES", "Flavor", "flavor", "reference_scores"]

Score = Callable[[pd.DataFrame], np.ndarray]

# skops refuses to build any type it does not trust; these are the modules whose
# types (estimators, numpy dtypes and arrays, scipy sparse matrices) we trust.
SKOPS_TRUSTED_MODULES = ("sklearn.", "numpy.", "scipy.sparse.")
_SMALL = 1000  # rows: fewer are scored on one thread
_XGB_CLASSES = ("XGBClassifier", "XGBRegressor", "XGBRanker", "XGBRFClassifier",
                "XGBRFRegressor", "Booster")


@dataclass(frozen=True)
class Flavor:
    """``save(estimator, path) -> details`` writes ``file``; ``load(path, details, task)``
    reads it back as a scoring function. ``details`` (strings) travel in the model's
    metadata; ``extra`` names the optional dependency, ``module`` its import."""

    name: str
    file: str
    module: str
    extra: str
    save: Callable[[Any, Path], dict[str, str]]
    load: Callable[[Path, dict[str, str], str], Score]

    def require(self) -> Any:
        try:
            return importlib.import_module(self.module)
        except ModuleNotFoundError as exc:
            raise MissingExtraError(f"{self.name} models", self.extra,
                                    exc.name or self.module) from None


def _positive(proba: np.ndarray) -> np.ndarray:
    proba = np.asarray(proba, dtype="float64")
    return proba[:, 1] if proba.ndim == 2 else proba


def reference_scores(estimator: Any, flavor_name: str, frame: pd.DataFrame,
                     task: str) -> np.ndarray:
    """What the in-memory estimator scores, to compare with the saved model's."""
    if flavor_name == "river":
        return _river_scores(estimator, task)(frame)
    if flavor_name in ("lightgbm", "xgboost") and not hasattr(estimator, "predict_proba"):
        if flavor_name == "xgboost":
            return np.asarray(estimator.inplace_predict(frame), dtype="float64")
        return np.asarray(estimator.predict(frame), dtype="float64")
    if task == "binary" and hasattr(estimator, "predict_proba"):
        return _positive(estimator.predict_proba(frame))
    return np.asarray(estimator.predict(frame), dtype="float64")


# -- LightGBM: the booster's text format ------------------------------------------------

def _save_lightgbm(estimator: Any, path: Path) -> dict[str, str]:
    booster = getattr(estimator, "booster_", estimator)
    if not hasattr(booster, "save_model") or not hasattr(booster, "model_to_string"):
        raise _wrong_type("lightgbm", estimator, "a fitted LGBMClassifier, LGBMRegressor, "
                          "LGBMRanker or lightgbm.Booster")
    booster.save_model(str(path))
    return {"class": type(estimator).__name__}


def _load_lightgbm(path: Path, details: dict[str, str], task: str) -> Score:
    lightgbm = FLAVORS["lightgbm"].require()
    booster = lightgbm.Booster(model_file=str(path))
    categorical = bool(getattr(booster, "pandas_categorical", None))
    rows = None if categorical else booster_rows(booster)

    def score(frame: pd.DataFrame) -> np.ndarray:
        # A few rows (serving) score fastest as a float array on one thread, one row
        # through LightGBM's single-row path; pandas categories need the frame, which
        # maps them as at training time.
        threads = 1 if len(frame) < _SMALL else 0
        data = frame if categorical else _floats(frame)
        if rows is not None and isinstance(data, np.ndarray) and len(data) == 1:
            out = rows(data)
        else:
            out = booster.predict(data, num_threads=threads)
        return _positive(out) if task == "binary" else np.asarray(out, dtype="float64")

    return score


def _floats(frame: pd.DataFrame) -> Any:
    try:
        return frame.to_numpy(dtype="float64")
    except (TypeError, ValueError):  # text or other columns: let the library read them
        return frame


# -- XGBoost: its own UBJSON format, restored into the same class ----------------------

def _save_xgboost(estimator: Any, path: Path) -> dict[str, str]:
    name = type(estimator).__name__
    if name not in _XGB_CLASSES or not hasattr(estimator, "save_model"):
        raise _wrong_type("xgboost", estimator, "a fitted " + ", ".join(_XGB_CLASSES))
    estimator.save_model(str(path))
    return {"class": name}


def _load_xgboost(path: Path, details: dict[str, str], task: str) -> Score:
    xgboost = FLAVORS["xgboost"].require()
    name = details.get("class", "Booster")
    if name not in _XGB_CLASSES:
        raise NotSupportedError("xgboost model", "its class must be one of "
                                + ", ".join(_XGB_CLASSES), got=name,
                                fix="register it again with a supported class")
    booster = xgboost.Booster()
    booster.load_model(str(path))
    booster.set_param({"nthread": 1})  # one row per request: threads cost more than they save
    categorical = "c" in (booster.feature_types or ())
    best = booster.attr("best_iteration")  # early stopping: score as the wrapper does
    trees = (0, int(best) + 1) if best is not None else (0, 0)

    def score(frame: pd.DataFrame) -> np.ndarray:
        data = frame if categorical else _floats(frame)
        out = booster.inplace_predict(data, iteration_range=trees, validate_features=False)
        return _positive(out) if task == "binary" else np.asarray(out, dtype="float64")

    return score


# -- scikit-learn: skops, with an explicit trust list ----------------------------------

def _untrusted(path: Path) -> tuple[list[str], list[str]]:
    """The types skops would not build by default: (allowed by our list, refused)."""
    skops_io = FLAVORS["sklearn"].require()
    found = skops_io.get_untrusted_types(file=str(path))
    allowed = [t for t in found if t.startswith(SKOPS_TRUSTED_MODULES)]
    return allowed, [t for t in found if t not in allowed]


def _save_sklearn(estimator: Any, path: Path) -> dict[str, str]:
    skops_io = FLAVORS["sklearn"].require()
    skops_io.dump(estimator, str(path))
    refused = _untrusted(path)[1]
    if refused:
        raise NotSupportedError(f"scikit-learn model {type(estimator).__name__}",
                                "every type it holds must come from "
                                + ", ".join(m.rstrip(".") for m in SKOPS_TRUSTED_MODULES)
                                + " to be saved without pickle (skops)", got=refused,
                                fix="use scikit-learn, LightGBM or XGBoost estimators "
                                "(a LightGBM/XGBoost model as flavor 'lightgbm'/'xgboost')")
    return {"class": type(estimator).__name__}


def _load_sklearn(path: Path, details: dict[str, str], task: str) -> Score:
    skops_io = FLAVORS["sklearn"].require()
    allowed, refused = _untrusted(path)
    if refused:
        raise NotSupportedError("scikit-learn model file", "holds types outside the trusted "
                                "modules " + ", ".join(SKOPS_TRUSTED_MODULES), got=refused,
                                fix="register the model again with confluens")
    model = skops_io.load(str(path), trusted=allowed)
    return lambda frame: reference_scores(model, "sklearn", frame, task)


# -- River: pickle, only from the registry's own artifact store ------------------------

def _save_river(estimator: Any, path: Path) -> dict[str, str]:
    if not type(estimator).__module__.startswith("river."):
        raise _wrong_type("river", estimator, "a River model (learn_one/predict_one)")
    with path.open("wb") as file:
        pickle.dump(estimator, file, protocol=5)
    return {"class": type(estimator).__name__}


def _load_river(path: Path, details: dict[str, str], task: str) -> Score:
    FLAVORS["river"].require()
    with path.open("rb") as file:  # verified against the registry's digest: loading.py
        model = pickle.load(file)
    return _river_scores(model, task)


def _river_scores(model: Any, task: str) -> Score:
    def score(frame: pd.DataFrame) -> np.ndarray:
        rows = frame.to_dict(orient="records")
        if task == "binary":
            probas = [model.predict_proba_one(x) for x in rows]
            return np.array([p.get(True, p.get(1, 0.0)) for p in probas], dtype="float64")
        return np.array([model.predict_one(x) for x in rows], dtype="float64")

    return score


def _wrong_type(name: str, estimator: Any, expected: str) -> InputError:
    return InputError(f"flavor {name!r}", f"needs {expected}",
                      got=type(estimator).__qualname__,
                      fix="set the TrainedModel's flavor to the estimator's library")


FLAVORS: dict[str, Flavor] = {
    "lightgbm": Flavor("lightgbm", "model.txt", "lightgbm", "models", _save_lightgbm,
                       _load_lightgbm),
    "xgboost": Flavor("xgboost", "model.ubj", "xgboost", "models", _save_xgboost,
                      _load_xgboost),
    "sklearn": Flavor("sklearn", "model.skops", "skops.io", "models", _save_sklearn,
                      _load_sklearn),
    "river": Flavor("river", "model.pkl", "river", "river", _save_river, _load_river),
}


def flavor(name: str) -> Flavor:
    """The flavor called ``name``, or an InputError listing the known ones."""
    try:
        return FLAVORS[name]
    except KeyError:
        raise InputError("model flavor", "must be one of " + ", ".join(FLAVORS), got=name,
                         fix="set TrainedModel.flavor to the estimator's library") from None
