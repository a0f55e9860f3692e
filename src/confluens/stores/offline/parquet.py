"""Parquet on the local file system, partitioned by event date, committed atomically.

Layout of one table::

    <root>/<table>/_manifest.json              the committed file list (see manifest.py)
    <root>/<table>/event_date=2018-04-01/part-<run>-<n>.parquet
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from confluens.stores.offline.lock import table_lock
from confluens.stores.offline.manifest import Manifest, ManifestEntry

__all__ = ["ParquetOfflineStore"]

PARTITION = "event_date"


class ParquetOfflineStore:
    """The default offline store. Safe for one writer and many readers per table."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _folder(self, table: str) -> Path:
        return self.root / table

    def append(self, table: str, data: pa.Table, *, run_id: str, partition_by: str) -> int:
        """Write ``data`` partitioned by the UTC date of column ``partition_by``."""
        if data.num_rows == 0:
            return 0
        folder = self._folder(table)
        with table_lock(folder):
            self._sweep(folder)
            staging = folder / f"_staging-{uuid.uuid4().hex}"
            ts = data.column(partition_by)
            if pa.types.is_timestamp(ts.type) and ts.type.tz is not None:
                ts = pc.cast(ts, pa.timestamp(ts.type.unit, "UTC"))
            dates = pc.cast(ts, pa.date32())
            tagged = data.append_column(PARTITION, dates)
            written: list[tuple[Path, int]] = []

            def visit(f: ds.WrittenFile) -> None:
                written.append((Path(f.path), f.metadata.num_rows))

            ds.write_dataset(
                tagged, staging, format="parquet",
                partitioning=ds.partitioning(pa.schema([(PARTITION, pa.date32())]),
                                             flavor="hive"),
                basename_template=f"part-{run_id}-{uuid.uuid4().hex[:8]}-{{i}}.parquet",
                existing_data_behavior="error", file_visitor=visit,
                max_rows_per_group=256 * 1024,
            )
            entries = []
            for path, rows in written:
                rel = path.relative_to(staging)
                target = folder / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                path.rename(target)
                entries.append(ManifestEntry(str(rel), rows, run_id))
            Manifest.read(folder).with_entries(entries).commit(folder)
            shutil.rmtree(staging, ignore_errors=True)
        return data.num_rows

    def _sweep(self, folder: Path) -> None:
        """Remove what a writer that died left behind: staging folders and unlisted files."""
        listed = {e.path for e in Manifest.read(folder).entries}
        for item in folder.glob("_staging-*"):
            shutil.rmtree(item, ignore_errors=True)
        for item in folder.glob(f"{PARTITION}=*/*.parquet"):
            if str(item.relative_to(folder)) not in listed:
                item.unlink()

    def files(self, table: str) -> list[str]:
        folder = self._folder(table)
        return [str(folder / e.path) for e in Manifest.read(folder).entries]

    def row_count(self, table: str) -> int:
        return Manifest.read(self._folder(table)).rows

    def runs(self, table: str) -> dict[str, int]:
        """Rows committed per run id."""
        out: dict[str, int] = {}
        for e in Manifest.read(self._folder(table)).entries:
            out[e.run_id] = out.get(e.run_id, 0) + e.rows
        return out
