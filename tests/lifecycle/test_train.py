"""Training on synthetic labelled rows: folds, fits, selection, user-code errors."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest

from confluens import (
    AUC,
    AveragePrecision,
    CardPrecision,
    Estimator,
    Model,
    Prequential,
    TimeSplit,
)
from confluens.errors import DefinitionError, InputError, MissingExtraError, UserCodeError
from confluens.lifecycle.train import TrainingData, train_model
from confluens.lifecycle.train.evaluate import evaluate
from confluens.lifecycle.train.splits import DAY, KNOWN, fold, to_day
from confluens.lifecycle.train.train import _folds, _prepare
from confluens.lifecycle.trained import Lineage

sklearn = pytest.importorskip("sklearn")
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

START = dt.date(2020, 1, 1)
LINEAGE = Lineage("hash", "as_of=now", "test")


def rows(days: int = 42, per_day: int = 60, seed: int = 0) -> pd.DataFrame:
    """Transactions whose fraud probability rises with x; a card per row out of 40."""
    rng = np.random.default_rng(seed)
    n = days * per_day
    day = np.repeat(np.arange(days), per_day)
    stamp = (pd.Timestamp(START, tz="UTC") + pd.to_timedelta(day, unit="D")
             + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s"))
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(3 * x - 3)))).astype(int)
    return pd.DataFrame({"ts": stamp, "card": rng.integers(0, 40, n).astype(str),
                         "x": x, "noise": rng.normal(size=n), "fraud": y})


def data(frame: pd.DataFrame, known_at: str | None = None) -> TrainingData:
    return TrainingData(frame, ("x", "noise"), ("v:x", "v:noise"), "ts", known_at)


def model(estimator: Any, protocol: Any, metrics: Any = None) -> Model:
    return Model("m", features=["v"], label="labels.fraud", estimator=estimator,
                 protocol=protocol,
                 metrics=metrics or [AUC(), AveragePrecision(), CardPrecision(k=5, card="card")])


def test_a_fold_takes_its_days_known_labels_and_drops_known_compromised_cards() -> None:
    s = to_day(START)
    frame = pd.DataFrame({
        DAY: [s, s + 2, s + 6, s + 7, s + 10, s + 14, s + 14, s + 17, s + 18, s + 18, s + 20,
              s - 3, s + 21],
        "card": ["a", "a", "k", "z", "b", "a", "b", "b", "b", "c", "p", "p", "q"],
        "fraud": [0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
        KNOWN: [0] * 13,
    })
    frame.loc[2, KNOWN] = (s + 14) * 86_400 * 10**6  # reported when the test starts: too late
    f = fold(frame, START, train=7, delay=7, test=7, label="fraud", card="card")
    assert f.train.tolist() == [0, 1]  # days [S, S+7) known before day S+14
    # card a (fraud on S+2) is out of every test day; card b (fraud on S+10, in the
    # delay) only from S+18 = (S+10) + 8; card p's fraud before S does not count
    assert f.test.tolist() == [6, 7, 9, 10]
    no_cards = fold(frame, START, train=7, delay=7, test=7, label="fraud", card=None)
    assert no_cards.test.tolist() == [5, 6, 7, 8, 9, 10]


def test_a_time_split_reports_what_a_direct_fit_on_its_rows_measures() -> None:
    frame = rows()
    estimator = LogisticRegression()
    trained = train_model(model(estimator, TimeSplit(start=START)), data(frame), lineage=LINEAGE)
    day = ((frame["ts"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(days=1)).to_numpy()
    s = to_day(START)
    train = frame[(day >= s) & (day < s + 7)]
    direct = LogisticRegression().fit(train[["x", "noise"]], train["fraud"])
    first_fraud = train[train["fraud"] == 1].groupby("card")["ts"].min()
    test = frame[(day >= s + 14) & (day < s + 21)]
    test_day = day[(day >= s + 14) & (day < s + 21)]
    known = [c in first_fraud.index for c in test["card"]]  # every train fraud is 8+ days old
    known_later = [
        bool(((frame["card"] == c) & (frame["fraud"] == 1) & (day >= s) & (day <= d - 8)).any())
        for c, d in zip(test["card"], test_day, strict=True)]
    kept = test[~np.array(known) & ~np.array(known_later)]
    scores = direct.predict_proba(kept[["x", "noise"]])[:, 1]
    assert trained.metrics["auc"] == pytest.approx(roc_auc_score(kept["fraud"], scores))
    assert trained.metrics["ap"] == pytest.approx(average_precision_score(kept["fraud"], scores))
    assert not hasattr(estimator, "coef_")  # the definition's estimator is never fitted
    assert trained.flavor == "sklearn"
    assert trained.columns == ("x", "noise")
    assert trained.features == ("v:x", "v:noise")
    assert list(trained.input_example.columns) == ["x", "noise"]
    assert trained.lineage.training_set["train_rows"] == len(train)
    assert trained.lineage.definitions_hash == "hash"


def test_labels_not_known_when_the_test_period_starts_are_left_out_of_training() -> None:
    frame = rows()
    late = pd.Series(frame["ts"] + pd.Timedelta(days=30))
    frame["known"] = frame["ts"] + pd.Timedelta(days=1)
    frame.loc[frame["fraud"] == 1, "known"] = late[frame["fraud"] == 1]
    protocol = TimeSplit(start=START)
    with pytest.raises(InputError, match="needs both classes"):
        train_model(model(LogisticRegression(), protocol), data(frame, "known"), lineage=LINEAGE)
    everything = train_model(model(LogisticRegression(), protocol), data(frame),
                             lineage=LINEAGE)
    assert everything.lineage.training_set["train_positives"] > 0


def test_prequential_selects_each_metric_by_its_best_validation_mean() -> None:
    frame = rows(days=63)
    protocol = Prequential(folds=2, start=START + dt.timedelta(days=28),
                           grid={"max_depth": [1, 3, 12], "min_samples_leaf": [1, 30]})
    m = model(DecisionTreeClassifier(random_state=0), protocol)
    trained = train_model(m, data(frame), lineage=LINEAGE)
    prepared = _prepare(data(frame), m)
    first = START + dt.timedelta(days=28)
    valid = _folds(m, prepared, protocol.fold_starts(protocol.validation_start(first)))
    test = _folds(m, prepared, protocol.fold_starts(first))
    candidates = list(protocol.candidates())
    scored = [evaluate(m, m.estimator, c, prepared, ["x", "noise"], valid) for c in candidates]
    for metric in m.metrics:
        means = [e.mean(metric.name) for e in scored]
        best = int(np.argmax(means))
        assert trained.metrics[f"valid_{metric.name}"] == pytest.approx(means[best])
        on_test = evaluate(m, m.estimator, candidates[best], prepared, ["x", "noise"], test)
        assert trained.metrics[metric.name] == pytest.approx(on_test.mean(metric.name))
        assert trained.metrics[f"{metric.name}_std"] == pytest.approx(on_test.std(metric.name))
        assert trained.params["best_params"][metric.name] == candidates[best]
    primary = trained.params["best_params"]["auc"]
    assert trained.estimator.get_params()["max_depth"] == primary["max_depth"]


class Broken:
    def fit(self, x: Any, y: Any) -> Broken:
        raise ValueError("the user's bug")

    def predict_proba(self, x: Any) -> Any:
        return None


def test_an_estimator_that_raises_is_reported_as_user_code_with_its_traceback() -> None:
    with pytest.raises(UserCodeError, match="the user's bug") as info:
        train_model(model(Broken(), TimeSplit(start=START)), data(rows()), lineage=LINEAGE)
    assert isinstance(info.value.__cause__, ValueError)


def test_an_estimator_named_by_its_class_is_built_or_explained() -> None:
    named = Estimator("sklearn.linear_model.LogisticRegression", C=0.5)
    trained = train_model(model(named, TimeSplit(start=START)), data(rows()), lineage=LINEAGE)
    assert trained.estimator.C == 0.5
    assert trained.params["C"] == 0.5
    for path, message in (("sklearn.linear_model.Nope", "has no such class"),
                          ("no_such_package_anywhere.Model", "cannot be imported")):
        with pytest.raises(DefinitionError, match=message):
            train_model(model(Estimator(path), TimeSplit(start=START)), data(rows()),
                        lineage=LINEAGE)


def test_a_missing_learning_library_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "lightgbm", None)
    with pytest.raises(MissingExtraError, match=r"confluens\[models\]"):
        train_model(model(Estimator("lightgbm.LGBMClassifier"), TimeSplit(start=START)),
                    data(rows()), lineage=LINEAGE)


def test_periods_without_rows_are_reported() -> None:
    with pytest.raises(InputError, match="has no training rows"):
        train_model(model(LogisticRegression(), TimeSplit(start="2030-01-01")), data(rows()),
                    lineage=LINEAGE)


def test_without_a_start_the_latest_test_period_ends_on_the_last_day() -> None:
    trained = train_model(model(LogisticRegression(), TimeSplit()), data(rows(days=30)),
                          lineage=LINEAGE)
    assert trained.lineage.training_set["test_end"] == str(START + dt.timedelta(days=30))
    assert trained.lineage.training_set["train_start"] == str(START + dt.timedelta(days=9))


def test_a_river_model_learns_one_row_at_a_time() -> None:
    river = pytest.importorskip("river")
    from river import linear_model, preprocessing

    online = preprocessing.StandardScaler() | linear_model.LogisticRegression()
    trained = train_model(model(online, TimeSplit(start=START)), data(rows()), lineage=LINEAGE)
    assert river is not None
    assert trained.flavor == "river"
    assert trained.metrics["auc"] > 0.75
    # the original never learnt: it still gives even odds
    assert online.predict_proba_one({"x": 2.0, "noise": 0.0}) == {False: 0.5, True: 0.5}


def ranking_rows(days: int = 28, users: int = 30, per_user_day: int = 4,
                 seed: int = 0) -> pd.DataFrame:
    """Each user sees a few items a day; relevance rises with x."""
    rng = np.random.default_rng(seed)
    n = days * users * per_user_day
    day = np.repeat(np.arange(days), users * per_user_day)
    stamp = (pd.Timestamp(START, tz="UTC") + pd.to_timedelta(day, unit="D")
             + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s"))
    x = rng.normal(size=n)
    relevance = np.clip(np.round(x + rng.normal(scale=0.7, size=n)), 0, 3).astype(int)
    frame = pd.DataFrame({"ts": stamp, "user": rng.integers(0, users, n).astype(str),
                          "x": x, "noise": rng.normal(size=n), "fraud": relevance})
    return frame.sort_values("ts", kind="stable").reset_index(drop=True)


def test_a_ranker_is_fitted_on_its_query_groups_and_scored_with_ndcg() -> None:
    lightgbm = pytest.importorskip("lightgbm")
    from confluens import NDCG, HitRate

    frame = ranking_rows()
    ranker = lightgbm.LGBMRanker(n_estimators=20, min_child_samples=5, verbose=-1,
                                 n_jobs=1, random_state=0)
    ranking = Model("rank", features=["v"], label="labels.fraud", estimator=ranker,
                    protocol=TimeSplit(start=START), task="ranking", group="user",
                    metrics=[NDCG(k=3, group="user"), HitRate(k=3, group="user")])
    trained = train_model(ranking, data(frame), lineage=LINEAGE)
    # what a direct fit on the training week, rows grouped by user, measures
    day = ((frame["ts"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(days=1)).to_numpy()
    s = to_day(START)
    train = frame[(day >= s) & (day < s + 7)]
    codes = pd.factorize(train["user"])[0]
    order = np.argsort(codes, kind="stable")
    direct = lightgbm.LGBMRanker(**ranker.get_params()).fit(
        train[["x", "noise"]].iloc[order], train["fraud"].to_numpy()[order],
        group=np.bincount(codes[order]))
    test = frame[(day >= s + 14) & (day < s + 21)]
    np.testing.assert_allclose(trained.estimator.predict(test[["x", "noise"]]),
                               direct.predict(test[["x", "noise"]]))
    from confluens.lifecycle.metrics import ndcg_at_k

    expected = ndcg_at_k(test["user"].to_numpy(), test["fraud"].to_numpy(),
                         direct.predict(test[["x", "noise"]]), 3)
    assert trained.metrics["ndcg@3"] == pytest.approx(expected)
    assert trained.metrics["ndcg@3"] > 0.7  # x carries the relevance
    assert trained.task == "ranking"


def test_a_ranker_without_its_group_column_is_refused() -> None:
    lightgbm = pytest.importorskip("lightgbm")
    from confluens import NDCG

    ranking = Model("rank", features=["v"], label="labels.fraud",
                    estimator=lightgbm.LGBMRanker(), protocol=TimeSplit(start=START),
                    task="ranking", group="session", metrics=[NDCG(k=3, group="user")])
    with pytest.raises(InputError, match="lacks a column; got 'session'"):
        train_model(ranking, data(ranking_rows()), lineage=LINEAGE)


def test_group_is_only_for_ranking_models() -> None:
    with pytest.raises(DefinitionError, match=r"learning to rank\) is for ranking models"):
        Model("m", features=["v"], label="labels.fraud", estimator=LogisticRegression(),
              protocol=TimeSplit(start=START), metrics=[AUC()], group="user")
