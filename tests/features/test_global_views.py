"""Views without an entity: every event is one entity, joined to spine rows by time.

Property tests compare every engine with the reference, where all events share one
key; a project test goes through training sets, materialize and online reads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from confluens.core import GLOBAL, FeatureView, Source
from confluens.plan import event_features, plan_view, point_features
from confluens.plan.retention import compile_retained, filters_of
from confluens.sqlx import render
from confluens.streaming import EntityEvents, evaluate_all
from tests.features.reference import Event, feature_at
from tests.features.test_window_properties import (
    LOOKUP,
    S,
    build,
    close,
    events_spec_strategy,
    spec_strategy,
)

STAMP = pa.timestamp("us", tz="UTC")
PLAIN = Source("ev", {"id": "int64", "ts": "timestamp", "v": "float64"}, "ts", id="id")
KNOWN = Source("ev", {"id": "int64", "ts": "timestamp", "v": "float64",
                      "known": "timestamp"}, "ts", id="id", known_at="known")

raw_strategy = st.lists(st.tuples(st.integers(0, 10),
                                  st.sampled_from([None, 0.0, 1.0, 2.5, -3.0, 7.0]),
                                  st.sampled_from([0, 0, 2, 9])), min_size=1, max_size=20)


def events_of(raw, *, known: bool) -> list[Event]:
    return [Event("g", t * S, i, v, (t + lag) * S if known else None)
            for i, (t, v, lag) in enumerate(raw)]


def table_of(events: list[Event], *, known: bool) -> pa.Table:
    columns = {"id": pa.array([e.tie for e in events], pa.int64()),
               "ts": pa.array([datetime.fromtimestamp(e.t / S, UTC) for e in events], STAMP),
               "v": pa.array([e.value for e in events], pa.float64())}
    if known:
        columns["known"] = pa.array([datetime.fromtimestamp((e.known or e.t) / S, UTC)
                                     for e in events], STAMP)
    return pa.table(columns)


@pytest.mark.parametrize("engine", ["window", "lookup", "known"])
@settings(max_examples=50, deadline=None)
@given(raw=raw_strategy, at=st.lists(st.integers(-1, 14), min_size=1, max_size=8),
       specs=st.lists(st.one_of(spec_strategy, events_spec_strategy), min_size=1, max_size=4))
def test_global_views_match_the_reference(engine, raw, at, specs) -> None:
    if engine == "lookup":
        specs = [s for s in specs if s[0] in LOOKUP]
    assume(specs)
    known = engine == "known"
    events = events_of(raw, known=known)
    built = [build(i, s) for i, s in enumerate(specs)]
    plan = plan_view(FeatureView("g", None, KNOWN if known else PLAIN, [f for f, _ in built]))
    assert plan.keys == ()
    chosen = "auto" if known else engine
    table = table_of(events, known=known)
    by_id = {r["__tie"]: r for r in event_features(plan, table, engine=chosen).to_pylist()}
    for e in events:
        for feature, ref in built:
            assert close(by_id[e.tie][feature.feature_name], feature_at(events, e, ref)), (
                feature, e)
    spine = pa.table({"__at": pa.array([datetime.fromtimestamp(t, UTC) for t in at], STAMP),
                      "__point": pa.array(range(len(at)), pa.int64())})
    rows = point_features(plan, table, spine, engine=chosen).to_pylist()
    for t, row in zip(at, rows, strict=True):
        point = Event("g", t * S, 10**9, None)
        for feature, ref in built:
            assert close(row[feature.feature_name], feature_at(events, point, ref)), (
                feature, t)


@settings(max_examples=50, deadline=None)
@given(raw=raw_strategy, known=st.booleans(),
       specs=st.lists(st.one_of(spec_strategy, events_spec_strategy), min_size=1, max_size=4),
       reads=st.lists(st.integers(0, 12), min_size=1, max_size=4))
def test_the_online_state_of_a_global_view(raw, known, specs, reads) -> None:
    events = events_of(raw, known=known)
    built = [build(i, s) for i, s in enumerate(specs)]
    plan = plan_view(FeatureView("g", GLOBAL, KNOWN if known else PLAIN,
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
    state = EntityEvents.of((r["__t"], r["__tie"], r["__k"], {"v": r.get("v")},
                             [w for i, w in enumerate(filters) if r[f"__f{i}"]])
                            for r in kept)
    for read in reads:
        at = horizon + read * S
        got = evaluate_all(plan, state, at)
        for feature, ref in built:
            assert close(got[feature.feature_name],
                         feature_at(events, Event("g", at, 10**9, None), ref)), feature


def test_daily_totals_join_every_spine_row_by_time(make_project, tmp_path: Path) -> None:
    project = make_project('''
        from confluens import Count, FeatureView, Source, Sum
        tx = Source("tx", {"id": "int64", "ts": "timestamp", "card": "string",
                           "amount": "float64"}, "ts", id="id")
        daily = FeatureView("daily", None, tx, [Count(window="1d", name="tx_1d"),
                                                 Sum("amount", window="1d", name="amount_1d")])
    ''')
    project.apply()
    (tmp_path / "a.csv").write_text("id,ts,card,amount\n"
                                    "1,2024-01-01 10:00,a,5\n"
                                    "2,2024-01-01 12:00,b,7\n"
                                    "3,2024-01-02 11:00,c,1\n")
    project.ingest("tx", str(tmp_path / "a.csv"))
    spine = pd.DataFrame({"card": ["a", "zz", "b"], "ts": pd.to_datetime(
        ["2024-01-01 12:00", "2024-01-02 11:00", "2024-01-03 12:00"], utc=True)})
    out = project.training_set(spine, ["daily"]).to_pydict()
    assert out["tx_1d"] == [2, 2, 0]
    assert out["amount_1d"] == [12.0, 8.0, 0.0]
    project.materialize()
    at = datetime(2024, 1, 2, 11, tzinfo=UTC)
    assert project.online_features("daily", [None], at=at) == [{"tx_1d": 2, "amount_1d": 8.0}]
    (tmp_path / "b.csv").write_text("id,ts,card,amount\n4,2024-01-02 11:30,d,2\n")
    project.ingest("tx", str(tmp_path / "b.csv"))
    project.materialize()
    later = datetime(2024, 1, 2, 11, 59, tzinfo=UTC)
    assert project.online_features("daily", [()], at=later) == [{"tx_1d": 3, "amount_1d": 10.0}]
    rows = sorted(project.event_features("daily").to_pylist(), key=lambda r: r["__tie"])
    assert [r["tx_1d"] for r in rows] == [1, 2, 2, 3]
