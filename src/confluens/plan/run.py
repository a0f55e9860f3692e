"""Run a ViewPlan on DuckDB over Arrow data or stored Parquet files."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from confluens.plan.duckdb import compile_events, compile_points
from confluens.plan.duckdb_known import compile_known_events, compile_known_points
from confluens.plan.ir import ViewPlan
from confluens.sqlx import render

__all__ = ["event_features", "point_features"]


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
        return con.sql(render(compile_known_events(plan, "events"))).to_arrow_table()
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
