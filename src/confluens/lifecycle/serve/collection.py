"""Python's cyclic garbage collector, run between batches of requests rather than
inside them.

Left to itself, the collector starts whenever a few hundred container objects have
been allocated and not freed: in a server, in the middle of some request, which then
waits for it (about 0.1 ms for the youngest generation, about 1 ms for the middle one
here, every hundred or so requests). :class:`PacedCollection` turns the automatic
collector off while the server runs and runs the same collections itself once a
batch's answers have been handed back (``MicroBatcher``'s ``after_batch``), and at
least every ``idle_seconds`` (``ModelService`` ticks it), so cycles are still
reclaimed as often as before, between requests instead of inside them.

The thresholds are the interpreter's own (``gc.get_threshold()``): the youngest
generation is collected once its count reaches the first threshold, the middle one
every second-threshold collections of the youngest. A full collection takes the
place of a middle one at most every ``full_seconds`` (5 minutes: the interpreter too
runs one only rarely, when the long-lived objects have grown by a quarter; what exists
at start-up is frozen out of its way, app.py).

>>> pacing = PacedCollection()
>>> pacing.start()
>>> gc.isenabled()
False
>>> pacing.stop()
>>> gc.isenabled()
True
"""

from __future__ import annotations

import gc
import time

__all__ = ["PacedCollection"]


class PacedCollection:
    """Runs the collector when ``run_due`` is called and a collection is due."""

    def __init__(self, *, full_seconds: float = 300.0) -> None:
        self.full_seconds = full_seconds
        self.collections = [0, 0, 0]  # collections run so far, per generation
        self._enabled_before: bool | None = None
        self._last_full = time.monotonic()

    @property
    def running(self) -> bool:
        return self._enabled_before is not None

    def start(self) -> None:
        """Turn the automatic collector off (``stop`` turns it back on if it was)."""
        if self._enabled_before is None:
            self._enabled_before = gc.isenabled()
            gc.disable()
            self._last_full = time.monotonic()

    def stop(self) -> None:
        if self._enabled_before is not None:
            if self._enabled_before:
                gc.enable()
            self._enabled_before = None

    def run_due(self) -> int | None:
        """Run the collection that is due, if any: the generation collected, or None."""
        if self._enabled_before is None:
            return None
        young, middle, _ = gc.get_count()
        first, second, _ = gc.get_threshold()
        if first <= 0 or young < first:
            return None
        generation = 1 if middle >= second else 0
        now = time.monotonic()
        if generation == 1 and now - self._last_full >= self.full_seconds:
            generation = 2
            self._last_full = now
        gc.collect(generation)
        self.collections[generation] += 1
        return generation
