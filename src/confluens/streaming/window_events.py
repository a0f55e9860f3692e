"""Window evaluation in plain Python over one entity's recent events.

The online store keeps, per entity, the events that can still fall in a window, and
evaluates every feature when it is read, at the time of the read. This module is
that evaluation: the same contract as the DuckDB compiler (docs/concepts.md),
written directly, with the events of one entity sorted by (time, tie).

>>> from confluens.plan.ir import WindowAgg
>>> events = [EventRow(t=0, tie="1", known=0, values={"v": 5.0}, flags=()),
...           EventRow(t=10, tie="2", known=10, values={"v": 7.0}, flags=())]
>>> agg = WindowAgg("s", "sum", "v", window_us=20, events=None, delay_us=0, where=None)
>>> evaluate(agg, events, at=15), evaluate(agg, events, at=25), evaluate(agg, events, at=40)
(12.0, 7.0, 0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from confluens.plan.ir import RatioOf, ViewPlan, WindowAgg

__all__ = ["EventRow", "evaluate", "evaluate_all"]


@dataclass(frozen=True, slots=True)
class EventRow:
    """One event as the online store keeps it. ``flags`` holds the filters it passes."""

    t: int  # event time, microseconds since the epoch
    tie: str
    known: int  # when it became visible (its event time where the source has no known_at)
    values: dict[str, Any]
    flags: tuple[str, ...]


def _visible(events: Sequence[EventRow], agg: WindowAgg, at: int) -> list[EventRow]:
    upper = at - agg.delay_us
    chosen = [e for e in events if e.t <= upper and e.known <= at
              and (agg.where is None or agg.where in e.flags)]
    if agg.window_us is not None:
        lower = upper - agg.window_us
        return [e for e in chosen if e.t > lower]
    assert agg.events is not None
    return chosen[-agg.events:]


def evaluate(agg: WindowAgg, events: Sequence[EventRow], at: int) -> Any:
    """The value of ``agg`` at time ``at`` (microseconds); ``events`` sorted by (t, tie)."""
    chosen = _visible(events, agg, at)
    if agg.column is None:
        return len(chosen) if agg.kind == "count" else None
    values = [e.values.get(agg.column) for e in chosen]
    present = [v for v in values if v is not None]
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


def evaluate_all(plan: ViewPlan, events: Sequence[EventRow], at: int) -> dict[str, Any]:
    """Every feature of ``plan`` at time ``at``."""
    out: dict[str, Any] = {}
    for f in plan.features:
        if isinstance(f, RatioOf):
            num = evaluate(f.numerator, events, at)
            den = evaluate(f.denominator, events, at)
            out[f.output] = f.empty if not den else num / den
        else:
            out[f.output] = evaluate(f, events, at)
    return out
