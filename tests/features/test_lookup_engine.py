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

from confluens.core import (
    Count,
    Entity,
    Events,
    FeatureView,
    Last,
    Max,
    Mean,
    Min,
    Ratio,
    Source,
    Sum,
)
from confluens.errors import NotSupportedError
from confluens.plan import event_features, lookup, plan_view, point_features

SOURCE = Source("ev", {"id": "int64", "ts": "timestamp", "k": "string", "v": "float64",
                       "n": "int64"}, "ts", id="id")
VIEW = FeatureView("v", Entity("k", ["k"]), SOURCE, [
    Count(window="3s"), Sum("v", window="2s", delay="1s"), Mean("v", window="4s"),
    Sum("n", window=Events(3)), Last("v", window=Events(2), where="v > 1", name="last_big"),
    Ratio(Sum("n", window="5s"), Count(window="5s"), empty=0.0, name="rate"),
    Min("v", window="3s"), Max("n", window=Events(2), delay="1s"),
    Max("v", window="4s", where="v > 0", name="top")])
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
    from confluens.core import Std

    view = FeatureView("v", Entity("k", ["k"]), SOURCE, [Std("v", window="1d")])
    table = pa.table({"id": [1], "ts": pa.array([datetime(2024, 1, 1, tzinfo=UTC)], STAMP),
                      "k": ["a"], "v": [1.0], "n": [1]})
    with pytest.raises(NotSupportedError, match="engine='window'"):
        event_features(plan_view(view), table, engine="lookup")
    assert event_features(plan_view(view), table).column("v_std_1d").to_pylist() == [None]


def _table(keys, values) -> pa.Table:
    return pa.table({"id": pa.array(range(len(keys)), pa.int64()),
                     "ts": pa.array([datetime(2024, 1, 1, 0, 0, i, tzinfo=UTC)
                                     for i in range(len(keys))], STAMP),
                     "k": keys, "v": pa.array(values, pa.float64()),
                     "n": pa.array([1] * len(keys), pa.int64())})


def _by_tie(table: pa.Table) -> dict:
    return {r["__tie"]: r for r in table.to_pylist()}


def _equal(a: dict, b: dict) -> bool:
    def one(x: object, y: object) -> bool:
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x):
            return math.isnan(y)
        return _same(x, y) if isinstance(x, int | float) or x is None else x == y

    return all(one(a[n], b[n]) for n in a)


def test_ratios_of_last_values_and_nan_values_give_the_window_compilers_values() -> None:
    view = FeatureView("v", Entity("k", ["k"]), SOURCE, [
        Ratio(Last("v", window="10s"), Count(window="10s"), name="r"),
        Sum("v", window="2s"), Mean("v", window="10s")])
    # a NaN in one entity must not leak into another's sums (running sums would)
    table = _table(["a", "a", "a", "b"], [float("nan"), 1.0, 2.0, 3.0])
    plan = plan_view(view)
    auto = _by_tie(event_features(plan, table))
    window = _by_tie(event_features(plan, table, engine="window"))
    assert all(_equal(auto[t], window[t]) for t in window)
    assert auto[3]["v_sum_2s"] == 3.0
    assert auto[2]["r"] == pytest.approx(2.0 / 3)


def test_null_keys_are_one_entity_in_every_engine() -> None:
    view = FeatureView("v", Entity("k", ["k"]), SOURCE, [
        Count(window=Events(2)), Sum("v", window="10s", where="v > 1", name="s"),
        Sum("v", window=Events(2), where="v > 1", name="s2")])
    table = _table([None, None, None, "a"], [1.0, 2.0, 3.0, 4.0])
    spine = pa.table({"k": [None, "a"], "__at": pa.array(
        [datetime(2024, 1, 1, 0, 0, 3, tzinfo=UTC)] * 2, STAMP), "__point": [0, 1]})
    plan = plan_view(view)
    results = {engine: (point_features(plan, table, spine, engine=engine).to_pylist(),
                        _by_tie(event_features(plan, table, engine=engine)))
               for engine in ("lookup", "window")}
    assert results["lookup"] == results["window"]
    points, _ = results["lookup"]
    assert (points[0]["count_last2"], points[0]["s"], points[0]["s2"]) == (2, 5.0, 5.0)


def test_empty_selections_and_spines_give_empty_typed_columns() -> None:
    view = FeatureView("v", Entity("k", ["k"]), SOURCE, [Count(window="1s"),
                                                         Mean("v", window="1s")])
    table = _table(["a", "b"], [1.0, 2.0]).append_column("pick", pa.array([False, False]))
    plan = plan_view(view)
    for engine in ("lookup", "window"):
        chosen = event_features(plan, table, engine=engine, only="pick")  # type: ignore[arg-type]
        assert chosen.num_rows == 0
        assert {"count_1s", "v_mean_1s"} <= set(chosen.column_names)
        empty = pa.table({"k": pa.array([], pa.string()), "__at": pa.array([], STAMP),
                          "__point": pa.array([], pa.int64())})
        assert point_features(plan, table, empty, engine=engine).num_rows == 0


def test_points_without_a_time_are_refused() -> None:
    from confluens.errors import InputError

    view = FeatureView("v", Entity("k", ["k"]), SOURCE, [Count(window="1s")])
    spine = pa.table({"k": ["a"], "__at": pa.array([None], STAMP), "__point": [0]})
    with pytest.raises(InputError, match="every point needs a time"):
        point_features(plan_view(view), _table(["a"], [1.0]), spine)


def test_ratios_of_min_and_max_parts_run_on_the_lookup_engine() -> None:
    """The docs (and the engine's refusal) say what ``supports`` takes: ratios of
    counts, sums, means, mins or maxes; the lookup engine computes the window
    compiler's values for them."""
    view = FeatureView("v", Entity("k", ["k"]), SOURCE, [
        Ratio(Max("v", window="3s"), Min("v", window="3s"), name="spread"),
        Ratio(Min("n", window=Events(2)), Mean("v", window="5s"), empty=-1.0, name="low")])
    plan = plan_view(view)
    assert lookup.supports(plan)
    table = _table(["a", "a", "a", "b", "a"], [2.0, 4.0, -1.0, 3.0, 0.5])
    looked = _by_tie(event_features(plan, table, engine="lookup"))
    window = _by_tie(event_features(plan, table, engine="window"))
    assert all(_equal(looked[t], window[t]) for t in window)
    assert looked[1]["spread"] == 2.0  # max 4 / min 2
    assert looked[4]["spread"] == -0.5  # entity a in (1s, 4s]: -1 at 2s, 0.5 at 4s
