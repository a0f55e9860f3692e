"""Freshness per feature view: event-to-online lag, throughput and the view's SLA.

A view's online values include an event once the processor of the view's source has
committed the batch holding it. ``view_freshness`` combines the checkpoints of every
partition of the source: the lag sample (p50, p99), events per second of processing
time, how long ago the last commit was, and whether the stream is behind. A view with
a ``freshness`` SLA is in breach when its lag p99 exceeds the SLA, or when messages
wait and no commit has happened for longer than the SLA.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from confluens.core import FeatureView
from confluens.project.stream.stats import StreamStats

__all__ = ["ViewFreshness", "view_freshness"]


@dataclass(frozen=True)
class ViewFreshness:
    view: str
    source: str
    accepted: int
    lag_p50_us: int | None
    lag_p99_us: int | None
    events_per_second: float | None
    since_commit_us: int | None  # None: never committed
    behind: bool  # some partition has messages not yet consumed
    sla_us: int | None
    breach: str | None  # why the SLA is not met (None: met, or no SLA)


def view_freshness(view: FeatureView, partitions: Sequence[tuple[StreamStats, bool]],
                   *, now_us: int | None = None) -> ViewFreshness:
    """``partitions``: each partition's stats and whether it is behind."""
    now_us = time.time_ns() // 1000 if now_us is None else now_us
    merged = StreamStats()
    committed = [s.committed_us for s, _ in partitions if s.committed_us is not None]
    for stats, _ in partitions:
        merged.accepted += stats.accepted
        merged.busy_us += stats.busy_us
        merged.lags_us.extend(stats.lags_us)
    behind = any(b for _, b in partitions)
    since = None if not committed else now_us - max(committed)
    p99 = merged.lag_quantile(0.99)
    sla = None if view.freshness is None else view.freshness.microseconds
    breach = None
    if sla is not None:
        if p99 is not None and p99 > sla:
            breach = f"lag p99 {p99 / 1e6:.3g}s is over the SLA {view.freshness}"
        elif behind and (since is None or since > sla):
            breach = ("messages wait and nothing was ever committed" if since is None else
                      f"messages wait and the last commit was {since / 1e6:.3g}s ago, "
                      f"over the SLA {view.freshness}")
    return ViewFreshness(view.name, view.source.name, merged.accepted,
                         merged.lag_quantile(0.5), p99, merged.events_per_second, since,
                         behind, sla, breach)
