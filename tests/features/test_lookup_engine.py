"""The lookup engine's blocking and chunking: with tiny blocks and chunks (so every
path through them runs), it gives the window compiler's values exactly (the window
compiler is itself checked against the reference in test_window_properties.py)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confluens.core import Count, Entity, Events, FeatureView, Last, Mean, Ratio, Source, Sum
from confluens.errors import NotSupportedError
from confluens.plan import event_features, lookup, plan_view, point_features

SOURCE = Source("ev", {"id": "int64", "ts": "timestamp", "k": "string", "v": "float64",
                       "n": "int64"}, "ts", id="id")
VIEW = FeatureView("v", Entity("k", ["k"]), SOURCE, [
    Count(window="3s"), Sum("v", window="2s", delay="1s"), Mean("v", window="4s"),
    Sum("n", window=Events(3)), Last("v", window=Events(2), where="v > 1", name="last_big"),
    Ratio(Sum("n", window="5s"), Count(window="5s"), empty=0.0, name="rate")])
STAMP = pa.timestamp("us", tz="UTC")


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(events=st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 20),
                                 st.sampled_from([None, 0.5, 2.0, -1.0]),
                                 st.integers(-5, 5)), min_size=1, max_size=30),
       points=st.lists(st.tuples(st.sampled_from(["a", "b", "d"]), st.integers(-3, 25)),
                       min_size=1, max_size=20),
       block=st.integers(1, 4), chunk=st.integers(1, 4))
def test_tiny_blocks_and_chunks_give_the_window_compilers_values(
        events, points, block, chunk, monkeypatch_module) -> None:
    monkeypatch_module.setattr(lookup, "_BLOCK", block)
    monkeypatch_module.setattr(lookup, "_CHUNK", chunk)
    table = pa.table({
        "id": pa.array(range(len(events)), pa.int64()),
        "ts": pa.array([datetime.fromtimestamp(t, UTC) for _, t, _, _ in events], STAMP),
        "k": [k for k, *_ in events], "v": pa.array([v for *_, v, _ in events], pa.float64()),
        "n": pa.array([n for *_, n in events], pa.int64())})
    spine = pa.table({"k": [k for k, _ in points],
                      "__at": pa.array([datetime.fromtimestamp(t, UTC) for _, t in points],
                                       STAMP),
                      "__point": pa.array(range(len(points)), pa.int64())})
    plan = plan_view(VIEW)
    names = [f.output for f in plan.features]
    fast = point_features(plan, table, spine, engine="lookup").to_pylist()
    exact = point_features(plan, table, spine, engine="window").to_pylist()
    assert [r["__point"] for r in fast] == list(range(len(points)))
    for got, want in zip(fast, exact, strict=True):
        assert all(_same(got[n], want[n]) for n in names), (got, want)
    by_tie = {r["__tie"]: r for r in event_features(plan, table, engine="window").to_pylist()}
    for row in event_features(plan, table, engine="lookup").to_pylist():
        assert all(_same(row[n], by_tie[row["__tie"]][n]) for n in names), row


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_integer_sums_stay_int64_in_both_engines() -> None:
    table = pa.table({"id": [1, 2], "ts": pa.array([datetime(2024, 1, 1, tzinfo=UTC)] * 2,
                                                   STAMP),
                      "k": ["a", "a"], "v": [1.0, 2.0], "n": [3, 4]})
    view = FeatureView("v", Entity("k", ["k"]), SOURCE, [Sum("n", window="1d")])
    for engine in ("lookup", "window"):
        result = event_features(plan_view(view), table, engine=engine)  # type: ignore[arg-type]
        assert result.schema.field("n_sum_1d").type == pa.int64()
        assert sorted(result.column("n_sum_1d").to_pylist()) == [3, 7]


def test_the_lookup_engine_refuses_what_it_cannot_compute() -> None:
    from confluens.core import Max

    view = FeatureView("v", Entity("k", ["k"]), SOURCE, [Max("v", window="1d")])
    table = pa.table({"id": [1], "ts": pa.array([datetime(2024, 1, 1, tzinfo=UTC)], STAMP),
                      "k": ["a"], "v": [1.0], "n": [1]})
    with pytest.raises(NotSupportedError, match="engine='window'"):
        event_features(plan_view(view), table, engine="lookup")
    assert event_features(plan_view(view), table).column("v_max_1d").to_pylist() == [1.0]
