"""Window evaluation at many times at once (streaming/window_batch.py) gives exactly
what evaluating at each time does (``evaluate_compiled``): same values, same types,
over the processor's held events and over the online store's packed ones, for every
aggregation kind, filters, delays, known-at times and event-count windows."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from confluens.core import Count, Entity, Events, FeatureView, Last, Max, Mean, Source, Sum
from confluens.plan.ir import plan_view
from confluens.streaming.entity_state import ViewState
from confluens.streaming.held_events import HeldEvents
from confluens.streaming.held_reads import HeldColumns
from confluens.streaming.packed import unpack_events
from confluens.streaming.stored_state import open_state
from confluens.streaming.window_batch import evaluate_at_times
from confluens.streaming.window_events import compile_plan, evaluate_compiled
from tests.streaming.cases import S, drawn
from tests.streaming.test_view_state import times_of

T0 = datetime(2024, 1, 1, tzinfo=UTC)


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


_TX = Source("tx", {"id": "int64", "ts": "timestamp", "c": "string", "a": "float64",
                    "n": "int64"}, "ts", id="id")
_FEATURES = [Sum("a", window="10s"), Mean("a", window="10s"), Sum("n", window="5s"),
             Mean("n", window="30s"), Count(window="10s"), Last("a", window=Events(1)),
             Sum("a", window=Events(3), delay="2s", name="a_3"), Max("n", window="8s"),
             Sum("n", window="4s", delay="3s", name="n_late"), Count("a", window="6s")]


@settings(max_examples=120, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["x", "y"]), st.integers(0, 40),
                               st.one_of(st.floats(-1e6, 1e6),
                                         st.sampled_from([0.1, 1e308, -1e308, 2.5])),
                               st.integers(-2**62, 2**62)), min_size=1, max_size=30),
       specials=st.lists(st.sampled_from([math.inf, -math.inf, math.nan]), max_size=2),
       offsets=st.lists(st.integers(-15, 45), min_size=4, max_size=30))
def test_sums_and_means_of_columns_without_nulls(rows: list[tuple[str, int, float, int]],
                                                  specials: list[float],
                                                  offsets: list[int]) -> None:
    """The null-free fast paths: integer sums from prefix sums, float sums and means
    with fsum, an overflowing or non-finite sum left to ``_fsum``."""
    rows = rows + [("x", 20, v, 0) for v in specials]  # e.g. inf and -inf in one window
    amounts = [a for _, _, a, _ in rows]
    events = pa.table({
        "id": pa.array(range(len(rows)), pa.int64()),
        "ts": pa.array([T0 + timedelta(seconds=s) for _, s, _, _ in rows],
                       pa.timestamp("us", tz="UTC")),
        "c": [c for c, _, _, _ in rows], "a": pa.array(amounts, pa.float64()),
        "n": pa.array([n for _, _, _, n in rows], pa.int64())})
    plan = plan_view(FeatureView("v", Entity("c", ["c"]), _TX, _FEATURES))
    state = ViewState(plan)
    keys = state.keys_of(events)
    for key in state.missing(keys):
        state.load(key, None)
    state.add(events)
    t0 = int(T0.timestamp()) * S
    ats = [t0 + o * S for o in offsets]
    compiled = compile_plan(plan)
    for key, blob in state.blobs(set(keys), t0).items():
        held = HeldEvents.opened(plan, blob, True)
        for columns in (HeldColumns(held), unpack_events(open_state(blob, "v").packed, "v")):
            assert not columns.has_nulls("a")
            assert not columns.has_nulls("n")
            got = evaluate_at_times(compiled, columns, ats)
            want = [evaluate_compiled(compiled, columns, at) for at in ats]
            for g, w in zip(got, want, strict=True):
                assert list(g) == list(w)
                assert all(_identical(g[k], w[k]) for k in w), (key, g, w)
