"""The offline store protocol."""

from __future__ import annotations

from typing import Protocol

import pyarrow as pa

__all__ = ["OfflineStore"]


class OfflineStore(Protocol):
    """Append-only tables of records, one per source.

    ``append`` is atomic: readers see all of an append or none of it, also when the
    writer dies midway. ``files`` lists the committed data files, which engines scan.
    """

    def append(self, table: str, data: pa.Table, *, run_id: str, partition_by: str) -> int:
        """Commit ``data``; return the number of rows written."""
        ...

    def files(self, table: str) -> list[str]:
        """Absolute paths of the committed Parquet files of ``table``."""
        ...

    def row_count(self, table: str) -> int:
        ...

    def runs(self, table: str) -> dict[str, int]:
        """Rows committed per run id (ingest runs settle their counts on it)."""
        ...
