"""Key mapping at request time (``view[spine_column]:feature``) and full feature names.

One view joined twice under other spine columns gives, for each, what the reference
gives for the entity named by that column; full names prefix every feature by its view.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confluens.core import Definitions, Entity, FeatureView, Source
from confluens.errors import InputError, UnknownNameError
from confluens.project.training import resolve_features, training_set
from tests.features.reference import Event, feature_at
from tests.features.test_window_properties import S, build, close, spec_strategy

STAMP = pa.timestamp("us", tz="UTC")
WEATHER = Source("weather", {"id": "int64", "ts": "timestamp", "k": "string", "v": "float64"},
                 "ts", id="id")
LOCATION = Entity("location", ["k"])

events_strategy = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 10),
              st.sampled_from([None, 0.0, 1.0, 2.5, 7.0])), min_size=1, max_size=20)
trips_strategy = st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]),
                                    st.sampled_from(["a", "b", "c", "d"]),
                                    st.integers(-1, 14)), min_size=1, max_size=10)


def definitions_of(view: FeatureView) -> Definitions:
    return Definitions(entities=[view.entity], sources=[view.source], feature_views=[view])


@settings(max_examples=40, deadline=None)
@given(raw=events_strategy, trips=trips_strategy,
       specs=st.lists(spec_strategy, min_size=1, max_size=3), full_names=st.booleans())
def test_one_view_joined_under_two_spine_columns_matches_the_reference(
        raw, trips, specs, full_names) -> None:
    events = [Event(k, t * S, i, v) for i, (k, t, v) in enumerate(raw)]
    built = [build(i, s) for i, s in enumerate(specs)]
    view = FeatureView("loc", LOCATION, WEATHER, [f for f, _ in built])
    refs = resolve_features(definitions_of(view), ["loc[origin]", "loc[destination]"],
                            full_names=full_names)
    spine = pa.table({
        "origin": [o for o, _, _ in trips], "destination": [d for _, d, _ in trips],
        "ts": pa.array([datetime.fromtimestamp(t, UTC) for _, _, t in trips], STAMP)})
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "weather.parquet")
        pq.write_table(pa.table({
            "id": pa.array([e.tie for e in events], pa.int64()),
            "ts": pa.array([datetime.fromtimestamp(e.t / S, UTC) for e in events], STAMP),
            "k": [e.key for e in events], "v": pa.array([e.value for e in events])}), path)
        out = training_set(refs, lambda source: [path], spine).to_pydict()
    prefix = "loc__" if full_names else ""
    assert list(out) == ["origin", "destination", "ts", *[
        f"{prefix}{side}__{f.feature_name}" for side in ("origin", "destination")
        for f, _ in built]]
    for row, (origin, destination, t) in enumerate(trips):
        for side, key in (("origin", origin), ("destination", destination)):
            point = Event(key, t * S, 10**9, None)
            for feature, ref in built:
                got = out[f"{prefix}{side}__{feature.feature_name}"][row]
                assert close(got, feature_at(events, point, ref)), (side, feature, row)


ROUTES = Source("routes", {"id": "int64", "ts": "timestamp", "k": "string", "j": "string",
                          "v": "float64"}, "ts", id="id")


def test_requests_are_checked() -> None:
    view = FeatureView("loc", Entity("route", ["k", "j"]), ROUTES,
                       [build(0, ("count", ("time", 1), 0, False))[0]])
    definitions = definitions_of(view)
    with pytest.raises(InputError, match="maps the 2 key column"):
        resolve_features(definitions, ["loc[origin]"])
    with pytest.raises(InputError, match=r"maps keys as view\[spine_column\]"):
        resolve_features(definitions, ["loc[a,b"])
    with pytest.raises(UnknownNameError, match="has no such feature"):
        resolve_features(definitions, ["loc[a,b]:nope"])
    with pytest.raises(InputError, match="two requests give a feature named 'a_b_c__f0'"):
        resolve_features(definitions, ["loc[a_b,c]", "loc[a,b_c]"])
    (ref,) = resolve_features(definitions, ["loc[a,b]:f0"])
    assert (ref.output("f0"), ref.spine_column("k"), ref.spine_column("j")) == (
        "a_b__f0", "a", "b")
    (full,) = resolve_features(definitions, ["loc:f0"], full_names=True)
    assert full.output("f0") == "loc__f0"


def test_key_mapping_and_full_names_in_a_project(make_project, tmp_path: Path) -> None:
    project = make_project('''
        from confluens import Entity, FeatureView, Mean, Snapshot, Source
        weather = Source("weather", {"id": "int64", "ts": "timestamp", "loc": "int64",
                                     "temp": "float64"}, "ts", id="id")
        location = Entity("location", ["loc"])
        temps = FeatureView("temps", location, weather, [Mean("temp", window="1d")])
        now = Snapshot("now", location, weather, ["temp"], ttl="2h")
    ''')
    project.apply()
    (tmp_path / "w.csv").write_text("id,ts,loc,temp\n"
                                    "1,2024-01-01 10:00,1,10\n"
                                    "2,2024-01-01 11:00,2,20\n"
                                    "3,2024-01-01 11:30,1,12\n")
    project.ingest("weather", str(tmp_path / "w.csv"))
    spine = pa.table({"origin": [1, 2], "destination": [2, 1],
                      "ts": pa.array([datetime(2024, 1, 1, 12, tzinfo=UTC)] * 2, STAMP)})
    out = project.training_set(spine, ["temps[origin]", "temps[destination]",
                                       "now[destination]:temp"]).to_pydict()
    assert out["origin__temp_mean_1d"] == [11.0, 20.0]
    assert out["destination__temp_mean_1d"] == [20.0, 11.0]
    assert out["destination__temp"] == [20.0, 12.0]
    full = project.training_set(spine.rename_columns(["loc", "destination", "ts"]),
                                ["temps", "now"], full_names=True).to_pydict()
    assert full["temps__temp_mean_1d"] == [11.0, 20.0]
    assert full["now__temp"] == [12.0, 20.0]
    project.materialize()
    at = datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert project.online_vector({"temps[origin]": 1, "temps[destination]": 2,
                                  "now": 1}, at=at) == {
        "origin__temp_mean_1d": 11.0, "destination__temp_mean_1d": 20.0, "temp": 12.0}
    assert project.online_vector({"temps": 2, "now": 2}, at=at, full_names=True) == {
        "temps__temp_mean_1d": 20.0, "now__temp": 20.0}
