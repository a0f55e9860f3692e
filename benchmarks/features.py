"""Backfill of the handbook's 12 window features on the user's path, against the
fastest baselines, interleaved in one run.

Features (Le Borgne et al., Chapter 3; ``benchmarks/fraud_definitions.py``): per
customer, count and mean amount over 1, 7 and 30 days; per terminal, with a 7-day
delay, count and fraud ratio over 1, 7 and 30 days. Data: the shared fraud
transactions, ingested once into a project under ``.bench/`` (``benchmarks/project.py``).

- confluens: ``confluens.open(project).event_features(view)`` for both views: what a
  user runs, reading the project's offline store (one Parquet file per event date).
- polars: ``DataFrame.rolling(index_column=, period=, offset=, group_by=)`` with the
  aggregations in ``.agg(...)``, one call per (window, delay), over rows sorted by
  (entity key's hash, time): Polars' fastest form found (2-4x faster than grouping
  the string keys in time order).
- numpy: a hand-written floor: sort by (entity, time, id), window bounds by
  ``np.searchsorted``, sums by ``np.cumsum`` prefix arrays (amounts in long double:
  float64 running sums miss confluens' values by ~7e-9, over the 1e-9 check).
- duckdb-sql: hand-written DuckDB SQL, RANGE frames over an integer time.
- pandas groupby-apply (the handbook's own shape, a Python function per customer and
  per terminal): one run, skipped with ``--skip-handbook``.

Polars uses all cores unless ``--polars-threads N`` (``POLARS_MAX_THREADS``) says
otherwise. Every baseline reads the same rows from one Parquet file
(``.bench/fraud-one-file.parquet``), reading time included, as confluens' reading of
its store is. Each is
checked against confluens' output on the full data before any timing (counts equal,
values within 1e-9) and the run stops if one differs. Ties: confluens counts events
at the same time as the current one only up to it (by id), so the customer windows
of polars and duckdb-sql order by time plus the id in nanoseconds (the data's times
are whole seconds, so this moves no window bound).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import confluens
from benchmarks.fraud_definitions import DAYS, DELAY
from benchmarks.harness import Figure, interleaved
from benchmarks.project import MissingData, fraud_project, one_file, store_files

if TYPE_CHECKING:
    import polars as pl

__all__ = ["VIEWS", "run"]

VIEWS = ("customer", "terminal")
COLUMNS = ["transaction_id", "tx_datetime", "customer_id", "terminal_id", "tx_amount",
           "tx_fraud"]
DAY_US = 86_400_000_000
Result = dict[str, pa.Table]  # view -> transaction_id and its six features


def confluens_backfill(folder: Path) -> Result:
    with confluens.open(folder) as project:
        out = {view: project.event_features(view) for view in VIEWS}
    return {view: table.rename_columns(["transaction_id" if c == "__tie" else c
                                        for c in table.column_names])
            for view, table in out.items()}


def _code(key: str) -> pl.Expr:
    """The entity's key as an integer (its 64-bit hash; a collision would fail the
    check): ``rolling`` groups integers sorted by (entity, time) 2-4x faster than
    strings in time order. (Categorical codes were as fast, but not stable between
    two casts of the same strings, so the check could not match rows by them.)"""
    import polars as pl

    return pl.col(key).hash().alias(key.removesuffix("_id"))


def _tied() -> pl.Expr:
    """Time plus the id in ns: breaks ties in id order, and moves no window bound
    (ids < 1e9, times in whole seconds)."""
    import polars as pl

    return (pl.col("tx_datetime").cast(pl.Datetime("ns", "UTC"))
            + pl.duration(nanoseconds=pl.col("transaction_id"))).alias("at")


def polars_rolling(path: Path) -> dict[str, object]:
    """Polars' fastest form: ``DataFrame.rolling(group_by=)``, aggregations in ``agg``;
    one frame per view, keyed by (entity, time) as ``rolling`` returns it."""
    import polars as pl

    df = pl.read_parquet(path, columns=COLUMNS)
    customer = df.with_columns(_code("customer_id"), _tied()).sort("customer", "at")
    terminal = df.with_columns(_code("terminal_id")).sort("terminal", "tx_datetime")
    c = [customer.rolling(index_column="at", period=f"{n}d", group_by="customer").agg(
        pl.len().alias(f"c{n}"), pl.col("tx_amount").mean().alias(f"m{n}")) for n in DAYS]
    t = [terminal.rolling(index_column="tx_datetime", period=f"{n}d", offset=f"-{DELAY + n}d",
                          group_by="terminal").agg(
        pl.len().alias(f"t{n}"), pl.col("tx_fraud").sum().alias(f"f{n}")) for n in DAYS]
    # the calls share their input, so their rows come in the same order (verified)
    return {
        "customer": pl.concat([c[0], *(x.select(f"c{n}", f"m{n}")
                                       for n, x in zip(DAYS[1:], c[1:], strict=True))],
                              how="horizontal"),
        "terminal": pl.concat([t[0].select("terminal", "tx_datetime"),
                               *(x.select(f"t{n}", pl.when(pl.col(f"t{n}") > 0)
                                          .then(pl.col(f"f{n}") / pl.col(f"t{n}"))
                                          .otherwise(0.0).alias(f"r{n}"))
                                 for n, x in zip(DAYS, t, strict=True))], how="horizontal")}


def polars_by_id(out: dict[str, object], path: Path) -> Result:
    """``polars_rolling``'s frames keyed by transaction id, for the check (not timed).
    Events tied on (terminal, time) share their delayed windows, so one row serves all."""
    import polars as pl

    df = pl.read_parquet(path, columns=COLUMNS).with_columns(
        _code("customer_id"), _code("terminal_id"), _tied())
    customer, terminal = out["customer"], out["terminal"]
    assert isinstance(customer, pl.DataFrame)
    assert isinstance(terminal, pl.DataFrame)
    if terminal.select("terminal", "tx_datetime").is_duplicated().any():
        terminal = terminal.unique(["terminal", "tx_datetime"])
    return {
        "customer": df.select("transaction_id", "customer", "at").join(
            customer, on=["customer", "at"], how="left").drop("customer", "at").to_arrow(),
        "terminal": df.select("transaction_id", "terminal", "tx_datetime").join(
            terminal, on=["terminal", "tx_datetime"], how="left").drop(
            "terminal", "tx_datetime").to_arrow()}


def _codes(column: pa.ChunkedArray) -> np.ndarray:
    encoded = pc.dictionary_encode(column.combine_chunks())
    codes: np.ndarray = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return codes


def numpy_floor(path: Path) -> Result:
    """Sort by (entity, time, id); bounds by searchsorted; sums by cumsum prefixes."""
    table = pq.read_table(path, columns=COLUMNS)
    ids = table.column("transaction_id").to_numpy()
    t = table.column("tx_datetime").cast(pa.int64()).to_numpy()
    t = t - t.min()
    span = int(t.max()) + (DELAY + max(DAYS)) * DAY_US + 1  # a window never reaches
    amount = table.column("tx_amount").to_numpy()          # into the previous entity
    fraud = table.column("tx_fraud").to_numpy()
    out: Result = {}
    for view in VIEWS:
        key = _codes(table.column(f"{view}_id")) * span + t
        order = np.lexsort((ids, key))
        key = key[order]
        columns: dict[str, np.ndarray] = {"transaction_id": ids[order]}
        if view == "customer":
            # float64 running sums over 1.5M amounts lose ~1e-8 to rounding; the
            # 80-bit long double keeps windows' sums to ~1e-12
            sums = np.concatenate(([0.0], np.cumsum(amount[order], dtype=np.longdouble)))
            hi = np.arange(1, len(key) + 1)  # ties count up to the current event
            for n in DAYS:
                lo = np.searchsorted(key, key - n * DAY_US, side="right")
                count = hi - lo
                columns[f"c{n}"] = count
                columns[f"m{n}"] = ((sums[hi] - sums[lo]) / count).astype(np.float64)
        else:
            frauds = np.concatenate(([0], np.cumsum(fraud[order])))
            hi = np.searchsorted(key, key - DELAY * DAY_US, side="right")
            for n in DAYS:
                lo = np.searchsorted(key, key - (DELAY + n) * DAY_US, side="right")
                count = hi - lo
                columns[f"t{n}"] = count
                columns[f"r{n}"] = np.divide(frauds[hi] - frauds[lo], count,
                                             out=np.zeros(len(count)), where=count > 0)
        out[view] = pa.table(columns)
    return out


def duckdb_sql(path: Path) -> Result:
    """Hand-written DuckDB SQL: RANGE frames over an integer time in µs (ns with ids)."""
    def frame(order: str, low: int, high: str) -> str:
        return (f"OVER (PARTITION BY {{key}} ORDER BY {order} "
                f"RANGE BETWEEN {low} PRECEDING AND {high})")

    tied = "epoch_ns(tx_datetime) + transaction_id"
    customer = ", ".join(
        f"count(*) {frame(tied, n * DAY_US * 1000 - 1, 'CURRENT ROW')} AS c{n}, "
        f"avg(tx_amount) {frame(tied, n * DAY_US * 1000 - 1, 'CURRENT ROW')} AS m{n}"
        for n in DAYS).replace("{key}", "customer_id")
    delayed = [frame("epoch_us(tx_datetime)", (DELAY + n) * DAY_US - 1,
                     f"{DELAY * DAY_US} PRECEDING").replace("{key}", "terminal_id")
               for n in DAYS]
    terminal = ", ".join(
        f"count(*) {w} AS t{n}, coalesce(sum(tx_fraud) {w} / nullif(count(*) {w}, 0), 0.0) "
        f"AS r{n}" for n, w in zip(DAYS, delayed, strict=True))
    con = duckdb.connect()
    try:
        # a baseline written by hand, as a user would: the one place SQL is pasted together
        source = f"read_parquet('{path}')"
        return {"customer": con.sql(f"SELECT transaction_id, {customer} FROM {source}")
                .to_arrow_table(),
                "terminal": con.sql(f"SELECT transaction_id, {terminal} FROM {source}")
                .to_arrow_table()}
    finally:
        con.close()


def pandas_groupby_apply(path: Path) -> Result:
    """The handbook's own shape (Chapter 3): a Python function per customer and per
    terminal through ``groupby().apply``, each rolling its windows over a time index."""
    import pandas as pd

    df = pd.read_parquet(path, columns=COLUMNS).sort_values(["tx_datetime",
                                                             "transaction_id"])

    def customer(group: pd.DataFrame) -> pd.DataFrame:
        timed = group.set_index("tx_datetime")
        out = pd.DataFrame({"transaction_id": group["transaction_id"].to_numpy()},
                           index=group.index)
        for n in DAYS:
            total = timed["tx_amount"].rolling(f"{n}D").sum().to_numpy()
            count = timed["tx_amount"].rolling(f"{n}D").count().to_numpy()
            out[f"c{n}"], out[f"m{n}"] = count, total / count
        return out

    def terminal(group: pd.DataFrame) -> pd.DataFrame:
        timed = group.set_index("tx_datetime")
        out = pd.DataFrame({"transaction_id": group["transaction_id"].to_numpy()},
                           index=group.index)
        for n in DAYS:
            near = timed["tx_fraud"].rolling(f"{DELAY}D")
            far = timed["tx_fraud"].rolling(f"{DELAY + n}D")
            count = far.count().to_numpy() - near.count().to_numpy()
            frauds = far.sum().to_numpy() - near.sum().to_numpy()
            out[f"t{n}"] = count
            out[f"r{n}"] = np.divide(frauds, count, out=np.zeros_like(frauds), where=count > 0)
        return out

    cust = df.groupby("customer_id", group_keys=False)[
        ["tx_datetime", "transaction_id", "tx_amount"]].apply(customer)
    term = df.groupby("terminal_id", group_keys=False)[
        ["tx_datetime", "transaction_id", "tx_fraud"]].apply(terminal)
    return {"customer": pa.Table.from_pandas(cust, preserve_index=False),
            "terminal": pa.Table.from_pandas(term, preserve_index=False)}


def verify(name: str, got: Result, want: Result) -> None:
    """Stop the run unless ``got`` has ``want``'s rows and values (counts equal,
    other values within 1e-9)."""
    for view in VIEWS:
        a = want[view].sort_by("transaction_id")
        b = got[view].sort_by("transaction_id")
        if a.num_rows != b.num_rows or not a.column("transaction_id").equals(
                b.column("transaction_id").cast(pa.int64())):
            raise SystemExit(f"{name} {view}: other rows than confluens "
                             f"({b.num_rows:,} vs {a.num_rows:,})")
        for column in a.column_names:
            if column in ("transaction_id", "customer_id", "terminal_id", "tx_datetime"):
                continue
            x = a.column(column).to_numpy().astype(np.float64)
            y = b.column(column).to_numpy().astype(np.float64)
            if column[0] in "ct":
                bad = int(np.count_nonzero(x != y))
                if bad:
                    raise SystemExit(f"{name} {view}.{column}: {bad:,} counts differ "
                                     "from confluens")
            else:
                diff = float(np.nanmax(np.abs(x - y)))
                if not np.array_equal(np.isnan(x), np.isnan(y)) or diff > 1e-9:
                    raise SystemExit(f"{name} {view}.{column}: differs from confluens by "
                                     f"{diff:.3g} (> 1e-9)")


def store_reading(folder: Path, one: Path) -> list[Figure]:
    """Reading the stored rows into Arrow: the project's per-date files against the
    same rows as one Parquet file, with DuckDB (confluens' reader) and pyarrow."""
    files = store_files(folder)

    def duck(paths: list[str]) -> Callable[[], object]:
        def read() -> object:
            con = duckdb.connect()
            try:
                return con.read_parquet(paths, union_by_name=True).to_arrow_table()
            finally:
                con.close()
        return read

    rows = pq.ParquetFile(one).metadata.num_rows
    times = interleaved({
        "duckdb, store": duck(files), "duckdb, one file": duck([str(one)]),
        "pyarrow, store": lambda: pq.read_table(files),
        "pyarrow, one file": lambda: pq.read_table(one)}, repeat=5)
    names = {"duckdb, store": f"read store ({len(files)} files), duckdb read_parquet",
             "duckdb, one file": "read one file, duckdb read_parquet",
             "pyarrow, store": f"read store ({len(files)} files), pyarrow read_table",
             "pyarrow, one file": "read one file, pyarrow read_table"}
    base = {"duckdb, store": "duckdb, one file", "pyarrow, store": "pyarrow, one file"}
    return [Figure("features", names[k], statistics.median(v), rows,
                   names[base[k]] if k in base else None,
                   note=f"all columns, median of {len(v)} interleaved")
            for k, v in times.items()]


def run(shared: Path | None) -> tuple[str, list[Figure]]:
    try:
        folder, label = fraud_project(shared)
    except MissingData as missing:
        return str(missing), []
    one = one_file(folder)
    rows = pq.ParquetFile(one).metadata.num_rows
    forms: dict[str, Callable[[], object]] = {
        "confluens event_features (12 features, store)": lambda: confluens_backfill(folder),
        "polars DataFrame.rolling(group_by=)": lambda: polars_rolling(one),
        "numpy floor (searchsorted + cumsum)": lambda: numpy_floor(one),
        "duckdb-sql RANGE frames": lambda: duckdb_sql(one),
    }
    names = list(forms)
    ours, polars, floor = names[0], names[1], names[2]
    want = confluens_backfill(folder)
    for name in names[1:]:  # each checked once on the full data (and warmed up)
        got = forms[name]()
        verify(name, polars_by_id(got, one) if name == polars else got, want)  # type: ignore[arg-type]
    handbook: list[Figure] = []
    if not os.environ.get("CONFLUENS_BENCH_SKIP_HANDBOOK"):
        start = time.perf_counter()
        got = pandas_groupby_apply(one)
        seconds = time.perf_counter() - start
        verify("pandas groupby-apply", got, want)
        handbook = [Figure("features", "pandas groupby-apply (the handbook's shape)", seconds,
                           rows, ours, note="one run, not interleaved")]
    times = interleaved(forms, repeat=int(os.environ.get("CONFLUENS_BENCH_REPEAT", "5")))
    import polars as pl

    threads = {polars: f"{pl.thread_pool_size()} threads; "}
    figures = [Figure("features", name, statistics.median(times[name]), rows,
                      tuple(n for n in names if n != name) if name == ours else None,
                      targets=((polars, 1.0), (floor, 1.3)) if name == ours else (),
                      note=threads.get(name, "") + f"median of {len(times[name])} interleaved: "
                           + ", ".join(f"{s:.2f}" for s in times[name]))
               for name in names]
    figures += handbook + store_reading(folder, one)
    return (f"{label}; every form reads Parquet (timed) and matched confluens on every "
            "row before timing"), figures
