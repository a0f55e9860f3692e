"""What the online store retains per entity: each recent event, ready for evaluation.

``compile_retained`` gives, per event that can still fall in some window of the view
at any time from ``horizon_end`` on, in each entity's event order, its keys, time
(``__t``), tie (``__tie``, as text; the rows come in version order, then the id's own order),
known-at time (``__k``), the values the features aggregate, and one boolean per
filter. Which events it keeps is the plan's ``LoweredPlan.retention``
(``plan/ir.py``); this module only states it in SQL. An event is kept when:

- its time is after ``horizon_end - max(delay + window)`` over the time windows, or
- it is known only after ``horizon_end`` (it becomes visible later), or
- for some event-count window ``Events(n)`` (delay d, filter f), it passes f and
  fewer than n passing events after it (in time and tie order) are visible at
  ``horizon_end``: known by then, at or before ``horizon_end - d``. A ``latest``
  value (a snapshot's column) keeps events by this rule with n = 1, not by its time
  window: only the latest visible row, and rows not yet known.

The last rule is exact: what a count window sees only grows as time passes, so an
event with n visible passing events after it at ``horizon_end`` is never among the
n latest again; every other passing event may still be (once it is known and past
the delay), and is kept.
"""

from __future__ import annotations

import sqlglot.expressions as exp

from confluens.plan.expressions import bind
from confluens.plan.expressions.compile_sql import tree_for
from confluens.plan.ir import ViewPlan, lower
from confluens.plan.version import VERSION, version_sql
from confluens.sqlx import col, func, lit, table_ref

__all__ = ["compile_retained", "filters_of", "value_columns"]


def filters_of(plan: ViewPlan) -> list[str]:
    """The distinct filters of ``plan``: ``__f<i>`` in ``compile_retained``'s rows."""
    return list(lower(plan).filters)


def value_columns(plan: ViewPlan) -> list[str]:
    """The distinct columns the aggregations of ``plan`` read."""
    return list(lower(plan).value_columns)


def compile_retained(plan: ViewPlan, horizon_end_us: int, table: str = "events") -> exp.Select:
    """The events the online state of ``plan`` keeps at ``horizon_end_us``."""
    base: exp.Select = exp.select(exp.Star()).from_(table_ref(table))
    for name, typed in bind(plan).derive:
        base = exp.select(exp.Star(), exp.alias_(tree_for(typed), name,
                                                 quoted=True)).from_(
            exp.Subquery(this=base, alias=exp.TableAlias(this=exp.to_identifier("d"))))
    known = col(plan.known_at) if plan.known_at else col(plan.event_time)
    keys = [col(k) for k in plan.keys]
    t = func("epoch_us", col(plan.event_time))
    filters = filters_of(plan)
    columns: list[exp.Expr] = [
        *keys, exp.alias_(t, "__t", quoted=True),
        exp.alias_(exp.cast(col(plan.tie), "VARCHAR"), "__tie", quoted=True),
        exp.alias_(col(plan.tie), "__tie_order", quoted=True),  # ties in the id's own order
        *([] if plan.version is None else [exp.alias_(version_sql(plan), VERSION, quoted=True)]),
        exp.alias_(func("epoch_us", known), "__k", quoted=True),
        *[col(c) for c in value_columns(plan)],
        *[exp.alias_(exp.Coalesce(this=exp.Paren(this=tree_for(bind(plan).filter(w))),
                                  expressions=[exp.false()]), f"__f{i}", quoted=True)
          for i, w in enumerate(filters)],
    ]
    ties = ["__tie_order"] if plan.version is None else [VERSION, "__tie_order"]
    order = exp.Order(expressions=[exp.Ordered(this=col(n), desc=True)
                                   for n in ("__t", *ties)])
    retention = lower(plan).retention
    time_back = retention.time_back_us
    keep: list[exp.Expr] = [exp.GT(this=col("__k"), expression=lit(horizon_end_us))]
    if time_back is not None:
        keep.append(exp.GT(this=col("__t"), expression=lit(horizon_end_us - time_back)))
    retained = exp.select(*columns).from_(
        exp.Subquery(this=base, alias=exp.TableAlias(this=exp.to_identifier("b"))))
    ranked_columns: list[exp.Expr] = [exp.Star()]
    for g, (where, delay, n) in enumerate(retention.latest_n):
        passes = exp.true() if where is None else col(f"__f{filters.index(where)}")
        visible = exp.and_(passes.copy(), exp.LTE(this=col("__k"), expression=lit(
            horizon_end_us)), exp.LTE(this=col("__t"), expression=lit(horizon_end_us - delay)))
        after = exp.Window(
            this=exp.Filter(this=exp.Count(this=exp.Star()),
                            expression=exp.Where(this=visible)),
            partition_by=[k.copy() for k in keys], order=order.copy(),
            spec=exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING",
                                end=lit(1), end_side="PRECEDING"), over="OVER")
        ranked_columns.append(exp.alias_(
            exp.Coalesce(this=after, expressions=[lit(0)]), f"__after{g}", quoted=True))
        keep.append(exp.and_(passes, exp.LT(this=col(f"__after{g}"), expression=lit(n))))
    ranked = exp.select(*ranked_columns).from_(
        exp.Subquery(this=retained, alias=exp.TableAlias(this=exp.to_identifier("p"))))
    return (exp.select(exp.Star()).from_(
        exp.Subquery(this=ranked, alias=exp.TableAlias(this=exp.to_identifier("r"))))
        .where(exp.or_(*keep))
        .order_by(*[k.copy() for k in keys], col("__t"), *[col(n) for n in ties]))
