"""Coercion of raw input values to a schema's types, as SQL expressions.

Every coercion is a ``TRY_CAST`` (or ``try_strptime``) that yields NULL where a
value does not fit. A value that was present in the input but is NULL after
coercion is a type failure, and its record goes to quarantine. Casts DuckDB would
otherwise do silently, or wrongly, are refused or made explicit:

- a non-integral number into an int64 column (DuckDB would round 1.5 to 2);
- a timestamp string without a zone is read in the source's ``timezone``;
- a UTC offset outside ±18:00 (DuckDB reads ``+25:00`` as 25 hours), and the
  ``infinity`` timestamps, are type failures;
- a number in a timestamp column (or text holding only a number) counts the
  source's ``epoch_unit`` (default seconds) since the Unix epoch, whatever the
  input format, so a record reads the same from CSV, JSON, Parquet or quarantine.
  Integer and decimal text is converted exactly, rounded to the microsecond;
- a valid time beyond the years 1 to 9999 (a number too large, ``50229-01-01``) is
  not a type failure: it lies outside the time range (see ``out_of_time_range``);
  dates outside those years are type failures.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import sqlglot.expressions as exp

from confluens.core import DType, Field
from confluens.core.time_rules import MICROS_PER_UNIT, TimeRange
from confluens.plan.column_types import SQL_TYPES
from confluens.sqlx import col, func, lit, typed

__all__ = ["Coerced", "coerce", "nonfinite", "out_of_time_range"]



_NUMBER = r"\s*-?[0-9]+(\.[0-9]*)?\s*"
# a time of day followed by a sign and a digit: the text carries a UTC offset
_TIME = r"[0-9]:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]*)?)?[+-]"
_HAS_OFFSET = _TIME + r"[0-9]"
# offsets within ±18:00, minutes and seconds below 60: +5, +05, +0530, +05:30, +05:30:15
_VALID_OFFSET = _TIME + r"(?:(?:0?[0-9]|1[0-7])(?::?[0-5][0-9]){0,2}|18(?::?00){0,2})\s*$"
# the span of timestamps Python and Arrow can hand back (years 1 to 9999), in seconds
_FIRST_SECOND, _LAST_SECOND = -62_135_596_800, 253_402_300_799


@dataclass(frozen=True)
class Coerced:
    """One field's typed value and its type failure, as SQL over the raw table."""

    value: exp.Expr
    failed: exp.Expr  # TRUE where the input had a value that did not coerce
    epoch_number: exp.Expr | None = None  # timestamps: TRUE where it is a number
    beyond: exp.Expr | None = None  # timestamps: a time outside the years 1 to 9999
    # columns the expressions above read, to compute once per record in a subquery of
    # the raw table (which keeps its name): alias -> expression over the raw columns
    helpers: dict[str, exp.Expr] = dataclasses.field(default_factory=dict)


def _try_cast(value: exp.Expr, sql_type: str) -> exp.Expr:
    return exp.TryCast(this=value, to=typed(sql_type))


def _when(cond: exp.Expr, value: exp.Expr) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=cond, true=value)])


def _present(raw: exp.Expr) -> exp.Expr:
    return exp.not_(exp.Is(this=raw, expression=exp.null()))


def _absent(value: exp.Expr) -> exp.Expr:
    return exp.Is(this=value.copy(), expression=exp.null())


def _between(value: exp.Expr, low: exp.Expr, high: exp.Expr) -> exp.Expr:
    return exp.Between(this=value, low=low, high=high)


def coerce(field: Field, table: str = "raw", epoch_unit: str = "s",
           key: str = "__coerce") -> Coerced:
    """The expressions giving ``field``'s typed value from the raw column; ``key``
    prefixes the names of its helper columns (unique per field)."""
    raw = col(field.input_name, table)
    if field.dtype is DType.TIMESTAMP and field.format is None:
        return _timestamp(raw, epoch_unit, key, table)
    value = _value(field, raw)
    return Coerced(value, exp.and_(_present(raw.copy()), _absent(value)))


def _value(field: Field, raw: exp.Expr) -> exp.Expr:
    if field.dtype is DType.STRING:
        return _try_cast(raw, "VARCHAR")
    if field.dtype is DType.INT64:
        as_double = _try_cast(raw, "DOUBLE")
        fractional = exp.NEQ(this=as_double, expression=func("trunc", as_double))
        return exp.Case(ifs=[exp.If(this=fractional, true=exp.null())],
                        default=_try_cast(raw, "BIGINT"))
    if field.dtype.is_temporal:
        if field.format is not None:
            parsed = func("try_strptime", _try_cast(raw, "VARCHAR"), lit(field.format))
            value = _try_cast(parsed, SQL_TYPES[field.dtype])
        else:
            value = _try_cast(raw, SQL_TYPES[field.dtype])
        return _in_years_1_to_9999(value, field.dtype)
    return _try_cast(raw, SQL_TYPES[field.dtype])


def _in_years_1_to_9999(value: exp.Expr, dtype: DType) -> exp.Expr:
    """``value`` where it is finite and within the years 1 to 9999, else NULL."""
    sql_type = SQL_TYPES[dtype]
    timestamp = dtype is DType.TIMESTAMP
    first = exp.cast(lit("0001-01-01 00:00:00+00" if timestamp else "0001-01-01"), sql_type)
    last = exp.cast(lit("9999-12-31 23:59:59.999999+00" if timestamp else "9999-12-31"),
                    sql_type)
    inside = exp.and_(func("isfinite", value.copy()), _between(value.copy(), first, last))
    return _when(inside, value)


def _timestamp(raw: exp.Expr, epoch_unit: str, key: str, table: str) -> Coerced:
    text = _try_cast(raw, "VARCHAR")
    is_number = exp.Coalesce(this=func("regexp_full_match", text, lit(_NUMBER)),
                             expressions=[exp.false()])
    # the range decision in floating point (never overflows) ...
    seconds = exp.Div(this=_try_cast(text.copy(), "DOUBLE"),
                      expression=lit(1_000_000 / MICROS_PER_UNIT[epoch_unit]))
    representable = _between(seconds, lit(_FIRST_SECOND), lit(_LAST_SECOND))
    # ... the value itself exactly: integer text in integers, decimal text as decimals
    micros = exp.cast(exp.Case(ifs=[exp.If(
        this=func("contains", text.copy(), lit(".")),
        true=func("round", exp.Mul(this=_try_cast(func("trim", text.copy()), "DECIMAL(38, 9)"),
                                   expression=lit(MICROS_PER_UNIT[epoch_unit]))))],
        default=_integer_micros(_try_cast(func("trim", text.copy()), "HUGEINT"), epoch_unit)),
        "BIGINT")
    from_number = _when(representable, func("timezone", lit("UTC"),
                                            func("make_timestamp", micros)))
    bad_offset = exp.and_(func("regexp_matches", text.copy(), lit(_HAS_OFFSET)),
                          exp.not_(func("regexp_matches", text.copy(), lit(_VALID_OFFSET))))
    from_text = exp.Case(ifs=[exp.If(this=bad_offset, true=exp.null())],
                         default=_try_cast(raw.copy(), "TIMESTAMPTZ"))
    # computed once per record, in a subquery below the expressions that read them
    number, time = f"{key}_number", f"{key}_time"
    helpers: dict[str, exp.Expr] = {number: is_number,
               time: exp.Case(ifs=[exp.If(this=is_number.copy(), true=from_number)],
                              default=from_text)}
    value = _in_years_1_to_9999(col(time, table), DType.TIMESTAMP)
    # a valid time too far out for any timestamp column breaks the time range, not the type
    beyond = exp.Coalesce(this=exp.Case(
        ifs=[exp.If(this=col(number, table), true=_absent(col(time, table)))],
        default=exp.and_(func("isfinite", col(time, table)), _absent(value))),
        expressions=[exp.false()])
    failed = exp.and_(_present(raw.copy()), _absent(value), exp.not_(beyond))
    return Coerced(value, failed, col(number, table), beyond.copy(), helpers)


def _integer_micros(count: exp.Expr, epoch_unit: str) -> exp.Expr:
    """Microseconds from an integer count of ``epoch_unit``; nanoseconds are rounded half
    away from zero (``//`` truncates toward zero)."""
    per_unit = MICROS_PER_UNIT[epoch_unit]
    if isinstance(per_unit, int):
        return exp.Mul(this=count, expression=lit(per_unit))
    half = exp.Mul(this=func("sign", count.copy()), expression=lit(500))
    return exp.IntDiv(this=exp.Paren(this=exp.Add(this=count, expression=half)),
                      expression=lit(1000))


def out_of_time_range(coerced: Coerced, raw: exp.Expr,
                      time_range: TimeRange) -> exp.Expr:
    """TRUE where a timestamp lies outside ``[start, end)``: its value, or a valid time
    too far out for any timestamp (``time_range`` never reaches beyond the years 1 to
    9999, see core/time_rules.py)."""
    start, end = (exp.cast(lit(t.isoformat()), "TIMESTAMPTZ") for t in time_range)
    value = coerced.value.copy()
    outside = exp.not_(exp.and_(exp.GTE(this=value, expression=start),
                                    exp.LT(this=value.copy(), expression=end)))
    ifs = [exp.If(this=exp.not_(_absent(value)), true=outside)]
    if coerced.beyond is not None:
        ifs.append(exp.If(this=exp.and_(_present(raw.copy()), coerced.beyond.copy()),
                          true=exp.true()))
    return exp.Coalesce(this=exp.Case(ifs=ifs), expressions=[exp.false()])


def nonfinite(field: Field, value: exp.Expr) -> exp.Expr | None:
    """TRUE where a float64 field that does not allow it holds NaN or an infinity."""
    if field.dtype is not DType.FLOAT64 or field.allow_nonfinite:
        return None
    return exp.and_(exp.not_(_absent(value)),
                    exp.not_(func("isfinite", value.copy())))
