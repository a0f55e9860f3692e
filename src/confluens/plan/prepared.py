"""What the online store keeps per entity: each recent event, prepared for evaluation.

``compile_prepared`` gives, per event that can still fall in some window of the view
at any time from ``horizon_end`` on, in each entity's event order, its keys, time
(``__t``), tie (``__tie``, as text; the rows come in the id's own order),
known-at time (``__k``), the values the features aggregate, and one boolean per
filter. An event is kept when:

- its time is after ``horizon_end - max(delay + window)`` over the time windows, or
- it is among the latest ``n + m`` events of its entity, where n is the largest
  event-count window and m the number of the entity's events after
  ``horizon_end - max(delay)`` over those windows (they may still move past the delay).

Events known only after ``horizon_end`` are kept too: they become visible later.
"""

from __future__ import annotations

import sqlglot.expressions as exp

from confluens.core.expressions import parse_expression
from confluens.plan.ir import ViewPlan
from confluens.sqlx import col, func, lit, table_ref

__all__ = ["compile_prepared", "filters_of", "value_columns"]


def filters_of(plan: ViewPlan) -> list[str]:
    found: list[str] = []
    for a in plan.aggregations:
        if a.where is not None and a.where not in found:
            found.append(a.where)
    return found


def value_columns(plan: ViewPlan) -> list[str]:
    found: list[str] = []
    for a in plan.aggregations:
        if a.column is not None and a.column not in found:
            found.append(a.column)
    return found


def compile_prepared(plan: ViewPlan, horizon_end_us: int, table: str = "events") -> exp.Select:
    base: exp.Select = exp.select(exp.Star()).from_(table_ref(table))
    for name, text in plan.derive:
        base = exp.select(exp.Star(), exp.alias_(parse_expression(text, where=name), name,
                                                 quoted=True)).from_(
            exp.Subquery(this=base, alias=exp.TableAlias(this=exp.to_identifier("d"))))
    known = col(plan.known_at) if plan.known_at else col(plan.event_time)
    keys = [col(k) for k in plan.keys]
    t = func("epoch_us", col(plan.event_time))
    columns: list[exp.Expr] = [
        *keys, exp.alias_(t, "__t", quoted=True),
        exp.alias_(exp.cast(col(plan.tie), "VARCHAR"), "__tie", quoted=True),
        exp.alias_(col(plan.tie), "__tie_order", quoted=True),  # ties in the id's own order
        exp.alias_(func("epoch_us", known), "__k", quoted=True),
        *[col(c) for c in value_columns(plan)],
        *[exp.alias_(exp.Coalesce(this=exp.Paren(this=parse_expression(w, where="where")),
                                  expressions=[exp.false()]), f"__f{i}", quoted=True)
          for i, w in enumerate(filters_of(plan))],
    ]
    order = exp.Order(expressions=[exp.Ordered(this=col("__t"), desc=True),
                                   exp.Ordered(this=col("__tie_order"), desc=True)])
    aggs = plan.aggregations
    time_back = max([a.delay_us + a.window_us for a in aggs if a.window_us is not None],
                    default=None)
    count_n = max([a.events for a in aggs if a.events is not None], default=None)
    count_delay = max([a.delay_us for a in aggs if a.events is not None], default=0)
    keep: list[exp.Expr] = [exp.GT(this=col("__k"), expression=lit(horizon_end_us))]
    if time_back is not None:
        keep.append(exp.GT(this=col("__t"), expression=lit(horizon_end_us - time_back)))
    prepared = exp.select(*columns).from_(
        exp.Subquery(this=base, alias=exp.TableAlias(this=exp.to_identifier("b"))))
    ranked_columns: list[exp.Expr] = [exp.Star()]
    if count_n is not None:
        ranked_columns.append(exp.alias_(exp.Window(
            this=exp.RowNumber(), partition_by=[k.copy() for k in keys], order=order,
            over="OVER"), "__rank", quoted=True))
        late = exp.Window(this=func("count_if", exp.GT(
            this=col("__t"), expression=lit(horizon_end_us - count_delay))),
            partition_by=[k.copy() for k in keys], over="OVER")
        ranked_columns.append(exp.alias_(late, "__late", quoted=True))
        keep.append(exp.LTE(this=col("__rank"), expression=exp.Add(
            this=lit(count_n), expression=col("__late"))))
    ranked = exp.select(*ranked_columns).from_(
        exp.Subquery(this=prepared, alias=exp.TableAlias(this=exp.to_identifier("p"))))
    return (exp.select(exp.Star()).from_(
        exp.Subquery(this=ranked, alias=exp.TableAlias(this=exp.to_identifier("r"))))
        .where(exp.or_(*keep))
        .order_by(*[k.copy() for k in keys], col("__t"), col("__tie_order")))
