"""The embedded log: one SQLite file per topic, durable, shared safely by processes.

Each partition numbers its messages from 1; a message's position is that number as
text. Appends are one transaction each (``synchronous=FULL``: an appended message
survives a crash of the process and of the machine); readers in other processes see
whole appends only (WAL mode). The number of partitions is fixed when the file is
created; opening it with another number is refused.

>>> import tempfile, pathlib
>>> log = EmbeddedLog(pathlib.Path(tempfile.mkdtemp()) / "tx.log", "tx", partitions=2)
>>> log.append([("a", b'{"x": 1}'), ("d", b'{"x": 2}'), ("a", b'{"x": 3}')])
3
>>> [m.payload for m in log.read(partition_of("a", 2), None, 10)]
[b'{"x": 1}', b'{"x": 3}']
>>> first = log.read(partition_of("a", 2), None, 1)[0]
>>> [m.payload for m in log.read(first.partition, first.position, 10)]
[b'{"x": 3}']
>>> log.close()
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from confluens.connectors.streams.protocol import Message, partition_of
from confluens.errors import InputError, StorageError

__all__ = ["EmbeddedLog"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS log (partition INTEGER NOT NULL, position INTEGER NOT NULL, "
    "key TEXT, payload BLOB NOT NULL, published_us INTEGER NOT NULL, "
    "PRIMARY KEY (partition, position)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
_POLL_S = 0.01


def _now_us() -> int:
    return time.time_ns() // 1000


class EmbeddedLog:
    """A topic of the embedded log in the SQLite file ``path``."""

    def __init__(self, path: Path | str, topic: str, *, partitions: int = 1,
                 clock_us: Callable[[], int] = _now_us) -> None:
        if partitions < 1:
            raise InputError(f"embedded log '{topic}'", "partitions must be at least 1",
                             got=partitions, fix="pass partitions=1 or more")
        self.path = Path(path)
        self.topic = topic
        self._clock_us = clock_us
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                    check_same_thread=False)
        self._lock = threading.RLock()
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=FULL")
        for statement in _SCHEMA:
            self._con.execute(statement)
        self._con.execute("BEGIN IMMEDIATE")
        try:
            self._con.execute("INSERT OR IGNORE INTO meta VALUES ('partitions', ?)",
                              (str(partitions),))
            (stored,) = self._con.execute(
                "SELECT value FROM meta WHERE name = 'partitions'").fetchone()
        finally:
            self._con.execute("COMMIT")
        if int(stored) != partitions:
            self._con.close()
            raise InputError(f"embedded log '{topic}' at {self.path}",
                             "a log keeps the number of partitions it was created with",
                             got=partitions, fix=f"use partitions={stored}, or replay into a "
                             "new log")
        self.partitions = partitions

    @property
    def location(self) -> str:
        return f"embedded:{self.path.resolve()}"

    def _last_number(self, partition: int) -> int:
        row = self._con.execute("SELECT max(position) FROM log WHERE partition = ?",
                                (partition,)).fetchone()
        return int(row[0] or 0)

    def append(self, messages: Sequence[tuple[str | None, bytes]]) -> int:
        if not messages:
            return 0
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                # another process may have appended since: number from what is stored
                nexts = {p: self._last_number(p) + 1 for p in range(self.partitions)}
                now = self._clock_us()
                rows = []
                for key, payload in messages:
                    p = partition_of(key, self.partitions)
                    rows.append((p, nexts[p], key, bytes(payload), now))
                    nexts[p] += 1
                self._con.executemany("INSERT INTO log VALUES (?,?,?,?,?)", rows)
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")
        return len(messages)

    def read(self, partition: int, after: str | None, limit: int, *,
             wait_ms: int = 0) -> list[Message]:
        self._check_partition(partition)
        start = 0 if after is None else self._number(after)
        deadline = time.monotonic() + wait_ms / 1000
        while True:
            with self._lock:
                rows = self._con.execute(  # rows shaped as Messages, made in one map
                    "SELECT partition, CAST(position AS TEXT), key, payload, published_us "
                    "FROM log WHERE partition = ? AND position > ? ORDER BY position LIMIT ?",
                    (partition, start, limit)).fetchall()
            if rows or time.monotonic() >= deadline:
                return list(map(Message._make, rows))
            time.sleep(_POLL_S)

    def last(self, partition: int) -> str | None:
        self._check_partition(partition)
        with self._lock:
            number = self._last_number(partition)
        return None if number == 0 else str(number)

    def close(self) -> None:
        self._con.close()

    def _check_partition(self, partition: int) -> None:
        if not 0 <= partition < self.partitions:
            raise InputError(f"embedded log '{self.topic}'", "partition out of range",
                             got=partition, fix=f"use 0 to {self.partitions - 1}")

    def _number(self, position: str) -> int:
        try:
            return int(position)
        except ValueError:
            raise StorageError(f"embedded log '{self.topic}'", "positions are whole numbers",
                               got=position, fix="pass a position this log gave") from None
