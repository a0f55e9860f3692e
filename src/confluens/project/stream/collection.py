"""Python's cyclic garbage collector held off while one batch is processed.

A batch allocates hundreds of thousands of container objects that live on (messages,
rows, the views' held events); each few hundred allocations start a collection, and the
older generations are traversed again and again while the heap grows, which cost a
quarter of a batch's time. Reference counting still frees what the batch drops; cycles
wait for the collector, which runs again as the batch ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collection_paused"]


@contextmanager
def collection_paused() -> Iterator[None]:
    """Hold off the cyclic collector for the block (left off if it already was).

    >>> with collection_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
