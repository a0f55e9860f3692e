"""The stores a consumer-group worker's processor writes through: each write of a
batch (its quarantine file, its offline append) first calls ``confirm(batch id)``,
which renews the worker's lease on the batch's partition or raises
``LeaseLostError``, so a worker that lost a partition writes nothing more of it.

The online state needs no wrapper: it is committed with the checkpoint by
compare-and-set, which refuses a worker whose checkpoint another has moved on.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from confluens.stores.capabilities import StoreCapability
from confluens.stores.offline import OfflineStore
from confluens.stores.quarantine import QuarantineFiles

__all__ = ["FencedOffline", "FencedQuarantine"]

Confirm = Callable[[str], None]


class FencedOffline:
    """``inner``, whose appends are confirmed first (reads pass through)."""

    def __init__(self, inner: OfflineStore, confirm: Confirm) -> None:
        self.inner = inner
        # only the OfflineStore protocol is wrapped: compaction goes to the store itself
        self.capabilities = inner.capabilities - {StoreCapability.COMPACT}
        self._confirm = confirm

    def append(self, table: str, data: pa.Table, *, run_id: str, partition_by: str) -> int:
        self._confirm(run_id)
        return self.inner.append(table, data, run_id=run_id, partition_by=partition_by)

    def files(self, table: str, *, runs: set[str] | None = None,
              partitions: set[str] | None = None) -> list[str]:
        return self.inner.files(table, runs=runs, partitions=partitions)

    def row_count(self, table: str) -> int:
        return self.inner.row_count(table)

    def runs(self, table: str) -> dict[str, int]:
        return self.inner.runs(table)


class FencedQuarantine(QuarantineFiles):
    """The quarantine files of ``inner``, whose writes are confirmed first."""

    def __init__(self, inner: QuarantineFiles, confirm: Confirm) -> None:
        super().__init__(inner.root)
        self._confirm = confirm

    def write(self, source: str, batch_id: str, table: pa.Table) -> str:
        self._confirm(batch_id)
        return super().write(source, batch_id, table)
