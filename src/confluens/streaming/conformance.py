"""The Python evaluator (``streaming/window_events.py``) as a conformance engine.

The online store keeps each entity's recent events and evaluates every feature when
it is read, at the time of the read. :data:`PYTHON` runs that evaluation for the
checks of ``plan/conformance.py``: each point reads its entity's events, sorted in
event order (time, version, id) as the online state stores them. It evaluates at
points only: features at events (the tie rule "up to itself") are not its job, so
it raises ``NotSupportedError`` there.

>>> from confluens.plan.conformance import check_ties
>>> check_ties(PYTHON, cases=2)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from confluens.errors import NotSupportedError
from confluens.plan.conformance import Capabilities
from confluens.plan.ir import ViewPlan
from confluens.plan.reference import events_of, order, points_of
from confluens.streaming.window_events import EntityEvents, evaluate_all

__all__ = ["PYTHON", "PythonEvaluator"]


@dataclass(frozen=True, slots=True)
class PythonEvaluator:
    """Read-time evaluation over one entity's events, at points in time."""

    name: str = "python"
    capabilities: Capabilities = field(default_factory=lambda: Capabilities(at_events=False))

    def event_features(self, plan: ViewPlan, events: pa.Table) -> pa.Table:
        raise NotSupportedError(f"feature view '{plan.name}'", "the Python evaluator "
                                "evaluates at points in time (online reads), not at events",
                                fix="use the window compiler for features at events")

    def point_features(self, plan: ViewPlan, events: pa.Table, points: pa.Table) -> pa.Table:
        stored = sorted(events_of(plan, events), key=order)
        rows = []
        for i, (key, at) in enumerate(points_of(plan, points)):
            state = EntityEvents.of(
                (e.t, str(e.tie), e.t if e.known is None else e.known, dict(e.values),
                 tuple(e.passes)) for e in stored if e.key == key)
            rows.append({"__point": i, **evaluate_all(plan, state, at)})
        return pa.Table.from_pylist(rows)


PYTHON = PythonEvaluator()
