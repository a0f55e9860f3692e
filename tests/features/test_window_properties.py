"""Property: every feature, at every event, equals the reference implementation.

Random events with ties in time, nulls, several entities; random aggregations over
time or event-count windows, with delays and filters.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pyarrow as pa
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from confluens.core import (
    Count,
    DistinctCount,
    Entity,
    Events,
    FeatureView,
    Last,
    Max,
    Mean,
    Min,
    Ratio,
    Source,
    Std,
    Sum,
)
from confluens.plan import event_features, plan_view
from tests.features.reference import Event, Spec, feature_at

SOURCE = Source("ev", {"id": "int64", "ts": "timestamp", "k": "string", "v": "float64"}, "ts",
                id="id")
ENTITY = Entity("k", keys=["k"])
KINDS = {"count": Count, "sum": Sum, "mean": Mean, "min": Min, "max": Max, "std": Std,
         "last": Last, "distinct": DistinctCount}
S = 1_000_000

events_strategy = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 12),
              st.sampled_from([None, 0.0, 1.0, 2.5, -3.0, 7.0])),
    min_size=1, max_size=25)

spec_strategy = st.tuples(
    st.sampled_from([*KINDS, "count_events"]),
    st.one_of(st.integers(1, 6).map(lambda s: ("time", s)),
              st.integers(1, 4).map(lambda n: ("events", n))),
    st.integers(0, 4),                # delay in seconds
    st.booleans(),                    # filter v > 1
)


def build(i: int, spec: tuple[str, tuple[str, int], int, bool]):
    kind, (wkind, size), delay, filtered = spec
    window = f"{size}s" if wkind == "time" else Events(size)
    name = f"f{i}"
    where = "v > 1" if filtered else None
    if kind == "count_events":
        feature = Count(window=window, delay=f"{delay}s", where=where, name=name)
        ref = Spec("count", column=False)
    else:
        feature = KINDS[kind]("v", window=window, delay=f"{delay}s", where=where, name=name)
        ref = Spec(kind)
    ref = Spec(ref.kind, window_us=size * S if wkind == "time" else None,
               events=size if wkind == "events" else None, delay_us=delay * S,
               column=ref.column,
               where=(lambda e: e.value is not None and e.value > 1) if filtered else None)
    return feature, ref


def events_table(events: list[Event], *, known: bool = False) -> pa.Table:
    stamp = pa.timestamp("us", tz="UTC")
    columns = {
        "id": pa.array([e.tie for e in events], pa.int64()),
        "ts": pa.array([datetime.fromtimestamp(e.t / S, UTC) for e in events], stamp),
        "k": [e.key for e in events],
        "v": pa.array([e.value for e in events], pa.float64()),
    }
    if known:
        columns["known"] = pa.array([datetime.fromtimestamp((e.known or 0) / S, UTC)
                                     for e in events], stamp)
    return pa.table(columns)


def close(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)  # type: ignore[arg-type]


ENGINES = pytest.mark.parametrize("engine", ["window", "lookup"])
LOOKUP = {"count", "sum", "mean", "last", "min", "max", "count_events"}


def runnable(engine: str, specs) -> list:
    """The specs ``engine`` takes (the lookup engine: count, sum, mean and last)."""
    return specs if engine == "window" else [s for s in specs if s[0] in LOOKUP]


@ENGINES
@settings(max_examples=60, deadline=None)
@given(raw=events_strategy, specs=st.lists(spec_strategy, min_size=1, max_size=4),
       in_time_order=st.booleans(), ids=st.randoms())
def test_every_feature_matches_the_reference(engine, raw, specs, in_time_order,
                                             ids) -> None:
    specs = runnable(engine, specs)
    assume(specs)
    if in_time_order:  # as stored events usually come (the lookup engine's fast sort)
        raw = sorted(raw, key=lambda r: r[1])
    tie = ids.sample(range(len(raw)), len(raw))  # ids need not follow the table order
    events = [Event(k, t * S, tie[i], v) for i, (k, t, v) in enumerate(raw)]
    table = events_table(events)
    built = [build(i, s) for i, s in enumerate(specs)]
    view = FeatureView("v", ENTITY, SOURCE, [f for f, _ in built])
    result = event_features(plan_view(view), table, engine=engine).to_pylist()
    assert len(result) == len(events)
    by_id = {row["__tie"]: row for row in result}
    for e in events:
        for (feature, ref) in built:
            want = feature_at(events, e, ref)
            got = by_id[e.tie][feature.feature_name]
            assert close(got, want), (feature, e, got, want)


@ENGINES
@settings(max_examples=30, deadline=None)
@given(raw=events_strategy, window=st.integers(1, 6), delay=st.integers(0, 3))
def test_ratio_of_sum_and_count(engine, raw, window, delay) -> None:
    events = [Event(k, t * S, i, v) for i, (k, t, v) in enumerate(raw)]
    table = events_table(events)
    ratio = Ratio(Sum("v", window=f"{window}s", delay=f"{delay}s"),
                  Count(window=f"{window}s", delay=f"{delay}s"), empty=0.0, name="rate")
    view = FeatureView("v", ENTITY, SOURCE, [ratio])
    rows = {r["__tie"]: r for r in event_features(plan_view(view), table,
                                                  engine=engine).to_pylist()}
    for e in events:
        num = feature_at(events, e, Spec("sum", window_us=window * S, delay_us=delay * S))
        den = feature_at(events, e, Spec("count", window_us=window * S, delay_us=delay * S,
                                         column=False))
        assert close(rows[e.tie]["rate"], num / den if den else 0.0)


points_strategy = st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(-2, 20)),
                           min_size=1, max_size=15)


@ENGINES
@settings(max_examples=60, deadline=None)
@given(raw=events_strategy, points=points_strategy,
       specs=st.lists(spec_strategy, min_size=1, max_size=4), shuffle=st.randoms())
def test_features_at_any_point_in_time_match_the_reference(engine, raw, points, specs,
                                                           shuffle) -> None:
    """Points fall on, between, before and after events, and on entities with none;
    the events come in any order."""
    from confluens.plan import point_features

    specs = runnable(engine, specs)
    assume(specs)

    events = [Event(k, t * S, i, v) for i, (k, t, v) in enumerate(raw)]
    table = events_table(events)
    spine = pa.table({
        "k": [k for k, _ in points],
        "__at": pa.array([datetime.fromtimestamp(t, UTC) for _, t in points],
                         pa.timestamp("us", tz="UTC")),
        "__point": pa.array(range(len(points)), pa.int64()),
    })
    table = table.take(shuffle.sample(range(table.num_rows), table.num_rows))
    built = [build(i, s) for i, s in enumerate(specs)]
    view = FeatureView("v", ENTITY, SOURCE, [f for f, _ in built])
    rows = point_features(plan_view(view), table, spine, engine=engine).to_pylist()
    assert [r["__point"] for r in rows] == list(range(len(points)))
    for (k, t), row in zip(points, rows, strict=True):
        at = Event(k, t * S, 10**9, None)  # a point sees every event at or before t
        for feature, ref in built:
            want = feature_at(events, at, ref)
            assert close(row[feature.feature_name], want), (feature, k, t, row, want)


KNOWN_SOURCE = Source("labels", {"id": "int64", "ts": "timestamp", "k": "string",
                                 "v": "float64", "known": "timestamp"}, "ts", id="id",
                      known_at="known")
# lateness: mostly known on time or a little late, sometimes much later, sometimes early
lag_strategy = st.one_of(st.just(0), st.integers(-1, 3), st.integers(4, 30))
known_events_strategy = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 12),
              st.sampled_from([None, 0.0, 1.0, 2.5, -3.0, 7.0]), lag_strategy),
    min_size=1, max_size=25)
events_spec_strategy = st.tuples(
    st.sampled_from([*KINDS, "count_events"]), st.integers(1, 4).map(lambda n: ("events", n)),
    st.integers(0, 4), st.booleans())


@settings(max_examples=120, deadline=None)
@given(raw=known_events_strategy, points=points_strategy,
       specs=st.lists(st.one_of(spec_strategy, events_spec_strategy), min_size=1, max_size=4),
       ids=st.randoms())
def test_known_at_windows_match_the_reference(raw, points, specs, ids) -> None:
    """Events count only once known, in time and event-count windows (the n latest
    visible events, with filters and delays): at points, and at each event's own time."""
    from confluens.plan import point_features

    tie = ids.sample(range(len(raw)), len(raw))  # ids need not follow the table order
    events = [Event(k, t * S, tie[i], v, (t + lag) * S)
              for i, (k, t, v, lag) in enumerate(raw)]
    stamp = pa.timestamp("us", tz="UTC")
    table = events_table(events, known=True)
    built = [build(i, s) for i, s in enumerate(specs)]
    view = FeatureView("v", ENTITY, KNOWN_SOURCE, [f for f, _ in built])
    spine = pa.table({"k": [k for k, _ in points],
                      "__at": pa.array([datetime.fromtimestamp(t, UTC) for _, t in points],
                                       stamp),
                      "__point": pa.array(range(len(points)), pa.int64())})
    rows = point_features(plan_view(view), table, spine).to_pylist()
    assert [r["__point"] for r in rows] == list(range(len(points)))
    for (k, t), row in zip(points, rows, strict=True):
        at = Event(k, t * S, 10**9, None)
        for feature, ref in built:
            want = feature_at(events, at, ref)
            assert close(row[feature.feature_name], want), (feature, k, t, want)
    by_id = {r["__tie"]: r for r in event_features(plan_view(view), table).to_pylist()}
    assert len(by_id) == len(events)
    for e in events:
        for feature, ref in built:
            want = feature_at(events, e, ref)
            assert close(by_id[e.tie][feature.feature_name], want), (feature, e, want)


def test_known_at_count_windows_take_the_latest_visible_events() -> None:
    """A worked case: the latest event is known late, so until then the window reaches
    back past it, and a late event older than the window's n never enters it."""
    from confluens.plan import point_features

    raw = [(1, 1.0, 1), (2, 2.0, 9), (3, 3.0, 3), (4, 4.0, 8), (5, 5.0, 5)]  # t, v, known
    events = [Event("a", t * S, i, v, k * S) for i, (t, v, k) in enumerate(raw)]
    view = FeatureView("v", ENTITY, KNOWN_SOURCE, [Sum("v", window=Events(2), name="s2")])
    spine = pa.table({"k": ["a"] * 4,
                      "__at": pa.array([datetime.fromtimestamp(t, UTC) for t in (3, 5, 8, 9)],
                                       pa.timestamp("us", tz="UTC")),
                      "__point": pa.array(range(4), pa.int64())})
    rows = point_features(plan_view(view), events_table(events, known=True), spine)
    # at 3: {1, 3}; at 5: {3, 5}; at 8: 4 is known, {4, 5}; at 9: 2 is known but older
    assert rows.column("s2").to_pylist() == [4.0, 8.0, 9.0, 9.0]
    by_id = {r["__tie"]: r["s2"] for r in event_features(plan_view(view), events_table(
        events, known=True)).to_pylist()}
    assert [by_id[i] for i in range(5)] == [1.0, 1.0, 4.0, 4.0, 8.0]


def test_known_at_count_windows_keep_the_tie_rule_at_events() -> None:
    """Three events at the same time, the last known later: without delay each event
    sees the tied events up to itself, and only those known."""
    from confluens.plan import point_features

    events = [Event("a", S, 0, 1.0, S), Event("a", S, 1, 2.0, S), Event("a", S, 2, 4.0, 3 * S)]
    view = FeatureView("v", ENTITY, KNOWN_SOURCE, [
        Sum("v", window=Events(1), name="s1"), Sum("v", window=Events(2), name="s2")])
    table = events_table(events, known=True)
    rows = event_features(plan_view(view), table).to_pylist()
    assert [(r["s1"], r["s2"]) for r in rows] == [(1.0, 1.0), (2.0, 3.0), (2.0, 3.0)]
    spine = pa.table({"k": ["a"] * 2,
                      "__at": pa.array([datetime.fromtimestamp(t, UTC) for t in (1, 3)],
                                       pa.timestamp("us", tz="UTC")),
                      "__point": pa.array(range(2), pa.int64())})
    at = point_features(plan_view(view), table, spine).to_pylist()
    assert [(r["s1"], r["s2"]) for r in at] == [(2.0, 3.0), (4.0, 6.0)]


@pytest.mark.parametrize("delay", [0, 1, 2])
def test_known_at_count_windows_at_the_edge_of_the_lateness(delay: int) -> None:
    """The worst lateness is just past the delay: the latest event, known one second
    too late, still leaves room for the one before it."""
    from confluens.plan import point_features

    late = delay + 1
    events = [Event("a", 0, 0, 1.0, 0), Event("a", 5 * S, 1, 2.0, (5 + late) * S)]
    view = FeatureView("v", ENTITY, KNOWN_SOURCE,
                       [Sum("v", window=Events(1), delay=f"{delay}s", name="s1")])
    table = events_table(events, known=True)
    at = [5 + delay, 5 + late]
    spine = pa.table({"k": ["a"] * 2,
                      "__at": pa.array([datetime.fromtimestamp(t, UTC) for t in at],
                                       pa.timestamp("us", tz="UTC")),
                      "__point": pa.array(range(2), pa.int64())})
    rows = point_features(plan_view(view), table, spine).column("s1").to_pylist()
    assert rows == [1.0, 2.0]
    assert rows == [feature_at(events, Event("a", t * S, 10**9, None),
                               Spec("sum", events=1, delay_us=delay * S)) for t in at]
    per_event = event_features(plan_view(view), table).column("s1").to_pylist()
    assert per_event == [feature_at(events, e, Spec("sum", events=1, delay_us=delay * S))
                         for e in events]


@settings(max_examples=80, deadline=None)
@given(raw=st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 12),
                              st.sampled_from([None, 0.0, 1.0, 2.5, -3.0, 7.0]),
                              st.integers(0, 6)), min_size=1, max_size=25),
       at=st.integers(-2, 24), specs=st.lists(spec_strategy, min_size=1, max_size=4))
def test_python_window_evaluation_matches_the_reference(raw, at, specs) -> None:
    """The online store's read-time evaluation (streaming/window_events.py)."""
    from confluens.streaming import EntityEvents, evaluate_all

    events = [Event(k, t * S, i, v, (t + lag) * S) for i, (k, t, v, lag) in enumerate(raw)]
    built = [build(i, s) for i, s in enumerate(specs)]
    plan = plan_view(FeatureView("v", ENTITY, KNOWN_SOURCE, [f for f, _ in built]))
    for key in ("a", "b"):
        rows = sorted(((e.t, f"{e.tie:09d}", e.known or e.t, {"v": e.value},
                        ("v > 1",) if e.value is not None and e.value > 1 else ())
                       for e in events if e.key == key), key=lambda r: (r[0], r[1]))
        got = evaluate_all(plan, EntityEvents.of(rows), at * S)
        point = Event(key, at * S, 10**9, None)
        for feature, ref in built:
            assert close(got[feature.feature_name], feature_at(events, point, ref)), feature


@settings(max_examples=200, deadline=None)
@given(raw=known_events_strategy,
       specs=st.lists(st.one_of(spec_strategy, events_spec_strategy), min_size=1, max_size=4),
       known=st.booleans(), horizon=st.one_of(st.none(), st.integers(0, 12)),
       reads=st.lists(st.integers(0, 40), min_size=1, max_size=5), ids=st.randoms())
def test_online_state_keeps_every_event_a_later_read_needs(raw, specs, known, horizon, reads,
                                                           ids) -> None:
    """The events ``compile_retained`` keeps give, at any read at or after the horizon,
    the values of all the events (streaming/window_events.py evaluates them)."""
    import duckdb

    from confluens.plan.retention import compile_retained, filters_of
    from confluens.sqlx import render
    from confluens.streaming import EntityEvents, evaluate_all

    tie = ids.sample(range(len(raw)), len(raw))
    events = [Event(k, t * S, tie[i], v, (t + lag) * S if known else None)
              for i, (k, t, v, lag) in enumerate(raw)]
    built = [build(i, s) for i, s in enumerate(specs)]
    plan = plan_view(FeatureView("v", ENTITY, KNOWN_SOURCE if known else SOURCE,
                                 [f for f, _ in built]))
    horizon_us = (max(e.t for e in events) if horizon is None else horizon * S)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("events", events_table(events, known=known))
        kept = con.sql(render(compile_retained(plan, horizon_us))).to_arrow_table().to_pylist()
    finally:
        con.close()
    filters = filters_of(plan)
    for key in ("a", "b"):
        state = EntityEvents.of(
            (r["__t"], r["__tie"], r["__k"], {"v": r.get("v")},
             [w for i, w in enumerate(filters) if r[f"__f{i}"]])
            for r in kept if r["k"] == key)
        for read in reads:
            at = horizon_us + read * S
            got = evaluate_all(plan, state, at)
            point = Event(key, at, 10**9, None)
            for feature, ref in built:
                want = feature_at(events, point, ref)
                assert close(got[feature.feature_name], want), (feature, key, at, want)
