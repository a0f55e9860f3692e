"""Compile a ViewPlan over a source with a known-at column (bitemporal), on DuckDB.

An event counts at time t only once it is known: ``known_at <= t``. Windows still
select by event time. The set of events a point sees is then not a contiguous range
of ranks, so this compiler joins each point to its entity's events inside the widest
window and aggregates with one FILTER per feature:

    FROM points p LEFT JOIN events e
      ON same keys AND e.t > p.t - max(delay + window) AND e.t <= p.t - min(delay)
         AND e.known <= p.t
    GROUP BY p.__point

Each pair costs work, so the join is bounded by the widest time window; event-count
windows, which have no time bound, are not supported here yet.

Per-event features use the events themselves as points; a feature without delay then
also keeps the tie rule: an event sees tied events only up to itself in id order.
"""

from __future__ import annotations

import sqlglot.expressions as exp

from confluens.core.expressions import parse_expression
from confluens.errors import NotSupportedError
from confluens.plan.duckdb import AGG_SQL, ratio_sql
from confluens.plan.ir import RatioOf, ViewPlan, WindowAgg
from confluens.sqlx import col, func, lit, table_ref

__all__ = ["compile_known_events", "compile_known_points"]



def _q(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _events_cte(plan: ViewPlan, table: str) -> exp.Select:
    assert plan.known_at is not None
    select = exp.select(
        exp.Star(), exp.alias_(func("epoch_us", col(plan.event_time)), "__t", quoted=True),
        exp.alias_(func("epoch_us", col(plan.known_at)), "__k", quoted=True),
        exp.alias_(col(plan.tie), "__tie", quoted=True)).from_(table_ref(table))
    for name, text in plan.derive:
        select = exp.select(exp.Star(), exp.alias_(parse_expression(text, where=name), name,
                                                   quoted=True)).from_(
            exp.Subquery(this=select, alias=exp.TableAlias(this=_q("d"))))
    return select


def compile_known_points(plan: ViewPlan, table: str = "events", points: str = "points",
                         *, per_event: bool = False) -> exp.Select:
    """Features at each row of ``points(<keys>, __at, __point[, __tie])``, by ``__point``.

    With ``per_event``, points are events: features without delay apply the tie rule.
    """
    aggs = plan.aggregations
    for a in aggs:
        if a.window_us is None:
            raise NotSupportedError(
                f"feature '{a.output}' of view '{plan.name}'", "event-count windows over a "
                "source with known_at are not computed yet", fix="use a time window")
    widest = max(a.delay_us + (a.window_us or 0) for a in aggs)
    nearest = min(a.delay_us for a in aggs)
    pt, ev = col("__t", "p"), col("__t", "e")
    on = exp.and_(
        *[exp.EQ(this=col(k, "e"), expression=col(k, "p")) for k in plan.keys],
        exp.GT(this=ev, expression=exp.Sub(this=pt, expression=lit(widest))),
        exp.LTE(this=ev.copy(), expression=exp.Sub(this=pt.copy(), expression=lit(nearest))),
        exp.LTE(this=col("__k", "e"), expression=pt.copy()))
    outputs: dict[str, exp.Expr] = {}
    for a in aggs:
        outputs[a.output] = _aggregate(a, per_event)
    final: list[exp.Expr] = [col("__point", "p")]
    for f in plan.features:
        if isinstance(f, RatioOf):
            value = ratio_sql(outputs[f.numerator.output], outputs[f.denominator.output],
                              f.empty)
            final.append(exp.alias_(value, f.output, quoted=True))
        else:
            final.append(exp.alias_(outputs[f.output], f.output, quoted=True))
    point_t = exp.select(exp.Star(), exp.alias_(func("epoch_us", col("__at")), "__t",
                                                quoted=True)).from_(table_ref(points))
    return (exp.select(*final)
            .from_(exp.Subquery(this=point_t, alias=exp.TableAlias(this=_q("p"))))
            .join(exp.Subquery(this=_events_cte(plan, table),
                               alias=exp.TableAlias(this=_q("e"))),
                  on=on, join_type="left")
            .group_by(col("__point", "p")).order_by(col("__point", "p")))


def _aggregate(a: WindowAgg, per_event: bool) -> exp.Expr:
    pt, ev = col("__t", "p"), col("__t", "e")
    assert a.window_us is not None
    conds: list[exp.Expr] = [
        exp.GT(this=ev, expression=exp.Sub(this=pt, expression=lit(a.delay_us + a.window_us))),
        exp.LTE(this=ev.copy(), expression=exp.Sub(this=pt.copy(), expression=lit(a.delay_us)))]
    if per_event and a.delay_us == 0:
        conds.append(exp.or_(exp.LT(this=ev.copy(), expression=pt.copy()),
                             exp.LTE(this=col("__tie", "e"), expression=col("__tie", "p"))))
    if a.where is not None:
        conds.append(exp.Coalesce(this=exp.Paren(this=_qualified(a.where)),
                                  expressions=[exp.false()]))
    value = None if a.column is None else col(a.column, "e")
    if a.kind == "count":
        agg: exp.Expr = exp.Count(this=ev.copy() if value is None else value)
    elif a.kind == "distinct":
        agg = exp.Count(this=exp.Distinct(expressions=[value]))
    elif a.kind == "last":
        assert value is not None
        order = exp.Struct(expressions=[
            exp.PropertyEQ(this=exp.to_identifier("t"), expression=ev.copy()),
            exp.PropertyEQ(this=exp.to_identifier("tie"), expression=col("__tie", "e"))])
        agg = func("arg_max", value, order)
        conds.append(exp.Not(this=exp.Is(this=value.copy(), expression=exp.null())))
    else:
        agg = func(AGG_SQL[a.kind], value)  # type: ignore[arg-type]
    filtered: exp.Expr = exp.Filter(this=agg, expression=exp.Where(this=exp.and_(*conds)))
    if a.kind == "sum":
        filtered = exp.Coalesce(this=filtered, expressions=[lit(0)])
    return filtered


def _qualified(text: str) -> exp.Expr:
    """A filter expression with its columns read from the events side of the join."""
    tree = parse_expression(text, where="where")

    def qualify(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table:
            return col(node.name, "e")
        return node

    return tree.transform(qualify)


def compile_known_events(plan: ViewPlan, table: str = "events") -> exp.Select:
    """Every feature at every event, each event seeing what was known at its own time.

    Rows: keys, event time, ``__tie`` and the features, in key, time and tie order.
    """
    order = [col(k) for k in (*plan.keys, plan.event_time, plan.tie)]
    points = exp.select(
        *[col(k) for k in plan.keys], exp.alias_(col(plan.event_time), "__at", quoted=True),
        exp.alias_(col(plan.tie), "__tie", quoted=True),
        exp.alias_(exp.Window(this=exp.RowNumber(), order=exp.Order(
            expressions=[exp.Ordered(this=o) for o in order]), over="OVER"),
            "__point", quoted=True)).from_(table_ref(table))
    features = compile_known_points(plan, table, "points", per_event=True)
    names = [f.output for f in plan.features]
    return (exp.select(*[col(k, "p") for k in plan.keys],
                       exp.alias_(col("__at", "p"), plan.event_time, quoted=True),
                       col("__tie", "p"), *[col(n, "f") for n in names])
            .from_(exp.Table(this=_q("points"), alias=exp.TableAlias(this=_q("p"))))
            .join(exp.Subquery(this=features, alias=exp.TableAlias(this=_q("f"))),
                  on=exp.EQ(this=col("__point", "f"), expression=col("__point", "p")))
            .order_by(col("__point", "p"))
            .with_(_q("points"), as_=points))
