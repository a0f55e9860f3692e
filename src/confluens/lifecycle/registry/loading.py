"""A registered version, fetched from the registry and ready to score.

The model's files are downloaded from the registry's artifact store into a
temporary folder, checked against the SHA-256 the registry recorded at
registration, read into memory, and the folder is removed: nothing is loaded from
a path a user gives.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from confluens.errors import InputError, StorageError
from confluens.lifecycle.registry import package
from confluens.lifecycle.registry._mlflow import import_mlflow
from confluens.lifecycle.registry.flavors import Score
from confluens.lifecycle.registry.settings import RegistrySettings
from confluens.lifecycle.registry.versions import ModelVersion
from confluens.lifecycle.trained import LoadedModel

__all__ = ["RegisteredModel", "fetch"]


@dataclass(eq=False)
class RegisteredModel:
    """A registered model version in memory; implements ``LoadedModel`` (trained.py),
    whose plain attributes a frozen dataclass would not satisfy (mypy checks it below)."""

    name: str
    version: int
    features: tuple[str, ...]
    columns: tuple[str, ...]
    task: str
    flavor: str
    run_id: str
    aliases: tuple[str, ...]
    _score: Score = field(repr=False, compare=False)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """One score per row: for a binary task, the positive class's probability."""
        if tuple(frame.columns) == self.columns:  # the usual case: no copy
            return self._score(frame)
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise InputError(f"model {self.name} version {self.version}", "predict needs "
                             "every input column", got=missing,
                             fix="pass a frame with columns " + ", ".join(self.columns))
        return self._score(frame[list(self.columns)])


def fetch(settings: RegistrySettings, version: ModelVersion) -> RegisteredModel:
    """Download ``version``'s files from the registry and load them."""
    if not version.sha256:
        raise StorageError(f"model {version.name} version {version.version}", "was not "
                           "registered by confluens (it has no confluens.sha256 tag)",
                           got=version.source, fix="register it with confluens "
                           "(`confluens train`, or ModelRegistry.record)")
    with tempfile.TemporaryDirectory(prefix="confluens-load-") as tmp:
        local = import_mlflow().artifacts.download_artifacts(
            artifact_uri=version.source, dst_path=tmp, tracking_uri=settings.tracking_uri)
        card, score = package.read(Path(local) / "data" / "confluens",
                                   sha256=version.sha256, allow_pickle=True)
    return RegisteredModel(name=version.name, version=version.version,
                           features=card.features, columns=card.columns, task=card.task,
                           flavor=card.flavor, run_id=version.run_id,
                           aliases=version.aliases, _score=score)


def _conforms(model: RegisteredModel) -> LoadedModel:
    """mypy checks here that RegisteredModel implements serving's protocol."""
    return model
