"""Timing helpers: median wall time of repeated runs, interleaved runs of several
implementations, and the figures the tables print."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["Figure", "interleaved", "median_seconds"]


@dataclass(frozen=True)
class Figure:
    """One measured figure.

    ``baseline`` names the figure (or figures) it is compared with; ``targets`` holds
    (baseline name, largest acceptable ratio) pairs; ``peak_gib`` and ``max_gib`` a peak
    memory and its limit; ``note`` says how it was measured (runs, form).
    """

    group: str
    name: str
    seconds: float
    rows: int
    baseline: str | tuple[str, ...] | None = None
    targets: tuple[tuple[str, float], ...] = ()
    peak_gib: float | None = None
    max_gib: float | None = None
    note: str = ""

    @property
    def baselines(self) -> tuple[str, ...]:
        if self.baseline is None:
            return ()
        return (self.baseline,) if isinstance(self.baseline, str) else self.baseline


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


def interleaved(fns: Mapping[str, Callable[[], object]], *,
                repeat: int = 3) -> dict[str, list[float]]:
    """Wall times of each function, run in rounds A B C, A B C, ... so that load on
    the machine falls on every implementation alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times
