"""Evaluation protocols: how a model's labelled rows are split in time.

Every period is a whole number of days, counted in UTC calendar days from a first
training day. Two protocols (the Fraud Detection Handbook's Chapters 3 and 5):

- :class:`TimeSplit`: train on ``train`` days from ``start``, leave ``delay`` days out
  (the feedback delay: labels of the training days become known during it), test on
  the ``test`` days after.
- :class:`Prequential`: ``folds`` such splits, fold f starting ``f * test`` days before
  ``start``; figures are the mean and population std over folds. With a ``grid``, each
  parameter combination is first evaluated on validation folds shifted back so that
  validation fold 0 tests on the oldest test fold's training days (as the handbook:
  validation never sees a test fold's delay or test days),
  and each metric is reported for the combination with its best validation mean.

Without ``start``, the latest one whose (fold 0) test period ends on the last labelled
day is used.

>>> TimeSplit(train="7d", delay="7d", test="7d", start="2018-07-25").test_start
datetime.date(2018, 8, 8)
>>> [str(d) for d in Prequential(folds=2, start="2018-07-25").fold_starts()]
['2018-07-25', '2018-07-18']
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from confluens.core.windows import Duration
from confluens.errors import DefinitionError

__all__ = ["Prequential", "Protocol", "TimeSplit"]

_DAY_US = 86_400 * 1_000_000


def _days(owner: str, what: str, value: str | int) -> int:
    if isinstance(value, bool):
        raise DefinitionError(owner, f"{what} must be a number of days", got=value,
                              fix="write e.g. '7d' or 7")
    if isinstance(value, int):
        days = value
    else:
        span = Duration.parse(value, f"{owner} {what}")
        if span.microseconds % _DAY_US:
            raise DefinitionError(owner, f"{what} must be whole days", got=value,
                                  fix="write e.g. '7d' or '2w'")
        days = span.days
    if days < 0 or (days == 0 and what != "delay"):
        raise DefinitionError(owner, f"{what} must be at least one day"
                              if what != "delay" else f"{what} must not be negative",
                              got=value, fix="write e.g. '7d'")
    return days


def _start(owner: str, value: str | dt.date | None) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise DefinitionError(owner, "start must be a date (the first training day)", got=value,
                          fix="write e.g. '2018-07-25' or datetime.date(2018, 7, 25)")


@dataclass(frozen=True)
class TimeSplit:
    """Train / delay / test, in days from ``start`` (the first training day)."""

    train: int = 7
    delay: int = 7
    test: int = 7
    start: dt.date | None = None

    def __init__(self, train: str | int = "7d", delay: str | int = "7d",
                 test: str | int = "7d", start: str | dt.date | None = None) -> None:
        owner = "TimeSplit"
        object.__setattr__(self, "train", _days(owner, "train", train))
        object.__setattr__(self, "delay", _days(owner, "delay", delay))
        object.__setattr__(self, "test", _days(owner, "test", test))
        object.__setattr__(self, "start", _start(owner, start))

    @property
    def span(self) -> int:
        """Days from the first training day to the end of the test period."""
        return self.train + self.delay + self.test

    @property
    def test_start(self) -> dt.date:
        if self.start is None:
            raise DefinitionError("TimeSplit", "has no start yet", fix="pass start=")
        return self.start + dt.timedelta(days=self.train + self.delay)

    def anchored(self, start: dt.date) -> TimeSplit:
        return TimeSplit(self.train, self.delay, self.test, start)

    def spec(self) -> dict[str, Any]:
        return {"kind": "time_split", "train": self.train, "delay": self.delay,
                "test": self.test, "start": None if self.start is None else str(self.start)}


@dataclass(frozen=True)
class Prequential:
    """``folds`` rolling time splits, and optionally a grid searched on validation folds.

    ``grid`` maps estimator parameters to the values to try (every combination is
    fitted on every validation fold).
    """

    folds: int = 4
    train: int = 7
    delay: int = 7
    test: int = 7
    start: dt.date | None = None
    grid: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)

    def __init__(self, folds: int = 4, train: str | int = "7d", delay: str | int = "7d",
                 test: str | int = "7d", start: str | dt.date | None = None,
                 grid: Mapping[str, Sequence[Any]] | None = None) -> None:
        owner = "Prequential"
        if isinstance(folds, bool) or not isinstance(folds, int) or folds < 1:
            raise DefinitionError(owner, "folds must be a positive whole number", got=folds,
                                  fix="write e.g. folds=4")
        object.__setattr__(self, "folds", folds)
        object.__setattr__(self, "train", _days(owner, "train", train))
        object.__setattr__(self, "delay", _days(owner, "delay", delay))
        object.__setattr__(self, "test", _days(owner, "test", test))
        object.__setattr__(self, "start", _start(owner, start))
        checked: dict[str, tuple[Any, ...]] = {}
        for key, values in (grid or {}).items():
            if not isinstance(key, str) or not key:
                raise DefinitionError(owner, "grid keys must be estimator parameter names",
                                      got=key, fix="write e.g. grid={'max_depth': [3, 6]}")
            if isinstance(values, str) or not isinstance(values, Sequence) or not values:
                raise DefinitionError(owner, f"grid['{key}'] must be a non-empty list of "
                                      "values", got=values, fix=f"write e.g. {key}=[1, 2]")
            checked[key] = tuple(values)
        object.__setattr__(self, "grid", checked)

    @property
    def span(self) -> int:
        """Days from the oldest fold's first training day to fold 0's test end."""
        return self.train + self.delay + self.test + (self.folds - 1) * self.test

    def fold_starts(self, start: dt.date | None = None) -> list[dt.date]:
        """Each fold's first training day, fold 0 first."""
        first = start or self.start
        if first is None:
            raise DefinitionError("Prequential", "has no start yet", fix="pass start=")
        return [first - dt.timedelta(days=f * self.test) for f in range(self.folds)]

    def validation_start(self, start: dt.date | None = None) -> dt.date:
        """Fold 0's first training day for the validation folds: their fold 0 tests on
        the oldest test fold's training days, so validation ends before it starts."""
        oldest = self.fold_starts(start)[-1]
        return oldest - dt.timedelta(days=self.delay + self.test)

    def candidates(self) -> Iterator[dict[str, Any]]:
        """Every combination of the grid (one empty one without a grid)."""
        keys = sorted(self.grid)
        for values in itertools.product(*(self.grid[k] for k in keys)):
            yield dict(zip(keys, values, strict=True))

    def anchored(self, start: dt.date) -> Prequential:
        return Prequential(self.folds, self.train, self.delay, self.test, start,
                           {k: list(v) for k, v in self.grid.items()})

    def spec(self) -> dict[str, Any]:
        return {"kind": "prequential", "folds": self.folds, "train": self.train,
                "delay": self.delay, "test": self.test,
                "start": None if self.start is None else str(self.start),
                "grid": {k: [repr(v) for v in vs] for k, vs in sorted(self.grid.items())}}


Protocol: TypeAlias = TimeSplit | Prequential
