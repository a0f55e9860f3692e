"""Property: a source's version column orders events with equal event times, in every
engine (window compiler, known-at compiler, lookup engine, online state and reads).

Events crowd onto few timestamps so that most share one; versions repeat and may be
null (the oldest), so the id still breaks some ties. Each engine is compared with the
reference (``confluens.plan.reference``), which sorts by (time, version, id).
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from confluens.core import Entity, Events, FeatureView, Last, Source, Sum
from confluens.errors import DefinitionError
from confluens.plan import event_features, plan_view, point_features
from confluens.plan.retention import compile_retained, filters_of
from confluens.sqlx import render
from confluens.streaming import EntityEvents, evaluate_all
from tests.features.reference import Event, feature_at, order
from tests.features.test_window_properties import (
    LOOKUP,
    S,
    build,
    close,
    events_spec_strategy,
    spec_strategy,
)

SCHEMA = {"id": "int64", "ts": "timestamp", "k": "string", "v": "float64", "created": "int64"}
VERSIONED = Source("ev", SCHEMA, "ts", id="id", version="created")
KNOWN_VERSIONED = Source("ev", {**SCHEMA, "known": "timestamp"}, "ts", id="id",
                         known_at="known", version="created")
ENTITY = Entity("k", keys=["k"])
STAMP = pa.timestamp("us", tz="UTC")

tied_events = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 4),
              st.sampled_from([None, 0.0, 1.0, 2.5, -3.0, 7.0]),
              st.sampled_from([None, -1, 0, 3, 5]),  # version: repeats, nulls
              st.one_of(st.just(0), st.integers(0, 6))),  # lateness (known-at sources)
    min_size=1, max_size=20)
points = st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(-1, 9)),
                  min_size=1, max_size=10)


def table_of(events: list[Event], *, known: bool = False) -> pa.Table:
    columns = {
        "id": pa.array([e.tie for e in events], pa.int64()),
        "ts": pa.array([datetime.fromtimestamp(e.t / S, UTC) for e in events], STAMP),
        "k": [e.key for e in events],
        "v": pa.array([e.value for e in events], pa.float64()),
        "created": pa.array([e.version for e in events], pa.int64()),
    }
    if known:
        columns["known"] = pa.array([datetime.fromtimestamp((e.known or e.t) / S, UTC)
                                     for e in events], STAMP)
    return pa.table(columns)


def spine_of(at: list[tuple[str, int]]) -> pa.Table:
    return pa.table({"k": [k for k, _ in at],
                     "__at": pa.array([datetime.fromtimestamp(t, UTC) for _, t in at], STAMP),
                     "__point": pa.array(range(len(at)), pa.int64())})


def make_events(raw, ids, *, known: bool) -> list[Event]:
    tie = ids.sample(range(len(raw)), len(raw))
    return [Event(k, t * S, tie[i], v, (t + lag) * S if known else None, version)
            for i, (k, t, v, version, lag) in enumerate(raw)]


@pytest.mark.parametrize("engine", ["window", "lookup", "known"])
@settings(max_examples=60, deadline=None)
@given(raw=tied_events, at=points,
       specs=st.lists(st.one_of(spec_strategy, events_spec_strategy), min_size=1, max_size=4),
       ids=st.randoms(), in_order=st.booleans())
def test_versions_order_tied_events_in_every_engine(engine, raw, at, specs, ids,
                                                    in_order) -> None:
    if engine == "lookup":
        specs = [s for s in specs if s[0] in LOOKUP]
    assume(specs)
    known = engine == "known"
    events = make_events(raw, ids, known=known)
    if in_order:  # stored in event order: the lookup engine's fast path checks it
        events.sort(key=order)
    table = table_of(events, known=known)
    built = [build(i, s) for i, s in enumerate(specs)]
    view = FeatureView("v", ENTITY, KNOWN_VERSIONED if known else VERSIONED,
                       [f for f, _ in built])
    chosen = "auto" if known else engine
    by_id = {r["__tie"]: r for r in event_features(plan_view(view), table,
                                                   engine=chosen).to_pylist()}
    assert len(by_id) == len(events)
    for e in events:
        for feature, ref in built:
            want = feature_at(events, e, ref)
            assert close(by_id[e.tie][feature.feature_name], want), (feature, e, want)
    rows = point_features(plan_view(view), table, spine_of(at), engine=chosen).to_pylist()
    for (k, t), row in zip(at, rows, strict=True):
        point = Event(k, t * S, 10**9, None, version=2**62)  # after every tied event
        for feature, ref in built:
            want = feature_at(events, point, ref)
            assert close(row[feature.feature_name], want), (feature, k, t, want)


@settings(max_examples=60, deadline=None)
@given(raw=tied_events,
       specs=st.lists(st.one_of(spec_strategy, events_spec_strategy), min_size=1, max_size=4),
       known=st.booleans(), reads=st.lists(st.integers(0, 12), min_size=1, max_size=4),
       ids=st.randoms())
def test_online_state_keeps_the_version_order(raw, specs, known, reads, ids) -> None:
    """The online state is stored in (time, version, id) order, so reads at or after the
    horizon (streaming/window_events.py) pick the same latest events as the reference."""
    events = make_events(raw, ids, known=known)
    built = [build(i, s) for i, s in enumerate(specs)]
    plan = plan_view(FeatureView("v", ENTITY, KNOWN_VERSIONED if known else VERSIONED,
                                 [f for f, _ in built]))
    horizon = max(e.t for e in events)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("events", table_of(events, known=known))
        kept = con.sql(render(compile_retained(plan, horizon))).to_arrow_table().to_pylist()
    finally:
        con.close()
    filters = filters_of(plan)
    for key in ("a", "b"):
        state = EntityEvents.of((r["__t"], r["__tie"], r["__k"], {"v": r.get("v")},
                                 [w for i, w in enumerate(filters) if r[f"__f{i}"]])
                                for r in kept if r["k"] == key)
        for read in reads:
            at = horizon + read * S
            got = evaluate_all(plan, state, at)
            point = Event(key, at, 10**9, None, version=2**62)
            for feature, ref in built:
                assert close(got[feature.feature_name], feature_at(events, point, ref)), (
                    feature, key, at)


def test_the_newest_created_row_wins_a_tie_as_in_feast() -> None:
    """Feast's historical retrieval breaks event-time ties by the newest ``created``
    timestamp; a timestamp version column does the same, whatever the ids say."""
    source = Source("stats", {"id": "int64", "ts": "timestamp", "driver": "int64",
                              "rate": "float64", "created": "timestamp"}, "ts", id="id",
                    version="created")
    view = FeatureView("driver_stats", Entity("driver", ["driver"]), source,
                       [Last("rate", window="1d", name="rate"),
                        Sum("rate", window=Events(1), name="rate_last1")])
    at = datetime(2024, 1, 1, 12, tzinfo=UTC)
    events = pa.table({
        "id": pa.array([1, 2, 3], pa.int64()), "ts": pa.array([at] * 3, STAMP),
        "driver": pa.array([7, 7, 7], pa.int64()), "rate": [0.5, 0.9, 0.1],
        "created": pa.array([datetime(2024, 1, 1, 13, tzinfo=UTC),
                             datetime(2024, 1, 1, 15, tzinfo=UTC), None], STAMP)})
    spine = pa.table({"driver": pa.array([7], pa.int64()), "__at": pa.array([at], STAMP),
                      "__point": pa.array([0], pa.int64())})
    for engine in ("window", "lookup"):
        row = point_features(plan_view(view), events, spine, engine=engine).to_pylist()[0]
        assert (row["rate"], row["rate_last1"]) == (0.9, 0.9), engine
        per_event = {r["__tie"]: r["rate"] for r in event_features(
            plan_view(view), events, engine=engine).to_pylist()}
        # the null version is the oldest: id 3 sees only itself, id 1 sees 3 and itself
        assert per_event == {3: 0.1, 1: 0.5, 2: 0.9}, engine


def test_a_version_must_be_a_timestamp_or_int_column_other_than_event_time() -> None:
    with pytest.raises(DefinitionError, match="version column 'k' must be of type"):
        Source("ev", SCHEMA, "ts", version="k")
    with pytest.raises(DefinitionError, match="version must name a column"):
        Source("ev", SCHEMA, "ts", version="nope")
    with pytest.raises(DefinitionError, match="version must differ from event_time"):
        Source("ev", SCHEMA, "ts", version="ts")
    assert "version" not in Source("ev", SCHEMA, "ts").spec()  # unchanged specs, hashes
    assert VERSIONED.spec()["version"] == "created"
