"""Window evaluation of many entities at once (streaming/window_many.py) gives exactly
what evaluating each entity at each of its times does (``evaluate_compiled``): same
values, same types, over held and packed events, every aggregation kind, filters,
delays, known-at times and event-count windows, entities without events; and as
columns (``evaluate_many_columns``), the same values end to end."""

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
from confluens.project.online_state import entity_key, read_online_at, read_online_at_columns
from confluens.streaming.entity_state import ViewState
from confluens.streaming.held_events import HeldEvents
from confluens.streaming.held_reads import HeldColumns
from confluens.streaming.packed import unpack_events
from confluens.streaming.stored_state import open_state
from confluens.streaming.window_events import EntityEvents, compile_plan, evaluate_compiled
from confluens.streaming.window_many import evaluate_many, evaluate_many_columns, placed
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
    every: list[dict[str, Any]] = []
    for (events, ats), values in zip(entities, got, strict=True):
        want = [evaluate_compiled(compiled, events, at) for at in ats]
        every += want
        assert len(values) == len(want)
        for g, w in zip(values, want, strict=True):
            assert list(g) == list(w)
            assert all(_identical(g[k], w[k]) for k in w), (g, w)
    # as columns: each output's values at every entity's times, end to end
    columns = evaluate_many_columns(compiled, entities)
    assert len(columns) == len(compiled.outputs)
    for (name, *_), column in zip(compiled.outputs, columns, strict=True):
        assert len(column) == len(every)
        assert all(_identical(v, w[name]) for v, w in zip(column, every, strict=True))


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 12), data=st.data())
def test_placed_puts_each_value_in_its_row(n: int, data: Any) -> None:
    rows = data.draw(st.permutations(range(n)))[:data.draw(st.integers(0, n))]
    columns = [[("v", j, i) for i in rows] for j in range(data.draw(st.integers(0, 3)))]
    want = [[("v", j, i) if i in rows else None for i in range(n)]
            for j in range(len(columns))]
    assert placed(columns, rows, n) == want


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


class _Store:
    """Entities' stored values, read as an online store reads them."""

    def __init__(self, values: dict[str, bytes]) -> None:
        self.values = values

    def read_many(self, requests: Any) -> list[list[bytes | None]]:
        return [[self.values.get(k) for k in keys] for _, keys in requests]


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["x", "y", "z"]), st.integers(0, 40),
                               st.floats(-1e6, 1e6), st.integers(-2**40, 2**40)),
                     min_size=1, max_size=30),
       asked=st.lists(st.tuples(st.sampled_from(["x", "y", "z", "w"]),
                                st.integers(-15, 45)), max_size=30),
       horizon=st.integers(-5, 45))
def test_online_reads_as_columns_equal_the_rows(rows: list[tuple[str, int, float, int]],
                                                asked: list[tuple[str, int]],
                                                horizon: int) -> None:
    """``read_online_at_columns``: ``read_online_at``'s values, column by column, the
    same rows answered (an entity without a stored value, a time before the earliest
    its pruned state answers)."""
    events = pa.table({
        "id": pa.array(range(len(rows)), pa.int64()),
        "ts": pa.array([T0 + timedelta(seconds=s) for _, s, _, _ in rows],
                       pa.timestamp("us", tz="UTC")),
        "c": [c for c, _, _, _ in rows], "a": pa.array([a for _, _, a, _ in rows],
                                                       pa.float64()),
        "n": pa.array([n for _, _, _, n in rows], pa.int64())})
    view = FeatureView("v", Entity("c", ["c"]), _TX, _FEATURES)
    state = ViewState(plan_view(view))
    keys = state.keys_of(events)
    for key in state.missing(keys):
        state.load(key, None)
    state.add(events)
    t0 = int(T0.timestamp()) * S
    store: Any = _Store(state.blobs(set(keys), t0 + horizon * S))
    texts = [entity_key([c]) for c, _ in asked]
    times = [t0 + o * S for _, o in asked]
    want = read_online_at(view, store, (), times, texts=texts)
    columns, answered = read_online_at_columns(view, store, (), times, texts=texts)
    assert answered == [w is not None for w in want]
    for i, w in enumerate(want):
        if w is None:
            assert all(column[i] is None for column in columns.values())
        else:
            assert list(columns) == list(w)
            assert all(_identical(columns[f][i], v) for f, v in w.items()), (i, w)
