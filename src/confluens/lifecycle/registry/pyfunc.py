"""The python_function loader of confluens models: ``mlflow.pyfunc.load_model`` and
the MLflow UI's "Make predictions" snippet go through this module.

MLflow calls ``_load_pyfunc`` with the model directory's ``data/confluens``
folder (package.py). River models, being pickles, are refused here: they load only
through ``ModelRegistry.load``, which fetches them from the registry itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from confluens.lifecycle.registry.flavors import Score
from confluens.lifecycle.registry.package import Card, read

__all__ = ["PyfuncModel"]


class PyfuncModel:
    """Scores a frame holding the model's ``columns`` (extra columns are ignored)."""

    def __init__(self, card: Card, score: Score) -> None:
        self.card = card
        self._score = score

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> np.ndarray:
        frame = model_input if isinstance(model_input, pd.DataFrame) else \
            pd.DataFrame(model_input)
        return self._score(frame[list(self.card.columns)])


def _load_pyfunc(data_path: str) -> PyfuncModel:
    card, score = read(Path(data_path))
    return PyfuncModel(card, score)
