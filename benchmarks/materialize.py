"""Materialize: a full build, against an incremental update after one more day arrives.

Generated fraud data (the template's project, 150 days): the first 149 days are
ingested and materialized in full (every view: per-event feature tables and online
state). Then the last day is ingested and `materialize` runs again: it recomputes
only the rows and entities the new records can change. Baseline, in the same run: a
full rebuild of the same final data (the marker removed, so nothing is skipped).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

import confluens
from benchmarks.harness import Figure
from confluens.datagen import FraudSimulation, write_fraud_dataset

__all__ = ["run"]

DAYS = 150


def _split(folder: Path, name: str, column: str, cut: object, out: Path) -> None:
    table = pq.read_table(folder / name)
    before = pc.less(table.column(column), cut)
    pq.write_table(table.filter(before), out / f"first-{Path(name).name}")
    pq.write_table(table.filter(pc.invert(before)), out / f"last-{Path(name).name}")


def run(shared: Path | None) -> tuple[str, list[Figure]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = confluens.init(Path(tmp) / "fraud")
        data = Path(tmp) / "generated"
        write_fraud_dataset(data, FraudSimulation(n_days=DAYS))
        tx = pq.read_table(data / "transactions" / "transactions.parquet")
        cut = pc.max(tx.column("tx_datetime")).as_py().replace(hour=0, minute=0, second=0,
                                                                microsecond=0)
        parts = Path(tmp) / "parts"
        parts.mkdir()
        _split(data, "transactions/transactions.parquet", "tx_datetime", cut, parts)
        _split(data, "labels/labels.parquet", "tx_datetime", cut, parts)
        with confluens.open(root) as project:
            project.apply()
            project.ingest("transactions", str(parts / "first-transactions.parquet"))
            project.ingest("fraud_labels", str(parts / "first-labels.parquet"))
            project.materialize()
            project.ingest("transactions", str(parts / "last-transactions.parquet"))
            project.ingest("fraud_labels", str(parts / "last-labels.parquet"))
            start = time.perf_counter()
            results = project.materialize()
            incremental = time.perf_counter() - start
            assert all(r.mode == "incremental" for r in results), results
            recomputed = sum(r.recomputed for r in results)
            for marker in (project.config.store_root / "materialized").glob("*.json"):
                marker.unlink()
            start = time.perf_counter()
            rebuilt = project.materialize()
            full = time.perf_counter() - start
            rows = sum(r.events for r in rebuilt)
    label = (f"generated fraud data, {DAYS} days, {len(rebuilt)} views; "
             f"the last day adds {recomputed:,} of {rows:,} feature rows")
    return label, [
        Figure("materialize", "incremental after one more day", incremental, recomputed,
               "full rebuild"),
        Figure("materialize", "full rebuild", full, rows)]
