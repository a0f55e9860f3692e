"""Window evaluation of many entities at once (streaming/window_many.py) gives exactly
what evaluating each entity at each of its times does (``evaluate_compiled``): same
values, same types, over held and packed events, every aggregation kind, filters,
delays, known-at times and event-count windows, entities without events."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from confluens.core import Entity, FeatureView
from confluens.plan.ir import plan_view
from confluens.streaming.entity_state import ViewState
from confluens.streaming.held_events import HeldEvents
from confluens.streaming.held_reads import HeldColumns
from confluens.streaming.packed import unpack_events
from confluens.streaming.stored_state import open_state
from confluens.streaming.window_events import EntityEvents, compile_plan, evaluate_compiled
from confluens.streaming.window_many import evaluate_many
from tests.streaming.cases import S, drawn
from tests.streaming.test_view_state import times_of
from tests.streaming.test_window_batch import _FEATURES, _TX

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _identical(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def _check(compiled: Any, entities: list[tuple[Any, list[int]]]) -> None:
    got = evaluate_many(compiled, entities)
    assert len(got) == len(entities)
    for (events, ats), values in zip(entities, got, strict=True):
        want = [evaluate_compiled(compiled, events, at) for at in ats]
        assert len(values) == len(want)
        for g, w in zip(values, want, strict=True):
            assert list(g) == list(w)
            assert all(_identical(g[k], w[k]) for k in w), (g, w)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(1, 30),
       offsets=st.lists(st.integers(-40, 40), min_size=0, max_size=30),
       horizon=st.integers(-5, 40), packed=st.booleans(), empty=st.integers(0, 2))
def test_many_entities_equal_one_time_at_a_time(seed: int, n: int, offsets: list[int],
                                                horizon: int, packed: bool,
                                                empty: int) -> None:
    case = drawn(seed, n)
    plan = case.plan
    state = ViewState(plan)
    keys = state.keys_of(case.events)
    for key in state.missing(keys):
        state.load(key, None)
    state.add(case.events)
    times = times_of(case.events, plan)
    base = min(times)
    ats = [*times, *[base + o * S for o in offsets]]
    rng = random.Random(seed)
    entities: list[tuple[Any, list[int]]] = []
    for blob in state.blobs(set(keys), base + horizon * S).values():
        events: Any = (unpack_events(open_state(blob, "v").packed, "v") if packed else
                       HeldColumns(HeldEvents.opened(plan, blob, dict(plan.types).get(
                           plan.tie) == "int64")))
        entities.append((events, rng.sample(ats, rng.randint(0, len(ats)))))
    entities += [(EntityEvents(), rng.sample(ats, rng.randint(0, len(ats))))
                 for _ in range(empty)]
    rng.shuffle(entities)
    _check(compile_plan(plan), entities)


@settings(max_examples=120, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["x", "y", "z"]), st.integers(0, 40),
                               st.one_of(st.floats(-1e6, 1e6),
                                         st.sampled_from([0.1, 1e308, -1e308, 2.5])),
                               st.integers(-2**62, 2**62)), min_size=1, max_size=30),
       specials=st.lists(st.sampled_from([math.inf, -math.inf, math.nan]), max_size=2),
       offsets=st.lists(st.integers(-15, 45), min_size=1, max_size=30),
       seed=st.integers(0, 2**16))
def test_sums_and_means_of_many_entities(rows: list[tuple[str, int, float, int]],
                                         specials: list[float], offsets: list[int],
                                         seed: int) -> None:
    """The null-free fast paths over entities laid end to end: integer sums from prefix
    sums, float sums and means with fsum, an overflowing sum in one entity only."""
    rows = rows + [("x", 20, v, 0) for v in specials]
    events = pa.table({
        "id": pa.array(range(len(rows)), pa.int64()),
        "ts": pa.array([T0 + timedelta(seconds=s) for _, s, _, _ in rows],
                       pa.timestamp("us", tz="UTC")),
        "c": [c for c, _, _, _ in rows], "a": pa.array([a for _, _, a, _ in rows],
                                                       pa.float64()),
        "n": pa.array([n for _, _, _, n in rows], pa.int64())})
    plan = plan_view(FeatureView("v", Entity("c", ["c"]), _TX, _FEATURES))
    state = ViewState(plan)
    keys = state.keys_of(events)
    for key in state.missing(keys):
        state.load(key, None)
    state.add(events)
    t0 = int(T0.timestamp()) * S
    ats = [t0 + o * S for o in offsets]
    rng = random.Random(seed)
    entities: list[tuple[Any, list[int]]] = []
    for blob in state.blobs(set(keys), t0).values():
        held = HeldEvents.opened(plan, blob, True)
        for columns in (HeldColumns(held), unpack_events(open_state(blob, "v").packed, "v")):
            entities.append((columns, rng.sample(ats, rng.randint(1, len(ats)))))
    _check(compile_plan(plan), entities)
