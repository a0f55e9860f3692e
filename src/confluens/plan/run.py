"""Run a ViewPlan on DuckDB over Arrow data or stored Parquet files."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from confluens.plan.duckdb import compile_events, compile_points
from confluens.plan.duckdb_known import compile_known_events, compile_known_points
from confluens.plan.duckdb_prefix import INVERTIBLE, compile_prefix_points
from confluens.plan.ir import RatioOf, ViewPlan
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
        if plan.known_at is not None:
            return con.sql(render(compile_known_points(plan, "events", "points"))
                           ).to_arrow_table()
        return _points_by_two_paths(con, plan, points.num_rows)
    finally:
        con.close()


def _points_by_two_paths(con: duckdb.DuckDBPyConnection, plan: ViewPlan, n: int) -> pa.Table:
    """Count/sum/mean by prefix sums and ASOF lookups; the rest by exact frames."""
    values: dict[str, pa.ChunkedArray] = {}
    if any(a.kind in INVERTIBLE for a in plan.aggregations):
        table = con.sql(render(compile_prefix_points(plan, "events", "points"))).to_arrow_table()
        values.update({name: table.column(name) for name in table.column_names})
    rest = tuple(a for a in plan.aggregations if a.kind not in INVERTIBLE)
    if rest:
        table = con.sql(render(compile_points(replace(plan, features=rest), "events", "points"))
                        ).to_arrow_table()
        values.update({name: table.column(name) for name in table.column_names})
    out: dict[str, pa.ChunkedArray | pa.Array] = {
        "__point": values.get("__point", pa.array(range(n), pa.int64()))}
    for f in plan.features:
        if isinstance(f, RatioOf):
            num = pc.cast(values[f.numerator.output], pa.float64())
            den = pc.cast(values[f.denominator.output], pa.float64())
            empty = pa.scalar(f.empty, pa.float64())
            out[f.output] = pc.if_else(pc.fill_null(pc.equal(den, 0.0), True), empty,
                                       pc.divide(num, den))
        else:
            out[f.output] = values[f.output]
    return pa.table(out)
