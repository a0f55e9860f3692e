"""A typed expression evaluated over Arrow columns, vectorised: one micro-batch at a time.

:func:`evaluate` gives, for columns of equal length, the expression's value on every
row, exactly as DuckDB gives it for the SQL that ``compile_sql.py`` writes (checked
row by row: ``plan/expressions/conformance.py``). :func:`derive_and_filter` adds a
view's derived columns and filter flags to a batch of its source's events, which is
what a stream processor needs per micro-batch. The rules it follows are DuckDB's:

- nulls are SQL nulls: comparisons and arithmetic with a null give null, AND and OR
  are three-valued, ``IN`` is null when nothing matches and something is null;
- NaN equals NaN and is larger than every other number (in comparisons, ``IN``,
  ``BETWEEN``, ``nullif``, ``greatest`` and ``least``); ``greatest`` and ``least``
  skip nulls;
- ``+ - *`` on integers raise on overflow; ``/`` divides as doubles (x / 0 is ±inf,
  0 / 0 NaN); ``//`` truncates integers toward zero and divides doubles, and raises
  on a zero divisor; ``%`` is the remainder with the dividend's sign, raising on an
  integer zero divisor and NaN for a double one;
- a double cast to an integer rounds half to even and raises outside int64 (NaN,
  infinities); ``TRY_CAST`` gives null there;
- CASE, IF and COALESCE evaluate a branch only on the rows that reach it, so a
  guarded division by zero does not raise;
- times are UTC: hour, day and date_trunc read the UTC clock.

A value that makes DuckDB raise makes :func:`evaluate` raise :class:`EvaluationError`.

>>> import pyarrow as pa
>>> from confluens.plan.expressions.typed import typed_expression
>>> e = typed_expression("CASE WHEN d <> 0 THEN n // d END", {"n": "int64", "d": "int64"},
...                      "derive 'q'")
>>> evaluate(e, {"n": pa.array([7, -7, 1, None]), "d": pa.array([2, 2, 0, 1])}).to_pylist()
[3, -3, None, None]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot.expressions as exp

from confluens.errors import InputError
from confluens.plan.expressions.bind import BoundExpressions
from confluens.plan.expressions.functions import CASTS, INTERVAL_UNITS
from confluens.plan.expressions.python_columns import (
    BOOL,
    DATE,
    FLOAT,
    INT,
    INT_MIN,
    STRING,
    TIME,
    US_PER_DAY,
    Frame,
    arrow_type,
    as_type,
    from_numpy,
    normalise,
    numpy_values,
    valid_rows,
)
from confluens.plan.expressions.python_functions import FUNCTION_RESULT, FUNCTIONS
from confluens.plan.expressions.typed import TypedExpression

__all__ = ["EvaluationError", "derive_and_filter", "evaluate"]

class EvaluationError(InputError):
    """A value on which the expression fails (as DuckDB would): an integer overflow, a
    division by zero, a cast out of range."""


def _fail(what: str, text: str) -> EvaluationError:
    return EvaluationError(f"expression {text!r}", f"fails on a value: {what}", got=text,
                           fix="guard the expression against such values, e.g. CASE WHEN "
                           "... THEN ... END")


def evaluate(expression: TypedExpression, columns: Mapping[str, Any],
             length: int | None = None) -> pa.Array:
    """The value of ``expression`` on each row of ``columns`` (name -> Arrow array);
    ``length`` is the number of rows where the expression reads no column."""
    n = length if length is not None else len(next(iter(columns.values()))) if columns else 1
    frame = Frame({k: v for k, v in columns.items()}, n)
    out = _Evaluator(expression.text).value(expression.tree, frame)
    if out.type == pa.null():
        return pa.nulls(n, arrow_type(expression.dtype))
    return out


def derive_and_filter(bound: BoundExpressions, table: pa.Table,
                      filters: Mapping[str, str]) -> pa.Table:
    """``table`` with each derived column of ``bound`` appended in order, and one bool
    column per filter (``filters``: where text -> column name), false where the filter
    is false or null."""
    columns: dict[str, Any] = {name: normalise(table[name]) for name in table.column_names}
    for name, typed in bound.derive:
        columns[name] = evaluate(typed, columns, table.num_rows)
        table = table.append_column(name, columns[name])
    for text, flag in filters.items():
        passes = evaluate(bound.filter(text), columns, table.num_rows)
        table = table.append_column(flag, pc.fill_null(passes.cast(BOOL), False))
    return table


class _Evaluator:
    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, what: str) -> EvaluationError:
        return _fail(what, self.text)

    # -- dispatch ------------------------------------------------------------------------

    def value(self, node: exp.Expr, f: Frame) -> pa.Array:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            raise AssertionError(f"no Python form for {type(node).__name__}; the type "
                                 "checker should have refused it")
        out = handler(self, node, f)
        assert len(out) == f.n, (node.sql(), len(out), f.n)
        return out

    def _literal(self, node: exp.Expr, f: Frame) -> pa.Array:
        if node.is_string:
            return pa.repeat(pa.scalar(str(node.this), STRING), f.n)
        text = str(node.this)
        if text.isdigit():
            return pa.repeat(pa.scalar(int(text), INT), f.n)
        return pa.repeat(pa.scalar(float(text), FLOAT), f.n)

    def _null(self, node: exp.Expr, f: Frame) -> pa.Array:
        return pa.nulls(f.n)

    def _boolean(self, node: exp.Expr, f: Frame) -> pa.Array:
        return pa.repeat(pa.scalar(bool(node.this), BOOL), f.n)

    def _column(self, node: exp.Expr, f: Frame) -> pa.Array:
        return f.column(node.name)

    def _paren(self, node: exp.Expr, f: Frame) -> pa.Array:
        return self.value(node.this, f)

    # -- arithmetic ----------------------------------------------------------------------

    def _negative(self, node: exp.Expr, f: Frame) -> pa.Array:
        inner = self.value(node.this, f)
        if inner.type == INT:
            return self._checked(pc.negate_checked, inner)
        return pc.negate(inner) if inner.type != pa.null() else inner

    def _checked(self, fn: Callable[..., pa.Array], *args: pa.Array) -> pa.Array:
        try:
            return fn(*args)
        except pa.ArrowInvalid as exc:
            raise self.fail(f"integer overflow ({exc})") from None

    def _numbers(self, a: pa.Array, b: pa.Array) -> tuple[pa.Array, pa.Array, pa.DataType]:
        kinds = {a.type, b.type} - {pa.null()}
        result = FLOAT if FLOAT in kinds else INT
        return (as_type(a, result), as_type(b, result), result)

    def _arithmetic(self, node: exp.Expr, f: Frame) -> pa.Array:
        a, b = self.value(node.this, f), self.value(node.expression, f)
        interval = b if isinstance(node.expression, exp.Interval) else (
            a if isinstance(node.this, exp.Interval) else None)
        if interval is not None:
            return self._shift(node, a, b)
        a, b, result = self._numbers(a, b)
        if isinstance(node, exp.Div):
            return self._divide(as_type(a, FLOAT), as_type(b, FLOAT))
        if isinstance(node, exp.IntDiv):
            return self._int_divide(a, b) if result == INT else self._float_int_divide(a, b)
        if isinstance(node, exp.Mod):
            return self._modulo(a, b, result)
        if result == INT:
            checked: dict[type[exp.Expr], Any] = {
                exp.Add: pc.add_checked, exp.Sub: pc.subtract_checked,
                exp.Mul: pc.multiply_checked}
            fn = checked[type(node)]
            return self._checked(fn, a, b)
        plain: dict[type[exp.Expr], Any] = {exp.Add: pc.add, exp.Sub: pc.subtract,
                                            exp.Mul: pc.multiply}
        return plain[type(node)](a, b)

    def _divide(self, a: pa.Array, b: pa.Array) -> pa.Array:
        ok = valid_rows(a, b)
        with np.errstate(all="ignore"):
            out = np.true_divide(numpy_values(a, 0.0), numpy_values(b, 1.0))
        return from_numpy(out, ok, FLOAT)

    def _zero_divisor(self, b: pa.Array, ok: np.ndarray, zero: Any) -> None:
        if bool(np.any(ok & (numpy_values(b, 1) == zero))):
            raise self.fail("division by zero")

    def _int_divide(self, a: pa.Array, b: pa.Array) -> pa.Array:
        ok = valid_rows(a, b)
        x, y = numpy_values(a, 0), numpy_values(b, 1)
        self._zero_divisor(b, ok, 0)
        if bool(np.any(ok & (x == INT_MIN) & (y == -1))):
            raise self.fail("integer overflow in division")
        y = np.where(ok & (y != 0), y, 1)
        x = np.where(ok, x, 0)
        with np.errstate(all="ignore"):
            q = np.floor_divide(x, y)
            q = q + ((x - q * y != 0) & ((x < 0) != (y < 0)))  # toward zero
        return from_numpy(q, ok, INT)

    def _float_int_divide(self, a: pa.Array, b: pa.Array) -> pa.Array:
        ok = valid_rows(a, b)
        self._zero_divisor(b, ok, 0.0)
        return self._divide(a, b)

    def _modulo(self, a: pa.Array, b: pa.Array, result: pa.DataType) -> pa.Array:
        ok = valid_rows(a, b)
        if result == FLOAT:
            with np.errstate(all="ignore"):
                out = np.fmod(numpy_values(a, 0.0), numpy_values(b, 1.0))
            return from_numpy(out, ok, FLOAT)
        self._zero_divisor(b, ok, 0)
        x, y = numpy_values(a, 0), numpy_values(b, 1)
        y = np.where(ok & (y != 0) & (y != -1), y, 1)  # x % -1 is 0, as x % 1
        return from_numpy(np.fmod(np.where(ok, x, 0), y), ok, INT)

    def _shift(self, node: exp.Expr, a: pa.Array, b: pa.Array) -> pa.Array:
        """A time plus or minus a fixed interval: a UTC timestamp."""
        interval = node.expression if isinstance(node.expression, exp.Interval) else node.this
        time = a if interval is node.expression else b
        amount = int(str(interval.this.this)) * INTERVAL_UNITS[
            interval.args["unit"].name.lower().rstrip("s")]
        us = self._micros(time)
        step = pa.scalar(-amount if isinstance(node, exp.Sub) else amount, INT)
        return self._checked(pc.add_checked, us, step).cast(TIME)

    def _micros(self, time: pa.Array) -> pa.Array:
        if time.type == DATE:
            return pc.multiply(time.cast(pa.int32()).cast(INT), US_PER_DAY)
        return time.cast(pa.int64())

    def _interval(self, node: exp.Expr, f: Frame) -> pa.Array:
        return pa.nulls(f.n)  # read only by _shift, from the tree

    # -- comparisons ---------------------------------------------------------------------

    def _comparable(self, a: pa.Array, b: pa.Array, left: exp.Expr,
                    right: exp.Expr) -> tuple[pa.Array, pa.Array]:
        """Both sides in one type: numbers as doubles where one is, a date as a
        timestamp against a timestamp, a quoted time as the other side's type."""
        if a.type == STRING and b.type in (TIME, DATE) and isinstance(left, exp.Literal):
            return self._parse_time(a, b.type), b
        if b.type == STRING and a.type in (TIME, DATE) and isinstance(right, exp.Literal):
            return a, self._parse_time(b, a.type)
        if a.type == pa.null():
            a = pa.nulls(len(a), b.type if b.type != pa.null() else BOOL)
        if b.type == pa.null():
            b = pa.nulls(len(b), a.type)
        if {a.type, b.type} == {INT, FLOAT}:
            return as_type(a, FLOAT), as_type(b, FLOAT)
        if {a.type, b.type} == {TIME, DATE}:
            return self._micros(a).cast(TIME), self._micros(b).cast(TIME)
        return a, b

    def _parse_time(self, text: pa.Array, type_: pa.DataType) -> pa.Array:
        """A quoted time (a literal, the same on every row) as a UTC time or a date."""
        value = text[0].as_py() if len(text) else None
        try:
            parsed = datetime.fromisoformat(value) if value is not None else None
        except ValueError:
            raise self.fail(f"{value!r} is not a time (write e.g. '2024-01-31' or "
                            "'2024-01-31 12:00:00+00')") from None
        if parsed is not None and type_ == DATE:  # a time of day is dropped, as DuckDB does
            return pa.repeat(pa.scalar(parsed.date(), DATE), len(text))
        if parsed is not None and parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return pa.repeat(pa.scalar(parsed, TIME), len(text))

    def _order_keys(self, a: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
        """For doubles: (is NaN, value with NaN as 0), so NaN sorts last and equals
        NaN; None for other types (Arrow compares them)."""
        if a.type != FLOAT:
            return None
        v = numpy_values(a, 0.0)
        nan = np.isnan(v)
        return nan, np.where(nan, 0.0, v)

    def compare(self, op: type[exp.Expr], a: pa.Array, b: pa.Array) -> pa.Array:
        ka, kb = self._order_keys(a), self._order_keys(b)
        if ka is None or kb is None:
            arrow: dict[type[exp.Expr], Any] = {
                exp.EQ: pc.equal, exp.NEQ: pc.not_equal, exp.GT: pc.greater,
                exp.GTE: pc.greater_equal, exp.LT: pc.less, exp.LTE: pc.less_equal}
            return arrow[op](a, b)
        (na, va), (nb, vb) = ka, kb
        eq = (na & nb) | (~na & ~nb & (va == vb))
        lt = (~na & nb) | (~na & ~nb & (va < vb))
        by_op: dict[type[exp.Expr], np.ndarray] = {
            exp.EQ: eq, exp.NEQ: ~eq, exp.LT: lt, exp.LTE: lt | eq, exp.GT: ~(lt | eq),
            exp.GTE: ~lt}
        out = by_op[op]
        return from_numpy(out, valid_rows(a, b), BOOL)

    def _comparison(self, node: exp.Expr, f: Frame) -> pa.Array:
        a, b = self._comparable(self.value(node.this, f), self.value(node.expression, f),
                                node.this, node.expression)
        if isinstance(node, exp.NullSafeEQ | exp.NullSafeNEQ):
            same = pc.fill_null(self.compare(exp.EQ, a, b), False)
            both_null = pc.and_(pc.is_null(a), pc.is_null(b))
            out = pc.or_(same, both_null)
            return pc.invert(out) if isinstance(node, exp.NullSafeNEQ) else out
        return self.compare(type(node), a, b)

    def _in(self, node: exp.Expr, f: Frame) -> pa.Array:
        subject = self.value(node.this, f)
        out = pa.repeat(pa.scalar(False, BOOL), f.n)
        for value in node.expressions:
            a, b = self._comparable(subject, self.value(value, f), node.this, value)
            out = pc.or_kleene(out, self.compare(exp.EQ, a, b))
        return out

    def _between(self, node: exp.Expr, f: Frame) -> pa.Array:
        subject = self.value(node.this, f)
        low, high = node.args["low"], node.args["high"]
        a, lo = self._comparable(subject, self.value(low, f), node.this, low)
        above = self.compare(exp.GTE, a, lo)
        a, hi = self._comparable(subject, self.value(high, f), node.this, high)
        return pc.and_kleene(above, self.compare(exp.LTE, a, hi))

    # -- logic ---------------------------------------------------------------------------

    def _bool(self, node: exp.Expr, f: Frame) -> pa.Array:
        out = self.value(node, f)
        return out.cast(BOOL) if out.type == pa.null() else out

    def _and(self, node: exp.Expr, f: Frame) -> pa.Array:
        return pc.and_kleene(self._bool(node.this, f), self._bool(node.expression, f))

    def _or(self, node: exp.Expr, f: Frame) -> pa.Array:
        return pc.or_kleene(self._bool(node.this, f), self._bool(node.expression, f))

    def _not(self, node: exp.Expr, f: Frame) -> pa.Array:
        return pc.invert(self._bool(node.this, f))

    def _is(self, node: exp.Expr, f: Frame) -> pa.Array:
        inner = self.value(node.this, f)
        target = node.expression
        if isinstance(target, exp.Null):
            return pc.is_null(inner)
        if isinstance(target, exp.Boolean):
            return pc.fill_null(pc.equal(inner.cast(BOOL), bool(target.this)), False)
        raise AssertionError(f"IS {target.sql()}")

    def _like(self, node: exp.Expr, f: Frame) -> pa.Array:
        subject = self.value(node.this, f)
        pattern = node.expression
        if isinstance(pattern, exp.Null) or subject.type == pa.null():
            return pa.nulls(f.n, BOOL)
        text = str(pattern.this).replace("\\", "\\\\")  # DuckDB's LIKE has no escape
        return pc.match_like(subject, text, ignore_case=isinstance(node, exp.ILike))

    # -- CASE, IF, COALESCE: each branch only on the rows that reach it ------------------

    def _merge(self, parts: list[tuple[np.ndarray, pa.Array]], n: int) -> pa.Array:
        """One array from ``(rows, values)`` parts covering rows 0..n-1 once each."""
        types = {p.type for _, p in parts} - {pa.null()}
        target = FLOAT if types == {INT, FLOAT} else (types.pop() if types else pa.null())
        arrays = [as_type(p, target) for _, p in parts]
        order = np.concatenate([rows for rows, _ in parts]) if parts else np.zeros(0, int)
        if not arrays:
            return pa.nulls(n)
        joined = pa.concat_arrays(arrays)
        inverse = np.empty(n, dtype=np.int64)
        inverse[order] = np.arange(n)
        return joined.take(pa.array(inverse))

    def _case(self, node: exp.Expr, f: Frame) -> pa.Array:
        if isinstance(node, exp.Case):
            ifs, default = node.args.get("ifs") or [], node.args.get("default")
            subject = node.this
        else:
            ifs, default, subject = [node], node.args.get("false"), None
        left = np.arange(f.n)
        frame = f
        parts: list[tuple[np.ndarray, pa.Array]] = []
        for branch in ifs:
            if subject is not None:
                a, b = self._comparable(self.value(subject, frame),
                                        self.value(branch.this, frame), subject, branch.this)
                cond = self.compare(exp.EQ, a, b)
            else:
                cond = self._bool(branch.this, frame)
            hit = numpy_values(cond, False).astype(bool)
            if hit.any():
                rows = np.flatnonzero(hit)
                parts.append((left[rows], self.value(branch.args["true"],
                                                     frame.take(pa.array(rows)))))
            rest = np.flatnonzero(~hit)
            left, frame = left[rest], frame.take(pa.array(rest))
        if len(left):
            parts.append((left, self.value(default, frame) if default is not None
                          else pa.nulls(len(left))))
        return self._merge(parts, f.n)

    def _coalesce(self, node: exp.Expr, f: Frame) -> pa.Array:
        left = np.arange(f.n)
        frame = f
        parts: list[tuple[np.ndarray, pa.Array]] = []
        for argument in [node.this, *node.expressions]:
            found = self.value(argument, frame)
            valid = np.asarray(found.is_valid().to_numpy(zero_copy_only=False))
            if valid.any():
                rows = np.flatnonzero(valid)
                parts.append((left[rows], found.take(pa.array(rows))))
            rest = np.flatnonzero(~valid)
            left, frame = left[rest], frame.take(pa.array(rest))
            if not len(left):
                break
        if len(left):
            parts.append((left, pa.nulls(len(left))))
        return self._merge(parts, f.n)

    def _extreme(self, node: exp.Expr, f: Frame) -> pa.Array:
        """greatest / least: nulls skipped, NaN the largest number."""
        values = [self.value(a, f) for a in [node.this, *node.expressions]]
        types = {v.type for v in values} - {pa.null()}
        target = FLOAT if types == {INT, FLOAT} else (
            TIME if types == {TIME, DATE} else (types.pop() if types else pa.null()))
        if target == pa.null():
            return pa.nulls(f.n)
        if target == TIME:
            values = [self._micros(v).cast(TIME) if v.type == DATE else v for v in values]
        values = [as_type(v, target) for v in values]
        op = exp.GT if isinstance(node, exp.Greatest) else exp.LT
        out = values[0]
        for v in values[1:]:
            better = pc.fill_null(self.compare(op, v, out), False)
            take = pc.or_(pc.is_null(out), pc.and_(better, pc.is_valid(v)))
            out = pc.if_else(take, v, out)
        return out

    def _nullif(self, node: exp.Expr, f: Frame) -> pa.Array:
        value = self.value(node.this, f)
        a, b = self._comparable(value, self.value(node.expression, f), node.this,
                                node.expression)
        same = pc.fill_null(self.compare(exp.EQ, a, b), False)
        return pc.if_else(same, pa.nulls(f.n, value.type), value)

    def _concat(self, node: exp.Expr, f: Frame) -> pa.Array:
        a, b = self.value(node.this, f), self.value(node.expression, f)
        a, b = (x.cast(STRING) for x in (a, b))
        return pc.binary_join_element_wise(a, b, "", null_handling="emit_null")

    # -- casts ---------------------------------------------------------------------------

    def _cast(self, node: exp.Expr, f: Frame) -> pa.Array:
        value = self.value(node.this, f)
        target = CASTS[node.args["to"].this]
        safe = isinstance(node, exp.TryCast)
        if value.type == pa.null():
            return pa.nulls(f.n, arrow_type(target))
        if target == "int64":
            if value.type == FLOAT:
                return self._to_integer(value, safe)
            return value.cast(INT)
        if target == "float64":
            return as_type(value, FLOAT)
        if target == "bool":
            if value.type == BOOL:
                return value
            return from_numpy(numpy_values(value, 0) != 0, valid_rows(value), BOOL)
        if target == "string":
            if value.type == BOOL:
                return pc.if_else(value, "true", "false")
            return value.cast(STRING)
        if target == "date":
            if value.type == TIME:
                days = np.floor_divide(numpy_values(value.cast(INT), 0), US_PER_DAY)
                return from_numpy(days.astype(np.int32), valid_rows(value),
                                  pa.int32()).cast(DATE)
            return value
        return self._micros(value).cast(TIME)

    def _to_integer(self, value: pa.Array, safe: bool) -> pa.Array:
        v = numpy_values(value, 0.0)
        ok = valid_rows(value)
        with np.errstate(all="ignore"):
            rounded = np.rint(v)  # half to even, as DuckDB's nearbyint
        fits = np.isfinite(rounded) & (rounded >= -9.223372036854775808e18) & (
            rounded < 9.223372036854775808e18)
        if not safe and bool(np.any(ok & ~fits)):
            bad = v[ok & ~fits][0]
            raise self.fail(f"{bad} is out of range for an integer")
        keep = ok & fits
        return from_numpy(np.where(keep, rounded, 0).astype(np.int64), keep, INT)

    # -- functions -----------------------------------------------------------------------

    def _function(self, node: exp.Expr, f: Frame) -> pa.Array:
        value = self.value(node.this, f)
        if value.type == pa.null():
            return pa.nulls(f.n, FUNCTION_RESULT.get(type(node), FLOAT))
        return FUNCTIONS[type(node)](self, node, value, f)


_HANDLERS: dict[type[exp.Expr], Callable[[_Evaluator, exp.Expr, Frame], pa.Array]] = {
    exp.Literal: _Evaluator._literal, exp.Null: _Evaluator._null,
    exp.Boolean: _Evaluator._boolean, exp.Column: _Evaluator._column,
    exp.Paren: _Evaluator._paren, exp.Neg: _Evaluator._negative,
    exp.Interval: _Evaluator._interval,
    **{k: _Evaluator._arithmetic for k in (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv,
                                            exp.Mod)},
    **{k: _Evaluator._comparison for k in (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT,
                                            exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)},
    exp.In: _Evaluator._in, exp.Between: _Evaluator._between,
    exp.And: _Evaluator._and, exp.Or: _Evaluator._or, exp.Not: _Evaluator._not,
    exp.Is: _Evaluator._is, exp.Like: _Evaluator._like, exp.ILike: _Evaluator._like,
    exp.Case: _Evaluator._case, exp.If: _Evaluator._case,
    exp.Coalesce: _Evaluator._coalesce, exp.Greatest: _Evaluator._extreme,
    exp.Least: _Evaluator._extreme, exp.Nullif: _Evaluator._nullif,
    exp.DPipe: _Evaluator._concat, exp.Cast: _Evaluator._cast, exp.TryCast: _Evaluator._cast,
    **{k: _Evaluator._function for k in FUNCTIONS},
}
