"""An exclusive, process-safe lock on one table folder (``fcntl.flock``)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from confluens.errors import ConcurrentWriteError

__all__ = ["table_lock"]



@contextmanager
def table_lock(folder: Path, *, wait: bool = True, what: str | None = None) -> Iterator[None]:
    """Hold the lock of ``folder``. With ``wait=False`` a held lock raises at once."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / "_lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise ConcurrentWriteError(what or f"table {folder.name!r}",
                                       "another process is writing it",
                                       fix="wait for the other ingest to finish") from None
        yield
    finally:
        os.close(fd)
