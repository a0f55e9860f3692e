"""Run a ViewPlan on DuckDB over Arrow data or stored Parquet files."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from confluens.plan.duckdb import compile_events
from confluens.plan.ir import ViewPlan
from confluens.sqlx import render

__all__ = ["event_features"]


def event_features(plan: ViewPlan, events: pa.Table | list[str]) -> pa.Table:
    """Every feature of ``plan`` at every event of ``events`` (a table or Parquet files).

    Rows come ordered by entity key, then event time and tie order.
    """
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        if isinstance(events, pa.Table):
            con.register("events", events)
        elif events:
            con.register("events", con.read_parquet(events, union_by_name=True))
        else:
            raise ValueError("no stored events")
        return con.sql(render(compile_events(plan, "events"))).to_arrow_table()
    finally:
        con.close()
