"""The per-event feature table of a view: built whole, or updated where it changed.

Windows only look back: an event's features depend on the events of its entity at or
before it. So when new records arrive, the rows that can change are exactly those of
the entities that got records, from the earliest new event time of each entity on
(the *region*). An update:

1. finds the region from the new ingest runs' records (per entity: ``__from``);
2. reads the context the region needs: those entities' events from ``__from`` minus
   the longest look-back (delay + window) on, or all their earlier events when the
   view has an event-count window;
3. computes the features of the rows in the region, the others serving as context;
4. rewrites only the event-date partitions holding region rows, each as its old rows
   outside the region plus the new ones, in one atomic commit.

A range rebuild (``start``/``end``) is the same with the region "every entity, event
time in [start, end)".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import sqlglot.expressions as exp

from confluens.duckdb_session import connect
from confluens.plan import event_features
from confluens.plan.ir import ViewPlan, lower
from confluens.sqlx import aliased, col, func, ident, lit, render, same_keys, table_ref
from confluens.stores.offline import FeatureTableStore

__all__ = ["Region", "changed_entities", "update_region"]

IN_REGION = "__in_region"  # marks the context rows whose features are recomputed


@dataclass(frozen=True)
class Region:
    """The rows to recompute: per entity from its ``__from`` on (``entities``: the
    view's keys and ``__from``), and/or event times in ``[start, end)``."""

    entities: pa.Table | None = None
    start: datetime | None = None
    end: datetime | None = None


def changed_entities(plan: ViewPlan, new_files: list[str]) -> pa.Table:
    """Each entity with records in ``new_files``, with its earliest new event time."""
    con = connect()
    try:
        con.register("new", con.read_parquet(new_files, union_by_name=True))
        keys = [col(k) for k in plan.keys]
        query = exp.select(*keys, exp.alias_(func("min", col(plan.event_time)), "__from",
                                             quoted=True)).from_(table_ref("new")).group_by(
            *[k.copy() for k in keys])
        return con.sql(render(query)).to_arrow_table()
    finally:
        con.close()


def update_region(plan: ViewPlan, region: Region, source_files: list[str],
                  store: FeatureTableStore, table: str, run_id: str) -> int:
    """Recompute the rows of ``region`` in feature table ``table``; returns their number."""
    con = connect()
    try:
        con.register("events", con.read_parquet(source_files, union_by_name=True))
        if region.entities is not None:
            con.register("region", region.entities)
        context = con.sql(render(_within(plan, region, "events", back=lower(plan).lookback_us,
                                         flag=IN_REGION))).to_arrow_table()
        fresh = event_features(plan, context, only=IN_REGION)
        if fresh.num_rows == 0:
            return 0
        con.register("fresh", fresh)
        dates = {str(d) for (d,) in con.sql(render(exp.select(
            _day(col(plan.event_time))).from_(table_ref("fresh")).distinct())).fetchall()}
        old = store.files(table, partitions=dates)
        data = fresh
        if old:
            con.register("old", con.read_parquet(old, hive_partitioning=False))
            kept = _outside(plan, region, "old")
            data = con.sql(render(exp.Union(this=kept, expression=exp.select(exp.Star()).from_(
                table_ref("fresh")), distinct=False, by_name=True))).to_arrow_table()
        store.replace_partitions(table, data, partitions=dates, run_id=run_id,
                                 partition_by=plan.event_time)
        return int(fresh.num_rows)
    finally:
        con.close()


def _day(t: exp.Expr) -> exp.Expr:
    """The UTC date of an instant: the offline store's partition."""
    return exp.cast(exp.cast(t, "TIMESTAMPTZ"), "DATE")


def _minus(when: exp.Expr, micros: int) -> exp.Expr:
    if not micros:
        return when
    return exp.Sub(this=when, expression=exp.Interval(this=lit(str(micros)),
                                                      unit=exp.var("MICROSECONDS")))


def _conditions(plan: ViewPlan, region: Region, rows: str, back: int | None) -> list[exp.Expr]:
    """What puts a row of ``rows`` (aliased) in the region, reaching ``back`` µs earlier
    (None: with no lower bound)."""
    t = col(plan.event_time, rows)
    out: list[exp.Expr] = []
    if back is not None:
        if region.entities is not None:
            out.append(exp.GTE(this=t.copy(), expression=_minus(col("__from", "g"), back)))
        if region.start is not None:
            out.append(exp.GTE(this=t.copy(), expression=_minus(lit(region.start), back)))
    if region.end is not None:
        out.append(exp.LT(this=t.copy(), expression=lit(region.end)))
    return out


def _within(plan: ViewPlan, region: Region, rows: str, *, back: int | None,
            flag: str) -> exp.Select:
    """The rows of table ``rows`` in ``region`` extended ``back`` µs earlier, with a
    boolean column ``flag`` true for those in the region itself."""
    inside = _conditions(plan, region, "r", 0)
    query = exp.select(
        exp.Column(this=exp.Star(), table=ident("r")),
        exp.alias_(exp.Coalesce(this=exp.Paren(this=exp.and_(*inside)) if inside
                                else exp.true(), expressions=[exp.false()]), flag,
                   quoted=True)).from_(aliased(rows, "r"))
    if region.entities is not None:
        query = query.join(aliased("region", "g"), on=exp.and_(*same_keys(plan.keys, "r", "g")))
    conditions = _conditions(plan, region, "r", back)
    return query.where(exp.and_(*conditions)) if conditions else query


def _outside(plan: ViewPlan, region: Region, rows: str) -> exp.Select:
    """The rows of table ``rows`` not in ``region``."""
    query = exp.select(exp.Column(this=exp.Star(), table=ident("r"))
                       ).from_(aliased(rows, "r"))
    conditions = _conditions(plan, region, "r", 0)
    if region.entities is None:
        inside = exp.and_(*conditions) if conditions else exp.true()
        return query.where(exp.Not(this=exp.Paren(this=inside)))
    on = exp.and_(*same_keys(plan.keys, "r", "g"), *conditions)
    return query.join(aliased("region", "g"), on=on, join_type="anti")
