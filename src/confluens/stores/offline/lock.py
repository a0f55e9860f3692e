"""A process-safe lock on one folder (``fcntl.flock``): exclusive, or shared.

A batch ingest run holds its source's lock exclusively; stream processors (any number
of workers) hold it shared. So neither can start while the other writes the source.
The kernel releases a lock when its process dies, even by SIGKILL.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from confluens.errors import ConcurrentWriteError

__all__ = ["table_lock"]



@contextmanager
def table_lock(folder: Path, *, wait: bool = True, what: str | None = None,
               shared: bool = False, rule: str = "another process is writing it",
               fix: str = "wait for the other ingest to finish") -> Iterator[None]:
    """Hold the lock of ``folder`` (``shared``: alongside other shared holders). With
    ``wait=False`` a lock held the other way raises ConcurrentWriteError at once, with
    ``rule`` and ``fix``."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / "_lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
            fcntl.flock(fd, mode | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise ConcurrentWriteError(what or f"table {folder.name!r}", rule,
                                       fix=fix) from None
        yield
    finally:
        os.close(fd)
