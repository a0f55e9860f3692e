"""The reference evaluator: what every feature is, as small, slow, plain Python.

This module is the executable statement of ``docs/concepts.md`` ("Windowed features"
and "Snapshot features and versions"). It reads the rules literally and is quadratic
on purpose: for each evaluation it scans every event. Engines are checked against it
(``plan/conformance.py``); it is not meant to be fast.

For a feature evaluated at time t for an entity:

1. take the entity's events (equal key values; a null key is a value like any other,
   so null keys form one entity; a view without an entity has one entity, ``()``);
2. keep those that pass the feature's filter and are known at t (``known_at <= t``,
   or event time <= t where the source has no known-at time);
3. keep those at or before the upper bound: at a point, event time <= t - delay; at an
   event without delay, the events up to that event itself in event order (time, then
   version with null first, then id), ties included only up to it;
4. keep the window: a time window keeps event times > t - delay - length (a ``Latest``
   with an included lower edge has one more microsecond, as the plan says); an
   event-count window keeps the n latest in event order;
5. aggregate the non-null values (``Latest`` keeps nulls): over an empty window count,
   sum and distinct give 0 and the others null; std is the sample deviation, null
   below two values; ratios give ``empty`` where the denominator is 0 or null.

Non-finite numbers follow SQL (DuckDB): NaN and infinities stay inside the windows that
hold them and spread through sums and means; NaN is greater than every other number
for ``Min`` and ``Max``; NaNs are one value for ``DistinctCount``.

Derived columns and filters are SQL expressions (DuckDB dialect): :func:`events_of`
evaluates them with the Python expression evaluator (``plan/expressions``), once per
event; everything after that is plain Python.

>>> from confluens.core import Count, Entity, FeatureView, Source, Sum
>>> from confluens.plan.ir import plan_view
>>> tx = Source("tx", {"id": "int64", "ts": "timestamp", "c": "string", "a": "float64"},
...             "ts", id="id")
>>> plan = plan_view(FeatureView("v", Entity("c", ["c"]), tx,
...                              [Count(window="2s"), Sum("a", window="2s")]))
>>> S = 1_000_000
>>> events = [Event(("x",), 0, 1, {"a": 1.0}), Event(("x",), 1 * S, 2, {"a": 2.0}),
...           Event(("x",), 2 * S, 3, {"a": None})]
>>> features_at_events(plan, events)[3]
{'count_2s': 2, 'a_sum_2s': 2.0}
>>> features_at_points(plan, events, [(("x",), 5 * S), (("y",), 1 * S)])
[{'count_2s': 0, 'a_sum_2s': 0}, {'count_2s': 0, 'a_sum_2s': 0}]
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from confluens.plan.expressions import bind
from confluens.plan.expressions.evaluate_python import derive_and_filter
from confluens.plan.ir import RatioOf, ViewPlan, WindowAgg, lower

__all__ = ["Event", "aggregate", "events_of", "feature_value", "features_at",
           "features_at_events", "features_at_points", "order", "points_of", "window"]

Key = tuple[Any, ...]
Point = tuple[Key, int]  # (entity key values, time in µs)


@dataclass(frozen=True, slots=True)
class Event:
    """One event as the rules see it; times are microseconds since the epoch."""

    key: Key  # the entity key values, in the view's key order; () without an entity
    t: int  # event time
    tie: Hashable  # the id: orders events with equal time and version
    values: Mapping[str, Any] = field(default_factory=dict)  # columns, derived included
    known: int | None = None  # when it became visible; None: at its event time
    version: int | None = None  # orders equal event times before the id; None: oldest
    passes: frozenset[str] = frozenset()  # the filters (``where`` texts) it passes


def order(e: Event) -> tuple[int, tuple[int, ...], Any]:
    """The event order: time, then version (a null one first), then id."""
    return (e.t, () if e.version is None else (e.version,), e.tie)


def _known_at(e: Event) -> int:
    return e.t if e.known is None else e.known


def window(agg: WindowAgg, events: Sequence[Event], key: Key, at: int,
           upto: Event | None = None) -> list[Event]:
    """The events in ``agg``'s window at time ``at`` for entity ``key``, in event order.

    ``upto``: evaluating at that event (``at`` is its time): without a delay, only the
    events up to it in event order count.
    """
    seen = [e for e in events if e.key == key and _known_at(e) <= at
            and (agg.where is None or agg.where in e.passes)]
    if upto is not None and agg.delay_us == 0:
        seen = [e for e in seen if order(e) <= order(upto)]
    else:
        seen = [e for e in seen if e.t <= at - agg.delay_us]
    seen.sort(key=order)
    if agg.window_us is not None:
        return [e for e in seen if e.t > at - agg.delay_us - agg.window_us]
    assert agg.events is not None
    return seen[-agg.events:]


def _is_nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _min(values: list[Any]) -> Any:  # NaN is greater than every number
    numbers = [v for v in values if not _is_nan(v)]
    return min(numbers) if numbers else values[0]


def _max(values: list[Any]) -> Any:
    nans = [v for v in values if _is_nan(v)]
    return nans[0] if nans else max(values)


def _std(values: list[Any]) -> Any:
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _distinct(values: list[Any]) -> int:  # NaNs are one value
    return len({v for v in values if not _is_nan(v)}) + any(_is_nan(v) for v in values)


def aggregate(agg: WindowAgg, chosen: Sequence[Event]) -> Any:
    """``agg``'s value over the events ``chosen`` (in event order)."""
    if agg.column is None:  # Count(): events, not values
        return len(chosen)
    if agg.kind == "latest":  # the latest event's value, null or not
        return chosen[-1].values.get(agg.column) if chosen else None
    values = [v for e in chosen if (v := e.values.get(agg.column)) is not None]
    if agg.kind == "count":
        return len(values)
    if agg.kind == "sum":
        return sum(values)
    if agg.kind == "distinct":
        return _distinct(values)
    if not values:
        return None
    if agg.kind == "mean":
        return sum(values) / len(values)
    if agg.kind == "min":
        return _min(values)
    if agg.kind == "max":
        return _max(values)
    if agg.kind == "std":
        return _std(values)
    if agg.kind == "last":
        return values[-1]
    raise ValueError(f"unknown aggregation kind {agg.kind!r}")


def feature_value(agg: WindowAgg, events: Sequence[Event], key: Key, at: int,
                  upto: Event | None = None) -> Any:
    """One aggregation's value at time ``at`` (at the event ``upto``, if given)."""
    return aggregate(agg, window(agg, events, key, at, upto))


def features_at(plan: ViewPlan, events: Sequence[Event], key: Key, at: int,
                upto: Event | None = None) -> dict[str, Any]:
    """Every feature of ``plan`` for entity ``key`` at time ``at`` (or at ``upto``)."""
    out: dict[str, Any] = {}
    for f in plan.features:
        if isinstance(f, RatioOf):
            num = feature_value(f.numerator, events, key, at, upto)
            den = feature_value(f.denominator, events, key, at, upto)
            out[f.output] = (f.empty if den is None or den == 0
                             else None if num is None else num / den)
        else:
            out[f.output] = feature_value(f, events, key, at, upto)
    return out


def features_at_events(plan: ViewPlan, events: Sequence[Event]) -> dict[Hashable,
                                                                        dict[str, Any]]:
    """Every feature at every event, evaluated at its own time, by the event's id."""
    return {e.tie: features_at(plan, events, e.key, e.t, upto=e) for e in events}


def features_at_points(plan: ViewPlan, events: Sequence[Event],
                       points: Sequence[Point]) -> list[dict[str, Any]]:
    """Every feature at each point ``(key, time)``: a point sees every event at or
    before its time, ties included."""
    return [features_at(plan, events, key, at) for key, at in points]


# -- from Arrow data ---------------------------------------------------------------

def _us(v: Any) -> int | None:
    if v is None or isinstance(v, int):
        return v
    assert isinstance(v, datetime), v
    assert v.tzinfo is not None, v
    delta = v - datetime.fromtimestamp(0, v.tzinfo)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def events_of(plan: ViewPlan, table: pa.Table) -> list[Event]:
    """The events of an Arrow table (the source's columns) for ``plan``: the derived
    columns and filters are evaluated in Python (``plan/expressions``, DuckDB's rules
    checked row by row); ids are the plan's tie column."""
    flags = {text: f"__f{i}" for i, text in enumerate(lower(plan).filters)}
    rows = derive_and_filter(bind(plan), table, flags).to_pylist()
    columns = sorted({a.column for a in plan.aggregations if a.column is not None})
    out: list[Event] = []
    for r in rows:
        t = _us(r[plan.event_time])
        assert t is not None, "every event needs a time"
        out.append(Event(key=tuple(r[k] for k in plan.keys), t=t, tie=r[plan.tie],
                         values={c: r[c] for c in columns},
                         known=None if plan.known_at is None else _us(r[plan.known_at]),
                         version=None if plan.version is None else _us(r[plan.version]),
                         passes=frozenset(text for text, name in flags.items() if r[name])))
    return out


def points_of(plan: ViewPlan, points: pa.Table) -> list[Point]:
    """The points of a spine ``(<keys>, __at, __point)``, in ``__point`` order."""
    rows = sorted(points.to_pylist(), key=lambda r: r["__point"])
    out: list[Point] = []
    for r in rows:
        at = _us(r["__at"])
        assert at is not None, "every point needs a time"
        out.append((tuple(r[k] for k in plan.keys), at))
    return out
