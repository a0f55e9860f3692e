"""Features at each event's time over the held events, before pruning (what stream
scoring reads): equal to the reference over the events arrived so far, or None
(never a wrong value), and never None when events arrive in time order; a batch's
entities, evaluated in one pass, answer as each entity asked on its own; as columns
(``ViewState.feature_columns``), the same values and the same rows answered."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from confluens.plan import reference
from confluens.streaming.entity_state import ViewState
from confluens.streaming.stored_state import entity_key
from tests.streaming.cases import drawn
from tests.streaming.test_view_state import arrival, same, times_of


def identical(a: Any, b: Any) -> bool:
    """The same value of the same type (NaN as NaN)."""
    if type(a) is not type(b):
        return False
    return bool(a == b) or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


def _check(seed: int, n: int, order: list[int], sizes: list[int]) -> int:
    """Stream ``order`` in batches of ``sizes``; check every event's features at its
    time; return how many were None."""
    case = drawn(seed, n)
    plan = case.plan
    state = ViewState(plan)
    store: dict[str, bytes] = {}
    times = times_of(case.events, plan)
    seen: list[int] = []
    watermark: int | None = None
    nones = 0
    at = 0
    for i in range(len(order)):
        if at >= len(order):
            break
        size = sizes[i % len(sizes)]
        arrived = order[at:at + size]
        at += size
        batch = case.events.take(arrived)
        seen += arrived
        for key in state.missing(state.keys_of(batch)):
            state.load(key, store.get(key))
        touched = state.add(batch)
        keys = state.keys_of(batch)
        got = state.features_at(keys, [times[j] for j in arrived])
        # the batch's entities, evaluated in one pass, answer as each entity asked alone
        for key_text in set(keys):
            mine = [i for i, k in enumerate(keys) if k == key_text]
            alone = state.features_at([key_text] * len(mine),
                                      [times[arrived[i]] for i in mine])
            for i, values in zip(mine, alone, strict=True):
                assert (got[i] is None) == (values is None), (key_text, i)
                if values is not None:
                    assert got[i] is not None
                    assert list(got[i]) == list(values)
                    assert all(identical(got[i][f], v) for f, v in values.items()), (
                        key_text, i, got[i], values)
        events = reference.events_of(plan, case.events.take(seen))
        for j, key_text, values in zip(arrived, keys, got, strict=True):
            if values is None:
                nones += 1
                continue
            key = next(e.key for e in events if entity_key(list(e.key)) == key_text)
            (want,) = reference.features_at_points(plan, events, [(key, times[j])])
            for name, value in want.items():
                assert same(values[name], value), (j, name, values[name], value)
        # as columns: the same values, the same rows answered
        columns, answered = state.feature_columns(keys, [times[j] for j in arrived])
        assert answered == [values is not None for values in got]
        for i, values in enumerate(got):
            if values is None:
                assert all(column[i] is None for column in columns.values())
            else:
                assert list(columns) == list(values)
                assert all(identical(columns[f][i], v) for f, v in values.items()), i
        latest = max(times[j] for j in arrived)
        watermark = latest if watermark is None else max(watermark, latest)
        store.update(state.blobs(touched, watermark))
    return nones


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(1, 16), data=st.data())
def test_features_at_event_times_equal_the_reference_or_are_none(seed: int, n: int,
                                                                 data: Any) -> None:
    order, sizes = arrival(data, n)
    _check(seed, n, order, sizes)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(1, 16), data=st.data())
def test_in_time_order_every_event_is_answered(seed: int, n: int, data: Any) -> None:
    case = drawn(seed, n)
    times = times_of(case.events, case.plan)
    order = sorted(range(n), key=lambda j: times[j])
    _, sizes = arrival(data, n)
    assert _check(seed, n, order, sizes) == 0
