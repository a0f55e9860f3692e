"""Timing helpers: median wall time of repeated runs, and peak memory of a child process."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Figure", "median_seconds"]


@dataclass(frozen=True)
class Figure:
    """One measured figure; ``baseline`` names the figure it is compared with."""

    group: str
    name: str
    seconds: float
    rows: int
    baseline: str | None = None


def median_seconds(fn: Callable[[], object], *, repeat: int = 3,
                   setup: Callable[[], object] | None = None) -> float:
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
