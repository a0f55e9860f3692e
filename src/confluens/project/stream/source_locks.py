"""Stream processors hold their sources' write locks shared, for as long as they run.

Batch ingest takes the same lock (``<storage root>/locks/<source>/_lock``)
exclusively, so a batch ingest cannot run while a processor appends to the source, nor
a processor start during a batch ingest: each reads what is stored once, for
deduplication, and would miss the other's records. Processors of one source (the
workers of a partitioned stream) share the lock with each other.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from confluens.core import Source
from confluens.stores.offline.lock import table_lock

__all__ = ["source_locks"]


@contextmanager
def source_locks(store_root: Path, sources: Sequence[Source]) -> Iterator[None]:
    """Hold every source's lock shared; ConcurrentWriteError at once if an ingest
    run holds one."""
    with ExitStack() as stack:
        for source in sources:
            stack.enter_context(table_lock(
                store_root / "locks" / source.name, wait=False, shared=True,
                what=f"source '{source.name}'", rule="a batch ingest run is writing it",
                fix="wait for `confluens ingest` to finish, then start the stream"))
        yield
