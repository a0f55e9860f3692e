"""Record, load, promote and roll back real models in a real MLflow (SQLite store)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from confluens.errors import InputError, ProjectError, StorageError, UnknownNameError
from confluens.lifecycle.registry import ModelRegistry
from confluens.lifecycle.registry.flavors import reference_scores
from confluens.lifecycle.trained import LoadedModel
from tests.lifecycle.registry_helpers import COLUMNS, fit, make_registry, trained_model


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelRegistry]:
    registry = make_registry(tmp_path_factory.mktemp("registry"))
    yield registry
    registry.alias_history.engine.dispose()


@pytest.mark.parametrize("flavor", ["lightgbm", "xgboost", "sklearn", "river"])
def test_a_recorded_model_loads_back_and_scores_as_the_estimator(registry, flavor):
    trained = trained_model(flavor, name=f"fraud_{flavor}")
    version = registry.record(trained)
    assert (version.name, version.version, version.flavor) == (f"fraud_{flavor}", 1, flavor)
    assert version.metrics["auc_roc"] == pytest.approx(0.81)
    assert (version.definitions_hash, version.data_snapshot, version.code_version) == (
        trained.lineage.definitions_hash, "offline@v3", "abc1234")
    assert version.features == trained.features
    assert len(version.sha256) == 64

    loaded: LoadedModel = registry.load(f"fraud_{flavor}", 1)  # the protocol serving uses
    assert (loaded.name, loaded.features) == (f"fraud_{flavor}", trained.features)
    assert (loaded.version, loaded.columns, loaded.task) == (1, COLUMNS, "binary")
    _, x = fit(flavor)
    shuffled = x[list(reversed(COLUMNS))].assign(extra=1)  # order and extras do not matter
    expected = reference_scores(trained.estimator, flavor, x, "binary")
    scores = loaded.predict(shuffled)
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    assert ((scores >= 0) & (scores <= 1)).all()  # positive-class probabilities


def test_the_mlflow_run_holds_params_metrics_lineage_signature_and_example(registry):
    version = registry.record(trained_model("lightgbm", name="tracked", seed=1))
    run = registry.client.get_run(version.run_id)
    assert run.data.params["seed"] == "1"
    assert json.loads(run.data.params["grid"]) == {"depth": [3, 5]}
    assert run.data.metrics == pytest.approx({"auc_roc": 0.82, "average_precision": 0.42})
    assert run.data.tags["confluens.data_snapshot"] == "offline@v4"
    assert run.data.tags["confluens.code_version"] == "abc1234"

    import mlflow

    folder = Path(mlflow.artifacts.download_artifacts(
        run_id=version.run_id, artifact_path="lineage.json",
        tracking_uri=registry.settings.tracking_uri))
    lineage = json.loads(folder.read_text())
    assert lineage["training_set"] == {"rows": 400, "start": "2018-04-01"}
    assert version.source.startswith(registry.settings.artifact_root.as_uri())  # under
    # the project

def test_mlflow_pyfunc_loads_the_model_through_confluens_loader(registry, tmp_path):
    trained = trained_model("xgboost", name="pyfunc_xgb", seed=2)
    version = registry.record(trained)
    import mlflow

    from confluens.lifecycle.registry._mlflow import using

    with using(registry.settings):
        model = mlflow.pyfunc.load_model(version.uri)
        local = Path(mlflow.artifacts.download_artifacts(version.uri, dst_path=str(tmp_path)))
    _, x = fit("xgboost", 2)
    np.testing.assert_allclose(model.predict(x), reference_scores(
        trained.estimator, "xgboost", x, "binary"), rtol=1e-12)
    assert model.metadata.signature.inputs.input_names() == list(COLUMNS)
    mlmodel = (local / "MLmodel").read_text()
    assert "loader_module: confluens.lifecycle.registry.pyfunc" in mlmodel
    assert (local / "data" / "confluens" / "model.ubj").exists()
    assert not list(local.rglob("*.pkl"))  # no pickle for XGBoost
    assert (local / "input_example.json").exists()


def test_promote_rollback_and_history(registry):
    for seed in range(3):
        registry.record(trained_model("lightgbm", name="aliased", seed=seed))
    assert registry.promote("aliased", 1, reason="first model", by="ana").from_version is None
    registry.promote("aliased", 2, reason="AP up", by="ben")
    registry.promote("aliased", 3, "champion", reason="AP up again")
    assert registry.promote("aliased", 3, reason="again") is None  # already there
    assert registry.load("aliased", "champion").version == 3
    assert registry.load("aliased", "@champion").version == 3

    back = registry.rollback("aliased", reason="alerts doubled")
    assert (back.action, back.from_version, back.to_version) == ("rollback", 3, 2)
    assert registry.version("aliased", "champion").version == 2
    assert registry.rollback("aliased", reason="still bad").to_version == 1
    with pytest.raises(ProjectError, match="no earlier version"):
        registry.rollback("aliased", reason="once more")
    assert registry.load("aliased", "champion").version == 1

    registry.promote("aliased", 2, "challenger", reason="shadow it")
    changes = registry.history("aliased")
    assert [(c.alias, c.action, c.from_version, c.to_version) for c in changes] == [
        ("champion", "promote", None, 1), ("champion", "promote", 1, 2),
        ("champion", "promote", 2, 3), ("champion", "rollback", 3, 2),
        ("champion", "rollback", 2, 1), ("challenger", "promote", None, 2)]
    assert [c.actor for c in changes[:2]] == ["ana", "ben"]
    assert changes[3].reason == "alerts doubled"
    assert changes[0].at <= changes[-1].at
    assert [c.alias for c in registry.history("aliased", "@challenger")] == ["challenger"]
    assert registry.version("aliased", 2).aliases == ("challenger",)


def test_models_and_versions_list_what_is_registered(registry):
    registry.record(trained_model("sklearn", name="listed", seed=1))
    registry.record(trained_model("sklearn", name="listed", seed=2))
    registry.promote("listed", 2, reason="better")
    summary = {m.name: m for m in registry.models()}["listed"]
    assert (summary.latest, summary.aliases) == (2, {"champion": 2})
    versions = registry.versions("listed", metrics=True)
    assert [(v.version, v.aliases) for v in versions] == [(1, ()), (2, ("champion",))]
    assert versions[1].metrics["auc_roc"] == pytest.approx(0.83)


def test_bad_requests_get_clear_errors(registry):
    registry.record(trained_model("lightgbm", name="known"))
    with pytest.raises(UnknownNameError, match=r"'nope': is not in the registry.*known"):
        registry.load("nope", 1)
    with pytest.raises(UnknownNameError, match=r"has no such version; got 7.*versions: 1"):
        registry.load("known", 7)
    with pytest.raises(UnknownNameError, match="known@champion: the alias is not set"):
        registry.load("known", "champion")
    with pytest.raises(ProjectError, match="no earlier version"):
        registry.rollback("known", reason="nothing to undo")
    with pytest.raises(InputError, match="alias: must be one of @champion, @challenger"):
        registry.promote("known", 1, "production", reason="x")
    with pytest.raises(InputError, match="every promotion and rollback must say why"):
        registry.promote("known", 1, reason="  ")
    with pytest.raises(InputError, match="must be a version number"):
        registry.promote("known", "champion", reason="x")
    with pytest.raises(InputError, match="version number \\(1 or more\\)"):
        registry.load("known", 0)
    with pytest.raises(UnknownNameError, match="no such version"):
        registry.promote("known", 5, reason="x")
    loaded = registry.load("known", 1)
    with pytest.raises(InputError, match="predict needs every input column"):
        loaded.predict(fit("lightgbm")[1].drop(columns=[COLUMNS[0]]))
    assert registry.history("known") == []


def test_a_model_file_changed_after_registration_is_refused(registry):
    version = registry.record(trained_model("river", name="tampered"))
    target = Path(version.source.removeprefix("file://")) / "data" / "confluens" / "model.pkl"
    target.write_bytes(target.read_bytes() + b"\x00")
    with pytest.raises(StorageError, match="must match the digest recorded"):
        registry.load("tampered", version.version)


def test_trained_models_are_checked_before_anything_is_logged(registry):
    good = trained_model("lightgbm", name="checked")
    from dataclasses import replace

    with pytest.raises(InputError, match="flavor: must be one of lightgbm, xgboost"):
        registry.record(replace(good, flavor="keras"))
    with pytest.raises(InputError, match="needs a fitted LGBMClassifier"):
        registry.record(replace(good, estimator=object()))
    with pytest.raises(InputError, match="task must be one of"):
        registry.record(replace(good, task="clustering"))
    with pytest.raises(InputError, match="input_example must hold"):
        registry.record(replace(good, input_example=good.input_example.drop(
            columns=[COLUMNS[1]])))
    with pytest.raises(InputError, match="metrics must be numbers"):
        registry.record(replace(good, metrics={"auc": "high"}))
    with pytest.raises(InputError, match="artifact 'report': must be an existing file"):
        registry.record(replace(good, artifacts={"report": Path("/nonexistent/r.html")}))
    assert "checked" not in {m.name for m in registry.models()}


def test_a_trained_lightgbm_ranker_is_recorded_natively_and_ranks_as_it_did(registry):
    lightgbm = pytest.importorskip("lightgbm")
    from confluens import NDCG, Model, TimeSplit
    from confluens.lifecycle.train import train_model
    from tests.lifecycle.test_train import LINEAGE, START, data, ranking_rows

    ranker = lightgbm.LGBMRanker(n_estimators=10, min_child_samples=5, verbose=-1, n_jobs=1)
    ranking = Model("ranker", features=["v"], label="labels.fraud", estimator=ranker,
                    protocol=TimeSplit(start=START), task="ranking", group="user",
                    metrics=[NDCG(k=3, group="user")])
    trained = train_model(ranking, data(ranking_rows()), lineage=LINEAGE)
    version = registry.record(trained)
    assert (version.flavor, version.metrics["ndcg_at_3"]) == (
        "lightgbm", pytest.approx(trained.metrics["ndcg@3"]))
    loaded = registry.load("ranker", version.version)
    assert loaded.task == "ranking"
    rows = ranking_rows(days=2, seed=7)[["noise", "x"]]
    expected = trained.estimator.predict(rows[["x", "noise"]])
    np.testing.assert_allclose(loaded.predict(rows), expected, rtol=1e-12)
