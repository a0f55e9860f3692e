"""An asyncio event loop in a daemon thread, for synchronous objects over async clients.

A stream log's protocol is synchronous, while some brokers' client libraries (nats-py)
are asyncio only. A :class:`LoopThread` owns one event loop running in its own daemon
thread; :meth:`LoopThread.run` submits a coroutine to it and blocks the caller until
the coroutine finishes, returning its result or raising its exception. Every coroutine
of one object therefore runs on the same loop, so the client's connection, its
subscriptions and its callbacks live in one place, whatever thread calls.

>>> import asyncio
>>> loop = LoopThread("example")
>>> async def double(x: int) -> int:
...     await asyncio.sleep(0)
...     return 2 * x
>>> loop.run(double(21))
42
>>> loop.close()
>>> loop.closed
True
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from confluens.errors import StorageError

__all__ = ["LoopThread"]

T = TypeVar("T")


class LoopThread:
    """One event loop in one daemon thread named ``confluens-<name>``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._main, name=f"confluens-{name}",
                                        daemon=True)
        self._thread.start()
        self._started.wait()

    @property
    def closed(self) -> bool:
        return self._loop.is_closed()

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._started.set)
        try:
            self._loop.run_forever()
        finally:
            # whatever is still scheduled is cancelled and allowed to finish cancelling
            tasks = [t for t in asyncio.all_tasks(self._loop) if not t.done()]
            for task in tasks:
                task.cancel()
            if tasks:
                self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the loop and wait for its result (or its exception).

        Callers bound the time a coroutine takes inside it (``asyncio.timeout``): this
        waits as long as the coroutine runs."""
        if self.closed or threading.current_thread() is self._thread:
            coroutine.close()
            raise StorageError(f"event loop '{self.name}'",
                               "cannot run a coroutine once closed, or from its own thread",
                               got="closed" if self.closed else "its own thread",
                               fix="open a new log; do not call the log from its callbacks")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def close(self) -> None:
        """Stop the loop (tasks still pending are cancelled) and join its thread."""
        if self.closed:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
