"""The Python evaluator and the stream processor's state as conformance engines.

The online store keeps each entity's recent events and evaluates every feature when
it is read, at the time of the read. :data:`PYTHON` runs that evaluation for the
checks of ``plan/conformance.py``: each point reads its entity's events, sorted in
event order (time, version, id) as the online state stores them, with the derived
columns and filters evaluated per batch by the Python expression evaluator
(``streaming/batch_events.py``), as a stream processor will. It evaluates at
points only: features at events (the tie rule "up to itself") are not its job, so
it raises ``NotSupportedError`` there.

:data:`STREAM` runs the same checks through what a stream processor does
(``streaming/entity_state.py``): the case's events arrive in micro-batches, in a
shuffled order drawn from its seed, each batch merged into a :class:`ViewState` (and
sometimes replayed, or its entities forgotten and loaded back from the store), and
the touched entities' values written to a dict standing for the online store, pruned
at the running watermark (the latest event time so far). The events are fed in
buckets, one per distinct point time: a point at t is read once every event with time
<= t has arrived and before any later one does, so the watermark has not passed it
(an event after t cannot be in a window at t); inside a bucket the order is shuffled,
so events arrive late relative to the watermark. A point reads its entity's stored
value as ``read_online`` does: earlier than its earliest exact time it raises
``InputError`` (the check then fails), never a wrong value.

>>> from confluens.plan.conformance import check_ties
>>> check_ties(PYTHON, cases=2)
>>> check_ties(STREAM, cases=2)
"""

from __future__ import annotations

import random
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from confluens.errors import InputError, NotSupportedError
from confluens.plan.conformance import Capabilities
from confluens.plan.ir import ViewPlan
from confluens.plan.reference import points_of
from confluens.streaming.batch_events import entity_events
from confluens.streaming.entity_state import ViewState
from confluens.streaming.packed import unpack_events
from confluens.streaming.stored_state import entity_key, open_state
from confluens.streaming.window_events import (
    CompiledPlan,
    EntityEvents,
    compile_plan,
    evaluate_all,
    evaluate_compiled,
)

__all__ = ["PYTHON", "STREAM", "PythonEvaluator", "StreamProcessor"]


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


def _read(compiled: CompiledPlan, blob: bytes | None, at: int, what: str) -> dict[str, Any]:
    """A point's features from its entity's stored value, as ``read_online`` reads."""
    if blob is None:
        return evaluate_compiled(compiled, EntityEvents(), at)
    state = open_state(blob, what)
    if at < state.earliest:
        raise InputError(what, f"the stored state answers reads from {state.earliest} µs on",
                         got=at, fix="read at or after its earliest exact time")
    return evaluate_compiled(compiled, unpack_events(state.packed, what), at)


@dataclass(frozen=True, slots=True)
class StreamProcessor:
    """A stream processor's window state (``ViewState``), read at points in time."""

    name: str = "stream"
    capabilities: Capabilities = field(default_factory=lambda: Capabilities(at_events=False))
    seed: int = 0

    def event_features(self, plan: ViewPlan, events: pa.Table) -> pa.Table:
        raise NotSupportedError(f"feature view '{plan.name}'", "the stream processor's "
                                "state is read at points in time (online reads), not at "
                                "events", fix="use the window compiler for features at events")

    def point_features(self, plan: ViewPlan, events: pa.Table, points: pa.Table) -> pa.Table:
        compiled = compile_plan(plan)  # refuses what the Python evaluator cannot evaluate
        wanted = points_of(plan, points)
        what = f"feature view '{plan.name}'"
        times = [int(v) for v in events.column(plan.event_time).cast(
            pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_pylist()]
        marks = sorted({at for _, at in wanted})
        buckets: list[list[int]] = [[] for _ in marks]
        for i, t in enumerate(times):
            if (j := bisect_left(marks, t)) < len(marks):  # later events answer no point
                buckets[j].append(i)
        rng = random.Random(f"stream/{self.seed}/{events.num_rows}/{len(wanted)}")
        state = ViewState(plan)
        store: dict[str, bytes] = {}
        watermark: int | None = None
        answers: dict[int, dict[str, Any]] = {}
        for mark, bucket in zip(marks, buckets, strict=True):
            rng.shuffle(bucket)
            while bucket:
                size = rng.randint(1, 4)
                arrived, bucket = bucket[:size], bucket[size:]
                batch = events.take(arrived)
                for key in state.missing(state.keys_of(batch)):
                    state.load(key, store.get(key))
                touched = state.add(batch)
                if rng.random() < 0.25:
                    state.add(batch)  # a replay changes nothing
                latest = max(times[i] for i in arrived)
                watermark = latest if watermark is None else max(watermark, latest)
                store.update(state.blobs(touched, watermark))
                if rng.random() < 0.2:
                    state.forget(touched)  # loaded back from the store when next touched
            for i, (values, at) in enumerate(wanted):
                if at == mark:
                    answers[i] = _read(compiled, store.get(entity_key(values)), at, what)
        rows = [{"__point": i, **answers[i]} for i in range(len(wanted))]
        return pa.Table.from_pylist(rows)


PYTHON = PythonEvaluator()
STREAM = StreamProcessor()
