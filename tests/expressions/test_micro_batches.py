"""Derived columns and filters evaluated per micro-batch: each row's values depend on
that row alone, so any split of a batch gives the same values as the whole, and a
batch's per-entity events carry the reference's derived values and filter flags."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from confluens.core import Count, Entity, FeatureView, Last, Source, Sum
from confluens.plan.expressions import bind
from confluens.plan.expressions.conformance import TYPES, random_events, random_expression
from confluens.plan.expressions.evaluate_python import EvaluationError, derive_and_filter
from confluens.plan.ir import lower, plan_view
from confluens.plan.reference import events_of, order
from confluens.streaming.batch_events import entity_events

SOURCE = Source("s", {"id": "int64", "at": "timestamp", "k": "string", **TYPES}, "at",
                id="id")


def same(a: object, b: object) -> bool:
    """Equal, NaN equal to NaN (``==`` on lists holding two NaNs is False)."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b or (isinstance(a, float) and isinstance(b, float) and a != a and b != b)


def view(seed: int) -> FeatureView:
    rng = random.Random(seed)
    return FeatureView(
        "v", Entity("e", ["k"]), SOURCE,
        [Sum("x", window="1d"), Last("y", window="1d"),
         Count(window="1d", where=random_expression(rng, "bool"), name="n")],
        derive={"x": random_expression(rng, "float64"), "y": random_expression(rng, "string")})


def batch(seed: int, rows: int = 16) -> pa.Table:
    table = random_events(random.Random(seed), rows=rows)
    start = datetime(2024, 3, 31, tzinfo=UTC)
    return table.append_column("id", pa.array(range(rows), pa.int64())).append_column(
        "at", pa.array([start + timedelta(minutes=7 * (i % 5)) for i in range(rows)],
                       pa.timestamp("us", tz="UTC"))).append_column(
        "k", pa.array([("a", "b", None)[i % 3] for i in range(rows)]))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), cut=st.integers(0, 16))
def test_a_batch_split_anywhere_gives_the_values_of_the_whole(seed: int, cut: int) -> None:
    plan = plan_view(view(seed))
    flags = {text: f"__f{i}" for i, text in enumerate(lower(plan).filters)}
    table = batch(seed)
    try:
        whole = derive_and_filter(bind(plan), table, flags)
    except EvaluationError:
        for part in (table.slice(0, cut), table.slice(cut)):
            try:
                derive_and_filter(bind(plan), part, flags)
            except EvaluationError:
                return
        raise AssertionError("the whole batch fails, but neither part does") from None
    parts = [derive_and_filter(bind(plan), part, flags)
             for part in (table.slice(0, cut), table.slice(cut))]
    assert same(pa.concat_tables(parts).to_pylist(), whole.to_pylist())


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_entity_events_carry_the_references_values_and_flags(seed: int) -> None:
    plan = plan_view(view(seed))
    table = batch(seed)
    try:
        by_entity = entity_events(plan, table)
    except EvaluationError:
        return
    for key in {("a",), ("b",), (None,)}:
        want = sorted((e for e in events_of(plan, table) if e.key == key), key=order)
        got = by_entity[key]
        assert got.t == [e.t for e in want]
        assert got.tie == [str(e.tie) for e in want]
        for column in ("x", "y"):
            assert same(list(got.column(column)), [e.values[column] for e in want])
        (where,) = lower(plan).filters
        assert list(got.passes(where)) == [where in e.passes for e in want]
