"""Window evaluation at many times at once (streaming/window_batch.py) gives exactly
what evaluating at each time does (``evaluate_compiled``): same values, same types,
over the processor's held events and over the online store's packed ones, for every
aggregation kind, filters, delays, known-at times and event-count windows."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from confluens.streaming.entity_state import ViewState
from confluens.streaming.held_events import HeldEvents
from confluens.streaming.held_reads import HeldColumns
from confluens.streaming.packed import unpack_events
from confluens.streaming.stored_state import open_state
from confluens.streaming.window_batch import evaluate_at_times
from confluens.streaming.window_events import compile_plan, evaluate_compiled
from tests.streaming.cases import S, drawn
from tests.streaming.test_view_state import times_of


def _identical(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(1, 24),
       offsets=st.lists(st.integers(-40, 40), min_size=0, max_size=30),
       horizon=st.integers(-5, 40))
def test_many_times_equal_one_time_at_a_time(seed: int, n: int, offsets: list[int],
                                             horizon: int) -> None:
    case = drawn(seed, n)
    plan = case.plan
    state = ViewState(plan)
    keys = state.keys_of(case.events)
    for key in state.missing(keys):
        state.load(key, None)
    state.add(case.events)
    times = times_of(case.events, plan)
    base = min(times)
    # event times (repeated, out of order) and times around them
    ats = [*times, *[base + o * S for o in offsets], *reversed(times)]
    compiled = compile_plan(plan)
    blobs = state.blobs(set(keys), base + horizon * S)
    for key, blob in blobs.items():
        held = HeldEvents.opened(plan, blob, dict(plan.types).get(plan.tie) == "int64")
        for events in (HeldColumns(held), unpack_events(open_state(blob, "v").packed, "v")):
            got = evaluate_at_times(compiled, events, ats)
            want = [evaluate_compiled(compiled, events, at) for at in ats]
            assert len(got) == len(want)
            for g, w in zip(got, want, strict=True):
                assert list(g) == list(w)
                assert all(_identical(g[k], w[k]) for k in w), (key, g, w)
