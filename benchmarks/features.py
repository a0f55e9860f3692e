"""Backfill of the handbook's 15 baseline features, against hand-written baselines.

Features (Le Borgne et al., Chapter 3): the amount, weekend and night flags; per
customer, count and mean amount over 1, 7 and 30 days; per terminal, with a 7-day
delay, count and fraud rate over 1, 7 and 30 days. Every implementation computes all
of them for every transaction, in the same run:

- confluens: two FeatureViews through `event_features` (engine auto: the lookup
  engine, exact windows), and the window compiler (`engine="window"`) for reference.
- duckdb-sql: hand-written DuckDB SQL with RANGE frames.
- polars: hand-written `rolling(group_by=)`.
- pandas groupby-rolling: vectorised per window.
- pandas groupby-apply: the handbook's own shape, a Python function per customer and
  per terminal (its ratio to confluens is the "at least 20x" figure).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.harness import Figure, median_seconds
from confluens.core import Count, Entity, FeatureView, Mean, Ratio, Source, Sum
from confluens.plan import event_features, plan_view

__all__ = ["run"]

DAYS = (1, 7, 30)
DELAY = 7
TX = Source("transactions", {"transaction_id": "int64", "tx_datetime": "timestamp",
                             "customer_id": "string", "terminal_id": "string",
                             "tx_amount": "float64", "tx_fraud": "int64"},
            "tx_datetime", id="transaction_id")
VIEWS = [
    FeatureView("customer", Entity("customer", ["customer_id"]), TX,
                [f for n in DAYS for f in (Count(window=f"{n}d"),
                                           Mean("tx_amount", window=f"{n}d"))],
                derive={"weekend": "CAST(isodow(tx_datetime) >= 6 AS INTEGER)",
                        "night": "CAST(hour(tx_datetime) <= 6 AS INTEGER)"}),
    FeatureView("terminal", Entity("terminal", ["terminal_id"]), TX,
                [f for n in DAYS for f in (
                    Count(window=f"{n}d", delay=f"{DELAY}d"),
                    Ratio(Sum("tx_fraud", window=f"{n}d", delay=f"{DELAY}d"),
                          Count(window=f"{n}d", delay=f"{DELAY}d"), empty=0.0,
                          name=f"risk_{n}d"))]),
]


def _events(shared: Path | None) -> tuple[pa.Table, str]:
    path = shared / "fraud" / "transactions_2018-04_to_08.parquet" if shared else None
    if path is not None and path.exists():
        raw = pq.read_table(path)
        label = f"shared fraud data ({raw.num_rows:,} rows)"
        return pa.table({
            "transaction_id": raw["TRANSACTION_ID"],
            "tx_datetime": raw["TX_DATETIME"].cast(pa.timestamp("us")).cast(
                pa.timestamp("us", tz="UTC")),
            "customer_id": raw["CUSTOMER_ID"].cast(pa.string()),
            "terminal_id": raw["TERMINAL_ID"].cast(pa.string()),
            "tx_amount": raw["TX_AMOUNT"], "tx_fraud": raw["TX_FRAUD"].cast(pa.int64())}), label
    from confluens.datagen import FraudSimulation, generate_transactions

    table = generate_transactions(FraudSimulation(n_days=153))
    return table.select(["transaction_id", "tx_datetime", "customer_id", "terminal_id",
                         "tx_amount", "tx_fraud"]), "generated fraud data (153 days)"


def confluens_backfill(events: pa.Table) -> None:
    for view in VIEWS:
        event_features(plan_view(view), events)


_DUCKDB_SQL = """
SELECT transaction_id, tx_amount,
  CAST(isodow(tx_datetime) >= 6 AS INTEGER) AS weekend,
  CAST(hour(tx_datetime) <= 6 AS INTEGER) AS night,
  {customer},
  {terminal}
FROM events
"""


def duckdb_sql(events: pa.Table) -> None:
    customer = ", ".join(
        f"count(*) OVER (PARTITION BY customer_id ORDER BY tx_datetime RANGE BETWEEN "
        f"INTERVAL {n} DAYS PRECEDING AND CURRENT ROW) AS c{n}, "
        f"avg(tx_amount) OVER (PARTITION BY customer_id ORDER BY tx_datetime RANGE BETWEEN "
        f"INTERVAL {n} DAYS PRECEDING AND CURRENT ROW) AS m{n}" for n in DAYS)
    terminal = ", ".join(
        f"count(*) OVER (PARTITION BY terminal_id ORDER BY tx_datetime RANGE BETWEEN "
        f"INTERVAL {DELAY + n} DAYS PRECEDING AND INTERVAL {DELAY} DAYS PRECEDING) AS t{n}, "
        f"sum(tx_fraud) OVER (PARTITION BY terminal_id ORDER BY tx_datetime RANGE BETWEEN "
        f"INTERVAL {DELAY + n} DAYS PRECEDING AND INTERVAL {DELAY} DAYS PRECEDING) AS f{n}"
        for n in DAYS)
    con = duckdb.connect()
    con.register("events", events)
    # a baseline written by hand, as a user would: the one place SQL is pasted together
    con.sql(_DUCKDB_SQL.format(customer=customer, terminal=terminal)).to_arrow_table()
    con.close()


def polars_rolling(events: pa.Table) -> object:
    """All features in one parallel pass: rolling_*_by expressions over each group."""
    import polars as pl

    df = pl.from_arrow(events)
    assert isinstance(df, pl.DataFrame)
    df = df.sort(["tx_datetime", "transaction_id"]).with_columns(pl.lit(1).alias("one"))

    def rolling(column: str, how: str, days: int, by: str) -> pl.Expr:
        expr = getattr(pl.col(column), f"rolling_{how}_by")("tx_datetime",
                                                           window_size=f"{days}d")
        return expr.over(by)

    features = [
        (pl.col("tx_datetime").dt.weekday() >= 6).cast(pl.Int32).alias("weekend"),
        (pl.col("tx_datetime").dt.hour() <= 6).cast(pl.Int32).alias("night")]
    for n in DAYS:
        features += [rolling("one", "sum", n, "customer_id").alias(f"c{n}"),
                     rolling("tx_amount", "mean", n, "customer_id").alias(f"m{n}")]
        count = (rolling("one", "sum", DELAY + n, "terminal_id")
                 - rolling("one", "sum", DELAY, "terminal_id"))
        frauds = (rolling("tx_fraud", "sum", DELAY + n, "terminal_id")
                  - rolling("tx_fraud", "sum", DELAY, "terminal_id"))
        features += [count.alias(f"t{n}"),
                     pl.when(count > 0).then(frauds / count).otherwise(0.0).alias(f"r{n}")]
    return df.with_columns(features)


def pandas_groupby_apply(events: pa.Table) -> None:
    """The handbook's own shape (Chapter 3): a Python function per customer and per
    terminal through ``groupby().apply``, each rolling its windows over a time index."""
    import numpy as np
    import pandas as pd

    df = events.to_pandas().sort_values(["tx_datetime", "transaction_id"])
    df["weekend"] = (df["tx_datetime"].dt.weekday >= 5).astype(int)
    df["night"] = (df["tx_datetime"].dt.hour <= 6).astype(int)

    def customer(group: pd.DataFrame) -> pd.DataFrame:
        timed = group.set_index("tx_datetime")
        out = pd.DataFrame(index=group.index)
        for n in DAYS:
            total = timed["tx_amount"].rolling(f"{n}D").sum().to_numpy()
            count = timed["tx_amount"].rolling(f"{n}D").count().to_numpy()
            out[f"c{n}"], out[f"m{n}"] = count, total / count
        return out

    def terminal(group: pd.DataFrame) -> pd.DataFrame:
        timed = group.set_index("tx_datetime")
        out = pd.DataFrame(index=group.index)
        for n in DAYS:
            near = timed["tx_fraud"].rolling(f"{DELAY}D")
            far = timed["tx_fraud"].rolling(f"{DELAY + n}D")
            count = far.count().to_numpy() - near.count().to_numpy()
            frauds = far.sum().to_numpy() - near.sum().to_numpy()
            out[f"t{n}"] = count
            out[f"r{n}"] = np.divide(frauds, count, out=np.zeros_like(frauds), where=count > 0)
        return out

    df.groupby("customer_id", group_keys=False)[["tx_datetime", "tx_amount"]].apply(customer)
    df.groupby("terminal_id", group_keys=False)[["tx_datetime", "tx_fraud"]].apply(terminal)


def pandas_groupby_rolling(events: pa.Table) -> None:
    df = events.to_pandas().sort_values(["tx_datetime", "transaction_id"])
    df["weekend"] = (df["tx_datetime"].dt.weekday >= 5).astype(int)
    df["night"] = (df["tx_datetime"].dt.hour <= 6).astype(int)
    indexed = df.set_index("tx_datetime")
    for n in DAYS:
        rolled = indexed.groupby("customer_id")["tx_amount"].rolling(f"{n}D")
        rolled.count()
        rolled.mean()
        for days in (DELAY, DELAY + n):
            terminal = indexed.groupby("terminal_id")["tx_fraud"].rolling(f"{days}D")
            terminal.count()
            terminal.sum()


def run(shared: Path | None) -> tuple[str, list[Figure]]:
    events, label = _events(shared)
    rows = events.num_rows
    fastest = "polars"
    return label, [
        Figure("features", "confluens backfill (15 features)",
               median_seconds(lambda: confluens_backfill(events)), rows, fastest),
        Figure("features", "duckdb-sql", median_seconds(lambda: duckdb_sql(events)), rows,
               fastest),
        Figure("features", "polars", median_seconds(lambda: polars_rolling(events)), rows),
        Figure("features", "pandas groupby-rolling",
               median_seconds(lambda: pandas_groupby_rolling(events), repeat=1), rows, fastest),
        Figure("features", "pandas groupby-apply (the handbook's shape)",
               median_seconds(lambda: pandas_groupby_apply(events), repeat=1), rows,
               "confluens backfill (15 features)"),
    ]
