"""Checks as SQL pass conditions over the typed columns.

A condition is TRUE where the record passes. Every check but NotNull passes on
NULL (see core/checks.py), so conditions are wrapped in ``COALESCE(cond, TRUE)``.
A Range fails on NaN and the infinities, whatever its bounds.
Custom checks run in Python (see custom.py); Unique checks need the stored
values and run after deduplication (see pipeline.py).
"""

from __future__ import annotations

import sqlglot.expressions as exp

from confluens.core import Check, NotNull, OneOf, Range, Regex
from confluens.sqlx import col, func, lit

__all__ = ["pass_condition"]


def pass_condition(check: Check, table: str = "typed") -> exp.Expr | None:
    """The SQL pass condition of ``check``, or None if it is not evaluated in SQL."""
    value = col(check.column, table)
    if isinstance(check, NotNull):
        return exp.Not(this=exp.Is(this=value, expression=exp.null()))
    cond: exp.Expr
    if isinstance(check, Range):
        # NaN and the infinities fail every range (DuckDB orders NaN above every number)
        parts: list[exp.Expr] = [func("isfinite", exp.cast(value.copy(), "DOUBLE"))]
        if check.min is not None:
            low = exp.GTE if check.min_inclusive else exp.GT
            parts.append(low(this=value.copy(), expression=lit(check.min)))
        if check.max is not None:
            high = exp.LTE if check.max_inclusive else exp.LT
            parts.append(high(this=value.copy(), expression=lit(check.max)))
        cond = exp.and_(*parts)
    elif isinstance(check, OneOf):
        cond = exp.In(this=value, expressions=[lit(v) for v in check.values])
    elif isinstance(check, Regex):
        cond = func("regexp_full_match", value, lit(check.pattern))
    else:
        return None
    return exp.Coalesce(this=exp.Paren(this=cond), expressions=[exp.true()])
