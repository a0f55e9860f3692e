"""A tiny, obviously correct reference for windowed features (quadratic; tests only).

It reads the semantics in docs/concepts.md literally: for each evaluation event, pick
the events of the same entity that pass the filter and are known by then, keep those
in the window, then aggregate their non-null values. An event-count window is thus
the n latest events that are visible (passing and known) at the evaluation time.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    key: str
    t: int  # microseconds
    tie: int
    value: float | None
    known: int | None = None  # when the event became visible; None: at its event time
    version: int | None = None  # orders equal times before the tie; None: the oldest


def order(e: Event) -> tuple[int, tuple[int, ...], int]:
    """The event order: time, then version (a null one first), then tie."""
    return (e.t, () if e.version is None else (e.version,), e.tie)


@dataclass(frozen=True)
class Spec:
    kind: str
    window_us: int | None = None
    events: int | None = None
    delay_us: int = 0
    column: bool = True  # False: Count() over events, not values
    where: Callable[[Event], bool] | None = None
    lower_inclusive: bool = False  # time window [t - d - w, t - d] rather than (..]


def window_events(events: list[Event], at: Event, spec: Spec) -> list[Event]:
    same = [e for e in events if e.key == at.key and (spec.where is None or spec.where(e))
            and (e.known if e.known is not None else e.t) <= at.t]
    if spec.delay_us == 0:
        upto = [e for e in same if order(e) <= order(at)]
    else:
        upto = [e for e in same if e.t <= at.t - spec.delay_us]
    upto.sort(key=order)
    if spec.window_us is not None:
        edge = at.t - spec.delay_us - spec.window_us
        return [e for e in upto if e.t > edge or (spec.lower_inclusive and e.t == edge)]
    assert spec.events is not None
    return upto[-spec.events:]


def aggregate(chosen: list[Event], spec: Spec) -> Any:
    if spec.kind == "latest":  # the latest event's value, null or not
        return chosen[-1].value if chosen else None
    values = [e.value for e in chosen if e.value is not None]
    if spec.kind == "count":
        return len(values) if spec.column else len(chosen)
    if spec.kind == "sum":
        return sum(values)
    if spec.kind == "distinct":
        return len(set(values))
    if not values:
        return None
    if spec.kind == "mean":
        return sum(values) / len(values)
    if spec.kind == "min":
        return min(values)
    if spec.kind == "max":
        return max(values)
    if spec.kind == "std":
        return statistics.stdev(values) if len(values) > 1 else None
    if spec.kind == "last":
        return [e.value for e in chosen if e.value is not None][-1]
    raise ValueError(spec.kind)


def feature_at(events: list[Event], at: Event, spec: Spec) -> Any:
    return aggregate(window_events(events, at, spec), spec)
