"""Compile a ViewPlan into one DuckDB query giving every feature at every event.

The query has four steps (CTEs):

1. ``base_*``: the source columns, the event time in microseconds (``__t``), the tie
   order (``__tie``), derived columns in order, and one flag per feature filter.
2. ``ranked``: per entity, each event's rank ``__rn`` by (``__t``, ``__tie``); for
   each distinct offset X, ``__upto_X``: how many events have ``__t <= t - X``; for
   each filter used by an event-count window, the running count of passing events.
3. ``bounded``: for each aggregation, the window as a range of ranks ``(lo, hi]``:
   ``hi`` is the event itself without delay, else the last event at or before
   ``t - delay``; ``lo`` is the last event at or before ``t - delay - window``, or
   the n-th passing event back from ``hi``.
4. the aggregations over ``ROWS BETWEEN rn-lo-1 PRECEDING AND rn-hi PRECEDING``,
   with the filter as ``FILTER (WHERE ...)``, and ratios on top.

Every window is exact: frames are rank ranges, never rounded tiles or buckets.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlglot.expressions as exp

from confluens.errors import NotSupportedError
from confluens.plan.expressions import bind
from confluens.plan.expressions.compile_sql import tree_for
from confluens.plan.ir import Kind, ViewPlan, WindowAgg, lower, require
from confluens.plan.version import VERSION, version_sql
from confluens.sqlx import col, func, ident, lit, same_keys, table_ref

__all__ = ["AGG_SQL", "compile_events", "compile_points", "empty_value", "latest_struct",
           "latest_value", "ratio_sql"]

#: The SQL aggregate of each kind that is one plain function call.
AGG_SQL = {Kind.SUM: "sum", Kind.MEAN: "avg", Kind.MIN: "min", Kind.MAX: "max",
           Kind.STD: "stddev_samp"}


def empty_value(kind: Kind, found: exp.Expr) -> exp.Expr:
    """``found``, or the kind's empty-window value where it is null (no events)."""
    if kind.empty is None:
        return found
    return exp.Coalesce(this=found, expressions=[lit(kind.empty)])


def ratio_sql(num: exp.Expr, den: exp.Expr, empty: float | None) -> exp.Expr:
    """``num / den`` as a double; ``empty`` where ``den`` is 0 or null."""
    return exp.Case(
        ifs=[exp.If(this=exp.or_(exp.Is(this=den.copy(), expression=exp.null()),
                                 exp.EQ(this=den.copy(), expression=lit(0))),
                    true=exp.cast(lit(empty), "DOUBLE"))],
        default=exp.Div(this=exp.cast(num.copy(), "DOUBLE"), expression=den.copy()))


def latest_struct(value: exp.Expr) -> exp.Expr:
    """``{'v': value}``: ``arg_max`` skips null values, but not a struct holding one."""
    return exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier("v"),
                                                  expression=value)])


def latest_value(found: exp.Expr) -> exp.Expr:
    """The value inside ``latest_struct`` (null over an empty window)."""
    return func("struct_extract", found, lit("v"))


def _over(agg: exp.Expr, keys: Sequence[exp.Expr], order: list[str],
          spec: exp.WindowSpec | None = None) -> exp.Window:
    return exp.Window(this=agg, partition_by=[k.copy() for k in keys],
                      order=exp.Order(expressions=[exp.Ordered(this=exp.column(o))
                                                   for o in order]),
                      spec=spec, over="OVER")


# event time; events before points; then the tie order (points: their own number).
# The order must be total: frames are rank ranges, so every window must rank alike.
ORDER = ["__t", "__pt", "__tie"]


class _Compiler:
    def __init__(self, plan: ViewPlan, table: str, points: str | None = None) -> None:
        self.plan = plan
        self.table = table
        self.points = points
        # without points every row is an event: (__t, __tie) is already a total order
        self.order = [*ORDER, "__point"] if points else ["__t", "__tie"]
        if plan.version is not None:  # the version orders equal times before the tie
            self.order.insert(self.order.index("__tie"), VERSION)
        self.keys = [col(k) for k in plan.keys]
        require(plan, "window")
        # each distinct computation once, however many features (or ratios) use it
        self.lowered = lower(plan)
        self.aggs = self.lowered.aggregations
        # one flag per distinct filter; with evaluation points every aggregation is
        # flagged, since point rows must never count as events
        self.filters: list[str | None] = []
        for agg in self.aggs:
            if (agg.where is not None or points) and agg.where not in self.filters:
                self.filters.append(agg.where)
        self.ctes: list[tuple[str, exp.Query]] = []

    # -- helpers -----------------------------------------------------------------------

    def flag(self, agg: WindowAgg) -> str | None:
        if agg.where is None and not self.points:
            return None
        return f"__f{self.filters.index(agg.where)}"

    def add(self, name: str, select: exp.Query) -> None:
        self.ctes.append((name, select))

    # -- steps -------------------------------------------------------------------------

    def base(self) -> str:
        p = self.plan
        ts = col(p.event_time)
        select = exp.select(
            exp.Star(), exp.alias_(ts, "__ts", quoted=True),
            exp.alias_(func("epoch_us", ts.copy()), "__t", quoted=True),
            exp.alias_(lit(0), "__pt", quoted=True),
            exp.alias_(col(p.tie), "__tie", quoted=True),
            exp.alias_(exp.true(), "__is_event", quoted=True),
        ).from_(table_ref(self.table))
        if p.version is not None:
            select = select.select(exp.alias_(version_sql(p), VERSION, quoted=True))
        if self.points:
            at = col("__at")
            points = exp.select(
                *[col(k) for k in p.keys], col("__point"),
                exp.alias_(at, "__ts", quoted=True),
                exp.alias_(func("epoch_us", at.copy()), "__t", quoted=True),
                exp.alias_(lit(1), "__pt", quoted=True),
                exp.alias_(exp.false(), "__is_event", quoted=True),
            ).from_(table_ref(self.points))
            self.add("base_0", exp.Union(this=select, expression=points, distinct=False,
                                          by_name=True))
        else:
            self.add("base_0", select)
        previous = "base_0"
        for i, (name, typed) in enumerate(bind(p).derive, start=1):
            expression = tree_for(typed)
            self.add(f"base_{i}", exp.select(exp.Star(), exp.alias_(expression, name,
                                                                     quoted=True))
                     .from_(table_ref(previous)))
            previous = f"base_{i}"
        if self.filters:
            flags = []
            for i, text in enumerate(self.filters):
                cond = col("__is_event") if text is None else exp.and_(
                    col("__is_event"), exp.Paren(this=tree_for(bind(p).filter(text))))
                flags.append(exp.alias_(exp.Coalesce(this=exp.Paren(this=cond),
                                                     expressions=[exp.false()]),
                                        f"__f{i}", quoted=True))
            self.add("base_flags", exp.select(exp.Star(), *flags).from_(table_ref(previous)))
            previous = "base_flags"
        return previous

    def ranked(self, source: str) -> None:
        columns: list[exp.Expr] = [
            exp.Star(),
            exp.alias_(_over(exp.RowNumber(), self.keys, self.order), "__rn",
                       quoted=True)]
        for x in self.lowered.offsets:
            spec = exp.WindowSpec(kind="RANGE", start="UNBOUNDED", start_side="PRECEDING",
                                  end=lit(x), end_side="PRECEDING")
            columns.append(exp.alias_(_over(exp.Count(this=exp.Star()), self.keys, ["__t"],
                                            spec), f"__upto_{x}", quoted=True))
        for i in {self.filters.index(a.where) for a in self.aggs
                  if a.events is not None and self.flag(a) is not None}:
            spec = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING",
                                  end="CURRENT ROW")
            running = func("sum", exp.cast(col(f"__f{i}"), "INTEGER"))
            columns.append(exp.alias_(_over(running, self.keys, self.order, spec),
                                      f"__c{i}", quoted=True))
        self.add("ranked", exp.select(*columns).from_(table_ref(source)))

    def bounded(self) -> None:
        his = []
        for j, a in enumerate(self.aggs):
            hi = col("__rn") if a.delay_us == 0 else col(f"__upto_{a.delay_us}")
            his.append(exp.alias_(hi, f"__hi{j}", quoted=True))
        self.add("bounded_hi", exp.select(exp.Star(), *his).from_(table_ref("ranked")))
        select = exp.select(exp.Column(this=exp.Star(), table=ident("b"))).from_(
            exp.Table(this=ident("bounded_hi"), alias=exp.TableAlias(this=ident("b"))))
        for j, a in enumerate(self.aggs):
            hi = col(f"__hi{j}", "b")
            if a.lookback_us is not None:
                lo: exp.Expr = col(f"__upto_{a.lookback_us}", "b")
            elif self.flag(a) is None:
                lo = func("greatest", exp.Sub(this=hi, expression=lit(a.events)), lit(0))
            else:
                lo = self._filtered_events_lo(select, j, a, hi)
            select = select.select(exp.alias_(lo, f"__lo{j}", quoted=True))
        self.add("bounded", select)

    def _filtered_events_lo(self, select: exp.Select, j: int, a: WindowAgg,
                            hi: exp.Expr) -> exp.Expr:
        """The rank before the n-th passing event back from ``hi`` (two rank lookups)."""
        i = self.filters.index(a.where)
        at_hi, first = f"h{j}", f"p{j}"
        same_key = same_keys(self.plan.keys, at_hi, "b")
        select.join(exp.Table(this=ident("ranked"), alias=exp.TableAlias(this=ident(at_hi))),
                    on=exp.and_(*same_key, exp.EQ(this=col("__rn", at_hi),
                                                  expression=hi.copy())),
                    join_type="left", copy=False)
        passed_at_hi = exp.Coalesce(this=col(f"__c{i}", at_hi), expressions=[lit(0)])
        start = exp.Add(this=exp.Sub(this=passed_at_hi, expression=lit(a.events)),
                        expression=lit(1))
        same_key = same_keys(self.plan.keys, first, "b")
        select.join(exp.Table(this=ident("ranked"), alias=exp.TableAlias(this=ident(first))),
                    on=exp.and_(*same_key, col(f"__f{i}", first),
                                exp.EQ(this=col(f"__c{i}", first), expression=start.copy())),
                    join_type="left", copy=False)
        return exp.Case(ifs=[exp.If(this=exp.LTE(this=start, expression=lit(1)), true=lit(0))],
                        default=exp.Sub(this=col("__rn", first), expression=lit(1)))

    def aggregate(self, j: int, a: WindowAgg) -> exp.Expr:
        flag = self.flag(a)
        value = None if a.column is None else col(a.column)
        if a.kind is Kind.COUNT:
            agg: exp.Expr = exp.Count(this=exp.Star() if value is None else value)
        elif a.kind is Kind.DISTINCT:
            agg = exp.Count(this=exp.Distinct(expressions=[value]))
        elif a.kind is Kind.LAST:
            agg = func("arg_max", value, col("__rn"))  # type: ignore[arg-type]
            nonnull = exp.Not(this=exp.Is(this=value.copy(), expression=exp.null()))  # type: ignore[union-attr]
            flag_cond: exp.Expr = nonnull if flag is None else exp.and_(col(flag), nonnull)
            agg = exp.Filter(this=agg, expression=exp.Where(this=flag_cond))
            flag = None
        elif a.kind is Kind.LATEST:  # nulls included: wrapped in a struct, never null
            agg = func("arg_max", latest_struct(value), col("__rn"))  # type: ignore[arg-type]
        else:
            agg = func(AGG_SQL[a.kind], value)  # type: ignore[arg-type]
        if flag is not None:
            agg = exp.Filter(this=agg, expression=exp.Where(this=col(flag)))
        spec = exp.WindowSpec(
            kind="ROWS",
            start=exp.Paren(this=exp.Sub(this=exp.Sub(this=col("__rn"),
                                                     expression=col(f"__lo{j}")),
                                        expression=lit(1))), start_side="PRECEDING",
            end=exp.Paren(this=exp.Sub(this=col("__rn"), expression=col(f"__hi{j}"))),
            end_side="PRECEDING")
        windowed: exp.Expr = _over(agg, self.keys, self.order, spec)
        if a.kind is Kind.LATEST:
            windowed = latest_value(windowed)
        return empty_value(a.kind, windowed)

    def query(self) -> exp.Select:
        source = self.base()
        self.ranked(source)
        self.bounded()
        outputs = [exp.alias_(self.aggregate(j, a), f"__a{j}", quoted=True)
                   for j, a in enumerate(self.aggs)]
        keep = [*self.keys, exp.alias_(col("__ts"), self.plan.event_time, quoted=True),
                col("__tie"), col("__rn"), col("__is_event")]
        if self.points:
            keep.append(col("__point"))
        self.add("aggregated", exp.select(*keep, *outputs).from_(table_ref("bounded")))
        final: list[exp.Expr] = (
            [col("__point")] if self.points else
            [*[col(k) for k in self.plan.keys], col(self.plan.event_time), col("__tie")])
        for out in self.lowered.outputs:
            value: exp.Expr = col(f"__a{out.value}")
            if out.denominator is not None:
                value = ratio_sql(value, col(f"__a{out.denominator}"), out.empty)
            final.append(exp.alias_(value, out.name, quoted=True))
        query = exp.select(*final).from_(table_ref("aggregated"))
        if self.points:
            query = query.where(exp.Not(this=col("__is_event"))).order_by(col("__point"))
        else:
            query = query.order_by(*[col(k) for k in self.plan.keys], col("__rn"))
        for name, cte in self.ctes:
            query = query.with_(ident(name), as_=cte)
        return query


def _refuse_known_at(plan: ViewPlan) -> None:
    """Its frames count every event from its event time, so a known-at time would give
    wrong values: refuse it rather than ignore it."""
    if plan.known_at is not None:
        raise NotSupportedError(
            f"feature view '{plan.name}'", "the window compiler (plan/duckdb.py) does not "
            "read a known-at time: it counts each event from its event time",
            got=plan.known_at, fix="compile it with the known-at compiler "
            "(plan/duckdb_known.py: compile_known_events, compile_known_points), which "
            "handles known-at times")


def compile_events(plan: ViewPlan, table: str = "events") -> exp.Select:
    """The query giving, for every event of ``table``, its keys, event time, tie order
    (``__tie``) and every feature of ``plan`` evaluated at that event.

    Raises NotSupportedError for a plan with a known-at time (the known-at compiler's).
    """
    _refuse_known_at(plan)
    return _Compiler(plan, table).query()


def compile_points(plan: ViewPlan, table: str = "events",
                   points: str = "points") -> exp.Select:
    """The query giving every feature at each row of ``points(<keys>, __at, __point)``.

    A point at time t sees every event at or before t (ties included): point rows
    join the events' order after the events of their timestamp, and never count as
    events themselves. Rows come back as ``(__point, features...)``. Raises
    NotSupportedError for a plan with a known-at time (the known-at compiler's).
    """
    _refuse_known_at(plan)
    return _Compiler(plan, table, points).query()
