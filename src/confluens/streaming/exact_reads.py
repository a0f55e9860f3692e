"""From when an entity's kept events answer every read exactly.

The online state keeps, per entity, only the events that can still fall in a window
(``plan/retention.py``, ``streaming/retention.py``). Reads at or after the horizon
the events were pruned at are exact by construction. Earlier reads are exact from
:func:`earliest_exact` on, a time computed from the latest left-out event's time L
and the kept events:

- any time, when no event was left out (:data:`ANY_TIME`);
- otherwise the latest of: L plus the longest delay + window of the time windows
  (from then on no time window reaches a left-out event), and for each event-count
  window ``Events(n)`` (delay d, filter f) the time its n-th kept event after L
  passing f becomes visible (known, and at or before the read time minus d), so that
  the n latest visible events are all kept ones (the horizon if fewer than n follow);
- and never later than the horizon.

Every event after L (in time) is kept, which is what makes the count-window bound
hold. A read before the earliest exact time is refused, never answered wrongly.

>>> from confluens.core import Count, Entity, Events, FeatureView, Source, Sum
>>> from confluens.plan.ir import lower, plan_view
>>> tx = Source("tx", {"id": "int64", "ts": "timestamp", "c": "string", "a": "float64"},
...             "ts", id="id")
>>> low = lower(plan_view(FeatureView("v", Entity("c", ["c"]), tx,
...                       [Sum("a", window="10s"), Count(window=Events(2))])))
>>> S = 1_000_000
>>> t = [5 * S, 6 * S, 30 * S]  # kept; the latest left-out event was at 4s
>>> earliest_exact(low, 4 * S, t, t, {None: [True] * 3}, horizon=40 * S) // S
14
>>> earliest_exact(low, None, t, t, {None: [True] * 3}, horizon=40 * S) == ANY_TIME
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from confluens.plan.ir import LoweredPlan

__all__ = ["ANY_TIME", "earliest_exact"]

#: The earliest exact read time of a state that left no event out: the very past.
ANY_TIME = -(2**63)


def earliest_exact(low: LoweredPlan, latest: int | None, t: Sequence[int],
                   known: Sequence[int], passes: Mapping[str | None, Sequence[bool]],
                   horizon: int) -> int:
    """From when an entity's state answers exactly (see the module docstring).

    ``latest``: the time of its latest left-out event (None: none); ``t``, ``known``:
    its kept events' times and known-at times; ``passes``: per filter (None: no
    filter, every event) whether each kept event passes it; ``horizon``: the time the
    events were pruned at.
    """
    if latest is None:
        return ANY_TIME
    bounds: list[int] = []
    if low.reach_us is not None:  # no time window reaches the left-out events from then on
        bounds.append(latest + low.reach_us)
    for (where, delay), n in low.count_windows.items():
        # from when n kept events after the left-out ones are visible: the n latest
        # visible events are then all kept ones
        visible = sorted(max(k, ti + delay) for ti, k, ok in zip(t, known, passes[where],
                                                               strict=True)
                         if ti > latest and ok)
        bounds.append(visible[n - 1] if len(visible) >= n else horizon)
    return min(max(bounds), horizon)
