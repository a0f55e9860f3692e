"""Real fitted models on small generated data, as training would hand them over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from confluens.lifecycle.registry import AliasHistory, ModelRegistry, RegistrySettings
from confluens.lifecycle.trained import Lineage, TrainedModel

__all__ = ["COLUMNS", "fit", "frame", "make_registry", "trained_model"]

COLUMNS = ("customer__tx_count_7d", "customer__amount_mean_30d", "terminal__risk_28d",
           "tx_amount")
FEATURES = ("customer_spending:tx_count_7d", "customer_spending:amount_mean_30d",
            "terminal_risk:risk_28d", "request:tx_amount")


def frame(rows: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Four features and a binary label that depends on them (with noise)."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({
        COLUMNS[0]: rng.integers(0, 30, rows).astype("float64"),
        COLUMNS[1]: rng.gamma(2.0, 30.0, rows),
        COLUMNS[2]: rng.random(rows),
        COLUMNS[3]: rng.gamma(2.0, 40.0, rows),
    })
    logit = 0.08 * x[COLUMNS[0]] - 0.02 * x[COLUMNS[1]] + 3 * x[COLUMNS[2]] - 1.5
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y.to_numpy() if hasattr(y, "to_numpy") else y


def fit(flavor: str, seed: int = 0) -> tuple[Any, pd.DataFrame]:
    """A fitted estimator of ``flavor`` and the frame it was fitted on."""
    x, y = frame(seed=seed)
    if flavor == "lightgbm":
        import lightgbm

        model: Any = lightgbm.LGBMClassifier(n_estimators=25, num_leaves=7, verbose=-1,
                                             random_state=seed)
        model.fit(x, y)
    elif flavor == "xgboost":
        import xgboost

        model = xgboost.XGBClassifier(n_estimators=25, max_depth=3, random_state=seed)
        model.fit(x, y)
    elif flavor == "sklearn":
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200))
        if seed % 2:
            model = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=seed)
        model.fit(x, y)
    elif flavor == "river":
        from river import linear_model, preprocessing

        model = preprocessing.StandardScaler() | linear_model.LogisticRegression()
        for row, label in zip(x.to_dict(orient="records"), y, strict=True):
            model.learn_one(row, bool(label))
    else:
        raise ValueError(flavor)
    return model, x


def trained_model(flavor: str = "lightgbm", *, name: str = "fraud", seed: int = 0,
                  artifacts: dict[str, Path] | None = None) -> TrainedModel:
    estimator, x = fit(flavor, seed)
    return TrainedModel(
        model=name, estimator=estimator, flavor=flavor, features=FEATURES, columns=COLUMNS,
        task="binary", params={"seed": seed, "flavor": flavor, "grid": {"depth": [3, 5]}},
        metrics={"auc_roc": 0.81 + seed / 100, "average_precision": 0.42},
        input_example=x.head(5),
        lineage=Lineage(definitions_hash=f"defs{seed:04d}" + "0" * 56,
                        data_snapshot=f"offline@v{seed + 3}", code_version="abc1234",
                        training_set={"rows": len(x), "start": "2018-04-01"}),
        artifacts=artifacts or {})


def make_registry(folder: Path, *, tracking_uri: str | None = None,
                  metadata_url: str | None = None) -> ModelRegistry:
    """A registry with a SQLite tracking store (or ``tracking_uri``) under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = RegistrySettings(tracking_uri or f"sqlite:///{folder / 'mlflow.db'}",
                                experiment="tests", artifact_root=folder / "mlartifacts")
    engine = sa.create_engine(metadata_url or f"sqlite:///{folder / 'metadata.db'}")
    return ModelRegistry(settings, AliasHistory(engine))
