"""Feature views refuse, when definitions load, what an engine would fail on at
materialize time: aggregations of the wrong column type or of the entity key,
expressions with unknown functions or operands that do not fit, windows and delays
beyond 100 years.

What needs no expression types is refused when the view is built (``core``); the
expressions and the columns they derive are typed when definitions load
(``plan/expressions.check_view``, which ``project/loader.py`` runs). ``view`` below
does both, as loading a definitions module does. Each refusal is one DefinitionError
naming the view and the feature (or derived column), the rule, the value and the fix.
The expression types are checked against DuckDB's own: whatever the checker accepts,
DuckDB runs (as compiled from the tree) and types the same way.
"""

from __future__ import annotations

import duckdb
import pytest

from confluens.core import (
    Count,
    DistinctCount,
    Entity,
    Events,
    FeatureView,
    Last,
    Max,
    Mean,
    Min,
    Ratio,
    Source,
    Std,
    Sum,
)
from confluens.core.aggregations import Aggregation
from confluens.errors import DefinitionError
from confluens.plan.expressions import ALLOWED_FUNCTIONS, check_view, typed_expression
from confluens.plan.expressions.compile_sql import sql

TYPES = {"id": "int64", "ts": "timestamp", "terminal_id": "string", "customer_id": "string",
         "amount": "float64", "n": "int64", "ok": "bool", "day": "date"}
TX = Source("tx", TYPES, "ts", id="id")
CUSTOMER = Entity("customer", ["customer_id"])


def view(*features: object, derive: dict[str, str] | None = None) -> FeatureView:
    """The view, built and checked as loading the definitions does."""
    built = FeatureView("spend", CUSTOMER, TX, list(features), derive=derive)  # type: ignore[arg-type]
    check_view(built)
    return built


def refused(make: object) -> DefinitionError:
    with pytest.raises(DefinitionError) as info:
        make()  # type: ignore[operator]
    return info.value


KINDS: list[type[Aggregation]] = [Count, Sum, Mean, Min, Max, Std, Last, DistinctCount]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
@pytest.mark.parametrize("column", sorted(set(TYPES) - {"customer_id"}))
def test_each_kind_takes_exactly_the_column_types_it_declares(kind: type[Aggregation],
                                                              column: str) -> None:
    feature = kind(column, window="1d")
    if kind.accepts is None or TYPES[column] in kind.accepts:
        assert view(feature).features == (feature,)
    else:
        error = refused(lambda: view(feature))
        assert error.thing == f"FeatureView 'spend' feature '{feature.feature_name}'"
        assert f"{kind.kind} needs a column of type" in error.rule
        assert error.got == f"{column} ({TYPES[column]})"
        assert "Count, DistinctCount or Last" in error.fix


def test_mean_of_a_string_is_refused_naming_the_view_and_feature() -> None:
    error = refused(lambda: view(Mean("terminal_id", window="7d")))
    assert str(error).startswith("FeatureView 'spend' feature 'terminal_id_mean_7d': mean needs "
                                 "a column of type int64 or float64; got 'terminal_id (string)'")


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_the_entity_key_cannot_be_aggregated(kind: type[Aggregation]) -> None:
    error = refused(lambda: view(kind("customer_id", window="1d")))
    assert "entity key" in error.rule
    assert error.got == "customer_id"
    assert "Count()" in error.fix


def test_ratio_parts_and_derived_columns_are_type_checked_too() -> None:
    error = refused(lambda: view(Ratio(Sum("terminal_id", window="1d"), Count(window="1d"))))
    assert error.thing == "FeatureView 'spend' feature 'terminal_id_sum_1d_per_count_1d'"
    error = refused(lambda: view(Sum("label", window="1d"),
                                 derive={"label": "terminal_id || '!'"}))
    assert error.got == "label (string)"
    ok = view(Sum("big", window="1d"), Max("label", window="1d"),
              derive={"big": "CAST(amount > 100 AS INTEGER)", "label": "terminal_id || '!'"})
    assert ok.feature_names == ["big_sum_1d", "label_max_1d"]


@pytest.mark.parametrize(("window", "delay", "label", "got"), [
    ("100000000w", "0s", "window", "700000000d"),
    ("36526d", "0s", "window", "36526d"),
    ("1d", "36526d", "delay", "36526d"),
])
def test_windows_and_delays_are_bounded_at_100_years(window: str, delay: str, label: str,
                                                      got: str) -> None:
    feature = Count(window=window, delay=delay)
    error = refused(lambda: view(feature))
    assert error.thing == f"FeatureView 'spend' feature '{feature.feature_name}'"
    assert error.rule == f"a {label} may be at most 36,525 days (100 years)"
    assert error.got == got
    assert view(Count(window="36525d", delay="36525d")).feature_names


def test_event_count_windows_are_bounded() -> None:
    error = refused(lambda: view(Count(window=Events(2**31))))
    assert "at most 2,147,483,647 events" in error.rule


@pytest.mark.parametrize(("derive", "rule", "got"), [
    ("nofunc(amount)", "function that is not allowed", "nofunc"),
    ("sum(amount)", "function that is not allowed", "sum"),
    ("random()", "function that is not allowed", "random"),
    ("row_number() OVER ()", "operation that is not allowed", "ROW_NUMBER() OVER ()"),
    ("amount + 'abc'", "+ needs numbers", "amount + 'abc' (float64 and string)"),
    ("terminal_id * 2", "* needs numbers", "terminal_id * 2 (string and int64)"),
    ("lower(amount)", "lower() needs string", "LOWER(amount) (float64)"),
    ("hour(terminal_id)", "hour() needs timestamp or date", "HOUR(terminal_id) (string)"),
    ("CASE WHEN ok THEN 1 ELSE 'x' END", "values of different types", None),
    ("CAST(amount AS DECIMAL(10, 2))", "casts to a type", "DECIMAL(10, 2)"),
    ("NULL", "not always NULL", "NULL"),
    ("INTERVAL 1 DAY", "not an INTERVAL", "INTERVAL 1 DAY"),
    ("ts - ts", "- needs numbers", "ts - ts (timestamp and timestamp)"),
])
def test_derived_columns_are_checked_against_the_schema(derive: str, rule: str,
                                                         got: str | None) -> None:
    error = refused(lambda: view(Count(window="1d"), derive={"x": derive}))
    assert error.thing == "FeatureView 'spend' derive 'x'"
    assert rule in error.rule
    if got is not None:
        assert error.got == got
    assert error.fix


@pytest.mark.parametrize(("where", "rule"), [
    ("amount", "must be true/false"),
    ("amount > 'x'", "compares values of different types"),
    ("foo(amount) > 1", "function that is not allowed"),
    ("amount > 1 AND n", "AND, OR and NOT need true/false operands"),
    ("terminal_id LIKE 5", "LIKE needs text"),
])
def test_filters_must_be_true_false_expressions_over_the_schema(where: str, rule: str) -> None:
    error = refused(lambda: view(Count(window="1d", where=where, name="c")))
    assert error.thing.startswith("FeatureView 'spend' feature 'c'")
    assert rule in error.rule


def test_the_error_lists_the_allowed_functions() -> None:
    error = refused(lambda: view(Count(window="1d"), derive={"x": "nofunc(amount)"}))
    assert error.fix == "use one of " + ", ".join(ALLOWED_FUNCTIONS)
    assert {"abs", "hour", "isodow", "lower", "coalesce", "cast"} <= set(ALLOWED_FUNCTIONS)


# What the checker accepts, DuckDB runs, with the type the checker gives.
ACCEPTED = [
    "amount + 1", "n + 1", "n * 2", "n / 2", "n // 2", "amount // 2", "n % 3", "-n", "-amount",
    "abs(n)", "abs(amount)", "sign(amount)", "floor(amount)", "floor(n)", "ceil(n)",
    "sqrt(amount)", "ln(amount)", "exp(amount)", "isnan(amount)", "isinf(amount)",
    "lower(terminal_id)", "upper(terminal_id)", "length(terminal_id)",
    "starts_with(terminal_id, 'a')", "contains(terminal_id, 'a')",
    "regexp_matches(terminal_id, 'a')", "terminal_id || 'x'", "hour(ts)", "minute(ts)",
    "second(ts)", "day(ts)", "dayofmonth(ts)", "month(day)", "year(ts)", "quarter(ts)",
    "dayofweek(ts)", "isodow(ts)", "dayofyear(day)", "date_trunc('day', ts)",
    "date_trunc('day', day)", "ts + INTERVAL 1 DAY", "day + INTERVAL 1 DAY",
    "ts - INTERVAL 1 HOUR", "amount > 1", "terminal_id = 'a'", "ts > '2024-01-01'", "day < ts",
    "ok AND amount > 1", "NOT ok", "terminal_id LIKE 'a%'", "terminal_id ILIKE 'A%'",
    "n IN (1, 2)", "n BETWEEN 1 AND 3", "CASE WHEN amount > 1 THEN n ELSE amount END",
    "CASE n WHEN 1 THEN 'a' ELSE 'b' END", "if(ok, 1, 2)", "coalesce(amount, 0)",
    "coalesce(n, 0)", "nullif(n, 0)", "greatest(n, 2)", "least(amount, n)",
    "try_cast(n AS DOUBLE)", "CAST(n AS VARCHAR)", "CAST(ok AS INTEGER)", "ts::DATE",
    "CAST(isodow(ts) >= 6 AS INTEGER)", "amount IS NULL", "n IS NOT NULL",
    "CAST(NULL AS DOUBLE)", "amount IS DISTINCT FROM 1", "n <> 1", "ok = true", "n + NULL",
    "(n + 1) * 2", "length(terminal_id) > 2 OR ok", "CASE WHEN ok THEN ts END",
    "amount * 0.1", "n * 1.5",
]
DUCK = {"DOUBLE": "float64", "FLOAT": "float64", "BIGINT": "int64", "INTEGER": "int64",
        "SMALLINT": "int64", "TINYINT": "int64", "VARCHAR": "string", "BOOLEAN": "bool",
        "DATE": "date", "TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamp"}


@pytest.fixture(scope="module")
def duck() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE TABLE e AS SELECT 1 AS id, TIMESTAMPTZ '2024-01-01 10:00:00+00' AS ts, "
                "'ab' AS terminal_id, 'c' AS customer_id, 1.5 :: DOUBLE AS amount, "
                "2 :: BIGINT AS n, true AS ok, DATE '2024-01-02' AS day")
    return con


@pytest.mark.parametrize("text", ACCEPTED)
def test_accepted_expressions_run_in_duckdb_with_the_checked_type(
        duck: duckdb.DuckDBPyConnection, text: str) -> None:
    typed = typed_expression(text, TYPES, where="derive 'x'")
    relation = duck.sql(f"SELECT {sql(typed, 'duckdb')} AS x FROM e")  # test-only SQL
    checked = typed.dtype
    relation.fetchall()
    assert DUCK[str(relation.types[0])] == checked


# Functions and casts DuckDB runs but the Python evaluator cannot match exactly: refused
# when definitions load, with the rule and the allowed functions or casts.
REFUSED = [
    ("round(amount)", "function that is not allowed", "round"),
    ("log(amount)", "function that is not allowed", "log"),
    ("pow(n, 2)", "function that is not allowed", "power"),
    ("epoch(ts)", "function that is not allowed", "epoch"),
    ("strftime(ts, '%H')", "function that is not allowed", "strftime"),
    ("concat(terminal_id, n)", "function that is not allowed", "concat"),
    ("substr(terminal_id, 1, 1)", "function that is not allowed", "substring"),
    ("trim(terminal_id)", "function that is not allowed", "trim"),
    ("week(ts)", "function that is not allowed", "week"),
    ("date_diff('day', ts, ts)", "function that is not allowed", "date_diff"),
    ("CAST(terminal_id AS DOUBLE)", "casts string to float64", None),
    ("CAST(amount AS VARCHAR)", "casts float64 to string", None),
    ("CAST(n AS SMALLINT)", "casts to a type", "SMALLINT"),
    ("ts + INTERVAL 1 MONTH", "fixed-length unit", "INTERVAL '1' MONTH"),
    ("terminal_id LIKE customer_id", "must be a constant", None),
    ("n || 'x'", "|| and concat() join text", "n (int64)"),
]


@pytest.mark.parametrize(("text", "rule", "got"), REFUSED)
def test_what_engines_cannot_run_alike_is_refused_when_definitions_load(
        text: str, rule: str, got: str | None) -> None:
    error = refused(lambda: view(Count(window="1d"), derive={"x": text}))
    assert error.thing == "FeatureView 'spend' derive 'x'"
    assert rule in error.rule
    if got is not None:
        assert error.got == got
    assert error.fix


def test_ratio_parts_must_be_numbers() -> None:
    error = refused(lambda: view(Ratio(Min("ts", window="1d"), Count(window="1d"), name="r")))
    assert error.thing == "FeatureView 'spend' feature 'r'"
    assert "a ratio divides numbers" in error.rule
    assert error.got == "min of ts (timestamp)"
    assert view(Ratio(Last("amount", window="1d"), DistinctCount("terminal_id", window="1d"),
                      name="r")).feature_names == ["r"]


@pytest.mark.parametrize("dtype", ["float64", "bool", "timestamp"])
def test_entity_keys_are_types_that_match_exactly_online(dtype: str) -> None:
    """A float or bool key was stored online under one spelling and read under another,
    so every read missed; such keys are refused."""
    source = Source("s", {"id": "int64", "ts": "timestamp", "k": dtype, "v": "float64"}, "ts",
                    id="id")
    with pytest.raises(DefinitionError) as info:
        FeatureView("v", Entity("e", ["k"]), source, [Count(window="1d")])
    assert info.value.rule == ("entity key column 'k' must be int64, string or date (keys are "
                               "matched exactly, online too)")
    assert info.value.got == dtype


@pytest.mark.parametrize(("make", "thing"), [
    (lambda: Count(window="7 days"), "feature Count(window='7 days') window"),
    (lambda: Mean("amount", window="1d", delay="-1d"),
     "feature Mean('amount', window='1d') delay"),
    (lambda: Sum("amount", window="0d", name="total"), "feature 'total' window"),
])
def test_a_malformed_window_names_its_feature(make: object, thing: str) -> None:
    """Built before its view, an aggregation names itself: kind, column and window."""
    assert refused(make).thing == thing
