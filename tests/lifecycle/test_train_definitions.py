"""Model, protocol and metric definitions: frozen, and checked when built."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from confluens import (
    AUC,
    RMSE,
    AveragePrecision,
    CardPrecision,
    Definitions,
    Entity,
    Estimator,
    FeatureView,
    Model,
    Prequential,
    Source,
    Sum,
    TimeSplit,
)
from confluens.errors import DefinitionError, DefinitionsError


class Fits:
    """The smallest scikit-learn-like estimator."""

    def fit(self, x: Any, y: Any) -> Fits:
        return self

    def predict(self, x: Any) -> Any:
        return [0.0] * len(x)


def model(**changes: Any) -> Model:
    args: dict[str, Any] = dict(features=["spend"], label="labels.fraud", estimator=Fits(),
                                protocol=TimeSplit(), metrics=[AUC()])
    args.update(changes)
    return Model(changes.pop("name", "m"), **args)


def test_a_model_holds_what_it_was_given_and_is_frozen() -> None:
    estimator = Fits()
    m = model(estimator=estimator, features=["spend", "risk:r1"])
    assert m.features == ("spend", "risk:r1")
    assert m.estimator is estimator
    assert (m.label_source, m.label_column) == ("labels", "fraud")
    with pytest.raises(AttributeError):
        m.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(("changes", "message"), [
    ({"features": []}, "needs at least one feature"),
    ({"features": "spend"}, "must be a list of feature references"),
    ({"features": ["Spend View"]}, "a feature reference is"),
    ({"features": ["a", "a"]}, "lists a feature twice"),
    ({"label": "fraud"}, "label must be 'source.column'"),
    ({"estimator": Fits}, "not the class"),
    ({"estimator": object()}, "scikit-learn-compatible"),
    ({"protocol": "7d"}, "protocol must be TimeSplit"),
    ({"metrics": []}, "at least one metric"),
    ({"metrics": [AUC(), AUC()]}, "lists a metric twice"),
    ({"metrics": [RMSE()]}, "is for regression models"),
    ({"metrics": ["auc"]}, "metrics must be metric definitions"),
    ({"task": "clustering"}, "task must be one of"),
])
def test_bad_models_are_refused_with_the_rule_and_the_value(changes: dict[str, Any],
                                                             message: str) -> None:
    with pytest.raises(DefinitionError, match=message) as info:
        model(**changes)
    assert "Fix:" in str(info.value)


@pytest.mark.parametrize(("build", "message"), [
    (lambda: TimeSplit(train="12h"), "must be whole days"),
    (lambda: TimeSplit(train="0d"), "at least one day"),
    (lambda: TimeSplit(start="25/07/2018"), "start must be a date"),
    (lambda: Prequential(folds=0), "folds must be a positive"),
    (lambda: Prequential(grid={"max_depth": 3}), "non-empty list"),
    (lambda: CardPrecision(k=0), "k must be a positive"),
    (lambda: Estimator("LGBMClassifier"), "import path of a class"),
])
def test_bad_protocols_metrics_and_estimators_are_refused(build: Any, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        build()


def test_protocol_periods_are_days_from_the_first_training_day() -> None:
    split = TimeSplit(train="7d", delay="1w", test=7, start="2018-07-25")
    assert (split.train, split.delay, split.test) == (7, 7, 7)
    assert split.test_start == dt.date(2018, 8, 8)
    folds = Prequential(folds=4, start=dt.date(2018, 7, 25), grid={"a": [1, 2], "b": [3]})
    assert folds.fold_starts()[-1] == dt.date(2018, 7, 4)
    assert folds.validation_start() == dt.date(2018, 6, 20)
    assert list(folds.candidates()) == [{"a": 1, "b": 3}, {"a": 2, "b": 3}]


def test_metric_names_are_the_figures_keys() -> None:
    assert [m.name for m in (AUC(), AveragePrecision(), CardPrecision(k=50))] == [
        "auc", "ap", "cp@50"]


def test_estimator_specs_keep_their_parameters_and_hash() -> None:
    a = Estimator("lightgbm.LGBMClassifier", n_estimators=10)
    b = Estimator("lightgbm.LGBMClassifier", n_estimators=10)
    assert a == b
    assert hash(a) == hash(b)
    assert dict(a.params) == {"n_estimators": 10}
    assert model(estimator=a).spec()["estimator"]["params"] == {"n_estimators": "10"}


def _project_parts() -> tuple[Source, FeatureView]:
    labels = Source("labels", schema={"id": "int64", "ts": "timestamp", "card": "string",
                                      "fraud": "int64"}, event_time="ts", id="id")
    view = FeatureView("spend", Entity("card", ["card"]), labels,
                       [Sum("fraud", window="7d", name="frauds_7d")])
    return labels, view


def test_definitions_collect_models_and_check_their_references() -> None:
    labels, view = _project_parts()
    m = model(features=["spend:frauds_7d"])
    defs = Definitions.collect([labels, view, m])
    assert defs.model("m") is m
    for changes, message in (({"label": "nope.fraud"}, "label names no source"),
                             ({"label": "labels.nope"}, "label names no column"),
                             ({"features": ["other"]}, "names no feature view"),
                             ({"features": ["spend:nope"]}, "has no such feature")):
        with pytest.raises(DefinitionsError, match=message):
            Definitions.collect([labels, view, model(**changes)])
