"""A stream scorer logs a batch column by column (``log_columns``, ``columns_table``):
the same table, byte for byte, as the rows ``Scorer`` logs (``log_table``), built the
way the stream scorer built them one prediction at a time before, on random batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from confluens.lifecycle.serve import ScoreRequest, log_table
from confluens.lifecycle.serve.log_table import columns_table
from confluens.project.stream.scoring import Predicted, log_columns

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UTC_US = pa.timestamp("us", tz="UTC")
_PARIS_US = pa.timestamp("us", tz="Europe/Paris")
_INPUT = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40),
                   st.floats(allow_nan=True, allow_infinity=True))
_MICROS = st.integers(-2**50, 2**50)


def _old_rows(predicted: Predicted, origin: str, key_columns: list[str]) -> list[dict[str, Any]]:
    """The rows the stream scorer logged before, one prediction at a time."""
    names = list(predicted.columns)
    rows = []
    for s, i in zip(predicted.scored, predicted.rows, strict=True):
        keys = {c: predicted.columns[c][i] for c in key_columns}
        fields = {n: v.isoformat() if isinstance(v, datetime) else v
                  for n, v in ((n, predicted.columns[n][i]) for n in names)}
        rows.append({"scored": s, "keys": keys,
                     "request": ScoreRequest(dict(keys), fields, s.at, origin)})
    return rows


@st.composite
def _batches(draw: st.DrawFn) -> tuple[Predicted, list[str], dict[str, str]]:
    n = draw(st.integers(1, 12))
    texts = st.text(max_size=6)
    events = pa.table({
        "tx_id": pa.array(draw(st.lists(st.integers(0, 2**40), min_size=n, max_size=n)),
                          pa.int64()),
        "at": pa.array(draw(st.lists(_MICROS, min_size=n, max_size=n)),
                       pa.int64()).cast(_UTC_US),
        "seen": pa.array(draw(st.lists(st.none() | _MICROS, min_size=n, max_size=n)),
                         pa.int64()).cast(_UTC_US),
        "local": pa.array(draw(st.lists(_MICROS, min_size=n, max_size=n)),
                          pa.int64()).cast(_PARIS_US),
        "customer": pa.array(draw(st.lists(texts, min_size=n, max_size=n)), pa.string()),
        "terminal": pa.array(draw(st.lists(st.none() | st.integers(-5, 5), min_size=n,
                                           max_size=n)), pa.int64()),
        "amount": pa.array(draw(st.lists(st.none() | st.floats(), min_size=n, max_size=n)),
                           pa.float64()),
        "flag": pa.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))),
    })
    columns = {name: events.column(name).to_pylist() for name in events.column_names}
    columns["at"] = [_EPOCH + timedelta(microseconds=us)
                     for us in events.column("at").cast(pa.int64()).to_pylist()]
    rows = sorted(draw(st.sets(st.integers(0, n - 1), min_size=1)))
    names = draw(st.lists(st.text(min_size=1, max_size=5), max_size=5, unique=True))
    inputs = {name: draw(st.lists(_INPUT, min_size=len(rows), max_size=len(rows)))
              for name in names}
    scores = np.array(draw(st.lists(st.floats(allow_nan=True), min_size=len(rows),
                                    max_size=len(rows))), dtype=np.float64)
    at_us = events.column("at").cast(pa.int64()).to_numpy()[rows].tolist()
    ids = [f"id-{i}" for i in rows]
    predicted = Predicted(events, columns, rows, ids, scores, at_us, inputs, "fraud", 7)
    keys = draw(st.sampled_from([[], ["customer"], ["customer", "terminal"],
                                 ["terminal", "model"]]))
    types = {k: "int64" if k == "terminal" else "string" for k in keys}
    return predicted, keys, types


@settings(max_examples=150, deadline=None)
@given(_batches(), st.sampled_from(["stream", "event"]))
def test_columns_make_the_table_rows_made(batch: tuple[Predicted, list[str], dict[str, str]],
                                          origin: str) -> None:
    predicted, keys, types = batch
    if "model" in keys:  # a key named like a fixed column is only in the request
        predicted.columns["model"] = predicted.columns["customer"]
        predicted = Predicted(predicted.events.append_column("model", predicted.events.column(
            "customer")), predicted.columns, predicted.rows, predicted.ids,
            predicted.scores, predicted.at_us, predicted.inputs, "fraud", 7)
    want = log_table(_old_rows(predicted, origin, keys), types)
    got = columns_table(log_columns(predicted, origin, keys), types)
    assert got.schema.equals(want.schema)
    assert got.to_pylist() == want.to_pylist() or _same_with_nan(got, want)


def _same_with_nan(got: pa.Table, want: pa.Table) -> bool:
    """Equal, NaN scores counting as equal."""
    for name in want.column_names:
        a, b = got.column(name).to_pylist(), want.column(name).to_pylist()
        if name == "score":
            if not np.array_equal(np.array(a, dtype=float), np.array(b, dtype=float),
                                  equal_nan=True):
                return False
        elif a != b:
            return False
    return True
