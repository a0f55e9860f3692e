"""Snapshot features (the latest row within a TTL) at spine points, against DuckDB ASOF.

Synthetic profile updates: 1,000,000 rows over 100,000 customers and 90 days, many
sharing an event time, with a ``created`` version column; 500,000 spine points.

- confluens lookup / window: a two-column ``Snapshot`` (30-day TTL, Feast's inclusive
  edge) on a versioned source, through ``point_features`` on each engine.
- confluens unversioned: the same snapshot on a source without ``version=``: what the
  version order costs.
- duckdb-asof: a hand-written ``ASOF LEFT JOIN`` on the event time alone, with the TTL
  as a filter: the speed bar. It breaks ties between equal event times arbitrarily,
  which is the difference the version column exists for.

The four run interleaved (A B C D, A B C D, ...); each figure is the median of five
rounds, with its ratio to each form it names.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from benchmarks.harness import Figure, interleaved
from confluens.core import Entity, Snapshot, Source
from confluens.plan import plan_view, point_features

__all__ = ["run"]

ROWS, CUSTOMERS, POINTS = 1_000_000, 100_000, 500_000
SCHEMA = {"id": "int64", "ts": "timestamp", "customer": "int64", "tier": "int64",
          "credit": "float64", "created": "timestamp"}
CUSTOMER = Entity("customer", ["customer"])
VERSIONED = Snapshot("profile", CUSTOMER, Source("profiles", SCHEMA, "ts", id="id",
                                                 version="created"),
                     ["tier", "credit"], ttl="30d")
PLAIN = Snapshot("profile", CUSTOMER, Source("profiles", SCHEMA, "ts", id="id"),
                 ["tier", "credit"], ttl="30d")
ASOF = """
SELECT p.__point, CASE WHEN e.ts >= p.__at - INTERVAL 30 DAY THEN e.tier END AS tier,
       CASE WHEN e.ts >= p.__at - INTERVAL 30 DAY THEN e.credit END AS credit
FROM points p ASOF LEFT JOIN events e ON p.customer = e.customer AND p.__at >= e.ts
ORDER BY p.__point
"""


def _inputs() -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(7)
    start = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000
    hour = 3_600 * 1_000_000
    ts = start + rng.integers(0, 90 * 24, ROWS) * hour  # hourly: many equal times
    created = ts + rng.integers(0, hour, ROWS)
    stamp = pa.timestamp("us", tz="UTC")
    events = pa.table({
        "id": pa.array(np.arange(ROWS)), "ts": pa.array(ts, stamp),
        "customer": pa.array(rng.integers(0, CUSTOMERS, ROWS)),
        "tier": pa.array(rng.integers(0, 4, ROWS)),
        "credit": pa.array(rng.random(ROWS) * 1000), "created": pa.array(created, stamp)})
    points = pa.table({
        "customer": pa.array(rng.integers(0, CUSTOMERS, POINTS)),
        "__at": pa.array(start + rng.integers(0, 120 * 24 * 3600, POINTS) * 1_000_000, stamp),
        "__point": pa.array(np.arange(POINTS))})
    return events, points


def run(shared: Path | None) -> tuple[str, list[Figure]]:
    events, points = _inputs()
    versioned, plain = plan_view(VERSIONED), plan_view(PLAIN)

    def asof() -> None:
        con = duckdb.connect()
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.register("events", events)
            con.register("points", points)
            con.sql(ASOF).to_arrow_table()
        finally:
            con.close()

    asof_name, lookup = "duckdb-asof (ties arbitrary)", "confluens lookup"
    cases = [
        (asof_name, asof, None),
        (lookup, lambda: point_features(versioned, events, points, "lookup"),
         (asof_name, "confluens window")),
        ("confluens lookup unversioned",
         lambda: point_features(plain, events, points, "lookup"), (lookup, asof_name)),
        ("confluens window", lambda: point_features(versioned, events, points, "window"),
         (lookup, asof_name)),
    ]
    times = interleaved({name: fn for name, fn, _ in cases}, repeat=5)
    figures = [Figure("snapshot", name, statistics.median(times[name]), POINTS, baseline,
                      note=f"median of {len(times[name])} interleaved")
               for name, _, baseline in cases]
    return (f"{ROWS:,} versioned profile rows, {CUSTOMERS:,} customers, {POINTS:,} points",
            figures)
