"""The offline store protocols: source tables (``OfflineStore``) and the per-event
feature tables, which are also replaced whole or by partition (``FeatureTableStore``)."""

from __future__ import annotations

from typing import Protocol

import pyarrow as pa

from confluens.stores.capabilities import StoreCapability
from confluens.stores.offline.compaction import Compacted

__all__ = ["CompactingStore", "FeatureTableStore", "OfflineStore"]


class OfflineStore(Protocol):
    """Append-only tables of records, one per source, partitioned by event date.

    ``append`` is atomic: readers see all of an append or none of it, also when the
    writer dies midway. ``files`` lists the committed data files, which engines scan.
    ``capabilities`` holds ``REPLACE`` for a store that is also a ``FeatureTableStore``.
    """

    capabilities: frozenset[StoreCapability]

    def append(self, table: str, data: pa.Table, *, run_id: str, partition_by: str) -> int:
        """Commit ``data``, partitioned by the UTC date of column ``partition_by``;
        return the number of rows written."""
        ...

    def files(self, table: str, *, runs: set[str] | None = None,
              partitions: set[str] | None = None) -> list[str]:
        """Absolute paths of the committed Parquet files of ``table``; only those written
        by ``runs``, or in the event-date ``partitions`` (``YYYY-MM-DD``), when given."""
        ...

    def row_count(self, table: str) -> int:
        ...

    def runs(self, table: str) -> dict[str, int]:
        """Rows committed per run id (ingest runs settle their counts on it)."""
        ...


class FeatureTableStore(OfflineStore, Protocol):
    """An offline store whose tables can also be rewritten atomically, whole or by
    event-date partition: what a materialize needs for the per-event feature tables."""

    def replace(self, table: str, data: pa.Table, *, run_id: str, partition_by: str) -> int:
        """Make ``data`` the whole table (readers see the old or the new, never a mix)."""
        ...

    def replace_partitions(self, table: str, data: pa.Table, *, partitions: set[str],
                           run_id: str, partition_by: str) -> int:
        """Make ``data`` the whole content of the event-date ``partitions``, leaving the
        others as they are. Every row of ``data`` must fall in one of ``partitions``."""
        ...


class CompactingStore(OfflineStore, Protocol):
    """An offline store that can merge a table's small files (capability ``COMPACT``)."""

    def compact(self, table: str, runs: set[str], *, run_id: str,
                max_rows: int = 2_000_000) -> Compacted:
        """Merge the files holding only rows of ``runs`` into fewer, atomically;
        ``runs()`` reports the same counts after as before."""
        ...
