"""Window evaluation in plain Python over one entity's recent events.

The online store keeps, per entity, the events that can still fall in a window, and
evaluates every feature when it is read, at the time of the read. This module is
that evaluation: the same contract as the DuckDB compiler (docs/concepts.md),
written directly over columns sorted by (time, tie), with binary search for the
time bounds.

>>> from confluens.plan.ir import WindowAgg
>>> events = EntityEvents.of([(0, "1", 0, {"v": 5.0}, ()), (10, "2", 10, {"v": 7.0}, ())])
>>> agg = WindowAgg("s", "sum", "v", window_us=20, events=None, delay_us=0, where=None)
>>> evaluate(agg, events, at=15), evaluate(agg, events, at=25), evaluate(agg, events, at=40)
(12.0, 7.0, 0)
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluens.plan.ir import RatioOf, ViewPlan, WindowAgg

__all__ = ["EntityEvents", "evaluate", "evaluate_all"]

Row = tuple[int, str, int, dict[str, Any], Sequence[str]]


@dataclass(slots=True)
class EntityEvents:
    """One entity's events as columns, sorted by (time, tie).

    ``known`` is when each event became visible (its time where the source has no
    known_at); ``flags`` the filters (``where`` texts) each event passes.
    """

    t: list[int] = field(default_factory=list)
    tie: list[str] = field(default_factory=list)
    known: list[int] = field(default_factory=list)
    values: dict[str, list[Any]] = field(default_factory=dict)
    flags: list[frozenset[str]] = field(default_factory=list)
    late: bool = False  # some event became known after its time

    @classmethod
    def of(cls, rows: Iterable[Row]) -> EntityEvents:
        out = cls()
        for t, tie, known, values, flags in rows:
            out.t.append(t)
            out.tie.append(tie)
            out.known.append(known)
            for name, value in values.items():
                out.values.setdefault(name, []).append(value)
            out.flags.append(frozenset(flags))
            out.late = out.late or known > t
        return out


def _chosen(agg: WindowAgg, ev: EntityEvents, at: int) -> list[int]:
    """Indexes of the events in the window of ``agg`` at time ``at``, in event order."""
    upper = at - agg.delay_us
    hi = bisect_right(ev.t, upper)
    lo = bisect_right(ev.t, upper - agg.window_us) if agg.window_us is not None else 0
    index: Iterable[int] = range(lo, hi)
    if ev.late:
        index = [i for i in index if ev.known[i] <= at]
    if agg.where is not None:
        index = [i for i in index if agg.where in ev.flags[i]]
    index = list(index)
    return index if agg.events is None else index[-agg.events:]


def evaluate(agg: WindowAgg, ev: EntityEvents, at: int) -> Any:
    """The value of ``agg`` at time ``at`` (microseconds since the epoch)."""
    chosen = _chosen(agg, ev, at)
    if agg.column is None:
        return len(chosen)
    column = ev.values.get(agg.column, [])
    present = [column[i] for i in chosen if column[i] is not None]
    kind = agg.kind
    if kind == "count":
        return len(present)
    if kind == "distinct":
        return len(set(present))
    if kind == "sum":
        return math.fsum(present) if present and isinstance(present[0], float) else sum(present)
    if not present:
        return None
    if kind == "mean":
        return math.fsum(present) / len(present)
    if kind == "min":
        return min(present)
    if kind == "max":
        return max(present)
    if kind == "last":
        return present[-1]
    if kind == "std":
        if len(present) < 2:
            return None
        mean = math.fsum(present) / len(present)
        return math.sqrt(math.fsum((v - mean) ** 2 for v in present) / (len(present) - 1))
    raise ValueError(kind)


def evaluate_all(plan: ViewPlan, ev: EntityEvents, at: int) -> dict[str, Any]:
    """Every feature of ``plan`` at time ``at``."""
    out: dict[str, Any] = {}
    for f in plan.features:
        if isinstance(f, RatioOf):
            num = evaluate(f.numerator, ev, at)
            den = evaluate(f.denominator, ev, at)
            out[f.output] = f.empty if not den else num / den
        else:
            out[f.output] = evaluate(f, ev, at)
    return out
