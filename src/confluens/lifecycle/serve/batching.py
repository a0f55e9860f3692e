"""Micro-batching: concurrent requests coalesced into one feature read and one predict.

Requests wait on an asyncio queue. One worker takes the first and every request
queued with it (those that arrived in the same turn of the event loop), up to
``max_batch``. When the server is busy (the previous batch held more than one
request), it then keeps taking those that arrive while it gives the event loop a
turn, until the batch is full, ``max_wait`` seconds have passed since the first, or
``idle_turns`` turns of the loop in a row brought none. So a request that arrives
alone at a quiet server is scored at once, with no turn of the loop spent waiting
for company, and requests that arrive together, or while a batch is being scored,
share the next batch.

The batch is scored on the event loop's thread: reading features and predicting
are short CPU work, and a thread hand-off would cost more than it saves.

>>> import asyncio
>>> async def main():
...     batcher = MicroBatcher(lambda items: [i * 2 for i in items])
...     await batcher.start()
...     out = await asyncio.gather(*(batcher.submit(i) for i in range(5)))
...     await batcher.stop()
...     return out, batcher.batches
>>> asyncio.run(main())
([0, 2, 4, 6, 8], 1)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

__all__ = ["MicroBatcher"]

T = TypeVar("T")
R = TypeVar("R")


class MicroBatcher(Generic[T, R]):
    """Runs ``score_many(items) -> results`` (one result per item, in order; a result
    that is an exception is raised to that item's caller) over coalesced batches."""

    def __init__(self, score_many: Callable[[list[T]], Sequence[R | BaseException]], *,
                 max_batch: int = 64, max_wait: float = 0.001, idle_turns: int = 4,
                 after_batch: Callable[[], object] | None = None) -> None:
        self.score_many = score_many
        # run once a batch's callers have their results and have sent them on (a few
        # turns of the loop later): e.g. a garbage collection (collection.py)
        self.after_batch = after_batch
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.idle_turns = idle_turns
        self._queue: asyncio.Queue[tuple[T, asyncio.Future[Any]]] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._collecting = False  # the worker holds a batch it has not scored yet
        self.batches = 0  # batches scored so far
        self.items = 0  # items scored so far
        self.largest = 0  # the largest batch so far

    async def start(self) -> None:
        if self._worker is None:
            self._queue = asyncio.Queue()
            self._worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Score what is queued, then stop the worker."""
        if self._worker is None or self._queue is None:
            return
        while not self._queue.empty() or self._collecting:
            await asyncio.sleep(0)
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        self._worker = None
        self._queue = None  # a late submit is refused, never left waiting

    async def submit(self, item: T) -> R:
        """``item``'s result once its batch is scored."""
        if self._queue is None:
            raise RuntimeError("the batcher is not running; call start()")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        result = await future
        if isinstance(result, BaseException):
            raise result
        return result  # type: ignore[no-any-return]

    async def submit_many(self, items: Sequence[T]) -> list[R | BaseException]:
        """The results of several items (each an exception, or its result), which
        join the same batches as everyone else's."""
        if self._queue is None:
            raise RuntimeError("the batcher is not running; call start()")
        loop = asyncio.get_running_loop()
        futures = []
        for item in items:
            future: asyncio.Future[Any] = loop.create_future()
            self._queue.put_nowait((item, future))
            futures.append(future)
        return list(await asyncio.gather(*futures))

    async def _run(self) -> None:
        assert self._queue is not None
        queue = self._queue
        loop = asyncio.get_running_loop()
        busy = False  # the previous batch held more than one request
        while True:
            batch = [await queue.get()]
            self._collecting = True
            while len(batch) < self.max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            if busy:
                deadline = loop.time() + self.max_wait
                idle = 0
                while len(batch) < self.max_batch and idle < self.idle_turns:
                    if not queue.empty():
                        batch.append(queue.get_nowait())
                        idle = 0
                        continue
                    if loop.time() >= deadline:
                        break
                    await asyncio.sleep(0)
                    idle += 1
            busy = len(batch) > 1
            self._score(batch)
            self._collecting = False
            if self.after_batch is not None:
                _after_turns(loop, _AFTER_TURNS, self.after_batch)

    def _score(self, batch: list[tuple[T, asyncio.Future[Any]]]) -> None:
        self.batches += 1
        self.items += len(batch)
        self.largest = max(self.largest, len(batch))
        try:
            results: Sequence[Any] = self.score_many([item for item, _ in batch])
        except Exception as exc:  # a bug: every caller of the batch gets it
            results = [exc] * len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


# turns of the event loop before ``after_batch``: a caller of ``submit`` resumes one
# turn after its result is set, one of ``submit_many`` (asyncio.gather) three
_AFTER_TURNS = 3


def _after_turns(loop: asyncio.AbstractEventLoop, turns: int,
                 callback: Callable[[], object]) -> None:
    if turns <= 0:
        callback()
    else:
        loop.call_soon(_after_turns, loop, turns - 1, callback)
