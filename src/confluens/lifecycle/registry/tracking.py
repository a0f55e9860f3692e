"""Recording a trained model: one MLflow run, one new registered version.

The run holds the params, the metrics, the lineage (as tags and ``lineage.json``),
any extra artifacts, and the model directory (``MLmodel`` with a python_function
flavor whose loader is pyfunc.py, a signature and an input example). The version
carries the tags confluens reads back (versions.py), among them the model file's
SHA-256, checked before every load.

Before anything is logged, the saved model is read back and must score the input
example as the estimator in memory does: a model that does not survive its own
format is never registered.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from collections.abc import Mapping
from importlib import metadata as dist
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from confluens.errors import InputError, StorageError
from confluens.lifecycle.registry import package
from confluens.lifecycle.registry._mlflow import client, import_mlflow, import_pyfunc, using
from confluens.lifecycle.registry.flavors import flavor, reference_scores
from confluens.lifecycle.registry.settings import RegistrySettings
from confluens.lifecycle.registry.versions import TAG
from confluens.lifecycle.trained import TrainedModel

__all__ = ["TASKS", "check_trained", "log_and_register"]

TASKS = ("binary", "regression", "ranking")
LOADER = "confluens.lifecycle.registry.pyfunc"
_TAG_LIMIT = 5000  # MLflow's longest tag value
_REQUIREMENTS = {"lightgbm": ["lightgbm"], "xgboost": ["xgboost"],
                 "sklearn": ["scikit-learn", "skops"], "river": ["river"]}


def check_trained(trained: TrainedModel) -> pd.DataFrame:
    """The input example in column order, or an InputError naming what is wrong."""
    thing = f"TrainedModel {trained.model!r}"
    flavor(trained.flavor)
    if not isinstance(trained.model, str) or not trained.model.strip() or \
            any(c in trained.model for c in "/:%"):
        raise InputError("TrainedModel.model", "must be a model name without '/', ':' or '%'",
                         got=trained.model, fix="use the Model definition's name")
    if trained.task not in TASKS:
        raise InputError(thing, "task must be one of " + ", ".join(TASKS), got=trained.task,
                         fix="set the task the model was trained for")
    if not trained.columns or len(trained.features) != len(trained.columns):
        raise InputError(thing, "needs one input column per feature, in the same order",
                         got=f"{len(trained.features)} features, {len(trained.columns)} "
                         "columns", fix="give features and columns of the same length")
    missing = [c for c in trained.columns if c not in trained.input_example.columns]
    if missing or trained.input_example.empty:
        raise InputError(thing, "input_example must hold a few rows of every input column",
                         got=missing or "no rows", fix="pass the first rows of the "
                         "training input as input_example")
    bad = {k: v for k, v in trained.metrics.items()
           if isinstance(v, bool) or not isinstance(v, int | float)}
    if bad:
        raise InputError(thing, "metrics must be numbers", got=bad,
                         fix="log only numeric metrics (a ratio, a score)")
    for name, path in trained.artifacts.items():
        if not Path(path).exists():
            raise InputError(f"{thing} artifact {name!r}", "must be an existing file or "
                             "folder", got=str(path), fix="write it before recording")
    return trained.input_example[list(trained.columns)].reset_index(drop=True)


def metric_key(name: str) -> str:
    """A metric's name as MLflow accepts it: ``@`` (as in ``cp@100``) is not allowed
    there, so it is written ``_at_``; other characters MLflow refuses become ``_``.

    >>> metric_key("cp@100"), metric_key("valid_ndcg@10_std"), metric_key("auc")
    ('cp_at_100', 'valid_ndcg_at_10_std', 'auc')
    """
    name = name.replace("@", "_at_")
    return "".join(c if c.isalnum() or c in "_-. :/" else "_" for c in name)


def log_and_register(settings: RegistrySettings, trained: TrainedModel) -> tuple[int, str]:
    """Log ``trained`` to a new run and register it; its (version, run id)."""
    example = check_trained(trained)
    with tempfile.TemporaryDirectory(prefix="confluens-model-") as tmp:
        data = Path(tmp) / "confluens"
        card = package.write(trained, data)
        scores = _round_trip(trained, data, example)
        pyfunc = import_pyfunc()
        with using(settings) as mlflow:
            signature = _signature(mlflow, example, scores)
            experiment_id = _experiment(mlflow, settings)
            tags = _lineage_tags(trained)
            with mlflow.start_run(experiment_id=experiment_id, run_name=trained.model,
                                  tags={**tags, TAG + "model": trained.model}) as run:
                mlflow.log_params({k: _param(v) for k, v in trained.params.items()})
                mlflow.log_metrics({metric_key(k): float(v) for k, v in trained.metrics.items()})
                mlflow.log_dict(_lineage(trained), "lineage.json")
                _log_extra(mlflow, trained.artifacts, Path(tmp) / "extra")
                info = pyfunc.log_model(
                    name="model", loader_module=LOADER, data_path=str(data),
                    signature=signature, input_example=example,
                    pip_requirements=_requirements(trained.flavor),
                    metadata={"confluens": card.to_json()})
        version_tags = {**tags, TAG + "flavor": card.flavor, TAG + "task": card.task,
                        TAG + "sha256": card.sha256}
        features = json.dumps(list(trained.features))
        if len(features) <= _TAG_LIMIT:
            version_tags[TAG + "features"] = features
    registered = _register(client(settings), trained.model, info, run.info.run_id,
                           version_tags)
    return int(registered.version), run.info.run_id


def _register(registry: Any, name: str, info: Any, run_id: str,
              tags: dict[str, str]) -> Any:
    """A new version of ``name`` (created if new) from the logged model ``info``."""
    mlflow = import_mlflow()
    try:
        registry.create_registered_model(name)
    except mlflow.exceptions.MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    location = registry.get_logged_model(info.model_id).artifact_location
    return registry.create_model_version(name, location, run_id=run_id, tags=tags,
                                         model_id=info.model_id)


def _round_trip(trained: TrainedModel, data: Path, example: pd.DataFrame) -> np.ndarray:
    expected = reference_scores(trained.estimator, trained.flavor, example, trained.task)
    _, score = package.read(data, allow_pickle=True)
    scores = score(example)
    if scores.shape != expected.shape or not np.allclose(scores, expected, rtol=1e-9,
                                                         atol=1e-12, equal_nan=True):
        raise StorageError(f"TrainedModel {trained.model!r}", f"the model saved as "
                           f"{trained.flavor} must score the input example as the "
                           "estimator does", got=f"{scores[:3]} instead of {expected[:3]}",
                           fix="check the flavor matches the estimator's library; "
                           "please report it if it does")
    return scores


def _signature(mlflow: Any, example: pd.DataFrame, scores: np.ndarray) -> Any:
    with warnings.catch_warnings():
        # MLflow hints that integer columns cannot hold missing values; the signature
        # records the training input's types as they are, which is what we want.
        warnings.filterwarnings("ignore", message=".*integer column", category=UserWarning)
        return mlflow.models.infer_signature(example, scores)


def _experiment(mlflow: Any, settings: RegistrySettings) -> str:
    found = mlflow.get_experiment_by_name(settings.experiment)
    if found is not None:
        return str(found.experiment_id)
    location = None
    if not settings.is_server and settings.artifact_root is not None:
        settings.artifact_root.mkdir(parents=True, exist_ok=True)
        location = settings.artifact_root.as_uri()
    try:
        return str(mlflow.create_experiment(settings.experiment, artifact_location=location))
    except mlflow.exceptions.MlflowException:  # created meanwhile by another process
        found = mlflow.get_experiment_by_name(settings.experiment)
        if found is None:
            raise
        return str(found.experiment_id)


def _lineage_tags(trained: TrainedModel) -> dict[str, str]:
    lineage = trained.lineage
    return {TAG + "definitions_hash": lineage.definitions_hash,
            TAG + "data_snapshot": lineage.data_snapshot,
            TAG + "code_version": lineage.code_version}


def _lineage(trained: TrainedModel) -> dict[str, Any]:
    lineage = trained.lineage
    return {"definitions_hash": lineage.definitions_hash,
            "data_snapshot": lineage.data_snapshot, "code_version": lineage.code_version,
            "training_set": dict(lineage.training_set), "features": list(trained.features),
            "columns": list(trained.columns), "task": trained.task}


def _param(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 6000 else text[:5997] + "..."


def _log_extra(mlflow: Any, artifacts: Mapping[str, Path], staging: Path) -> None:
    """Each extra artifact under ``artifacts/<name>`` in the run."""
    for name, path in artifacts.items():
        source = Path(path)
        if source.is_dir():
            mlflow.log_artifacts(str(source), f"artifacts/{name}")
            continue
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        mlflow.log_artifact(str(target), "artifacts/" + str(Path(name).parent).strip("."))


def _requirements(name: str) -> list[str]:
    pins = []
    for package_name in ["confluens", "pandas", "numpy", *_REQUIREMENTS[name]]:
        try:
            pins.append(f"{package_name}=={dist.version(package_name)}")
        except dist.PackageNotFoundError:
            pins.append(package_name)
    return pins
