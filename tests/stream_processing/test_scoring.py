"""Scoring a stream: every transaction scored as it arrives, with the features a
training set gives it at its own time, logged with stable ids; alerts over a threshold
appended to an alerts log."""

from __future__ import annotations

import json
import uuid
from datetime import UTC
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import confluens
from confluens.connectors.streams import EmbeddedLog
from confluens.lifecycle.serve import EstimatorModel
from confluens.project.stream.logs import embedded_log_path
from confluens.project.stream.service import ScoringSpec

from .streamed_project import streamed_project

sklearn = pytest.importorskip("sklearn.linear_model", reason="the models extra is missing")

FEATURES = ["customer_spending:customer_nb_tx_1d", "customer_spending:amount",
            "customer_spending:customer_avg_amount_7d", "terminal_risk:terminal_nb_tx_7d",
            "request:tx_amount"]
COLUMNS = ["n_1d", "last_amount", "avg_7d", "terminal_7d", "amount"]


def _model() -> EstimatorModel:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.uniform(0, 100, size=(400, len(COLUMNS))), columns=COLUMNS)
    y = (x["amount"] + rng.normal(0, 10, 400) > 60).astype(int)
    fitted = sklearn.LogisticRegression(max_iter=500).fit(x, y)
    return EstimatorModel("fraud_model", fitted, features=FEATURES, columns=COLUMNS,
                          version=3)


def test_each_event_is_scored_with_its_features_as_of_its_time(tmp_path: Path) -> None:
    root = streamed_project(tmp_path / "scored", seed=2)
    model = _model()
    with confluens.open(root) as project:
        project.replay("fraud_labels", "data/labels/labels.parquet")
        project.stream(["fraud_labels"], until_idle=True)
        project.replay("transactions", "data/transactions/transactions.parquet")
        spec = ScoringSpec("fraud_model", threshold=0.5, alerts="alerts")
        totals = project.stream(["transactions"], until_idle=True, batch_size=300,
                                scoring=[spec], models=lambda name, alias: model)
        tx = totals["transactions"]
        assert tx.accepted > 500
        assert tx.scored == tx.accepted
        log = project.predictions("fraud_model").to_pylist()
        assert len(log) == tx.accepted
        assert {r["origin"] for r in log} == {"stream"}
        assert {r["model_version"] for r in log} == {3}
        # the same features a training set gives each transaction at its own time
        spine = pa.table({"customer_id": [r["customer_id"] for r in log],
                          "terminal_id": [r["terminal_id"] for r in log],
                          "ts": [r["predicted_at"] for r in log]})
        want = project.training_set(spine, [f for f in FEATURES if not f.startswith(
            "request:")]).to_pylist()
        for row, expected in zip(log, want, strict=True):
            got = json.loads(row["features"])
            for ref, column in zip(FEATURES, COLUMNS, strict=True):
                if ref.startswith("request:"):
                    continue
                value = expected[ref.split(":")[1]]
                assert got[column] == pytest.approx(value, nan_ok=True), (ref, row)
        # scores are the model's on those inputs
        frame = pd.DataFrame([json.loads(r["features"]) for r in log])[COLUMNS]
        assert np.allclose(model.predict(frame), [r["score"] for r in log])
        # stable ids: model version, source and the event's id
        request = json.loads(log[0]["request"])
        assert log[0]["prediction_id"] == str(uuid.uuid5(
            uuid.UUID("6f1c3f4e-2b8e-4e4b-9a53-7d1f0c6a2e11"),
            f"fraud_model:3:transactions:{request['fields']['transaction_id']}"))
        assert log[0]["predicted_at"].tzinfo is not None
        assert log[0]["predicted_at"].astimezone(UTC).isoformat().startswith(
            request["fields"]["tx_datetime"][:19].replace(" ", "T"))
        # alerts: every score at or above the threshold, once
        alerts_log = EmbeddedLog(embedded_log_path(project.config, "alerts"), "alerts")
        alerts = [json.loads(m.payload) for m in alerts_log.read(0, None, 100_000)]
        alerts_log.close()
        high = {r["prediction_id"] for r in log if r["score"] >= 0.5}
        assert 0 < len(high) < len(log)
        assert tx.alerts == len(alerts) == len(high)
        assert {a["prediction_id"] for a in alerts} == high
        assert all(a["model"] == "fraud_model" and a["score"] >= 0.5 for a in alerts)


def test_a_model_keyed_by_columns_the_source_lacks_is_refused(tmp_path: Path) -> None:
    root = streamed_project(tmp_path / "refused")
    bad = EstimatorModel("fraud_model", sklearn.LogisticRegression().fit(
        pd.DataFrame({"x": [0.0, 1.0]}), [0, 1]),
        features=["customer_spending[payer_id]:customer_nb_tx_1d"], columns=["x"])
    with confluens.open(root) as project, pytest.raises(
            confluens.errors.InputError, match="payer_id"):
        project.stream(["transactions"], until_idle=True,
                       scoring=[ScoringSpec("fraud_model")], models=lambda name, alias: bad)
