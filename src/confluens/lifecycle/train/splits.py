"""A protocol's folds over a table of labelled rows.

Rows carry ``DAY`` (their event time's UTC day, as days since 1970-01-01) and, for
label records with a known-at time, ``KNOWN`` (that instant, in microseconds). One
time split starting on day S (see core/protocols.py) gives:

- **train**: rows of days [S, S + train) whose label was known before the test
  period began (``KNOWN`` < day S + train + delay, 00:00 UTC); a label reported later
  could not have been used, so its row is left out;
- **test**: rows of days [S + train + delay, S + train + delay + test), judged by
  their labels as stored now. With a ``card`` column (the model has a Card Precision
  metric), the rows of cards already known compromised are removed, as in the
  handbook: on test day D, every card with a positive label on a day in
  [S, D − delay − 1].
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from confluens.lifecycle.metrics.compute import DAY as METRIC_DAY

__all__ = ["DAY", "KNOWN", "Fold", "fold", "to_day"]

DAY = METRIC_DAY  # the UTC calendar day, shared with the metrics (CP@k)
KNOWN = "__known_us"
_EPOCH = dt.date(1970, 1, 1)
_DAY_US = 86_400 * 1_000_000


def to_day(date: dt.date) -> int:
    return (date - _EPOCH).days


@dataclass(frozen=True)
class Fold:
    """Row positions of one split, both in time order."""

    start: dt.date
    train: np.ndarray
    test: np.ndarray


def fold(frame: pd.DataFrame, start: dt.date, *, train: int, delay: int, test: int,
         label: str, card: str | None) -> Fold:
    day = frame[DAY].to_numpy()
    s = to_day(start)
    test_start = s + train + delay
    in_train = (day >= s) & (day < s + train)
    if KNOWN in frame.columns:
        in_train &= frame[KNOWN].to_numpy() < test_start * _DAY_US
    in_test = (day >= test_start) & (day < test_start + test)
    if card is not None:
        in_test &= ~_known_compromised(frame, s, test_start, test, delay, label, card)
    return Fold(start, np.flatnonzero(in_train), np.flatnonzero(in_test))


def _known_compromised(frame: pd.DataFrame, s: int, test_start: int, test: int, delay: int,
                       label: str, card: str) -> np.ndarray:
    """Per row: is it on a test day D when its card had a positive on [S, D − delay − 1]?"""
    day = frame[DAY].to_numpy()
    positive = (frame[label].to_numpy() == 1) & (day >= s) & (day < test_start + test)
    first = (pd.Series(day[positive]).groupby(frame[card].to_numpy()[positive]).min())
    first_day = frame[card].map(first).to_numpy(dtype=np.float64, na_value=np.inf)
    return first_day <= day - delay - 1
