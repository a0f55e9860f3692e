"""The prediction log: every prediction, written to the offline store off the
request path.

``Scorer`` hands each batch's log rows to ``PredictionLog.writer(model, keys)``'s
callable, which only puts them on a bounded queue. A background thread gathers them
and appends one Parquet part per model every ``flush_seconds`` (or every
``flush_rows`` rows), through the offline store's atomic append. When the queue is
full, ``record`` waits for room: a burst slows scoring down rather than losing
predictions. ``stop`` writes whatever is still queued before it returns; a failed
write is logged and retried at the next flush, never dropped. The schema is in
log_table.py.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

from confluens.errors import InputError
from confluens.lifecycle.serve.ids import uuid7
from confluens.lifecycle.serve.log_table import log_table
from confluens.lifecycle.serve.scorer import LogWriter
from confluens.stores.offline import OfflineStore

__all__ = ["PARTITION_BY", "PredictionLog"]

PARTITION_BY = "predicted_at"
_log = logging.getLogger("confluens.serve")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


class _Flush:
    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()


class PredictionLog:
    """Writes prediction-log rows to ``store`` (one table per model) in the background.

    Use ``start()`` / ``stop()`` (or ``with``); ``flush()`` waits until everything
    recorded so far is committed.
    """

    def __init__(self, store: OfflineStore, *, flush_seconds: float = 1.0,
                 flush_rows: int = 50_000, max_queued: int = 10_000) -> None:
        self.store = store
        self.flush_seconds = flush_seconds
        self.flush_rows = flush_rows
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queued)
        self._thread: threading.Thread | None = None
        self.written = 0  # rows committed so far
        self.failures = 0  # writes that failed (their rows were kept and retried)

    def writer(self, model: str, key_types: Mapping[str, str]) -> LogWriter:
        """The callable a ``Scorer`` logs ``model``'s rows with."""
        if not _NAME.fullmatch(model):
            raise InputError(f"model '{model}'", "a logged model's name is a file name: "
                             "letters, digits, '_', '.', '-'", got=model,
                             fix="rename the model")
        types = dict(key_types)

        def record(rows: list[dict[str, Any]]) -> None:
            if self._thread is None or not self._thread.is_alive():
                raise RuntimeError("the prediction log is not running; call start()")
            self._queue.put((model, types, rows))

        return record

    def start(self) -> PredictionLog:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="confluens-prediction-log",
                                            daemon=True)
            self._thread.start()
        return self

    def flush(self) -> None:
        """Return once every row recorded before the call is committed (or has failed)."""
        if self._thread is None or not self._thread.is_alive():
            return
        marker = _Flush()
        self._queue.put(marker)
        marker.done.wait()

    def stop(self) -> None:
        """Write what is queued, then end the background thread."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        self._thread = None

    def __enter__(self) -> PredictionLog:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _run(self) -> None:
        pending: dict[str, tuple[dict[str, str], list[dict[str, Any]]]] = {}
        count, since = 0, 0.0
        while True:
            timeout = max(0.0, since + self.flush_seconds - time.monotonic()) if count else None
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            if item is _STOP or isinstance(item, _Flush):
                count = self._write(pending)
                if isinstance(item, _Flush):
                    item.done.set()
                    continue
                return
            if item is not None:
                model, types, rows = item
                if not count:
                    since = time.monotonic()
                entry = pending.setdefault(model, (types, []))
                entry[0].update(types)
                entry[1].extend(rows)
                count += len(rows)
            if count >= self.flush_rows or (count and time.monotonic() - since
                                            >= self.flush_seconds):
                count = self._write(pending)
                since = time.monotonic()

    def _write(self, pending: dict[str, tuple[dict[str, str], list[dict[str, Any]]]]) -> int:
        """Append each model's rows; those of a failed append stay pending. Returns how
        many rows remain pending."""
        left = 0
        for model in list(pending):
            types, rows = pending[model]
            if not rows:
                continue
            try:
                self.store.append(model, log_table(rows, types), run_id=f"log-{uuid7().hex}",
                                  partition_by=PARTITION_BY)
            except Exception:
                self.failures += 1
                _log.exception("prediction log: writing %d rows of model %r failed; "
                               "retrying at the next flush", len(rows), model)
                left += len(rows)
                continue
            self.written += len(rows)
            del pending[model]
        return left
