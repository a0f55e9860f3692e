"""Expressions: the Python evaluator (per micro-batch) against DuckDB on the same tree.

Over one Arrow batch of 1M synthetic transactions, each expression is evaluated by
``plan/expressions/evaluate_python.evaluate`` and by DuckDB running the SQL compiled
from the same tree (registered Arrow table in, Arrow column out), interleaved; each
figure is the median wall time of its runs. The expressions are the fraud template's
derived columns and typical filters. No target: the stream processor evaluates
micro-batches far smaller than this; the figure shows the vectorised evaluator's cost.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from benchmarks.harness import Figure, interleaved
from confluens.duckdb_session import connect
from confluens.plan.expressions import typed_expression
from confluens.plan.expressions.compile_sql import sql
from confluens.plan.expressions.evaluate_python import evaluate

__all__ = ["run"]

ROWS = 1_000_000
REPEAT = 5
EXPRESSIONS = {
    "weekend flag": "CAST(isodow(tx_datetime) >= 6 AS INTEGER)",
    "night flag": "CAST(hour(tx_datetime) <= 6 AS INTEGER)",
    "filter": "tx_amount > 200 AND terminal_id <> 'x'",
    "guarded ratio": "CASE WHEN n <> 0 THEN tx_amount / n ELSE 0.0 END",
}
TYPES = {"tx_datetime": "timestamp", "tx_amount": "float64", "terminal_id": "string",
         "n": "int64"}


def _batch() -> pa.Table:
    rng = np.random.default_rng(7)
    start = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1e6)
    return pa.table({
        "tx_datetime": pa.array(start + rng.integers(0, 180 * 86_400_000_000, ROWS),
                                pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "tx_amount": rng.gamma(2.0, 50.0, ROWS),
        "terminal_id": pa.array(rng.integers(0, 10_000, ROWS).astype(str)),
        "n": rng.integers(-3, 4, ROWS),
    })


def run(shared: Path | None) -> tuple[str, list[Figure]]:
    batch = _batch()
    columns = dict(zip(batch.column_names, batch.columns, strict=True))
    con = connect()
    con.register("events", batch)
    figures: list[Figure] = []
    for label, text in EXPRESSIONS.items():
        typed = typed_expression(text, TYPES, where=label)
        query = f"SELECT {sql(typed, 'duckdb')} FROM events"  # benchmark only: our own SQL
        times = interleaved({
            "python": lambda t=typed: evaluate(t, columns, ROWS),
            "duckdb": lambda q=query: con.sql(q).to_arrow_table(),
        }, repeat=REPEAT)
        duck = f"{label}: DuckDB"
        figures.append(Figure("expressions", duck, statistics.median(times["duckdb"]), ROWS,
                              note=text))
        figures.append(Figure("expressions", f"{label}: Python evaluator",
                              statistics.median(times["python"]), ROWS, baseline=duck))
    con.close()
    return f"{ROWS:,} rows, one batch", figures
