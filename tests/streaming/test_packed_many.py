"""Packing many entities at once (``packed_many.pack_many``, ``held_events.seal_many``)
gives byte for byte what packing each alone gives (``packed.pack_events``,
``HeldEvents.seal``): random entities (none, empty ones), every column type with and
without nulls, non-ASCII text, integer and text ids, late known-at times, versions
and filters; and random held events pruned at random horizons."""

from __future__ import annotations

import copy
import itertools
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confluens.streaming.held_events import CHUNK_EVENTS, HeldEvents, seal_many
from confluens.streaming.packed import pack_events
from confluens.streaming.packed_many import pack_many
from tests.streaming.cases import drawn

_INT64 = st.integers(-(2**63), 2**63 - 1)
_TEXT = st.text(max_size=4)
_VALUES = {"q": _INT64, "d": st.floats(allow_nan=False), "?": st.booleans(),
           "s": _TEXT, "j": st.one_of(_TEXT, st.dates())}


@st.composite
def entities(draw: Any) -> tuple[list[int], dict[str, Any]]:
    sizes = draw(st.lists(st.integers(0, 5), max_size=6))
    total = sum(sizes)
    t = draw(st.lists(st.integers(-(2**40), 2**40), min_size=total, max_size=total))
    late = draw(st.lists(st.integers(0, 10), min_size=total, max_size=total))
    ties: list[Any] = draw(st.one_of(
        st.lists(_INT64, min_size=total, max_size=total),
        st.lists(_TEXT, min_size=total, max_size=total)))
    columns = draw(st.lists(st.sampled_from(sorted(_VALUES)), max_size=4))
    values = {}
    for i, kind in enumerate(columns):
        strategy = _VALUES[kind]
        if draw(st.booleans()):
            strategy = st.none() | strategy
        values[f"c{i}"] = (kind, draw(st.lists(strategy, min_size=total, max_size=total)))
    filters = {f"w{i}": draw(st.lists(st.booleans(), min_size=total, max_size=total))
               for i in range(draw(st.integers(0, 2)))}
    versions = draw(st.none() | st.lists(_INT64, min_size=total, max_size=total))
    known = t if draw(st.booleans()) else [a + b for a, b in zip(t, late, strict=True)]
    bounds = [0]
    for size in sizes:
        bounds.append(bounds[-1] + size)
    return bounds, {"t": t, "tie": ties, "known": known, "values": values,
                    "filters": filters, "versions": versions}


@settings(max_examples=300, deadline=None)
@given(drawn_entities=entities())
def test_pack_many_packs_each_entity_as_pack_events(
        drawn_entities: tuple[list[int], dict[str, Any]]) -> None:
    bounds, c = drawn_entities
    prefixes = [bytes([i]) * i for i in range(len(bounds) - 1)]
    many = pack_many(bounds, c["t"], c["tie"], c["known"], c["values"], c["filters"],
                     c["versions"], prefixes)
    assert len(many) == len(bounds) - 1
    for i, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        one = pack_events(c["t"][lo:hi], [str(x) for x in c["tie"][lo:hi]],
                          c["known"][lo:hi],
                          {name: (kind, column[lo:hi])
                           for name, (kind, column) in c["values"].items()},
                          {w: flags[lo:hi] for w, flags in c["filters"].items()},
                          None if c["versions"] is None else c["versions"][lo:hi])
        assert many[i] == prefixes[i] + one


def test_pack_many_refuses_what_pack_events_refuses() -> None:
    with pytest.raises(ValueError, match="column type 'x'"):
        pack_many([0, 1], [1], ["a"], [1], {"v": ("x", [1])}, {})
    with pytest.raises(TypeError):
        pack_many([0, 1], [1], ["a"], [1], {"v": ("q", [1.5])}, {})
    assert pack_many([0], [], [], [], {}, {}) == []
    assert pack_many([0, 1], [1], [2**70], [1], {"v": ("j", [date(2024, 1, 2)])}, {}) == [
        pack_events([1], [str(2**70)], [1], {"v": ("j", [date(2024, 1, 2)])}, {})]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(1, 40), data=st.data())
def test_seal_many_seals_each_as_seal(seed: int, n: int, data: Any) -> None:
    """Random views and events, held per entity and sealed at two random horizons
    (pruning, left-out times and earliest exact read times included)."""
    from confluens.streaming.entity_state import ViewState

    case = drawn(seed, n)
    plan = case.plan
    state = ViewState(plan)
    keys = state.keys_of(case.events)
    for key in state.missing(keys):
        state.load(key, None)
    state.add(case.events)
    held = list(state._open.values())
    times = sorted(t for one in held for t in one.t) or [0]
    for _ in range(2):
        horizon = data.draw(st.sampled_from(times)) + data.draw(st.integers(-5, 40)) * 10**6
        alone = [copy.deepcopy(one) for one in held]
        expected = [one.seal(plan, horizon) for one in alone]
        chunk = data.draw(st.sampled_from((1, 3, 10, CHUNK_EVENTS)))  # encoded together
        assert seal_many(plan, held, horizon, chunk_events=chunk) == expected
        assert [(h.t, h.ties, h.known, h.values, h.passes, h.left_out, h.horizon)
                for h in held] == [(h.t, h.ties, h.known, h.values, h.passes, h.left_out,
                                    h.horizon) for h in alone]


def test_seal_many_of_empty_held_events() -> None:
    plan = drawn(1, 3).plan
    blank = HeldEvents.empty(plan)
    assert seal_many(plan, [blank, HeldEvents.empty(plan)], 10) == [
        HeldEvents.empty(plan).seal(plan, 10)] * 2
    assert seal_many(plan, [], 10) == []
