"""The version order of events: what breaks ties between equal event times.

A source's ``version`` column (a timestamp or an int64, e.g. ``created``) orders the
events of one entity that share an event time: the greatest version is the latest.
Engines order events by (event time, ``__v``, ``__tie``), where ``__v`` is the version
as a BIGINT (microseconds for timestamps) and a null version ranks as the smallest
BIGINT, older than any other. Plans without a version have no ``__v`` column at all,
so their SQL is unchanged.
"""

from __future__ import annotations

import sqlglot.expressions as exp

from confluens.plan.ir import ViewPlan
from confluens.sqlx import col, func, lit

__all__ = ["OLDEST", "VERSION", "version_sql"]

VERSION = "__v"
OLDEST = -(2**63)  # where the version is null


def version_sql(plan: ViewPlan, table: str | None = None) -> exp.Expr:
    """``__v`` of each event of ``table``: the plan's version as a non-null BIGINT."""
    assert plan.version is not None
    value: exp.Expr = col(plan.version, table) if table else col(plan.version)
    if plan.version_is_time:
        value = func("epoch_us", value)
    return exp.Coalesce(this=exp.cast(value, "BIGINT"),
                        expressions=[exp.cast(lit(OLDEST), "BIGINT")])
