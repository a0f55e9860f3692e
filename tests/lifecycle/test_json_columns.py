"""JSON text a column at a time (lifecycle/serve/json_columns.py) is, byte for byte,
what the prediction log's encoder writes one value at a time."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from confluens.lifecycle.serve.json_columns import (
    JSON,
    finite,
    iso_utc,
    json_objects,
    json_texts,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.dates(), st.builds(np.float64, st.floats(allow_nan=True)))


@given(st.lists(_SCALARS, max_size=12))
def test_texts_of_mixed_values_are_the_encoders(values: list[Any]) -> None:
    assert json_texts(values) == [JSON.encode(finite(v)) for v in values]


@given(st.sampled_from([st.floats(allow_nan=True, allow_infinity=True),
                        st.integers(min_value=-2**70, max_value=2**70), st.text(max_size=8),
                        st.booleans(), st.none()]).flatmap(
                            lambda kind: st.lists(kind, max_size=12)))
def test_texts_of_one_kind_are_the_encoders(values: list[Any]) -> None:
    assert json_texts(values) == [JSON.encode(finite(v)) for v in values]


@given(st.lists(st.text(max_size=6), min_size=0, max_size=5, unique=True).flatmap(
    lambda names: st.tuples(st.just(names), st.lists(
        st.lists(_SCALARS, min_size=len(names), max_size=len(names)), max_size=6))))
def test_objects_are_the_encoders(case: tuple[list[str], list[list[Any]]]) -> None:
    names, rows = case
    columns = [json_texts([row[j] for row in rows]) for j in range(len(names))]
    got = json_objects(names, columns, len(rows))
    assert got == [JSON.encode({n: finite(v) for n, v in zip(names, row, strict=True)})
                   for row in rows]
    assert [json.loads(text) for text in got] == [
        json.loads(JSON.encode(dict(zip(names, map(finite, row), strict=True))))
        for row in rows]


@given(st.lists(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31),
                             timezones=st.just(UTC)), max_size=12))
def test_iso_texts_are_isoformat(times: list[datetime]) -> None:
    micros = [(t - _EPOCH) // timedelta(microseconds=1) for t in times]
    assert iso_utc(micros) == [(_EPOCH + timedelta(microseconds=us)).isoformat()
                               for us in micros]
    assert [t + "+00:00" for t in iso_utc(micros, zone="")] == iso_utc(micros)


def test_a_value_json_has_no_number_for_is_null_or_its_text() -> None:
    assert json_texts([float("inf"), -float("inf"), np.float64("nan")]) == ["null"] * 3
    assert json_texts([date(2024, 1, 2)]) == ['"2024-01-02"']
