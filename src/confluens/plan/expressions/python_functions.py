"""The scalar functions of user expressions, evaluated over Arrow columns.

``FUNCTIONS`` maps each allowed function's sqlglot node to its evaluation, and
``FUNCTION_RESULT`` gives the type of its result on an all-null argument; the
evaluator (evaluate_python.py) calls them with the argument already evaluated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot.expressions as exp

from confluens.plan.expressions.python_columns import (
    BOOL,
    DATE,
    FLOAT,
    INT,
    STRING,
    TIME,
    Frame,
    as_type,
    from_numpy,
    numpy_values,
    valid_rows,
)

if TYPE_CHECKING:
    from confluens.plan.expressions.evaluate_python import _Evaluator

__all__ = ["FUNCTIONS", "FUNCTION_RESULT"]


def _abs(ev: _Evaluator, node: exp.Expr, v: pa.Array, f: Frame) -> pa.Array:
    return ev._checked(pc.abs_checked, v) if v.type == INT else pc.abs(v)


def _sign(ev: _Evaluator, node: exp.Expr, v: pa.Array, f: Frame) -> pa.Array:
    x = numpy_values(v, 0)
    with np.errstate(all="ignore"):
        out = np.where(np.isnan(x.astype(float)), 0, np.sign(x)).astype(np.int64)
    return from_numpy(out, valid_rows(v), INT)


def _float(fn: Callable[[pa.Array], pa.Array]) -> Callable[..., pa.Array]:
    def apply(ev: _Evaluator, node: exp.Expr, v: pa.Array, f: Frame) -> pa.Array:
        return fn(as_type(v, FLOAT))
    return apply


def _text(fn: Callable[..., pa.Array], arg: str | None = None) -> Callable[..., pa.Array]:
    def apply(ev: _Evaluator, node: exp.Expr, v: pa.Array, f: Frame) -> pa.Array:
        if arg is None:
            return fn(v)
        pattern = node.args[arg]
        if isinstance(pattern, exp.Null):
            return pa.nulls(f.n, BOOL)
        return fn(v, str(pattern.this))
    return apply


def _time(fn: Callable[[pa.Array], pa.Array]) -> Callable[..., pa.Array]:
    def apply(ev: _Evaluator, node: exp.Expr, v: pa.Array, f: Frame) -> pa.Array:
        time = ev._micros(v).cast(TIME) if v.type == DATE else v
        return fn(time).cast(INT)
    return apply


def _trunc(ev: _Evaluator, node: exp.Expr, v: pa.Array, f: Frame) -> pa.Array:
    time = ev._micros(v).cast(TIME) if v.type == DATE else v
    unit = node.args["unit"].name.lower()
    return pc.floor_temporal(time, unit=unit, week_starts_monday=True)


def _isnan(ev: _Evaluator, node: exp.Expr, v: pa.Array, f: Frame) -> pa.Array:
    return pc.is_nan(as_type(v, FLOAT))


def _isinf(ev: _Evaluator, node: exp.Expr, v: pa.Array, f: Frame) -> pa.Array:
    return pc.is_inf(as_type(v, FLOAT))


def _regexp(ev: _Evaluator, node: exp.Expr, v: pa.Array, f: Frame) -> pa.Array:
    pattern = node.expression
    if isinstance(pattern, exp.Null):
        return pa.nulls(f.n, BOOL)
    try:
        return pc.match_substring_regex(v, str(pattern.this))
    except pa.ArrowInvalid as exc:
        raise ev.fail(f"an invalid regular expression ({exc})") from None


FUNCTIONS: dict[type[exp.Expr], Callable[..., pa.Array]] = {
    exp.Abs: _abs, exp.Sign: _sign,
    exp.Floor: _float(pc.floor), exp.Ceil: _float(pc.ceil), exp.Sqrt: _float(pc.sqrt),
    exp.Ln: _float(pc.ln), exp.Exp: _float(pc.exp),
    exp.IsNan: _isnan, exp.IsInf: _isinf,
    exp.Lower: _text(pc.utf8_lower), exp.Upper: _text(pc.utf8_upper),
    exp.Length: _text(lambda v: pc.utf8_length(v).cast(INT)),
    exp.StartsWith: _text(pc.starts_with, "expression"),
    exp.Contains: _text(pc.match_substring, "expression"),
    exp.RegexpLike: _regexp,
    exp.Hour: _time(pc.hour), exp.Minute: _time(pc.minute), exp.Second: _time(pc.second),
    exp.Day: _time(pc.day), exp.DayOfMonth: _time(pc.day), exp.Month: _time(pc.month),
    exp.Year: _time(pc.year), exp.Quarter: _time(pc.quarter),
    exp.DayOfWeek: _time(lambda t: pc.day_of_week(t, count_from_zero=True, week_start=7)),
    exp.DayOfWeekIso: _time(lambda t: pc.day_of_week(t, count_from_zero=False,
                                                     week_start=1)),
    exp.DayOfYear: _time(pc.day_of_year),
    exp.TimestampTrunc: _trunc, exp.DateTrunc: _trunc,
}
FUNCTION_RESULT: dict[type[exp.Expr], pa.DataType] = {
    exp.Sign: INT, exp.IsNan: BOOL, exp.IsInf: BOOL, exp.Lower: STRING, exp.Upper: STRING,
    exp.Length: INT, exp.StartsWith: BOOL, exp.Contains: BOOL, exp.RegexpLike: BOOL,
    exp.TimestampTrunc: TIME, exp.DateTrunc: TIME, **{k: INT for k in (
        exp.Hour, exp.Minute, exp.Second, exp.Day, exp.DayOfMonth, exp.Month, exp.Year,
        exp.Quarter, exp.DayOfWeek, exp.DayOfWeekIso, exp.DayOfYear)}}

