"""Invertible aggregations at spine points by prefix sums and ASOF lookups, on DuckDB.

Count, Sum and Mean over a window are differences of running totals: with C(x) and
S(x) the count and sum of an entity's (filtered) events up to time x,

    count over (t - d - w, t - d]  =  C(t - d) - C(t - d - w)

Each running total is found by an ASOF join on the entity key and time, against the
totals taken at the last event of each timestamp (so ties are all in). An event-count
window of n looks its lower total up by position instead: the total n events before.
No frame, no union with the events: each point costs a few lookups.

Other aggregations (min, max, std, last, distinct) keep the exact frames of
``duckdb.py``; ``point_features`` uses both and joins them on ``__point``.
"""

from __future__ import annotations

import sqlglot.expressions as exp

from confluens.core.expressions import parse_expression
from confluens.plan.ir import ViewPlan, WindowAgg
from confluens.sqlx import col, func, lit, table_ref

__all__ = ["INVERTIBLE", "compile_prefix_points"]

INVERTIBLE = frozenset({"count", "sum", "mean"})


def _q(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _group(a: WindowAgg) -> tuple[str | None, str | None]:
    """Aggregations sharing (filter, column) share running totals."""
    return a.where, a.column


class _Prefix:
    def __init__(self, plan: ViewPlan, table: str, points: str) -> None:
        self.plan = plan
        self.table = table
        self.points = points
        self.groups: list[tuple[str | None, str | None]] = []
        for a in plan.aggregations:
            if a.kind in INVERTIBLE and _group(a) not in self.groups:
                self.groups.append(_group(a))
        self.ctes: list[tuple[str, exp.Expr]] = []

    def keys(self, table: str | None = None) -> list[exp.Expr]:
        return [col(k, table) for k in self.plan.keys]

    def totals(self, g: int) -> str:
        """Running count and sum of group g at the last event of each timestamp."""
        where, column = self.groups[g]
        base: exp.Select = exp.select(exp.Star()).from_(table_ref(self.table))
        for name, text in self.plan.derive:
            base = exp.select(exp.Star(), exp.alias_(parse_expression(text, where=name), name,
                                                     quoted=True)).from_(
                exp.Subquery(this=base, alias=exp.TableAlias(this=_q("d"))))
        if where is not None:
            base = base.where(exp.Coalesce(this=exp.Paren(this=parse_expression(
                where, where="where")), expressions=[exp.false()]))
        order = exp.Order(expressions=[exp.Ordered(this=col("__t")),
                                       exp.Ordered(this=col(self.plan.tie))])
        spec = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING",
                              end="CURRENT ROW")

        def running(agg: exp.Expr) -> exp.Window:
            return exp.Window(this=agg, partition_by=self.keys(), order=order.copy(),
                              spec=spec.copy(), over="OVER")

        value = None if column is None else col(column)
        counted = exp.Count(this=exp.Star()) if value is None else exp.Count(this=value)
        summed: exp.Expr = lit(0.0) if value is None else func("coalesce", running(
            func("sum", exp.cast(value.copy(), "DOUBLE"))), lit(0.0))
        ordered = exp.select(
            *self.keys(), col("__t"),
            exp.alias_(running(exp.RowNumber()), "__n", quoted=True),
            exp.alias_(running(counted), "__c", quoted=True),
            exp.alias_(summed, "__s", quoted=True),
        ).from_(exp.Subquery(this=exp.select(
            exp.Star(), exp.alias_(func("epoch_us", col(self.plan.event_time)), "__t",
                                   quoted=True)).from_(
            exp.Subquery(this=base, alias=exp.TableAlias(this=_q("b")))),
            alias=exp.TableAlias(this=_q("e"))))
        self.ctes.append((f"run{g}", ordered))
        last_of_time = exp.Window(this=exp.RowNumber(), partition_by=[*self.keys(), col("__t")],
                                  order=exp.Order(expressions=[exp.Ordered(this=col("__n"),
                                                                           desc=True)]),
                                  over="OVER")
        collapsed = exp.select(exp.Star()).from_(table_ref(f"run{g}")).qualify(
            exp.EQ(this=last_of_time, expression=lit(1)))
        self.ctes.append((f"tot{g}", collapsed))
        return f"tot{g}"

    def query(self) -> exp.Select:
        for g in range(len(self.groups)):
            self.totals(g)
        point_t = exp.select(exp.Star(), exp.alias_(func("epoch_us", col("__at")), "__t",
                                                    quoted=True)).from_(table_ref(self.points))
        select = exp.select(col("__point", "p")).from_(
            exp.Subquery(this=point_t, alias=exp.TableAlias(this=_q("p"))))
        lookups: dict[tuple[int, str, int], str] = {}  # (group, kind, offset/n) -> alias

        def asof(g: int, offset: int) -> str:
            alias = lookups.get((g, "t", offset))
            if alias is None:
                alias = lookups[(g, "t", offset)] = f"a{len(lookups)}"
                on = exp.and_(*[exp.EQ(this=col(k, "p"), expression=col(k, alias))
                                for k in self.plan.keys],
                              exp.GTE(this=exp.Sub(this=col("__t", "p"), expression=lit(offset)),
                                      expression=col("__t", alias)))
                select.join(exp.Table(this=_q(f"tot{g}"), alias=exp.TableAlias(this=_q(alias))),
                            on=on, join_type="asof left", copy=False)
            return alias

        def back(g: int, upper: str, n: int) -> str:
            alias = lookups.get((g, upper, n))
            if alias is None:
                alias = lookups[(g, upper, n)] = f"a{len(lookups)}"
                on = exp.and_(*[exp.EQ(this=col(k, "p"), expression=col(k, alias))
                                for k in self.plan.keys],
                              exp.EQ(this=col("__n", alias), expression=exp.Sub(
                                  this=col("__n", upper), expression=lit(n))))
                select.join(exp.Table(this=_q(f"run{g}"), alias=exp.TableAlias(this=_q(alias))),
                            on=on, join_type="left", copy=False)
            return alias

        for a in self.plan.aggregations:
            if a.kind not in INVERTIBLE:
                continue
            g = self.groups.index(_group(a))
            hi = asof(g, a.delay_us)
            lo = (asof(g, a.delay_us + a.window_us) if a.window_us is not None
                  else back(g, hi, a.events or 0))

            def total(name: str, alias: str) -> exp.Expr:
                return exp.Coalesce(this=col(name, alias), expressions=[lit(0)])

            count = exp.Paren(this=exp.Sub(this=total("__c", hi), expression=total("__c", lo)))
            summed = exp.Paren(this=exp.Sub(this=total("__s", hi), expression=total("__s", lo)))
            if a.kind == "count":
                value: exp.Expr = count
            elif a.kind == "sum":
                value = summed
            else:
                value = exp.Case(ifs=[exp.If(this=exp.EQ(this=count.copy(), expression=lit(0)),
                                             true=exp.null())],
                                 default=exp.Div(this=summed.copy(), expression=count.copy()))
            select = select.select(exp.alias_(value, a.output, quoted=True), copy=False)
        query = select.order_by(col("__point", "p"))
        for name, cte in self.ctes:
            query = query.with_(_q(name), as_=cte)
        return query


def compile_prefix_points(plan: ViewPlan, table: str = "events",
                          points: str = "points") -> exp.Select:
    """``(__point, <invertible aggregation outputs>)`` for each point, by ``__point``."""
    return _Prefix(plan, table, points).query()
