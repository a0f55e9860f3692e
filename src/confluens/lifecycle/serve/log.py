"""The prediction log: every prediction, written to the offline store off the
request path.

``Scorer`` hands each batch's log rows to ``PredictionLog.writer(model, keys)``'s
callable, which only appends them to an in-memory buffer: no lock handed over, no
thread woken per request (waking a writer thread for every prediction costs the
request path a GIL hand-off). A background thread wakes every ``flush_seconds`` (5 by
default: each append writes a file and commits it, several milliseconds whatever its
size, so fewer, larger appends leave the server's CPU to scoring and make fewer
files), takes what the buffer holds and appends one Parquet part per model through
the offline store's atomic append (written by pyarrow: no DuckDB session is opened in
the server, whose start holds the GIL for tens of milliseconds). It builds the
Arrow table a few dozen rows at a time and lets go of the GIL between them, so the
event loop's thread never waits long for it. When ``max_queued`` rows are waiting, recording wakes
the writer and waits for room: a burst slows scoring down rather than losing
predictions. ``stop`` writes everything recorded before it returns; a failed write is
logged and retried at the next flush, never dropped. The schema is in log_table.py.

A stream scorer logs a whole batch as ``LogColumns`` instead of rows: recording builds
its Arrow table at once, in the caller's thread, with no Python object per row (the
background thread then has no per-row work left to contend for the GIL with).
"""

from __future__ import annotations

import collections
import logging
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from confluens.errors import InputError
from confluens.lifecycle.serve.ids import uuid7
from confluens.lifecycle.serve.log_table import (
    LogColumns,
    columns_table,
    conform,
    log_schema,
    log_table,
)
from confluens.lifecycle.serve.scorer import LogWriter
from confluens.stores.offline import OfflineStore

__all__ = ["PARTITION_BY", "PredictionLog"]

PARTITION_BY = "predicted_at"
_log = logging.getLogger("confluens.serve")
_CHUNK = 16  # rows converted between two releases of the GIL: about half a millisecond
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


class PredictionLog:
    """Writes prediction-log rows to ``store`` (one table per model) in the background.

    Use ``start()`` / ``stop()`` (or ``with``); ``flush()`` waits until everything
    recorded so far is committed.
    """

    def __init__(self, store: OfflineStore, *, flush_seconds: float = 5.0,
                 max_queued: int = 100_000) -> None:
        self.store = store
        self.flush_seconds = flush_seconds
        self.max_queued = max_queued
        # (model, key types, rows or a table): deque appends and pops are atomic, no
        # lock needed
        self._buffer: collections.deque[
            tuple[str, dict[str, str], list[Any] | pa.Table]] = collections.deque()
        # rows recorded and rows drained, each counter written by one side only
        self._recorded = 0
        self._drained = 0
        self._wake = threading.Event()
        self._room = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        # per model: its key types, and in the order recorded, runs of rows and the
        # tables built from LogColumns
        self._pending: dict[str, tuple[dict[str, str], list[list[Any] | pa.Table]]] = {}
        self.written = 0  # rows committed so far
        self.failures = 0  # writes that failed (their rows were kept and retried)

    def writer(self, model: str, key_types: Mapping[str, str]) -> LogWriter:
        """The callable a ``Scorer`` logs ``model``'s rows with."""
        if not _NAME.fullmatch(model):
            raise InputError(f"model '{model}'", "a logged model's name is a file name: "
                             "letters, digits, '_', '.', '-'", got=model,
                             fix="rename the model")
        types = dict(key_types)

        def record(rows: list[dict[str, Any]] | LogColumns) -> None:
            if self._thread is None or not self._thread.is_alive():
                raise RuntimeError("the prediction log is not running; call start()")
            if self._recorded - self._drained >= self.max_queued:
                self._wait_for_room()
            n = len(rows)
            if isinstance(rows, LogColumns):
                self._buffer.append((model, types, columns_table(rows, types)))
            else:
                self._buffer.append((model, types, rows))
            self._recorded += n

        return record

    def _wait_for_room(self) -> None:
        with self._room:
            self._wake.set()
            while self._recorded - self._drained >= self.max_queued \
                    and self._thread is not None and self._thread.is_alive():
                self._room.wait(timeout=0.1)

    def start(self) -> PredictionLog:
        if self._thread is None or not self._thread.is_alive():
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="confluens-prediction-log",
                                            daemon=True)
            self._thread.start()
        return self

    def flush(self) -> None:
        """Return once every row recorded before the call is committed (or has failed)."""
        if self._thread is None or not self._thread.is_alive():
            return
        done = threading.Event()
        self._buffer.append(("", {}, [done]))
        self._wake.set()
        done.wait()

    def stop(self) -> None:
        """Write what is recorded, then end the background thread."""
        if self._thread is not None and self._thread.is_alive():
            self._stopping = True
            self._wake.set()
            self._thread.join()
        self._thread = None

    def __enter__(self) -> PredictionLog:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            stopping = self._stopping
            flushed = self._drain()
            self._write()
            for done in flushed:
                done.set()
            if stopping:
                return

    def _drain(self) -> list[threading.Event]:
        """Move the buffer's rows to the pending tables; the flush markers found."""
        markers: list[threading.Event] = []
        while self._buffer:
            model, types, rows = self._buffer.popleft()
            if not model:
                markers.extend(rows)  # flush() puts its Event
                continue
            entry = self._pending.setdefault(model, (types, []))
            entry[0].update(types)
            parts = entry[1]
            if isinstance(rows, pa.Table):
                parts.append(rows)
                self._drained += rows.num_rows
            else:
                if parts and isinstance(parts[-1], list):
                    parts[-1].extend(rows)
                else:
                    parts.append(list(rows))
                self._drained += len(rows)
        with self._room:
            self._room.notify_all()
        return markers

    def _write(self) -> None:
        """Append each model's pending rows; those of a failed append stay pending."""
        for model in list(self._pending):
            types, parts = self._pending[model]
            if not parts:
                continue
            n = sum(p.num_rows if isinstance(p, pa.Table) else len(p) for p in parts)
            try:
                schema = log_schema(types)
                tables = [conform(p, schema) if isinstance(p, pa.Table)
                          else _table(p, types) for p in parts]
                table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
                self.store.append(model, table, run_id=f"log-{uuid7().hex}",
                                  partition_by=PARTITION_BY)
            except Exception:
                self.failures += 1
                _log.exception("prediction log: writing %d rows of model %r failed; "
                               "retrying at the next flush", n, model)
                continue
            self.written += n
            del self._pending[model]


def _table(rows: list[Any], types: dict[str, str]) -> pa.Table:
    """``log_table`` of ``rows``, built ``_CHUNK`` rows at a time, with the GIL let go
    between chunks (``time.sleep(0)``): a thread waiting for it, the event loop's,
    takes it then, rather than after the interpreter's switch interval (5 ms)."""
    parts = []
    for start in range(0, len(rows), _CHUNK):
        parts.append(log_table(rows[start:start + _CHUNK], types))
        time.sleep(0)
    return pa.concat_tables(parts) if len(parts) > 1 else parts[0]
