"""The Python expression evaluator gives DuckDB's value on every row.

DuckDB, running the SQL compiled from the same tree, is the reference. Hypothesis
draws the columns (nulls, NaN, infinities, -0.0, integer extremes, times either side
of DST changes, in UTC) and a random well-typed expression over them; the evaluator
must give DuckDB's value row by row, or raise where DuckDB raises.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confluens.errors import DefinitionError
from confluens.plan.expressions import typed_expression
from confluens.plan.expressions.conformance import (
    CASES,
    TYPES,
    check_evaluator,
    check_expression,
    random_events,
    random_expression,
)
from confluens.plan.expressions.evaluate_python import EvaluationError, evaluate


def python(expression: Any, table: pa.Table) -> pa.Array:
    return evaluate(expression, dict(zip(table.column_names, table.columns, strict=True)),
                    table.num_rows)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_shipped_expression_conformance_passes(seed: int) -> None:
    check_evaluator(python, cases=60, seed=seed)


@pytest.mark.parametrize("area", sorted(CASES))
def test_each_named_area_matches_duckdb_on_edge_values(area: str) -> None:
    table = random_events(random.Random(area), rows=40)
    for text in CASES[area]:
        check_expression(python, text, table, label=f"{area}: ")


_DST = [datetime(2024, 3, 31, 1, tzinfo=UTC), datetime(2024, 10, 27, 1, tzinfo=UTC),
        datetime(2024, 3, 10, 7, tzinfo=UTC), datetime(2024, 11, 3, 6, tzinfo=UTC)]
ints = st.one_of(st.integers(-50, 50), st.sampled_from([0, -1, 2**31, 2**62, -(2**63),
                                                        2**63 - 1]))
floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, -0.0, 0.5, 2.5, -2.5, 1e300])
texts = st.text(alphabet="abAB_%é ß", max_size=4)
times = st.sampled_from(_DST).flatmap(lambda t: st.integers(-7_200, 7_200).map(
    lambda s: t + timedelta(seconds=s, microseconds=s % 7)))
dates = st.dates(min_value=date(1960, 1, 1), max_value=date(2200, 1, 1))
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "int64": ints, "float64": floats, "string": texts, "bool": st.booleans(),
    "timestamp": times, "date": dates}
ARROW = {"int64": pa.int64(), "float64": pa.float64(), "string": pa.string(),
         "bool": pa.bool_(), "timestamp": pa.timestamp("us", tz="UTC"), "date": pa.date32()}


@st.composite
def tables(draw: st.DrawFn) -> pa.Table:
    rows = draw(st.integers(1, 8))
    return pa.table({name: pa.array(draw(st.lists(st.none() | VALUES[dtype], min_size=rows,
                                                   max_size=rows)), ARROW[dtype])
                     for name, dtype in TYPES.items()})


@settings(max_examples=150, deadline=None)
@given(table=tables(), seed=st.integers(0, 2**32), dtype=st.sampled_from(sorted(ARROW)))
def test_random_expressions_over_random_columns_equal_duckdb(table: pa.Table, seed: int,
                                                             dtype: str) -> None:
    text = random_expression(random.Random(seed), dtype)
    check_expression(python, text, table)


def test_a_guarded_branch_runs_only_where_it_is_taken() -> None:
    e = typed_expression("CASE WHEN d <> 0 THEN n // d ELSE -1 END",
                         {"n": "int64", "d": "int64"}, "derive 'q'")
    out = evaluate(e, {"n": pa.array([7, -7, 1]), "d": pa.array([2, 2, 0])})
    assert out.to_pylist() == [3, -3, -1]  # toward zero, as DuckDB


def test_a_failing_value_raises_a_named_error() -> None:
    e = typed_expression("n // d", {"n": "int64", "d": "int64"}, "derive 'q'")
    with pytest.raises(EvaluationError) as info:
        evaluate(e, {"n": pa.array([1]), "d": pa.array([0])})
    assert "division by zero" in info.value.rule
    assert info.value.got == "n // d"


def test_a_time_is_read_on_the_utc_clock_across_dst() -> None:
    e = typed_expression("hour(ts)", {"ts": "timestamp"}, "derive 'h'")
    before, after = datetime(2024, 3, 31, 0, 59, tzinfo=UTC), datetime(2024, 3, 31, 1, 1,
                                                                       tzinfo=UTC)
    assert evaluate(e, {"ts": pa.array([before, after])}).to_pylist() == [0, 1]


def test_what_the_evaluator_cannot_match_is_refused_before_it_runs() -> None:
    with pytest.raises(DefinitionError, match="not allowed"):
        typed_expression("strftime(ts, '%H')", {"ts": "timestamp"}, "derive 'x'")
