"""Compaction: many small files of a table merged into few, atomically.

A stream processor appends one batch at a time, so a source streamed for a day holds
thousands of small files, and every append rewrites a manifest that lists them all.
Compaction rewrites the files of chosen runs, per event-date partition, into files of
up to ``max_rows`` rows, in manifest order, and commits a manifest listing the new files
instead of the old, in one atomic replace, holding the table's lock (appends wait).

A compacted file keeps what each merged run committed: beside it, a small JSON file
lists the rows it holds per run, so ``runs()`` reports the same counts after a
compaction as before (a materialize finds nothing new to do), and ``files(runs=...)``
lists a compacted file when it holds rows of any run asked for. Files of different
schemas (a source whose definition gained a column) are never merged together.

Old files stay on disk until the next write to the table sweeps them, as after a
replace, so a reader that listed them just before the commit can still read them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from confluens.stores.offline.manifest import ManifestEntry, write_atomically

__all__ = ["RUNS_FOLDER", "Compacted", "compacted_entries"]

RUNS_FOLDER = "_runs"  # under the table folder: a compacted file's rows per run


@dataclass(frozen=True, slots=True)
class Compacted:
    """What a compaction did: files merged into new ones, and the rows they hold."""

    files_before: int
    files_after: int
    rows: int


def _partition(path: str) -> str:
    return path.split("/", 1)[0]


def compacted_entries(folder: Path, entries: Sequence[ManifestEntry],
                      runs_of: Callable[[ManifestEntry], dict[str, int]], *,
                      run_id: str, max_rows: int) -> tuple[list[ManifestEntry], Compacted]:
    """The manifest entries after compacting ``entries`` (all of one table, in manifest
    order; each a candidate), writing the new files and their run lists under
    ``folder``. Partitions with a single candidate are left as they are."""
    by_partition: dict[tuple[str, pa.Schema], list[ManifestEntry]] = {}
    for entry in entries:
        schema = pq.read_schema(folder / entry.path)
        by_partition.setdefault((_partition(entry.path), schema), []).append(entry)
    out: list[ManifestEntry] = []
    before = after = rows = 0
    for (partition, _), group in by_partition.items():
        if len(group) < 2:
            out.extend(group)
            continue
        for batch in _bins(group, max_rows):
            if len(batch) == 1:
                out.extend(batch)
                continue
            out.append(_merge(folder, partition, batch, runs_of, run_id))
            before += len(batch)
            after += 1
            rows += sum(e.rows for e in batch)
    return out, Compacted(before, after, rows)


def _bins(group: list[ManifestEntry], max_rows: int) -> list[list[ManifestEntry]]:
    """Consecutive entries, each bin up to ``max_rows`` rows (a larger file alone)."""
    bins: list[list[ManifestEntry]] = [[]]
    size = 0
    for entry in group:
        if bins[-1] and size + entry.rows > max_rows:
            bins.append([])
            size = 0
        bins[-1].append(entry)
        size += entry.rows
    return bins


def _merge(folder: Path, partition: str, batch: list[ManifestEntry],
           runs_of: Callable[[ManifestEntry], dict[str, int]], run_id: str) -> ManifestEntry:
    table = pa.concat_tables([pq.read_table(folder / e.path) for e in batch])
    name = f"part-{run_id}-{uuid.uuid4().hex}"
    rel = f"{partition}/{name}.parquet"
    tmp = folder / partition / f".{name}.parquet.tmp"
    pq.write_table(table, tmp, compression="zstd", row_group_size=256 * 1024)
    tmp.rename(folder / rel)
    counts: dict[str, int] = {}
    for entry in batch:
        for run, n in runs_of(entry).items():
            counts[run] = counts.get(run, 0) + n
    runs_rel = f"{RUNS_FOLDER}/{name}.json"
    (folder / RUNS_FOLDER).mkdir(exist_ok=True)
    write_atomically(folder / runs_rel, json.dumps(counts, sort_keys=True))
    return ManifestEntry(rel, table.num_rows, run_id, runs_file=runs_rel)
