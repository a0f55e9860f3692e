"""The prediction log: every prediction written to the offline store in the
background, nothing lost at stop, readable back and usable as a training-set spine."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from confluens.lifecycle.serve import PredictionLog, Scored, Scorer, ScoreRequest, uuid7
from confluens.lifecycle.serve.log_table import LogColumns
from confluens.project.serving import OnlineFeatureReader, prediction_store, read_predictions
from tests.lifecycle.serving_project import END, fit_lightgbm, write_project


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory):
    project = write_project(tmp_path_factory.mktemp("log") / "shop")
    yield project, fit_lightgbm(project)
    project.close()


def logged_scorer(project, model, log: PredictionLog) -> Scorer:
    scorer = Scorer(model, lambda refs: OnlineFeatureReader(project.definitions,
                                                            project.online, refs),
                    clock=lambda: END)
    scorer.log = log.writer(model.name, scorer.keys)
    return scorer


def test_every_prediction_is_logged_by_stop(shop, tmp_path: Path):
    """Thousands of predictions in many batches, a flush interval longer than the
    test: all of them are written when the log stops."""
    project, model = shop
    log = PredictionLog(prediction_store(tmp_path), flush_seconds=3600, max_queued=8)
    log.start()
    scorer = logged_scorer(project, model, log)
    ids = []
    for batch in range(60):
        results = scorer.score_many([
            ScoreRequest({"customer_id": str(i % 50), "merchant_id": 1 + i % 20},
                         {"amount": float(i), "payment_id": batch * 100 + i}, origin="test")
            for i in range(50)])
        ids += [r.id for r in results if isinstance(r, Scored)]
    log.stop()
    table = read_predictions(tmp_path, "fraud")
    assert table.num_rows == len(ids) == 3000
    assert log.written == 3000
    assert table["prediction_id"].to_pylist() == sorted(ids)  # UUIDv7: time order
    assert table.schema.field("predicted_at").type == pa.timestamp("us", tz="UTC")
    assert set(table.column_names) >= {"prediction_id", "predicted_at", "model",
                                       "model_version", "score", "origin", "customer_id",
                                       "merchant_id", "missing", "features", "request"}
    row = table.slice(0, 1).to_pylist()[0]
    assert (row["model"], row["model_version"], row["origin"], row["predicted_at"]) == (
        "fraud", 3, "test", END)
    request = json.loads(row["request"])
    assert request["keys"] == {"customer_id": row["customer_id"],
                               "merchant_id": row["merchant_id"]}
    assert set(request["fields"]) == {"amount", "payment_id"}
    assert set(json.loads(row["features"])) == set(model.columns)


def test_missing_features_are_logged_as_null(shop, tmp_path: Path):
    project, model = shop
    with PredictionLog(prediction_store(tmp_path)) as log:
        logged_scorer(project, model, log).score(
            ScoreRequest({"customer_id": "nobody", "merchant_id": 4}, {"amount": 3.0}))
    [row] = read_predictions(tmp_path, "fraud").to_pylist()
    assert row["missing"] == ["n_7d", "avg_7d"]
    assert json.loads(row["features"])["avg_7d"] is None


def test_flush_commits_what_was_recorded(shop, tmp_path: Path):
    project, model = shop
    with PredictionLog(prediction_store(tmp_path), flush_seconds=3600) as log:
        scorer = logged_scorer(project, model, log)
        scorer.score(ScoreRequest({"customer_id": "1", "merchant_id": 4}, {"amount": 3.0}))
        log.flush()
        assert read_predictions(tmp_path, "fraud").num_rows == 1
        scorer.score(ScoreRequest({"customer_id": "2", "merchant_id": 4}, {"amount": 3.0}))
    assert read_predictions(tmp_path, "fraud").num_rows == 2
    assert read_predictions(tmp_path, "other").num_rows == 0


def test_the_log_is_a_training_set_spine(shop, tmp_path: Path):
    """Features (or labels) as of each prediction's time, joined by the logged keys."""
    project, model = shop
    with PredictionLog(prediction_store(tmp_path)) as log:
        logged_scorer(project, model, log).score_many(
            [ScoreRequest({"customer_id": str(c), "merchant_id": 4}, {"amount": 1.0})
             for c in range(5)])
    spine = read_predictions(tmp_path, "fraud")
    joined = project.training_set(spine.select(["prediction_id", "predicted_at",
                                                "customer_id", "score", "features"]),
                                  ["spend:n_7d"], at="predicted_at").to_pylist()
    assert len(joined) == 5
    for row in joined:  # the same value the model was given, read back point-in-time
        assert row["n_7d"] == json.loads(row["features"])["n_7d"]


def test_recording_needs_a_running_log(tmp_path: Path):
    writer = PredictionLog(prediction_store(tmp_path)).writer("fraud", {})
    with pytest.raises(RuntimeError, match="start"):
        writer([])


def test_uuid7_ids_are_unique_and_ordered():
    ids = [uuid7() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert {i.version for i in ids} == {7}


def test_a_batch_of_columns_and_rows_of_one_model_make_one_table(tmp_path: Path):
    """A stream's batch (LogColumns) and an HTTP request's rows of the same model, the
    writers naming different key columns: one table, a key a writer lacks null, every
    prediction written (in the order recorded until read back by id)."""
    at = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    with PredictionLog(prediction_store(tmp_path), flush_seconds=3600) as log:
        streamed = log.writer("fraud", {"customer_id": "string"})
        served = log.writer("fraud", {"customer_id": "string", "terminal_id": "int64"})
        streamed(LogColumns(
            ids=["a-1", "a-2"], at_us=np.array([int(at.timestamp() * 1e6)] * 2),
            model="fraud", version=2, scores=np.array([0.25, 0.75]), origin="stream",
            keys={"customer_id": pa.array(["c1", "c2"])},
            features=['{"n":1}', '{"n":2}'], requests=['{"r":1}', '{"r":2}']))
        served([{"scored": Scored("b-1", 0.5, "fraud", 2, at, {"n": 3}, ()),
                 "keys": {"customer_id": "c3", "terminal_id": 7},
                 "request": ScoreRequest({"customer_id": "c3", "terminal_id": 7})}])
    rows = read_predictions(tmp_path, "fraud").to_pylist()
    assert [(r["prediction_id"], r["customer_id"], r["terminal_id"], r["score"],
             r["origin"], r["features"]) for r in rows] == [
        ("a-1", "c1", None, 0.25, "stream", '{"n":1}'),
        ("a-2", "c2", None, 0.75, "stream", '{"n":2}'),
        ("b-1", "c3", 7, 0.5, "http", '{"n":3}')]
    assert {r["predicted_at"] for r in rows} == {at}
    assert {r["model_version"] for r in rows} == {2}
    assert log.written == 3
