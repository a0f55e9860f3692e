"""A micro-batch of a source's events, as each entity's :class:`EntityEvents`.

A stream processor receives the source's events in micro-batches (Arrow tables of the
source's columns). :func:`entity_events` evaluates the view's derived columns and
filters over the whole batch at once with the Python expression evaluator
(``plan/expressions/evaluate_python.py``: DuckDB's rules, vectorised, no DuckDB),
then groups the events by entity, each entity's in event order (time, version, id),
ready for :func:`~confluens.streaming.window_events.evaluate_all`.

>>> from datetime import UTC, datetime
>>> import pyarrow as pa
>>> from confluens.core import Count, Entity, FeatureView, Source, Sum
>>> from confluens.plan.ir import plan_view
>>> tx = Source("tx", {"id": "int64", "ts": "timestamp", "c": "string", "a": "float64"},
...             "ts", id="id")
>>> plan = plan_view(FeatureView("v", Entity("c", ["c"]), tx,
...                  [Sum("big", window="1d"), Count(window="1d", where="a > 1", name="n")],
...                  derive={"big": "CASE WHEN a > 1 THEN a ELSE 0.0 END"}))
>>> batch = pa.table({"id": [1, 2, 3], "c": ["x", "x", "y"], "a": [0.5, 2.0, 3.0],
...                   "ts": [datetime(2024, 1, 1, h, tzinfo=UTC) for h in (1, 2, 3)]})
>>> events = entity_events(plan, batch)
>>> events[("x",)].values["big"], events[("x",)].passes("a > 1")
([0.0, 2.0], [False, True])
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from confluens.plan.expressions import bind
from confluens.plan.expressions.evaluate_python import derive_and_filter
from confluens.plan.ir import ViewPlan, lower
from confluens.streaming.window_events import EntityEvents

__all__ = ["entity_events"]


def _us(value: Any) -> int:
    """A time as microseconds since the epoch (an int64 version stays as it is)."""
    if isinstance(value, int):
        return value
    return int(pa.scalar(value, pa.timestamp("us", tz="UTC")).cast(pa.int64()).as_py())


def entity_events(plan: ViewPlan, batch: pa.Table) -> dict[tuple[Any, ...], EntityEvents]:
    """The events of ``batch`` (the source's columns) per entity key, with the view's
    derived columns and filter flags, each entity's in event order."""
    filters = lower(plan).filters
    flags = {text: f"__f{i}" for i, text in enumerate(filters)}
    table = derive_and_filter(bind(plan), batch, flags)
    columns = list(lower(plan).value_columns)
    by_key: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    for r in table.to_pylist():
        t = _us(r[plan.event_time])
        version = () if plan.version is None or r[plan.version] is None else (
            _us(r[plan.version]),)
        known = t if plan.known_at is None else _us(r[plan.known_at])
        row = (t, str(r[plan.tie]), known, {c: r[c] for c in columns},
               tuple(text for text, name in flags.items() if r[name]))
        by_key.setdefault(tuple(r[k] for k in plan.keys), []).append(
            ((t, version, r[plan.tie]), row))
    return {key: EntityEvents.of(row for _, row in sorted(rows, key=lambda x: x[0]))
            for key, rows in by_key.items()}
