"""A small real project for the serving tests: card payments with a customer and a
merchant view, materialized online, and a real model fitted on its training set."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

import confluens
from confluens.lifecycle.serve import EstimatorModel

DEFINITIONS = '''
from confluens import Count, Entity, FeatureView, Mean, Source

customer = Entity("customer", keys=["customer_id"])
merchant = Entity("merchant", keys=["merchant_id"])

payments = Source(
    "payments",
    schema={"payment_id": "int64", "ts": "timestamp", "customer_id": "string",
            "merchant_id": "int64", "amount": "float64", "fraud": "int64"},
    event_time="ts", id="payment_id", batch="data/payments.csv",
)

spend = FeatureView("spend", customer, payments, features=[
    Count(window="7d", name="n_7d"), Mean("amount", window="7d", name="avg_7d")])
risk = FeatureView("risk", merchant, payments, features=[
    Count(window="30d", name="m_30d"), Mean("fraud", window="30d", name="m_fraud_30d")])
'''

FEATURES = ("spend:n_7d", "spend:avg_7d", "risk:m_30d", "risk:m_fraud_30d", "request:amount")
COLUMNS = ("n_7d", "avg_7d", "m_30d", "m_fraud_30d", "amount")
END = datetime(2024, 3, 1, tzinfo=UTC)  # the data ends just before; reads are at END
CUSTOMERS = [str(c) for c in range(40)]
MERCHANTS = list(range(1, 16))


def write_project(root: Path, *, toml: str = "") -> confluens.Project:
    """The project, its data ingested and materialized."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "confluens.toml").write_text(textwrap.dedent(toml))
    (root / "definitions.py").write_text(DEFINITIONS)
    rng = np.random.default_rng(7)
    n = 2000
    ts = [END - timedelta(minutes=int(m)) for m in rng.integers(1, 60 * 24 * 40, n)]
    amount = rng.gamma(2.0, 30.0, n).round(2)
    merchant = rng.choice(MERCHANTS, n)
    fraud = ((amount > 150) & (merchant % 3 == 0)) | (rng.random(n) < 0.03)
    frame = pd.DataFrame({"payment_id": range(n), "ts": [t.isoformat() for t in ts],
                          "customer_id": rng.choice(CUSTOMERS, n), "merchant_id": merchant,
                          "amount": amount, "fraud": fraud.astype(int)})
    (root / "data").mkdir(exist_ok=True)
    frame.to_csv(root / "data" / "payments.csv", index=False)
    project = confluens.open(root)
    project.apply()
    project.ingest("payments")
    project.materialize()
    return project


def training_frame(project: confluens.Project) -> tuple[pd.DataFrame, np.ndarray]:
    """Every payment's features as of its time, its amount, and its label."""
    spine = project.table("payments", columns=["customer_id", "merchant_id", "ts", "amount",
                                               "fraud"])
    table = project.training_set(spine, list(FEATURES[:4]), at="ts").to_pandas()
    return table[list(COLUMNS)].astype(float), table["fraud"].to_numpy()


def fit_lightgbm(project: confluens.Project, name: str = "fraud",
                 version: int = 3) -> EstimatorModel:
    import lightgbm

    x, y = training_frame(project)
    booster = lightgbm.LGBMClassifier(n_estimators=30, num_leaves=8, min_child_samples=5,
                                      verbose=-1, random_state=0).fit(x, y)
    return EstimatorModel(name, booster, features=FEATURES, columns=COLUMNS, version=version)


def fit_sklearn(project: confluens.Project, name: str = "fraud_hgb",
                version: int = 1) -> EstimatorModel:
    from sklearn.ensemble import HistGradientBoostingClassifier

    x, y = training_frame(project)
    fitted = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(x, y)
    return EstimatorModel(name, fitted, features=FEATURES, columns=COLUMNS, version=version)
