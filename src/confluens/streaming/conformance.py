"""The Python evaluator (``streaming/window_events.py``) as a conformance engine.

The online store keeps each entity's recent events and evaluates every feature when
it is read, at the time of the read. :data:`PYTHON` runs that evaluation for the
checks of ``plan/conformance.py``: each point reads its entity's events, sorted in
event order (time, version, id) as the online state stores them, with the derived
columns and filters evaluated per batch by the Python expression evaluator
(``streaming/batch_events.py``), as a stream processor will. It evaluates at
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
from confluens.plan.reference import points_of
from confluens.streaming.batch_events import entity_events
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
        by_entity = entity_events(plan, events)
        rows = []
        for i, (key, at) in enumerate(points_of(plan, points)):
            state = by_entity.get(key, EntityEvents())
            rows.append({"__point": i, **evaluate_all(plan, state, at)})
        return pa.Table.from_pylist(rows)


PYTHON = PythonEvaluator()
