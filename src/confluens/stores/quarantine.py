"""Quarantined records, as Parquet files: one file per batch, written atomically.

Each row holds the record as it arrived (``record``, JSON or the raw line), the
first rule it broke (``rule``), every rule it broke (``rules``), a readable
``reason``, where it came from (``input``, ``position``) and ``record_hash``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["QUARANTINE_SCHEMA", "QuarantineFiles"]

QUARANTINE_SCHEMA = pa.schema([
    ("source", pa.string()),
    ("run_id", pa.string()),
    ("input", pa.string()),
    ("position", pa.int64()),
    ("rule", pa.string()),
    ("rules", pa.list_(pa.string())),
    ("reason", pa.string()),
    ("record", pa.string()),
    ("record_hash", pa.string()),
    ("quarantined_at", pa.timestamp("us", tz="UTC")),
])


class QuarantineFiles:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def write(self, source: str, batch_id: str, table: pa.Table) -> str:
        folder = self.root / source
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{batch_id}.parquet"
        tmp = folder / f".{batch_id}.parquet.tmp"
        pq.write_table(table.cast(QUARANTINE_SCHEMA), tmp)
        os.replace(tmp, path)
        return str(path)

    def read(self, paths: list[str]) -> pa.Table:
        if not paths:
            return QUARANTINE_SCHEMA.empty_table()
        return pa.concat_tables(pq.read_table(p, schema=QUARANTINE_SCHEMA) for p in paths)
