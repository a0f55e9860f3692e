"""Run a ViewPlan on DuckDB over Arrow data or stored Parquet files."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import sqlglot.expressions as exp

from confluens.plan.duckdb import compile_events, compile_points
from confluens.plan.duckdb_known import compile_known_points
from confluens.plan.ir import ViewPlan
from confluens.sqlx import col, render, table_ref

__all__ = ["event_features", "point_features"]


def _q(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _register(con: duckdb.DuckDBPyConnection, events: pa.Table | list[str]) -> None:
    con.execute("SET TimeZone = 'UTC'")
    if isinstance(events, pa.Table):
        con.register("events", events)
    elif events:
        con.register("events", con.read_parquet(events, union_by_name=True))
    else:
        raise ValueError("no stored events")


def event_features(plan: ViewPlan, events: pa.Table | list[str]) -> pa.Table:
    """Every feature of ``plan`` at every event of ``events`` (a table or Parquet files).

    Rows come ordered by entity key, then event time and tie order.
    """
    con = duckdb.connect()
    try:
        _register(con, events)
        if plan.known_at is None:
            return con.sql(render(compile_events(plan, "events"))).to_arrow_table()
        # bitemporal: each event is a point that sees what was known at its own time
        order = exp.select(
            *[col(k) for k in plan.keys], exp.alias_(col(plan.event_time), "__at", quoted=True),
            exp.alias_(col(plan.tie), "__tie", quoted=True),
            exp.alias_(exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[
                exp.Ordered(this=col(k)) for k in (*plan.keys, plan.event_time, plan.tie)]),
                over="OVER"), "__point", quoted=True)).from_(table_ref("events"))
        con.sql(render(order)).create("points")
        features = compile_known_points(plan, "events", "points", per_event=True)
        query = exp.select(*[col(k, "p") for k in plan.keys],
                           exp.alias_(col("__at", "p"), plan.event_time, quoted=True),
                           col("__tie", "p"), exp.Column(this=exp.Star(), table=_q("f")))
        query = query.from_(exp.Table(this=_q("points"), alias=exp.TableAlias(this=_q("p"))))
        query = query.join(exp.Subquery(this=features,
                                        alias=exp.TableAlias(this=_q("f"))),
                           on=exp.EQ(this=col("__point", "f"), expression=col("__point", "p")))
        query = query.order_by(col("__point", "p"))
        table = con.sql(render(query)).to_arrow_table()
        return table.drop_columns(["__point"])
    finally:
        con.close()


def point_features(plan: ViewPlan, events: pa.Table | list[str], points: pa.Table) -> pa.Table:
    """Every feature of ``plan`` at each point ``(<keys>, __at, __point)``, by ``__point``."""
    con = duckdb.connect()
    try:
        _register(con, events)
        con.register("points", points)
        compiled = (compile_points(plan, "events", "points") if plan.known_at is None
                    else compile_known_points(plan, "events", "points"))
        return con.sql(render(compiled)).to_arrow_table()
    finally:
        con.close()
