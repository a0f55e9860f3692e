"""The functions a user expression may call, with their argument and result types.

Each is one that every engine runs with exactly DuckDB's result (the Python evaluator
is checked against DuckDB row by row, ``plan/expressions/conformance.py``). A
function outside this table is refused when definitions load, naming the allowed ones.

``first`` is what the function's first argument must be (None: any type); ``result``
its result type, ``"same"`` for the first argument's; ``literals`` the positions of
the arguments that must be written as constants (patterns, units, lengths).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot.expressions as exp

__all__ = ["ALLOWED_FUNCTIONS", "CASTS", "FUNCTIONS", "INTERVAL_UNITS", "NUMERIC", "TEMPORAL",
           "TRUNC_UNITS", "Signature", "function_name"]

NUMERIC = ("int64", "float64")
TEMPORAL = ("timestamp", "date")


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    first: tuple[str, ...] | None
    result: str
    literals: tuple[str, ...] = ()  # argument keys that must be constants


FUNCTIONS: dict[type[exp.Expr], Signature] = {
    exp.Abs: Signature("abs", NUMERIC, "same"),
    exp.Sign: Signature("sign", NUMERIC, "int64"),
    exp.Floor: Signature("floor", NUMERIC, "float64"),
    exp.Ceil: Signature("ceil", NUMERIC, "float64"),
    exp.Sqrt: Signature("sqrt", NUMERIC, "float64"),
    exp.Ln: Signature("ln", NUMERIC, "float64"),
    exp.Exp: Signature("exp", NUMERIC, "float64"),
    exp.IsNan: Signature("isnan", ("float64",), "bool"),
    exp.IsInf: Signature("isinf", ("float64",), "bool"),
    exp.Lower: Signature("lower", ("string",), "string"),
    exp.Upper: Signature("upper", ("string",), "string"),
    exp.Length: Signature("length", ("string",), "int64"),
    exp.StartsWith: Signature("starts_with", ("string",), "bool", ("expression",)),
    exp.Contains: Signature("contains", ("string",), "bool", ("expression",)),
    exp.RegexpLike: Signature("regexp_matches", ("string",), "bool", ("expression",)),
    exp.Hour: Signature("hour", TEMPORAL, "int64"),
    exp.Minute: Signature("minute", TEMPORAL, "int64"),
    exp.Second: Signature("second", TEMPORAL, "int64"),
    exp.Day: Signature("day", TEMPORAL, "int64"),
    exp.DayOfMonth: Signature("dayofmonth", TEMPORAL, "int64"),
    exp.Month: Signature("month", TEMPORAL, "int64"),
    exp.Year: Signature("year", TEMPORAL, "int64"),
    exp.Quarter: Signature("quarter", TEMPORAL, "int64"),
    exp.DayOfWeek: Signature("dayofweek", TEMPORAL, "int64"),
    exp.DayOfWeekIso: Signature("isodow", TEMPORAL, "int64"),
    exp.DayOfYear: Signature("dayofyear", TEMPORAL, "int64"),
    exp.TimestampTrunc: Signature("date_trunc", TEMPORAL, "timestamp", ("unit",)),
    exp.DateTrunc: Signature("date_trunc", TEMPORAL, "timestamp", ("unit",)),
}

#: Every function and function-like form an expression may use.
ALLOWED_FUNCTIONS: tuple[str, ...] = tuple(sorted(
    {sig.name for sig in FUNCTIONS.values()} | {"coalesce", "nullif", "greatest", "least",
                                                 "if", "cast", "try_cast"}))

#: Cast targets: the type they give, by sqlglot type.
CASTS: dict[object, str] = {
    exp.DataType.Type.INT: "int64", exp.DataType.Type.BIGINT: "int64",
    exp.DataType.Type.DOUBLE: "float64",
    exp.DataType.Type.VARCHAR: "string", exp.DataType.Type.TEXT: "string",
    exp.DataType.Type.BOOLEAN: "bool",
    exp.DataType.Type.TIMESTAMP: "timestamp", exp.DataType.Type.TIMESTAMPTZ: "timestamp",
    exp.DataType.Type.TIMESTAMPNTZ: "timestamp",
    exp.DataType.Type.DATE: "date",
}

#: date_trunc's units.
TRUNC_UNITS = ("year", "quarter", "month", "week", "day", "hour", "minute", "second")

#: INTERVAL units, in microseconds: fixed lengths only (a month has none).
INTERVAL_UNITS: dict[str, int] = {
    "microsecond": 1, "millisecond": 1_000, "second": 1_000_000, "minute": 60_000_000,
    "hour": 3_600_000_000, "day": 86_400_000_000, "week": 7 * 86_400_000_000}


def function_name(node: exp.Expr) -> str:
    """The name a user wrote a function call by (as messages give it)."""
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return node.sql(dialect="duckdb").split("(")[0].strip().lower()
