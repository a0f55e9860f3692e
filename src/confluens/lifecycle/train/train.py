"""Training a model on its labelled rows: split by the protocol, fit, evaluate, select.

- **TimeSplit**: one fit on the training period; the figures are the test period's.
- **Prequential**: every grid combination is fitted on each validation fold; for each
  metric separately, the combination with the best validation mean is fitted on each
  test fold, and the metric is reported as the mean (and population std) over the test
  folds. Without a grid there is one combination and no validation folds.

The returned estimator is the fit, on the most recent test fold's training period
(fold 0), of the combination the model's first metric selected: the figures describe
exactly how that training recipe performs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from confluens.core.metrics import CardPrecision
from confluens.core.model import Estimator, Model
from confluens.core.protocols import Prequential, TimeSplit
from confluens.errors import InputError
from confluens.lifecycle.train.estimators import build, flavor
from confluens.lifecycle.train.evaluate import Evaluation, evaluate
from confluens.lifecycle.train.splits import DAY, KNOWN, Fold, fold
from confluens.lifecycle.trained import Lineage, TrainedModel

__all__ = ["Progress", "TrainingData", "anchor", "period", "train_model"]

Progress = Callable[[str, int, int], None]  # (stage, done, total)
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class TrainingData:
    """One row per label record: its features as of its event time, the label, the
    event time (``time``, UTC) and, for sources with one, the known-at time."""

    frame: pd.DataFrame
    columns: tuple[str, ...]  # estimator input columns, in order
    features: tuple[str, ...]  # the feature reference ("view:feature") of each column
    time: str
    known_at: str | None = None


def _prepare(data: TrainingData, model: Model) -> pd.DataFrame:
    frame = data.frame
    group = () if model.group is None else (model.group,)
    for column in (data.time, model.label_column, *data.columns, *group):
        if column not in frame.columns:
            raise InputError(f"Model '{model.name}' training set", "lacks a column",
                             got=column, fix="build it with the model's features, label and group")
    labels = frame[model.label_column]
    if labels.isna().any():
        raise InputError(f"Model '{model.name}' label '{model.label}'", "is null on some rows",
                         got=f"{int(labels.isna().sum())} null(s)",
                         fix="add a NotNull check to the labels source, or fix the records")
    if model.task == "binary" and not labels.isin([0, 1]).all():
        raise InputError(f"Model '{model.name}' label '{model.label}'", "must be 0 or 1 for a "
                         "binary model", got=sorted(set(labels.unique().tolist()))[:5],
                         fix="add OneOf(column, [0, 1]) to the labels source, or set task=")
    times = pd.to_datetime(frame[data.time], utc=True)
    epoch = pd.Timestamp(0, tz="UTC")
    out = frame.assign(**{DAY: ((times - epoch) // pd.Timedelta(days=1)).astype("int64")})
    if data.known_at is not None:
        known = pd.to_datetime(frame[data.known_at], utc=True)
        out[KNOWN] = ((known - epoch) // pd.Timedelta(microseconds=1)).astype("int64")
    out = out.iloc[np.argsort(times.to_numpy(), kind="stable")].reset_index(drop=True)
    out[list(data.columns)] = out[list(data.columns)].astype("float64")
    return out


def anchor(model: Model, last_day: dt.date | None, start: dt.date | None = None) -> dt.date:
    """The protocol's (fold 0) first training day: ``start``, the protocol's own, or the
    latest whose test period ends on ``last_day`` (the last labelled day)."""
    chosen = start or model.protocol.start
    if chosen is not None:
        return chosen
    if last_day is None:
        raise InputError(f"Model '{model.name}'", "has no labelled rows to train on", got=0,
                         fix=f"ingest the labels source '{model.label_source}' first")
    p = model.protocol
    return last_day - dt.timedelta(days=p.train + p.delay + p.test - 1)


def period(model: Model, first: dt.date) -> tuple[dt.date, dt.date]:
    """The days a protocol anchored on ``first`` reads: [earliest training day, end of
    fold 0's test period)."""
    p = model.protocol
    end = first + dt.timedelta(days=p.train + p.delay + p.test)
    if isinstance(p, TimeSplit):
        return first, end
    earliest = p.fold_starts(first)[-1]
    if len(list(p.candidates())) > 1:
        earliest = p.fold_starts(p.validation_start(first))[-1]
    return earliest, end


def _card(model: Model) -> str | None:
    cards = [m.card for m in model.metrics if isinstance(m, CardPrecision)]
    return cards[0] if cards else None


def _folds(model: Model, frame: pd.DataFrame, starts: Sequence[dt.date]) -> list[Fold]:
    p = model.protocol
    return [fold(frame, s, train=p.train, delay=p.delay, test=p.test,
                 label=model.label_column, card=_card(model)) for s in starts]


def train_model(model: Model, data: TrainingData, *, lineage: Lineage,
                start: dt.date | None = None, progress: Progress | None = None
                ) -> TrainedModel:
    """Split ``data`` by the model's protocol, fit, evaluate; see the module docstring."""
    frame = _prepare(data, model)
    last = _EPOCH + dt.timedelta(days=int(frame[DAY].max())) if len(frame) else None
    first = anchor(model, last, start)
    estimator = build(model.estimator, model.name)
    protocol = model.protocol
    if isinstance(protocol, TimeSplit):
        candidates: list[dict[str, Any]] = [{}]
        test_starts = [first]
        valid_starts: list[dt.date] = []
    else:
        assert isinstance(protocol, Prequential)
        candidates = list(protocol.candidates())
        test_starts = protocol.fold_starts(first)
        valid_starts = (protocol.fold_starts(protocol.validation_start(first))
                        if len(candidates) > 1 else [])
    columns = list(data.columns)
    total = len(candidates) * len(valid_starts) + len(test_starts)
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress is not None:
            progress("fitting", done[0], total)

    best: dict[str, int] = {m.name: 0 for m in model.metrics}
    validation: list[Evaluation] = []
    if valid_starts:
        valid_folds = _folds(model, frame, valid_starts)
        validation = [evaluate(model, estimator, c, frame, columns, valid_folds, on_fold=tick)
                      for c in candidates]
        for m in model.metrics:
            means = [v.mean(m.name) for v in validation]
            best[m.name] = _best(means, m.greater_is_better)
    test_folds = _folds(model, frame, test_starts)
    chosen = sorted(set(best.values()), key=lambda i: (i != best[model.metrics[0].name], i))
    total += len(test_starts) * (len(chosen) - 1)
    tested = {i: evaluate(model, estimator, candidates[i], frame, columns, test_folds,
                          on_fold=tick) for i in chosen}
    metrics: dict[str, float] = {}
    for m in model.metrics:
        result = tested[best[m.name]]
        metrics[m.name] = result.mean(m.name)
        if len(test_starts) > 1:
            metrics[f"{m.name}_std"] = result.std(m.name)
        if validation:
            metrics[f"valid_{m.name}"] = validation[best[m.name]].mean(m.name)
    primary = tested[best[model.metrics[0].name]]
    train_rows = frame.iloc[test_folds[0].train]
    return TrainedModel(
        model=model.name, estimator=primary.fitted[0], flavor=flavor(estimator),
        features=data.features, columns=data.columns, task=model.task,
        params=_params(model, candidates, best, primary), metrics=metrics,
        input_example=train_rows[columns].head(5).reset_index(drop=True),
        lineage=Lineage(lineage.definitions_hash, lineage.data_snapshot, lineage.code_version,
                        {**lineage.training_set, **_periods(test_folds, frame, model)}))


def _best(means: Sequence[float], greater: bool) -> int:
    """The first combination with the best mean (NaN never wins)."""
    values = np.array([(m if greater else -m) for m in means], dtype=np.float64)
    values = np.where(np.isnan(values), -np.inf, values)
    return int(np.argmax(values))


def _params(model: Model, candidates: list[dict[str, Any]], best: dict[str, int],
            primary: Evaluation) -> dict[str, Any]:
    estimator = model.estimator
    params: dict[str, Any] = dict(estimator.params) if isinstance(estimator, Estimator) else {}
    params.update(primary.params)
    out: dict[str, Any] = {"estimator": model.spec()["estimator"]["class"], **params,
                           "protocol": model.protocol.spec(),
                           "selected_by": model.metrics[0].name}
    if len(candidates) > 1:
        out["best_params"] = {m: candidates[i] for m, i in best.items()}
    return out


def _periods(folds: list[Fold], frame: pd.DataFrame, model: Model) -> dict[str, Any]:
    f = folds[0]
    p = model.protocol
    train_end = f.start + dt.timedelta(days=p.train)
    test_start = train_end + dt.timedelta(days=p.delay)
    return {"train_start": str(f.start), "train_end": str(train_end),
            "test_start": str(test_start), "test_end": str(test_start + dt.timedelta(days=p.test)),
            "train_rows": len(f.train), "test_rows": len(f.test),
            "train_positives": int((frame.iloc[f.train][model.label_column] == 1).sum()),
            "test_positives": int((frame.iloc[f.test][model.label_column] == 1).sum()),
            "folds": len(folds)}
