"""The scorer against a real project (embedded SQLite and Redis online stores) and a
real fitted model: features as the online store gives them, defaults for unknown
entities, request-time fields, and mistakes that fail only their own request."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from confluens.errors import DefinitionError, InputError
from confluens.lifecycle.serve import EstimatorModel, Scored, Scorer, ScoreRequest
from confluens.project.serving import OnlineFeatureReader
from tests.lifecycle.serving_project import COLUMNS, END, fit_sklearn, write_project


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    project = write_project(tmp_path_factory.mktemp("serve") / "shop")
    model = fit_sklearn(project)
    yield project, model
    project.close()


def scorer_of(project, model, **options) -> Scorer:
    return Scorer(model, lambda refs: OnlineFeatureReader(project.definitions, project.online,
                                                          refs), clock=lambda: END, **options)


def expected(model: EstimatorModel, row: dict) -> float:
    frame = pd.DataFrame([[math.nan if row[c] is None else row[c] for c in COLUMNS]],
                         columns=list(COLUMNS), dtype=float)
    return float(model.estimator.predict_proba(frame)[0, 1])


def test_scores_with_the_online_features_of_each_entity(served):
    project, model = served
    scorer = scorer_of(project, model)
    requests = [ScoreRequest({"customer_id": c, "merchant_id": m}, {"amount": a})
                for c, m, a in (("3", 4, 12.5), ("17", 9, 300.0), ("3", 9, 80.0))]
    results = scorer.score_many(requests)
    for request, result in zip(requests, results, strict=True):
        assert isinstance(result, Scored)
        vector = project.online_vector({"spend": request.keys["customer_id"],
                                        "risk": request.keys["merchant_id"]}, at=END)
        assert {c: result.inputs[c] for c in COLUMNS[:4]} == {c: vector[c] for c in COLUMNS[:4]}
        assert result.inputs["amount"] == request.fields["amount"]
        assert result.score == pytest.approx(expected(model, result.inputs), abs=1e-12)
        assert (result.model, result.version, result.at, result.missing) == (
            "fraud_hgb", 1, END, ())
    assert len({r.id for r in results}) == 3
    assert scorer.keys == {"customer_id": "string", "merchant_id": "int64"}


def test_an_unknown_entity_gets_the_empty_window_and_says_so(served):
    project, model = served
    result = scorer_of(project, model).score(
        ScoreRequest({"customer_id": "nobody", "merchant_id": 999}, {"amount": 10.0}))
    assert result.missing == ("n_7d", "avg_7d", "m_30d", "m_fraud_30d")
    assert (result.inputs["n_7d"], result.inputs["avg_7d"], result.inputs["m_30d"]) == (
        0, None, 0)
    assert 0.0 <= result.score <= 1.0
    assert result.score == pytest.approx(expected(model, result.inputs), abs=1e-12)


def test_a_field_overrides_the_online_feature_of_its_column(served):
    project, model = served
    result = scorer_of(project, model).score(
        ScoreRequest({"customer_id": "nobody", "merchant_id": 4},
                     {"amount": 10.0, "n_7d": 5, "payment_id": 123}))
    assert result.inputs["n_7d"] == 5
    assert "n_7d" not in result.missing
    assert "avg_7d" in result.missing


@pytest.mark.parametrize(("request_", "field", "words"), [
    (ScoreRequest({"customer_id": "3"}, {"amount": 1.0}), "keys.merchant_id", "keyed by"),
    (ScoreRequest({"customer_id": "3", "merchant_id": "x"}, {"amount": 1.0}),
     "keys.merchant_id", "int64"),
    (ScoreRequest({"customer_id": "3", "merchant_id": 4, "card": 1}, {"amount": 1.0}),
     "keys.card", "not an entity key"),
    (ScoreRequest({"customer_id": "3", "merchant_id": 4}, {}), "fields.amount", "reads"),
    (ScoreRequest({"customer_id": "3", "merchant_id": 4}, {"amount": "ten"}),
     "fields.amount", "number"),
    (ScoreRequest({"customer_id": [3], "merchant_id": 4}, {"amount": 1.0}),
     "keys.customer_id", "string"),
])
def test_a_mistake_fails_its_own_request_only(served, request_, field, words):
    project, model = served
    good = ScoreRequest({"customer_id": "3", "merchant_id": 4}, {"amount": 1.0})
    first, bad, last = scorer_of(project, model).score_many([good, request_, good])
    assert isinstance(first, Scored)
    assert isinstance(last, Scored)
    assert isinstance(bad, InputError)
    assert bad.thing == field
    assert words in str(bad)
    assert bad.fix


def test_a_read_too_early_fails_only_that_request(served):
    """An `at` before the online state answers exactly: the batch is retried one by one."""
    project, model = served
    early = END.replace(year=2023)
    scorer = scorer_of(project, model)
    a, b = scorer.score_many([
        ScoreRequest({"customer_id": "3", "merchant_id": 4}, {"amount": 1.0}, at=early),
        ScoreRequest({"customer_id": "nobody", "merchant_id": 999}, {"amount": 1.0},
                     at=early)])
    assert isinstance(a, InputError)
    assert "answers reads from" in str(a)
    assert isinstance(b, Scored)
    assert b.at == early


def test_a_naive_time_is_refused(served):
    project, model = served
    [bad] = scorer_of(project, model).score_many([ScoreRequest(
        {"customer_id": "3", "merchant_id": 4}, {"amount": 1.0}, at=END.replace(tzinfo=None))])
    assert isinstance(bad, InputError)
    assert bad.thing == "at"


def test_model_inputs_must_match_its_columns(served):
    project, model = served
    with pytest.raises(DefinitionError, match="one input column per feature"):
        EstimatorModel("m", model.estimator, features=["spend:n_7d"], columns=["a", "b"])
    with pytest.raises(DefinitionError, match="names one feature"):
        scorer_of(project, EstimatorModel("m", model.estimator, features=["spend"]))


@pytest.mark.service("redis")
def test_scores_from_redis_as_from_the_embedded_store(served, redis_url, tmp_path: Path):
    project, model = served
    toml = f'[online]\nstore = "redis"\nredis_url = "{redis_url}"\n'
    on_redis = write_project(tmp_path / "shop", toml=toml)
    try:
        requests = [ScoreRequest({"customer_id": c, "merchant_id": m}, {"amount": 20.0})
                    for c in ("1", "2", "nobody") for m in (3, 999)]
        embedded = scorer_of(project, model).score_many(requests)
        redis = scorer_of(on_redis, model).score_many(requests)
        for a, b in zip(embedded, redis, strict=True):
            assert isinstance(a, Scored)
            assert isinstance(b, Scored)
            assert a.inputs == b.inputs
            assert a.missing == b.missing
            assert np.isclose(a.score, b.score)
    finally:
        on_redis.online.clear("spend")
        on_redis.online.clear("risk")
        on_redis.close()
