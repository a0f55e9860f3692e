"""Compile a ViewPlan over a source with a known-at column (bitemporal), on DuckDB.

An event counts at time t only once it is known: ``known_at <= t``. Windows still
select by event time. The set of events a point sees is then not a contiguous range
of ranks, so each point is paired with the few events that can be in its windows,
and the features aggregate those pairs with one FILTER each.

**Time windows** join each point to its entity's events inside the widest window:

    FROM points p JOIN events e
      ON same keys AND e.t > p.t - max(delay + window) AND e.t <= p.t - min(delay)
         AND e.known <= p.t

**Event-count windows** ``Events(n)``, delay d, filter f: let L be the entity's worst
lateness, ``max(known - t)`` over its events (0 if none is late). An event at or
before t - L is known at t, so the n latest visible passing events at t are the n
latest known ones among the passing events of rank ``(mid - n, hi]``, where ranks
count the passing events in (time, tie) order, ``hi`` is the last one at or before
t - d and ``mid`` the last one at or before min(t - L, t - d): the n events up to
``mid`` are all known, and those after it lie in (t - L, t - d]. ``hi`` and ``mid``
come from ASOF joins on the running counts; the pairs from unnesting the rank range
and an equality join on (keys, rank). A point thus pairs with at most n events plus
the passing events of its last L - d of time: no inequality join, no unbounded
ranking. The n latest known pairs of each point are kept (``QUALIFY ROW_NUMBER``
over that bounded set).

Per-event features use the events themselves as points; a feature without delay then
also keeps the tie rule: an event sees tied events only up to itself in id order.
"""

from __future__ import annotations

import sqlglot.expressions as exp

from confluens.plan.duckdb import AGG_SQL, empty_value, latest_struct, latest_value, ratio_sql
from confluens.plan.expressions import bind
from confluens.plan.expressions.compile_sql import tree_for
from confluens.plan.ir import Kind, ViewPlan, WindowAgg, lower, require
from confluens.plan.version import VERSION, version_sql
from confluens.sqlx import aliased, col, func, ident, lit, same_keys, table_ref

__all__ = ["compile_known_events", "compile_known_points"]


def _rows_upto_current() -> exp.WindowSpec:
    return exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING",
                          end="CURRENT ROW")


def _order(*names: str, desc: bool = False) -> exp.Order:
    return exp.Order(expressions=[exp.Ordered(this=col(n), desc=desc) for n in names])


class _KnownAtCompiler:
    """One query: CTEs for the events, the points, each kind of window, then features."""

    def __init__(self, plan: ViewPlan, table: str, points: str | None) -> None:
        assert plan.known_at is not None
        require(plan, "known-at")
        self.plan = plan
        self.table = table
        self.points = points  # None: the points are the events themselves
        self.lowered = lower(plan)
        self.aggs = self.lowered.aggregations
        self.timed = [j for j, a in enumerate(self.aggs) if a.window_us is not None]
        self.counted = [j for j, a in enumerate(self.aggs) if a.events is not None]
        # one flag and one running count per distinct filter of a count window
        self.filters: list[str | None] = []
        for j in self.counted:
            if self.aggs[j].where not in self.filters:
                self.filters.append(self.aggs[j].where)
        self.ctes: list[tuple[str, exp.Select]] = []
        # the event order within equal times: the version (if any), then the tie
        self.ties = ("__tie",) if plan.version is None else (VERSION, "__tie")

    def add(self, name: str, select: exp.Select) -> None:
        self.ctes.append((name, select))

    def filter_slot(self, a: WindowAgg) -> int:
        return self.filters.index(a.where)

    # -- events and points -------------------------------------------------------------

    def events(self) -> None:
        p = self.plan
        assert p.known_at is not None
        self.add("ev_0", exp.select(
            exp.Star(), exp.alias_(func("epoch_us", col(p.event_time)), "__t", quoted=True),
            exp.alias_(func("epoch_us", col(p.known_at)), "__k", quoted=True),
            exp.alias_(col(p.tie), "__tie", quoted=True),
            *([] if p.version is None else [exp.alias_(version_sql(p), VERSION, quoted=True)])
        ).from_(table_ref(self.table)))
        previous = "ev_0"
        for i, (name, typed) in enumerate(bind(p).derive, start=1):
            self.add(f"ev_{i}", exp.select(exp.Star(), exp.alias_(
                tree_for(typed), name, quoted=True))
                .from_(table_ref(previous)))
            previous = f"ev_{i}"
        if self.filters:
            flags = [exp.alias_(exp.true() if text is None else exp.Coalesce(
                this=exp.Paren(this=tree_for(bind(p).filter(text))),
                expressions=[exp.false()]), f"__f{i}", quoted=True)
                for i, text in enumerate(self.filters)]
            self.add("ev_flags", exp.select(exp.Star(), *flags).from_(table_ref(previous)))
            # __c<i>: how many events up to this one (in time and tie order) pass filter i
            counts = [exp.alias_(exp.Window(
                this=exp.Filter(this=exp.Count(this=exp.Star()),
                                expression=exp.Where(this=col(f"__f{i}"))),
                partition_by=[col(k) for k in p.keys], order=_order("__t", *self.ties),
                spec=_rows_upto_current(), over="OVER"), f"__c{i}", quoted=True)
                for i in range(len(self.filters))]
            self.add("ev", exp.select(exp.Star(), *counts).from_(table_ref("ev_flags")))
        else:
            self.add("ev", exp.select(exp.Star()).from_(table_ref(previous)))

    def lateness(self) -> None:
        """Per entity, the worst lateness ``max(known - t)``, at least 0."""
        keys = [col(k) for k in self.plan.keys]
        late = func("greatest", func("max", exp.Sub(this=col("__k"), expression=col("__t"))),
                    lit(0))
        self.add("lateness", exp.select(*keys, exp.alias_(late, "__late", quoted=True))
                 .from_(table_ref("ev")).group_by(*[k.copy() for k in keys]))

    def at_points(self) -> None:
        p = self.plan
        late = exp.alias_(exp.Coalesce(this=col("__late", "l"), expressions=[lit(0)]),
                          "__late", quoted=True)
        if self.points is not None:
            select = exp.select(exp.Column(this=exp.Star(), table=ident("p")), exp.alias_(
                func("epoch_us", col("__at", "p")), "__t", quoted=True)).from_(
                aliased(self.points, "p"))
        else:
            order = exp.Order(expressions=[exp.Ordered(this=col(n, "p"))
                                           for n in (*p.keys, "__t", *self.ties)])
            select = exp.select(
                *[col(k, "p") for k in p.keys],
                exp.alias_(col(p.event_time, "p"), "__at", quoted=True),
                col("__t", "p"), *[col(n, "p") for n in self.ties],
                *[col(f"__c{i}", "p") for i in range(len(self.filters))],
                exp.alias_(exp.Window(this=exp.RowNumber(), order=order, over="OVER"),
                           "__point", quoted=True)).from_(aliased("ev", "p"))
        if self.counted:
            select = select.select(late).join(aliased("lateness", "l"), on=exp.and_(
                *same_keys(p.keys, "l", "p")), join_type="left")
        self.add("pt", select)

    # -- time windows ------------------------------------------------------------------

    def by_time(self) -> None:
        aggs = [self.aggs[j] for j in self.timed]
        widest = max(a.lookback_us or 0 for a in aggs)
        nearest = min(a.delay_us for a in aggs)
        pt, ev = col("__t", "p"), col("__t", "e")
        on = exp.and_(
            *same_keys(self.plan.keys, "e", "p"),
            exp.GT(this=ev, expression=exp.Sub(this=pt, expression=lit(widest))),
            exp.LTE(this=ev.copy(), expression=exp.Sub(this=pt.copy(),
                                                       expression=lit(nearest))),
            exp.LTE(this=col("__k", "e"), expression=pt.copy()))
        outputs = [exp.alias_(_time_aggregate(self.plan, self.aggs[j], self.points is None,
                                                  self.ties),
                              f"__a{j}", quoted=True) for j in self.timed]
        self.add("by_time", exp.select(col("__point", "p"), *outputs)
                 .from_(aliased("pt", "p")).join(aliased("ev", "e"), on=on)
                 .group_by(col("__point", "p")))

    # -- event-count windows -----------------------------------------------------------

    def by_count(self) -> None:
        keys = self.plan.keys
        # the running counts at the end of each timestamp, for the ASOF lookups
        self.add("steps", exp.select(
            *[col(k) for k in keys], col("__t"),
            *[exp.alias_(func("max", col(f"__c{i}")), f"__c{i}", quoted=True)
              for i in range(len(self.filters))])
            .from_(table_ref("ev")).group_by(*[col(k) for k in keys], col("__t")))
        # how many events pass each filter up to t - delay (hi) and up to t - L (late)
        bounds = exp.select(col("__point", "p"), *[col(k, "p") for k in keys],
                            col("__t", "p")).from_(aliased("pt", "p"))
        lookups: dict[int | None, str] = {}  # delay (None: the lateness L) -> alias

        def lookup(delay: int | None) -> str:
            if delay not in lookups:
                alias = "s_late" if delay is None else f"s{len(lookups)}"
                upto = col("__late", "p") if delay is None else lit(delay)
                bounds.join(aliased("steps", alias), on=exp.and_(
                    *same_keys(keys, alias, "p"), exp.LTE(
                        this=col("__t", alias),
                        expression=exp.Sub(this=col("__t", "p"), expression=upto))),
                    join_type="asof left", copy=False)
                lookups[delay] = alias
            return lookups[delay]

        def passed(alias: str, i: int) -> exp.Expr:
            return exp.Coalesce(this=col(f"__c{i}", alias), expressions=[lit(0)])

        for j in self.counted:
            a, i = self.aggs[j], self.filter_slot(self.aggs[j])
            assert a.events is not None
            if self.points is None and a.delay_us == 0:
                hi: exp.Expr = col(f"__c{i}", "p")  # the event itself, by the tie rule
            else:
                hi = passed(lookup(a.delay_us), i)
            mid = exp.Case(ifs=[exp.If(
                this=exp.GT(this=col("__late", "p"), expression=lit(a.delay_us)),
                true=passed(lookup(None), i))], default=hi.copy())
            lo = func("greatest", exp.Sub(this=mid, expression=lit(a.events)), lit(0))
            bounds.select(exp.alias_(hi, f"__hi{j}", quoted=True),
                          exp.alias_(lo, f"__lo{j}", quoted=True), copy=False)
        self.add("bounds", bounds)
        # per count window, the n latest known passing events of rank (lo, hi]
        branches: list[exp.Select] = []
        for j in self.counted:
            a, i = self.aggs[j], self.filter_slot(self.aggs[j])
            ranks = exp.Unnest(expressions=[func(
                "range", exp.Add(this=col(f"__lo{j}"), expression=lit(1)),
                exp.Add(this=col(f"__hi{j}"), expression=lit(1)))])
            wanted = exp.select(col("__point"), *[col(k) for k in keys],
                                exp.alias_(col("__t"), "__at_t", quoted=True),
                                exp.alias_(ranks, "__r", quoted=True)).from_(
                table_ref("bounds"))
            latest = exp.Window(this=exp.RowNumber(), partition_by=[col("__point", "r")],
                                order=exp.Order(expressions=[exp.Ordered(
                                    this=col(f"__c{i}", "e"), desc=True)]), over="OVER")
            branches.append(
                exp.select(col("__point", "r"), exp.alias_(lit(j), "__j", quoted=True),
                           exp.Column(this=exp.Star(), table=ident("e")))
                .from_(exp.Subquery(this=wanted, alias=exp.TableAlias(this=ident("r"))))
                .join(aliased("ev", "e"), on=exp.and_(
                    *same_keys(keys, "e", "r"),
                    exp.EQ(this=col(f"__c{i}", "e"), expression=col("__r", "r")),
                    col(f"__f{i}", "e"),
                    exp.LTE(this=col("__k", "e"), expression=col("__at_t", "r"))))
                .qualify(exp.LTE(this=latest, expression=lit(a.events))))
        pairs: exp.Select | exp.Union = branches[0]
        for branch in branches[1:]:
            pairs = exp.Union(this=pairs, expression=branch, distinct=False)
        self.add("pairs", pairs)  # type: ignore[arg-type]
        outputs = [exp.alias_(_count_aggregate(self.aggs[j], j, self.ties), f"__a{j}",
                              quoted=True)
                   for j in self.counted]
        self.add("by_count", exp.select(col("__point"), *outputs).from_(table_ref("pairs"))
                 .group_by(col("__point")))

    # -- the query ---------------------------------------------------------------------

    def query(self) -> exp.Select:
        self.events()
        if self.counted:
            self.lateness()
        self.at_points()
        if self.timed:
            self.by_time()
        if self.counted:
            self.by_count()
        value = [empty_value(a.kind, col(f"__a{j}", "t" if j in self.timed else "c"))
                 for j, a in enumerate(self.aggs)]
        p = self.plan
        final: list[exp.Expr] = (
            [col("__point", "p")] if self.points is not None else
            [*[col(k, "p") for k in p.keys],
             exp.alias_(col("__at", "p"), p.event_time, quoted=True), col("__tie", "p")])
        for out in self.lowered.outputs:
            found = value[out.value]
            if out.denominator is not None:
                found = ratio_sql(found, value[out.denominator], out.empty)
            final.append(exp.alias_(found, out.name, quoted=True))
        query = exp.select(*final).from_(aliased("pt", "p"))
        for name, alias in (("by_time", "t"), ("by_count", "c")):
            if any(n == name for n, _ in self.ctes):
                query = query.join(aliased(name, alias), on=exp.EQ(
                    this=col("__point", alias), expression=col("__point", "p")),
                    join_type="left")
        query = query.order_by(col("__point", "p"))
        for name, cte in self.ctes:
            query = query.with_(ident(name), as_=cte)
        return query


def _value_order(table: str, ties: tuple[str, ...]) -> exp.Expr:
    """(time, version, tie) as a struct: ``arg_max`` over it gives the latest event's
    value."""
    return exp.Struct(expressions=[
        exp.PropertyEQ(this=exp.to_identifier(n.strip("_")), expression=col(n, table))
        for n in ("__t", *ties)])


def _aggregate(a: WindowAgg, conds: list[exp.Expr], table: str,
               ties: tuple[str, ...]) -> exp.Expr:
    value = None if a.column is None else col(a.column, table)
    if a.kind is Kind.COUNT:
        agg: exp.Expr = exp.Count(this=col("__t", table) if value is None else value)
    elif a.kind is Kind.DISTINCT:
        agg = exp.Count(this=exp.Distinct(expressions=[value]))
    elif a.kind is Kind.LAST:
        assert value is not None
        agg = func("arg_max", value, _value_order(table, ties))
        conds.append(exp.Not(this=exp.Is(this=value.copy(), expression=exp.null())))
    elif a.kind is Kind.LATEST:  # nulls included: wrapped in a struct, never null
        assert value is not None
        found = func("arg_max", latest_struct(value), _value_order(table, ties))
        return latest_value(exp.Filter(this=found, expression=exp.Where(
            this=exp.and_(*conds))))
    else:
        agg = func(AGG_SQL[a.kind], value)  # type: ignore[arg-type]
    return exp.Filter(this=agg, expression=exp.Where(this=exp.and_(*conds)))


def _up_to_itself(ties: tuple[str, ...]) -> exp.Expr:
    """An event ``e`` tied in time with event ``p`` comes at or before it: its
    (version, tie) is at most ``p``'s."""
    (*versions, tie) = ties
    own: exp.Expr = exp.LTE(this=col(tie, "e"), expression=col(tie, "p"))
    for v in versions:
        own = exp.or_(exp.LT(this=col(v, "e"), expression=col(v, "p")), exp.and_(
            exp.EQ(this=col(v, "e"), expression=col(v, "p")), own))
    return own


def _time_aggregate(plan: ViewPlan, a: WindowAgg, per_event: bool,
                    ties: tuple[str, ...]) -> exp.Expr:
    pt, ev = col("__t", "p"), col("__t", "e")
    assert a.lookback_us is not None
    conds: list[exp.Expr] = [
        exp.GT(this=ev, expression=exp.Sub(this=pt, expression=lit(a.lookback_us))),
        exp.LTE(this=ev.copy(), expression=exp.Sub(this=pt.copy(), expression=lit(a.delay_us)))]
    if per_event and a.delay_us == 0:
        conds.append(exp.or_(exp.LT(this=ev.copy(), expression=pt.copy()),
                             _up_to_itself(ties)))
    if a.where is not None:
        conds.append(exp.Coalesce(this=exp.Paren(this=_qualified(plan, a.where)),
                                  expressions=[exp.false()]))
    return _aggregate(a, conds, "e", ties)


def _count_aggregate(a: WindowAgg, j: int, ties: tuple[str, ...]) -> exp.Expr:
    """Over the chosen pairs: those of count window ``j`` (already filtered and known)."""
    return _aggregate(a, [exp.EQ(this=col("__j", "pairs"), expression=lit(j))], "pairs",
                      ties)


def _qualified(plan: ViewPlan, text: str) -> exp.Expr:
    """A filter expression with its columns read from the events side of the join."""
    tree = tree_for(bind(plan).filter(text))

    def qualify(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table:
            return col(node.name, "e")
        return node

    return tree.transform(qualify)


def compile_known_points(plan: ViewPlan, table: str = "events",
                         points: str = "points") -> exp.Select:
    """Features at each row of ``points(<keys>, __at, __point)``, by ``__point``.

    A point at t sees the events at or before t - delay (ties included) known at t.
    """
    return _KnownAtCompiler(plan, table, points).query()


def compile_known_events(plan: ViewPlan, table: str = "events") -> exp.Select:
    """Every feature at every event, each event seeing what was known at its own time.

    Rows: keys, event time, ``__tie`` and the features, in key, time and tie order.
    Without delay an event sees the events tied with it up to itself in tie order.
    """
    return _KnownAtCompiler(plan, table, None).query()
