"""The embedded online store: one SQLite file, shared safely by processes (WAL mode).

Tables: ``online`` (the state), ``checkpoints`` (stream consumers' checkpoints) and
``leases`` (``lease.py``); each commit and each lease operation is one transaction.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from urllib.parse import quote

from confluens.errors import CheckpointConflictError
from confluens.stores.capabilities import StoreCapability
from confluens.stores.online.checkpoint import Checkpoint, StateWrite
from confluens.stores.online.lease import Lease

__all__ = ["EmbeddedOnlineStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS online (
    view TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, expires_at REAL,
    PRIMARY KEY (view, key)
) WITHOUT ROWID
"""


_CHECKPOINTS = """
CREATE TABLE IF NOT EXISTS checkpoints (
    consumer TEXT PRIMARY KEY, seq INTEGER NOT NULL, value TEXT NOT NULL
)
"""


_LEASES = """
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at REAL NOT NULL
)
"""


_GET = ("SELECT value FROM online WHERE view = ? AND key = ? "
        "AND (expires_at IS NULL OR expires_at > ?)")


_MMAP_BYTES = 1 << 30  # address space only: pages are mapped as they are read

_UNION_MAX = 64  # lookups per statement (SQLite allows 500 terms in a compound SELECT)


@cache
def _union(n: int) -> str:
    return " UNION ALL ".join(
        f"SELECT {i}, value FROM online WHERE view = ? AND key = ? "
        "AND (expires_at IS NULL OR expires_at > ?)" for i in range(n))


class EmbeddedOnlineStore:
    """File-backed, survives restarts, needs no server. ``clock`` gives the time in
    seconds since the epoch that expiry is measured against (written and read)."""

    capabilities = frozenset(StoreCapability) - {StoreCapability.REPLACE}

    def __init__(self, path: Path | str, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and not os.access(self.path.parent, os.W_OK):
            # a read-only project: read the file as it is; writes fail as SQLite says
            uri = f"file:{quote(str(self.path.resolve()))}?mode=ro&immutable=1"
            self._con = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None,
                                        check_same_thread=False)
        else:
            self._con = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                        check_same_thread=False)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
            self._con.execute(_SCHEMA)
            self._con.execute(_CHECKPOINTS)
            self._con.execute(_LEASES)
        # reads through memory-mapped pages, not a read() call per page: a point read
        # of a few kilobytes of state costs about half as much (benchmarks/serving.py)
        self._con.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
        self._cursor = self._con.cursor()  # reused by point reads
        # one connection and cursor per store object: threads sharing it take turns
        self._lock = threading.RLock()

    @property
    def location(self) -> str:
        """Which store this is: a materialize records it, and rebuilds in another."""
        return f"embedded:{self.path.resolve()}"

    def write(self, view: str, items: Mapping[str, bytes], *,
              ttl_seconds: float | None = None) -> int:
        with self._lock:
            return self._write_unlocked(view, items, ttl_seconds=ttl_seconds)

    def replace(self, view: str, items: Mapping[str, bytes], *,
                ttl_seconds: float | None = None) -> int:
        with self._lock:
            return self._replace_unlocked(view, items, ttl_seconds=ttl_seconds)

    def read(self, view: str, keys: Sequence[str]) -> list[bytes | None]:
        with self._lock:
            return self._read_unlocked(view, keys)

    def read_many(self, requests: Sequence[tuple[str, Sequence[str]]],
                  ) -> list[list[bytes | None]]:
        with self._lock:
            return self._read_many_unlocked(requests)

    def clear(self, view: str) -> None:
        with self._lock:
            self._clear_unlocked(view)

    def checkpoint(self, consumer: str) -> Checkpoint | None:
        with self._lock:
            try:
                row = self._con.execute("SELECT value FROM checkpoints WHERE consumer = ?",
                                        (consumer,)).fetchone()
            except sqlite3.OperationalError:  # a read-only file from before checkpoints
                return None
        return None if row is None else Checkpoint.from_json(consumer, row[0])

    def commit(self, checkpoint: Checkpoint, writes: Sequence[StateWrite], *,
               ttl_seconds: float | None = None) -> None:
        """One SQLite transaction: the state writes and the checkpoint, or neither."""
        expires = None if ttl_seconds is None else self.clock() + ttl_seconds
        with self._lock, self._transaction():
            row = self._con.execute("SELECT seq FROM checkpoints WHERE consumer = ?",
                                    (checkpoint.consumer,)).fetchone()
            stored = 0 if row is None else int(row[0])
            if stored != checkpoint.seq - 1:
                raise _conflict(checkpoint, stored)
            for view, items in writes:
                self._con.executemany(
                    "INSERT OR REPLACE INTO online (view, key, value, expires_at) "
                    "VALUES (?,?,?,?)", [(view, k, v, expires) for k, v in items.items()])
            self._con.execute("INSERT OR REPLACE INTO checkpoints VALUES (?,?,?)",
                              (checkpoint.consumer, checkpoint.seq, checkpoint.to_json()))

    def acquire(self, name: str, owner: str, ttl_seconds: float) -> Lease | None:
        now = self.clock()
        with self._lock, self._transaction():
            held = self._lease(name)
            if held is not None and held.owner != owner and held.live(now):
                return None
            return self._set_lease(Lease(name, owner, now + ttl_seconds))

    def renew(self, name: str, owner: str, ttl_seconds: float) -> Lease | None:
        now = self.clock()
        with self._lock, self._transaction():
            held = self._lease(name)
            if held is None or held.owner != owner or not held.live(now):
                return None
            return self._set_lease(Lease(name, owner, now + ttl_seconds))

    def release(self, name: str, owner: str) -> bool:
        with self._lock, self._transaction():
            gone = self._con.execute("DELETE FROM leases WHERE name = ? AND owner = ?",
                                     (name, owner)).rowcount
        return bool(gone)

    def leases(self, prefix: str) -> list[Lease]:
        with self._lock:
            try:
                rows = self._con.execute(
                    "SELECT name, owner, expires_at FROM leases "
                    "WHERE substr(name, 1, ?) = ? ORDER BY name",
                    (len(prefix), prefix)).fetchall()
            except sqlite3.OperationalError:  # a read-only file from before leases
                return []
        return [Lease(n, o, float(e)) for n, o, e in rows]

    def _lease(self, name: str) -> Lease | None:
        row = self._con.execute("SELECT owner, expires_at FROM leases WHERE name = ?",
                                (name,)).fetchone()
        return None if row is None else Lease(name, row[0], float(row[1]))

    def _set_lease(self, lease: Lease) -> Lease:
        self._con.execute("INSERT OR REPLACE INTO leases VALUES (?,?,?)",
                          (lease.name, lease.owner, lease.expires_at))
        return lease

    def _write_unlocked(self, view: str, items: Mapping[str, bytes], *,
              ttl_seconds: float | None = None) -> int:
        expires = None if ttl_seconds is None else self.clock() + ttl_seconds
        with self._transaction():
            self._con.executemany(
                "INSERT OR REPLACE INTO online (view, key, value, expires_at) VALUES (?,?,?,?)",
                [(view, k, v, expires) for k, v in items.items()])
        return len(items)

    def _replace_unlocked(self, view: str, items: Mapping[str, bytes], *,
                ttl_seconds: float | None = None) -> int:
        """One transaction: readers (WAL snapshots) see the old state or the new one."""
        expires = None if ttl_seconds is None else self.clock() + ttl_seconds
        with self._transaction():
            self._con.execute("DELETE FROM online WHERE view = ?", (view,))
            self._con.executemany(
                "INSERT INTO online (view, key, value, expires_at) VALUES (?,?,?,?)",
                [(view, k, v, expires) for k, v in items.items()])
        return len(items)

    def _read_unlocked(self, view: str, keys: Sequence[str]) -> list[bytes | None]:
        if len(keys) == 1:  # the common online read: one primary-key lookup
            row = self._cursor.execute(_GET, (view, keys[0], self.clock())).fetchone()
            return [None if row is None else row[0]]
        rows = self._con.execute(
            "SELECT key, value FROM online WHERE view = ? "
            "AND key IN (SELECT value FROM json_each(?)) "
            "AND (expires_at IS NULL OR expires_at > ?)",
            (view, json.dumps(list(keys)), self.clock())).fetchall()
        found = dict(rows)
        return [found.get(k) for k in keys]

    def _read_many_unlocked(self, requests: Sequence[tuple[str, Sequence[str]]],
                  ) -> list[list[bytes | None]]:
        """A few keys in one statement: tagged primary-key lookups joined by UNION ALL."""
        pairs = [(view, key) for view, keys in requests for key in keys]
        if not pairs or len(pairs) > _UNION_MAX:
            return [self._read_unlocked(view, keys) for view, keys in requests]
        now = self.clock()
        found: list[bytes | None] = [None] * len(pairs)
        for i, value in self._cursor.execute(
                _union(len(pairs)), [x for view, key in pairs for x in (view, key, now)]):
            found[i] = value
        out: list[list[bytes | None]] = []
        start = 0
        for _, keys in requests:
            out.append(found[start:start + len(keys)])
            start += len(keys)
        return out

    def _clear_unlocked(self, view: str) -> None:
        with self._transaction():
            self._con.execute("DELETE FROM online WHERE view = ?", (view,))

    def close(self) -> None:
        self._con.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._con.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")


def _conflict(checkpoint: Checkpoint, stored: int) -> CheckpointConflictError:
    return CheckpointConflictError(
        f"stream consumer '{checkpoint.consumer}'",
        f"a commit must follow the stored checkpoint {stored}", got=checkpoint.seq,
        fix="run one processor per consumer and partition; restart this one to resume "
        "from the stored checkpoint")
