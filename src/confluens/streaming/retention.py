"""What the online state keeps of one entity's events at a horizon, in plain Python.

The same rule as ``plan/retention.py`` (``compile_retained``, which states it in SQL
for ``confluens materialize``), from the plan's ``LoweredPlan.retention``. Over one
entity's events in event order (time, version, id), at horizon h, an event is kept
when:

- its time is after ``h - time_back`` (the longest delay + window of the time
  windows other than ``latest`` values), or
- it is known only after h (it becomes visible later), or
- for some (filter f, delay d, n) of ``retention.latest_n`` (event-count windows, and
  ``latest`` values as n = 1), it passes f and fewer than n events after it pass f
  and are visible at h (known by h, at or before ``h - d``).

The last rule is exact: what a count window sees only grows as time passes, so an
event with n visible passing events after it at h is never among the n latest again.

**Pruning again.** A stream processor prunes each entity's held events at every
micro-batch's watermark, after merging new (possibly late) events, rather than once
over the entity's whole history. That gives the same kept events as one pruning of
the whole history at the latest horizon, provided the horizons do not decrease: an
event left out at h0 is left out at any h >= h0 with any more events (each rule only
drops more as h and the events grow), and the counts of the last rule, taken over
the held events only, decide the same: a left-out event that passes f has, at every
later horizon, at least n visible held events after it that pass f (the n latest
visible ones were kept when it was left out, and each of those is left out only once
n more follow it), so any event before it already counts n.

>>> from confluens.core import Entity, Events, FeatureView, Last, Source, Sum
>>> from confluens.plan.ir import plan_view
>>> tx = Source("tx", {"id": "int64", "ts": "timestamp", "c": "string", "a": "float64"},
...             "ts", id="id")
>>> plan = plan_view(FeatureView("v", Entity("c", ["c"]), tx,
...                  [Sum("a", window="10s"), Last("a", window=Events(2))]))
>>> S = 1_000_000
>>> t = [0, 1 * S, 2 * S, 3 * S, 40 * S]
>>> kept = retained(plan, t, t, {}, horizon=50 * S)
>>> kept.kept, kept.left_out // S  # the two latest by count; none in the 10s window
([3, 4], 2)
>>> retained(plan, t, [0, 1 * S, 2 * S, 60 * S, 40 * S], {}, horizon=50 * S).kept
[2, 3, 4]
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from confluens.plan.ir import ViewPlan, lower

__all__ = ["Retained", "retained"]


@dataclass(frozen=True, slots=True)
class Retained:
    """The kept events' positions, ascending, and the latest left-out event's time
    (None: none left out)."""

    kept: list[int]
    left_out: int | None


def retained(plan: ViewPlan, t: Sequence[int], known: Sequence[int],
             passes: Mapping[str, Sequence[bool]], horizon: int) -> Retained:
    """Which of one entity's events (in event order) the state of ``plan`` keeps at
    ``horizon``: ``t`` and ``known`` are their times and known-at times (the event
    time where the source has none), ``passes`` per filter text whether each passes.
    """
    n = len(t)
    retention = lower(plan).retention
    keep = bytearray(n)
    # the events are in time order: those after ``h - time_back`` are a suffix
    first = n if retention.time_back_us is None else bisect_right(
        t, horizon - retention.time_back_us)
    if first == 0:  # every event is in the time windows (the common case): all kept
        return Retained(list(range(n)), None)
    keep[first:] = b"\x01" * (n - first)
    for i in range(first):
        if known[i] > horizon:
            keep[i] = 1
    for where, delay, most in retention.latest_n:
        ok = passes[where] if where is not None else None
        upper = horizon - delay
        seen = 0  # passing events after i visible at the horizon
        for i in range(n - 1, -1, -1):
            if ok is not None and not ok[i]:
                continue
            if seen >= most:  # every earlier one has at least as many after it
                break
            keep[i] = 1
            if known[i] <= horizon and t[i] <= upper:
                seen += 1
    if keep.count(1) == n:
        return Retained(list(range(n)), None)
    kept = [i for i in range(n) if keep[i]]
    left = [t[i] for i in range(n) if not keep[i]]
    return Retained(kept, max(left))
