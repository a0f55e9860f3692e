"""Parquet on the local file system, partitioned by event date, committed atomically.

Layout of one table::

    <root>/<table>/_manifest.json              the committed file list (see manifest.py)
    <root>/<table>/event_date=2018-04-01/part-<run>-<n>.parquet
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlglot.expressions as exp

from confluens.core.system_columns import HASH, KEY
from confluens.duckdb_session import connect
from confluens.sqlx import col, render, table_ref
from confluens.stores.capabilities import StoreCapability
from confluens.stores.offline.compaction import RUNS_FOLDER, Compacted, compacted_entries
from confluens.stores.offline.lock import table_lock
from confluens.stores.offline.manifest import Manifest, ManifestEntry

__all__ = ["ParquetOfflineStore"]

PARTITION = "event_date"
SWEEP_EVERY = 60.0  # seconds between an appending store's sweeps of one table
_EPOCH_DAY = date(1970, 1, 1)


class ParquetOfflineStore:
    """The default offline store. Safe for one writer and many readers per table."""

    capabilities = frozenset({StoreCapability.REPLACE, StoreCapability.COMPACT})

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._run_lists: dict[Path, dict[str, int]] = {}  # compacted files' runs (immutable)
        self._swept: dict[Path, float] = {}  # table folder -> when this store last swept it

    def _folder(self, table: str) -> Path:
        return self.root / table

    def append(self, table: str, data: pa.Table, *, run_id: str, partition_by: str) -> int:
        """Write ``data`` partitioned by the UTC date of column ``partition_by``."""
        return self._write(table, data, run_id=run_id, partition_by=partition_by, keep=True)

    def replace(self, table: str, data: pa.Table, *, run_id: str, partition_by: str) -> int:
        """Make ``data`` the whole table, atomically (readers see old or new, never a mix)."""
        return self._write(table, data, run_id=run_id, partition_by=partition_by, keep=False)

    def replace_partitions(self, table: str, data: pa.Table, *, partitions: set[str],
                           run_id: str, partition_by: str) -> int:
        """Make ``data`` the whole content of the event-date ``partitions`` (``YYYY-MM-DD``),
        atomically, leaving the others as they are. Every row of ``data`` must fall in
        one of ``partitions``."""
        return self._write(table, data, run_id=run_id, partition_by=partition_by, keep=True,
                           dropping=partitions)

    def _write(self, table: str, data: pa.Table, *, run_id: str, partition_by: str,
               keep: bool, dropping: set[str] | None = None) -> int:
        if data.num_rows == 0 and keep and not dropping:
            return 0
        folder = self._folder(table)
        with table_lock(folder):
            if time.monotonic() - self._swept.get(folder, -SWEEP_EVERY) >= SWEEP_EVERY:
                self._sweep(folder)
            staging = folder / f"_staging-{uuid.uuid4().hex}"
            written = (_write_partitioned(data, partition_by, staging, run_id)
                       if data.num_rows else [])
            stray = [p for p, _ in written if dropping and
                     _partition(str(p.relative_to(staging))) not in dropping]
            if stray:
                shutil.rmtree(staging, ignore_errors=True)
                raise ValueError(f"rows outside the partitions being replaced: {stray[:3]}")
            entries = []
            for path, rows in written:
                rel = path.relative_to(staging)
                target = folder / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                path.rename(target)
                entries.append(ManifestEntry(str(rel), rows, run_id))
            current = Manifest.read(folder)
            if not keep:
                current = Manifest(current.version, ())
            elif dropping:
                current = Manifest(current.version, tuple(
                    e for e in current.entries if _partition(e.path) not in dropping))
            current.with_entries(entries).commit(folder)
            shutil.rmtree(staging, ignore_errors=True)
        return int(data.num_rows)

    def _sweep(self, folder: Path) -> None:
        """Remove what a writer that died left behind (staging folders, unlisted files),
        and the files a compaction or replace no longer lists. An append sweeps at most
        once a minute per table (``SWEEP_EVERY``): listing every file of a table that a
        stream appends to many times a second would cost more than the append."""
        self._swept[folder] = time.monotonic()
        entries = Manifest.read(folder).entries
        listed = {e.path for e in entries} | {e.runs_file for e in entries if e.runs_file}
        for item in folder.glob("_staging-*"):
            shutil.rmtree(item, ignore_errors=True)
        for pattern in (f"{PARTITION}=*/*.parquet", f"{PARTITION}=*/.*.tmp",
                        f"{RUNS_FOLDER}/*.json"):
            for item in folder.glob(pattern):
                if str(item.relative_to(folder)) not in listed:
                    item.unlink()

    def _runs_of(self, folder: Path, entry: ManifestEntry) -> dict[str, int]:
        """The rows ``entry``'s file holds per run."""
        if entry.runs_file is None:
            return {entry.run_id: entry.rows}
        path = folder / entry.runs_file
        counts = self._run_lists.get(path)
        if counts is None:
            counts = self._run_lists[path] = json.loads(path.read_text())
        return counts

    def compact(self, table: str, runs: set[str], *, run_id: str,
                max_rows: int = 2_000_000) -> Compacted:
        """Merge the files holding only rows of ``runs`` into files of up to
        ``max_rows`` rows per event-date partition (compaction.py); appends wait
        meanwhile. ``runs()`` reports the same counts afterwards."""
        folder = self._folder(table)
        if not (folder / "_manifest.json").exists():
            return Compacted(0, 0, 0)
        with table_lock(folder):
            self._sweep(folder)
            current = Manifest.read(folder)
            chosen = [e for e in current.entries
                      if set(self._runs_of(folder, e)) <= runs]
            kept = [e for e in current.entries if e not in chosen]
            merged, done = compacted_entries(folder, chosen,
                                             lambda e: self._runs_of(folder, e),
                                             run_id=run_id, max_rows=max_rows)
            if done.files_before:
                Manifest(current.version + 1, tuple(kept + merged)).commit(folder)
        return done

    def files(self, table: str, *, runs: set[str] | None = None,
              partitions: set[str] | None = None) -> list[str]:
        """The table's committed files; only those holding rows of ``runs`` (a compacted
        file may hold other runs' rows too), or in the event-date ``partitions``, when
        given."""
        folder = self._folder(table)
        return [str(folder / e.path) for e in Manifest.read(folder).entries
                if (runs is None or e.run_id in runs
                    or (e.runs_file is not None and not runs.isdisjoint(
                        self._runs_of(folder, e))))
                and (partitions is None or _partition(e.path) in partitions)]

    def row_count(self, table: str) -> int:
        return Manifest.read(self._folder(table)).rows

    def runs(self, table: str) -> dict[str, int]:
        """Rows committed per run id (a compacted file counts for the runs it merged)."""
        folder = self._folder(table)
        out: dict[str, int] = {}
        for e in Manifest.read(folder).entries:
            for run, rows in self._runs_of(folder, e).items():
                out[run] = out.get(run, 0) + rows
        return out


def _partition(path: str) -> str:
    """The event date of a file from its relative path (``event_date=D/part-...``)."""
    return path.split("/", 1)[0].partition("=")[2]


_UNIQUE = frozenset((KEY, HASH))  # columns written without a dictionary
SMALL = 100_000  # rows: an append this small is written by pyarrow, without DuckDB
_TICKS_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000,
                  "ns": 86_400_000_000_000}


def _write_partitioned(data: pa.Table, partition_by: str, staging: Path,
                       run_id: str) -> list[tuple[Path, int]]:
    """Write ``data`` under ``staging`` as hive partitions by the UTC date of a column.

    A small append (a stream batch, a prediction-log flush) is split by pyarrow: opening
    a DuckDB session costs more than writing it. A large one goes through DuckDB's
    parallel partitioned writer. Both write the same rows, columns and types, zstd.
    """
    days = (_utc_days(data.column(partition_by))
            if data.num_rows <= SMALL and all(_plain(f.type) for f in data.schema) else None)
    if days is not None:
        return _write_small(data, days, staging, run_id)
    con = connect()
    try:
        con.register("data", data)
        day = exp.cast(exp.cast(col(partition_by), "TIMESTAMPTZ"), "DATE")
        query = exp.select(exp.Star(), exp.alias_(day, PARTITION, quoted=True)).from_(
            table_ref("data"))
        con.sql(render(query)).write_parquet(
            str(staging), partition_by=[PARTITION], compression="zstd",
            filename_pattern=f"part-{run_id}-{{uuid}}", row_group_size=256 * 1024)
    finally:
        con.close()
    files = sorted(staging.glob(f"{PARTITION}=*/*.parquet"))
    return [(f, pq.ParquetFile(f).metadata.num_rows) for f in files]


def _utc_days(column: pa.ChunkedArray) -> pa.Array | None:
    """Days since 1970-01-01 (UTC) of a timestamp column without nulls; None for any
    other column (DuckDB then partitions it)."""
    kind = column.type
    if not pa.types.is_timestamp(kind) or column.null_count:
        return None
    ticks = pc.cast(column.combine_chunks().cast(pa.timestamp(kind.unit)), pa.int64())
    return _floor_div(ticks, _TICKS_PER_DAY[kind.unit])



def _plain(kind: pa.DataType) -> bool:
    """A type both writers store alike (DuckDB would store others differently: seconds
    as microseconds, a zone as UTC...)."""
    if pa.types.is_timestamp(kind):
        return kind.unit == "us" and kind.tz in (None, "UTC", "Etc/UTC")
    if pa.types.is_list(kind):  # e.g. the prediction log's list of missing inputs
        return _plain(kind.value_type) and not pa.types.is_list(kind.value_type)
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind)
                or pa.types.is_boolean(kind) or pa.types.is_string(kind)
                or pa.types.is_date32(kind))


def _floor_div(values: pa.Array, divisor: int) -> pa.Array:
    """Integer division rounding down (pyarrow's rounds toward zero)."""
    quotient = pc.divide(values, divisor)
    late = pc.and_(pc.less(values, 0), pc.not_equal(pc.multiply(quotient, divisor), values))
    return pc.subtract(quotient, pc.cast(late, pa.int64()))


def _write_small(data: pa.Table, days: pa.Array, staging: Path,
                 run_id: str) -> list[tuple[Path, int]]:
    written = []
    for day in pc.unique(days).to_pylist():
        rows = data.filter(pc.equal(days, day))
        date = (_EPOCH_DAY + timedelta(days=day)).isoformat()
        folder = staging / f"{PARTITION}={date}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"part-{run_id}-{uuid.uuid4()}.parquet"
        # no Arrow schema stored: the file reads back as one DuckDB wrote would. A
        # record's key and content hash are unique: a dictionary of them only costs
        # (writing a stream batch took 30% longer, and the file was larger)
        pq.write_table(rows, path, compression="zstd", row_group_size=256 * 1024,
                       store_schema=False, use_dictionary=[
                           c for c in rows.column_names if c not in _UNIQUE])
        written.append((path, rows.num_rows))
    return sorted(written)
