"""Coercion of raw input values to a schema's types, as SQL expressions.

Every coercion is a ``TRY_CAST`` (or ``try_strptime``) that yields NULL where a
value does not fit. A value that was present in the input but is NULL after
coercion is a type failure, and its record goes to quarantine. Two casts DuckDB
would otherwise do silently are refused:

- a non-integral number into an int64 column (DuckDB would round 1.5 to 2);
- a timestamp string without a zone is read in the source's ``timezone``;
- a number in a timestamp column (or text holding only a number) is seconds since
  the Unix epoch, whatever the input format, so a record reads the same from CSV,
  JSON, Parquet or quarantine.
"""

from __future__ import annotations

import sqlglot.expressions as exp

from confluens.core import DType, Field
from confluens.sqlx import col, func, lit, typed

__all__ = ["SQL_TYPES", "coerced", "type_failure"]

SQL_TYPES = {
    DType.INT64: "BIGINT",
    DType.FLOAT64: "DOUBLE",
    DType.STRING: "VARCHAR",
    DType.BOOL: "BOOLEAN",
    DType.TIMESTAMP: "TIMESTAMPTZ",
    DType.DATE: "DATE",
}


_NUMBER = r"\s*-?[0-9]+(\.[0-9]*)?\s*"


def _try_cast(value: exp.Expression, sql_type: str) -> exp.Expression:
    return exp.TryCast(this=value, to=typed(sql_type))


def coerced(field: Field, table: str = "raw") -> exp.Expression:
    """The expression giving ``field``'s typed value from the raw column."""
    raw = col(field.input_name, table)
    if field.dtype is DType.STRING:
        return _try_cast(raw, "VARCHAR")
    if field.dtype is DType.INT64:
        as_double = _try_cast(raw, "DOUBLE")
        fractional = exp.NEQ(this=as_double, expression=func("trunc", as_double))
        return exp.Case(ifs=[exp.If(this=fractional, true=exp.null())],
                        default=_try_cast(raw, "BIGINT"))
    if field.dtype.is_temporal and field.format is not None:
        parsed = func("try_strptime", _try_cast(raw, "VARCHAR"), lit(field.format))
        return _try_cast(parsed, SQL_TYPES[field.dtype])
    if field.dtype is DType.TIMESTAMP:
        # a number (or a string holding only a number) is seconds since the Unix epoch
        seconds = exp.Case(ifs=[exp.If(
            this=func("regexp_full_match", _try_cast(raw, "VARCHAR"), lit(_NUMBER)),
            true=func("to_timestamp", _try_cast(raw, "DOUBLE")))])
        return exp.Coalesce(this=seconds, expressions=[_try_cast(raw.copy(), "TIMESTAMPTZ")])
    return _try_cast(raw, SQL_TYPES[field.dtype])


def type_failure(field: Field, value: exp.Expression, table: str = "raw") -> exp.Expression:
    """True where the input had a value but it did not coerce."""
    raw = col(field.input_name, table)
    return exp.and_(exp.Not(this=exp.Is(this=raw, expression=exp.null())),
                    exp.Is(this=value.copy(), expression=exp.null()))
