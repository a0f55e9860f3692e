"""The shipped reference (``confluens.plan.reference``) in the one-column form the
property tests write: an event holds one value ``v``, a spec is one aggregation of it.

Nothing here restates a rule: ``feature_at`` builds the plan's ``WindowAgg`` and the
shipped events, and asks the shipped evaluator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluens.plan import reference
from confluens.plan.ir import WindowAgg

__all__ = ["Event", "Spec", "feature_at", "order"]


@dataclass(frozen=True)
class Event:
    key: str | None
    t: int  # microseconds
    tie: int
    value: Any
    known: int | None = None  # when the event became visible; None: at its event time
    version: int | None = None  # orders equal times before the tie; None: the oldest


@dataclass(frozen=True)
class Spec:
    kind: str
    window_us: int | None = None
    events: int | None = None
    delay_us: int = 0
    column: bool = True  # False: Count() over events, not values
    where: Callable[[Event], bool] | None = None
    lower_inclusive: bool = False  # time window [t - d - w, t - d] rather than (..]


def order(e: Event) -> tuple[int, tuple[int, ...], int]:
    """The event order: time, then version (a null one first), then tie."""
    return (e.t, () if e.version is None else (e.version,), e.tie)


def _shipped(e: Event, spec: Spec, *, at: bool = False) -> reference.Event:
    passes = (frozenset({"where"}) if not at and spec.where is not None and spec.where(e)
              else frozenset())
    return reference.Event((e.key,), e.t, e.tie, {"v": e.value}, e.known, e.version, passes)


def feature_at(events: list[Event], at: Event, spec: Spec) -> Any:
    """``spec`` at ``at``: an event (up to itself), or a point written as an event
    after every tied one (a large tie and version)."""
    window = None if spec.window_us is None else spec.window_us + spec.lower_inclusive
    agg = WindowAgg("f", spec.kind, "v" if spec.column else None, window, spec.events,
                    spec.delay_us, "where" if spec.where is not None else None)
    return reference.feature_value(agg, [_shipped(e, spec) for e in events], (at.key,),
                                   at.t, upto=_shipped(at, spec, at=True))
