"""Expression conformance: an evaluator must give DuckDB's value on every row.

DuckDB running the SQL that ``compile_sql.py`` writes is the reference. An evaluator
is any callable ``(TypedExpression, pa.Table) -> pa.Array``, like
:func:`~confluens.plan.expressions.evaluate_python.evaluate`, which the stream
processor uses per micro-batch. :func:`check_expression` compares one expression
row by row: both must raise (a division by zero, an overflow, a cast out of range),
or both give equal values (NaN equal to NaN, 0.0 to -0.0, times as instants).
:func:`check_evaluator` runs the named :data:`CASES`, then random well-typed
expressions (:func:`random_expression`) over random columns (:func:`random_events`:
nulls, NaN, infinities, negative numbers, extremes, times either side of DST changes,
in UTC), each from a seed the failure message names.

>>> from confluens.plan.expressions.evaluate_python import evaluate
>>> check_evaluator(lambda e, table: evaluate(e, dict(zip(table.column_names,
...                 table.columns)), table.num_rows), cases=20)
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot.expressions as exp

from confluens.duckdb_session import connect
from confluens.plan.expressions.compile_sql import tree_for
from confluens.plan.expressions.typed import TypedExpression, typed_expression
from confluens.sqlx import render, table_ref

__all__ = ["CASES", "TYPES", "Evaluator", "check_evaluator", "check_expression",
           "duckdb_values", "random_events", "random_expression"]

Evaluator = Callable[[TypedExpression, pa.Table], pa.Array]

#: The columns of :func:`random_events`: two of each type.
TYPES = {"i": "int64", "j": "int64", "f": "float64", "g": "float64", "s": "string",
         "u": "string", "b": "bool", "c": "bool", "t": "timestamp", "w": "timestamp",
         "d": "date", "e": "date"}

#: Named expressions, by what they exercise.
CASES: dict[str, tuple[str, ...]] = {
    "integer arithmetic": ("i + j", "i - j", "i * j", "-i", "abs(i)", "i * 3 - 7"),
    "division": ("i / j", "f / g", "i // j", "f // g", "i % j", "f % g", "i / 0", "f / 0.0",
                 "CASE WHEN j <> 0 THEN i // j END", "coalesce(i, 10 // j)"),
    "casts": ("CAST(f AS BIGINT)", "TRY_CAST(f AS BIGINT)", "CAST(i AS DOUBLE)",
              "CAST(b AS INTEGER)", "CAST(i AS BOOLEAN)", "CAST(f AS BOOLEAN)",
              "CAST(i AS VARCHAR)", "CAST(b AS VARCHAR)", "CAST(d AS VARCHAR)",
              "CAST(t AS DATE)", "CAST(d AS TIMESTAMP)"),
    "comparisons": ("f = g", "f < g", "f >= g", "i <> j", "s < u", "t > w", "d <= e",
                    "d < t", "f IS DISTINCT FROM g", "i IS NOT DISTINCT FROM j",
                    "f IN (1.5, 0.0 / 0.0, g)", "i IN (1, NULL)", "f BETWEEN g AND 2.5",
                    "t > '2024-03-31'", "d = '2024-03-31'"),
    "three-valued logic": ("b AND c", "b OR c", "NOT b", "b AND i > 0", "b IS NULL",
                           "c IS NOT NULL", "b IS TRUE"),
    "conditionals": ("CASE WHEN b THEN i WHEN c THEN j ELSE 0 END", "if(b, f, g)",
                     "CASE i WHEN 1 THEN 'one' WHEN 2 THEN 'two' END", "coalesce(f, g, 0)",
                     "nullif(i, j)", "nullif(f, g)", "greatest(f, g, 1)", "least(i, j)",
                     "greatest(s, u)", "least(t, w)"),
    "numbers": ("sqrt(f)", "ln(f)", "exp(f)", "floor(f)", "ceil(g)", "sign(f)", "sign(i)",
                "isnan(f)", "isinf(g)", "floor(i)"),
    "text": ("lower(s)", "upper(u)", "length(s)", "s || u", "s LIKE 'a%'",
             "u ILIKE '%B_'", "starts_with(s, 'a')", "contains(u, 'b')",
             "regexp_matches(s, '^[ab]+$')", "s LIKE '%\\%'"),
    "times": ("hour(t)", "minute(w)", "second(t)", "day(t)", "dayofmonth(d)", "month(w)",
              "year(d)", "quarter(t)", "dayofweek(t)", "isodow(d)", "dayofyear(w)",
              "date_trunc('hour', t)", "date_trunc('week', w)", "date_trunc('month', d)",
              "date_trunc('quarter', t)", "date_trunc('year', w)", "t + INTERVAL 1 DAY",
              "w - INTERVAL 90 MINUTE", "d + INTERVAL 36 HOUR"),
}


def duckdb_values(expression: TypedExpression, table: pa.Table) -> list[Any]:
    """The reference: DuckDB's value of ``expression`` on each row of ``table``
    (raises duckdb.Error where DuckDB fails)."""
    con = connect()
    try:
        con.register("events", table)
        query = exp.select(tree_for(expression)).from_(table_ref("events"))
        return [row[0] for row in con.sql(render(query)).fetchall()]
    finally:
        con.close()


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, datetime) and isinstance(b, datetime):
        return _instant(a) == _instant(b)
    return type(a) is type(b) and bool(a == b)


def _instant(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def check_expression(evaluator: Evaluator, text: str, table: pa.Table,
                     label: str = "") -> None:
    """Raise AssertionError unless ``evaluator`` gives DuckDB's values for ``text`` over
    ``table`` (whose columns are :data:`TYPES`), or both raise."""
    typed = typed_expression(text, TYPES, where=f"expression {text!r}")
    try:
        want: list[Any] | None = duckdb_values(typed, table)
    except duckdb.Error:
        want = None
    try:
        got: list[Any] | None = evaluator(typed, table).to_pylist()
    except Exception as error:  # the evaluator's refusal, compared with DuckDB's below
        if want is not None:
            raise AssertionError(f"{label}{text}: the evaluator raised {error!r}; DuckDB "
                                 f"gives {want}") from error
        return
    if want is None:
        raise AssertionError(f"{label}{text}: DuckDB raises, the evaluator gives {got}")
    assert got is not None
    for row, (a, b) in enumerate(zip(got, want, strict=True)):
        if not _same(a, b):
            values = table.slice(row, 1).to_pylist()[0]
            raise AssertionError(f"{label}{text}: row {row} ({values}): the evaluator "
                                 f"gives {a!r}, DuckDB {b!r}")


# -- random cases --------------------------------------------------------------------

_INTS = (0, 1, -1, 2, -3, 7, 10, -10, 100, 2**31, -(2**31) - 1, 2**62, -(2**63), 2**63 - 1)
_FLOATS = (0.0, -0.0, 1.5, -2.5, 0.5, 3.0, 1e-300, 1e300, -1e300, 2.0**53 + 1, float("nan"),
           float("inf"), float("-inf"), 0.1, -7.25, 9.2e18, -9.3e18)
_TEXTS = ("", "a", "ab", "B", "aB_", "b%", "é", "ÀÉ", "straße", "a\\%", " a ", "ba", "abc")
# either side of the DST changes of Europe and the US in 2024, and the epoch
_TIMES = (datetime(2024, 3, 31, 0, 59, 59, tzinfo=UTC), datetime(2024, 3, 31, 1, 0, tzinfo=UTC),
          datetime(2024, 10, 27, 0, 30, tzinfo=UTC), datetime(2024, 10, 27, 1, 30, tzinfo=UTC),
          datetime(2024, 3, 10, 7, 0, tzinfo=UTC), datetime(2024, 11, 3, 6, 0, tzinfo=UTC),
          datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
          datetime(2000, 2, 29, 12, 0, 0, 1, tzinfo=UTC), datetime(2024, 12, 31, 23, 59, 59,
                                                                  tzinfo=UTC))


def random_events(rng: random.Random, rows: int = 12) -> pa.Table:
    """A table with the columns of :data:`TYPES`, a null about one value in six."""
    def pick(values: tuple[Any, ...], spread: Callable[[], Any] | None = None) -> list[Any]:
        out = []
        for _ in range(rows):
            roll = rng.random()
            out.append(None if roll < 1 / 6 else spread() if spread and roll < 0.5
                       else rng.choice(values))
        return out

    def a_time() -> datetime:
        return rng.choice(_TIMES) + timedelta(microseconds=rng.randint(-10**12, 10**12))

    columns: dict[str, pa.Array] = {}
    for name, dtype in TYPES.items():
        if dtype == "int64":
            columns[name] = pa.array(pick(_INTS, lambda: rng.randint(-20, 20)), pa.int64())
        elif dtype == "float64":
            columns[name] = pa.array(pick(_FLOATS, lambda: round(rng.uniform(-9, 9), 2)),
                                     pa.float64())
        elif dtype == "string":
            columns[name] = pa.array(pick(_TEXTS), pa.string())
        elif dtype == "bool":
            columns[name] = pa.array(pick((True, False)), pa.bool_())
        elif dtype == "timestamp":
            columns[name] = pa.array(pick(_TIMES, a_time), pa.timestamp("us", tz="UTC"))
        else:
            columns[name] = pa.array(pick(tuple(t.date() for t in _TIMES),
                                          lambda: date(2024, 1, 1) + timedelta(
                                              days=rng.randint(-400, 400))), pa.date32())
    return pa.table(columns)


def random_expression(rng: random.Random, dtype: str, depth: int = 3) -> str:
    """A random well-typed expression of type ``dtype`` over :data:`TYPES`."""
    def of(t: str) -> str:
        return random_expression(rng, t, depth - 1)

    columns = [c for c, t in TYPES.items() if t == dtype]
    leaves: dict[str, list[Callable[[], str]]] = {
        "int64": [lambda: rng.choice(columns), lambda: str(rng.choice((0, 1, 2, 3, 7, 100)))],
        "float64": [lambda: rng.choice(columns), lambda: rng.choice(("0.5", "2.0", "1e3"))],
        "string": [lambda: rng.choice(columns), lambda: rng.choice(("'a'", "'B'", "''"))],
        "bool": [lambda: rng.choice(columns), lambda: rng.choice(("true", "false", "NULL"))],
        "timestamp": [lambda: rng.choice(columns)],
        "date": [lambda: rng.choice(columns)],
    }
    if depth <= 0 or rng.random() < 0.25:
        return rng.choice(leaves[dtype])()
    def number() -> str:
        return of(rng.choice(("int64", "float64")))

    forms: dict[str, list[Callable[[], str]]] = {
        "int64": [
            lambda: f"({of('int64')} {rng.choice(('+', '-', '*', '//', '%'))} {of('int64')})",
            lambda: f"-({of('int64')})", lambda: f"abs({of('int64')})",
            lambda: f"sign({number()})",
            lambda: f"{rng.choice(('CAST', 'TRY_CAST'))}({of('float64')} AS BIGINT)",
            lambda: f"CAST({of('bool')} AS INTEGER)", lambda: f"length({of('string')})",
            lambda: f"{rng.choice(('hour', 'minute', 'second', 'day', 'year', 'quarter', 'dayofweek', 'isodow', 'dayofyear', 'month'))}({of(rng.choice(('timestamp', 'date')))})",  # noqa: E501
        ],
        "float64": [
            lambda: f"({number()} {rng.choice(('+', '-', '*', '/', '//', '%'))} "
                    f"{of('float64')})",
            lambda: f"{rng.choice(('sqrt', 'ln', 'exp', 'floor', 'ceil', 'abs'))}"
                    f"({of('float64')})",
            lambda: f"CAST({of('int64')} AS DOUBLE)", lambda: f"({of('int64')} / {number()})",
        ],
        "string": [
            lambda: f"{rng.choice(('lower', 'upper'))}({of('string')})",
            lambda: f"({of('string')} || {of('string')})",
            lambda: f"CAST({of(rng.choice(('int64', 'bool', 'date')))} AS VARCHAR)",
        ],
        "bool": [
            lambda: (lambda t: f"({of(t)} {rng.choice(('=', '<>', '<', '<=', '>', '>='))} "
                               f"{of(t)})")(rng.choice(list(leaves))),
            lambda: f"({of('bool')} {rng.choice(('AND', 'OR'))} {of('bool')})",
            lambda: f"(NOT {of('bool')})",
            lambda: f"({of(rng.choice(list(leaves)))} IS {rng.choice(('', 'NOT '))}NULL)",
            lambda: f"({of('float64')} IS DISTINCT FROM {of('float64')})",
            lambda: f"({of('int64')} IN ({of('int64')}, {rng.choice(('1', 'NULL', '-3'))}))",
            lambda: f"({of('float64')} BETWEEN {of('float64')} AND {of('float64')})",
            lambda: f"({of('string')} {rng.choice(('LIKE', 'ILIKE'))} "
                    f"{rng.choice(('%a%', 'a_', 'B%', '%'))!r})",
            lambda: f"{rng.choice(('starts_with', 'contains'))}({of('string')}, 'a')",
            lambda: f"{rng.choice(('isnan', 'isinf'))}({of('float64')})",
            lambda: f"CAST({number()} AS BOOLEAN)",
        ],
        "timestamp": [
            lambda: f"({of(rng.choice(('timestamp', 'date')))} {rng.choice(('+', '-'))} "
                    f"INTERVAL {rng.randint(0, 500)} {rng.choice(('HOUR', 'DAY', 'MINUTE'))})",
            lambda: f"date_trunc({rng.choice(('day', 'week', 'month', 'hour'))!r}, "
                    f"{of(rng.choice(('timestamp', 'date')))})",
            lambda: f"CAST({of('date')} AS TIMESTAMP)",
        ],
        "date": [lambda: f"CAST({of('timestamp')} AS DATE)"],
    }
    generic = [
        lambda: f"CASE WHEN {of('bool')} THEN {of(dtype)} ELSE {of(dtype)} END",
        lambda: f"coalesce({of(dtype)}, {of(dtype)})",
        lambda: f"if({of('bool')}, {of(dtype)}, {of(dtype)})",
        lambda: f"nullif({of(dtype)}, {of(dtype)})",
        lambda: f"{rng.choice(('greatest', 'least'))}({of(dtype)}, {of(dtype)})",
    ]
    return rng.choice(forms[dtype] + generic)()


def check_evaluator(evaluator: Evaluator, cases: int = 200, seed: int = 0) -> None:
    """Every named case, then ``cases`` random expressions, each over its own random
    table; AssertionError naming the case (and the seed) at the first difference."""
    rng = random.Random(seed)
    table = random_events(rng, rows=24)
    for area, texts in CASES.items():
        for text in texts:
            check_expression(evaluator, text, table, label=f"{area}: ")
    for i in range(cases):
        case = random.Random(f"{seed}-{i}")
        text = random_expression(case, case.choice(sorted(set(TYPES.values()))))
        check_expression(evaluator, text, random_events(case),
                         label=f"random case (seed {seed}, case {i}): ")
