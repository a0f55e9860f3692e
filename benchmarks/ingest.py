"""Ingestion of one large Parquet input, against hand-written baselines in the same run.

- confluens: `Project.ingest` with the fraud template's checks, dedup and atomic commit.
- baseline duckdb-copy: DuckDB reads the file and writes it partitioned by date, with no
  checks and no dedup: the floor any ingestion pays for reading and writing.
- baseline pandas: pandas reads the file, applies the same checks, drops duplicate ids
  and writes partitioned Parquet with pyarrow: what a team writes by hand.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

import confluens
from benchmarks.harness import Figure, median_seconds

__all__ = ["run"]


def _input(shared: Path | None, work: Path) -> tuple[Path, str]:
    real = shared / "fraud" / "transactions_2018-04_to_08.parquet" if shared else None
    if real is not None and real.exists():
        import pyarrow.parquet as pq

        table = pq.read_table(real)
        renamed = table.rename_columns([c.lower() for c in table.column_names]).select(
            ["transaction_id", "tx_datetime", "customer_id", "terminal_id", "tx_amount"])
        renamed = renamed.set_column(2, "customer_id", renamed["customer_id"].cast(pa.string()))
        renamed = renamed.set_column(3, "terminal_id", renamed["terminal_id"].cast(pa.string()))
        path = work / "transactions.parquet"
        pq.write_table(renamed, path)
        return path, f"shared fraud data ({table.num_rows:,} rows)"
    from confluens.datagen import FraudSimulation, write_fraud_dataset

    write_fraud_dataset(work / "gen", FraudSimulation())
    path = work / "gen" / "transactions" / "transactions.parquet"
    return path, "generated fraud data (183 days)"


def run(shared: Path | None) -> tuple[str, list[Figure]]:
    work = Path(tempfile.mkdtemp(prefix="confluens-bench-"))
    try:
        path, label = _input(shared, work)
        rows = pq_rows(path)
        project_dir = work / "project"

        def fresh() -> None:
            shutil.rmtree(project_dir, ignore_errors=True)
            confluens.init(project_dir, template="fraud")
            with confluens.open(project_dir) as p:
                p.apply()

        def ingest() -> None:
            with confluens.open(project_dir) as p:
                p.ingest("transactions", str(path))

        out = work / "out"

        def duckdb_copy() -> None:
            shutil.rmtree(out, ignore_errors=True)
            con = duckdb.connect()
            rel = con.read_parquet(str(path))
            rel = rel.select("*, CAST(tx_datetime AS DATE) AS event_date")
            rel.write_parquet(str(out), partition_by=["event_date"])
            con.close()

        def pandas_checks() -> None:
            shutil.rmtree(out, ignore_errors=True)
            df = pd.read_parquet(path)
            ok = (df["customer_id"].notna() & df["terminal_id"].notna()
                  & df["customer_id"].str.fullmatch(r"[0-9]+").fillna(False).astype(bool)
                  & (df["tx_amount"] >= 0))
            good = df[ok].drop_duplicates("transaction_id")
            good = good.assign(event_date=good["tx_datetime"].dt.date)
            ds.write_dataset(pa.Table.from_pandas(good, preserve_index=False), out,
                             format="parquet", partitioning=["event_date"],
                             partitioning_flavor="hive")

        figures = [
            Figure("ingest", "confluens ingest (new records)",
                   median_seconds(ingest, setup=fresh), rows, "pandas hand-written"),
            Figure("ingest", "confluens re-ingest (all duplicates)",
                   median_seconds(ingest), rows, "pandas hand-written"),
            Figure("ingest", "duckdb-copy (no checks, no dedup)",
                   median_seconds(duckdb_copy), rows),
            Figure("ingest", "pandas hand-written", median_seconds(pandas_checks), rows),
        ]
        return label, figures
    finally:
        shutil.rmtree(work, ignore_errors=True)


def pq_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)
