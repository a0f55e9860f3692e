"""Feast's historical retrieval, reproduced: one training set with a driver snapshot
(ties by the newest ``created``), a location view joined as origin and destination,
and global stats without an entity, each the latest row in ``[t - ttl, t]``.

The expected values come from a brute-force search written here: for each spine row
and each view, the rows of that key (any row for global stats) whose event time lies
in ``[t - ttl, t]``, and among them the one with the greatest (event time, created).
Created timestamps are distinct per (key, event time), as a tie-breaker needs.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from confluens.core import Definitions, Entity, Snapshot, Source
from confluens.core.system_columns import KEY
from confluens.project.training import resolve_features, training_set

T0 = datetime(2024, 1, 1, tzinfo=UTC)
STAMP = pa.timestamp("us", tz="UTC")
TTL = {"driver_stats": 3, "location": 2, "global_stats": 4}  # hours

DRIVERS = Source("drivers", {"ts": "timestamp", "created": "timestamp", "driver_id": "int64",
                             "conv_rate": "float64"}, "ts", version="created")
LOCATIONS = Source("locations", {"ts": "timestamp", "created": "timestamp",
                                 "location_id": "int64", "temperature": "float64"}, "ts",
                   version="created")
GLOBAL_STATS = Source("global_stats", {"ts": "timestamp", "created": "timestamp",
                                       "num_rides": "int64"}, "ts", version="created")
VIEWS = [
    Snapshot("driver_stats", Entity("driver", ["driver_id"]), DRIVERS, ["conv_rate"],
             ttl=f"{TTL['driver_stats']}h"),
    Snapshot("location", Entity("location", ["location_id"]), LOCATIONS, ["temperature"],
             ttl=f"{TTL['location']}h"),
    Snapshot("global_stats", None, GLOBAL_STATS, ["num_rides"], ttl=f"{TTL['global_stats']}h"),
]


def hours(h: int) -> datetime:
    return T0 + timedelta(hours=h)


def rows_of(key: str, values: st.SearchStrategy) -> st.SearchStrategy:
    """Rows (key, hour, value), each with a created time distinct within its key and hour."""
    return st.lists(st.tuples(st.integers(1, 2), st.integers(0, 8), values),
                    min_size=1, max_size=12).map(
        lambda rows: [{key: k, "ts": hours(h), "created": hours(h) + timedelta(minutes=i),
                       "value": v} for i, (k, h, v) in enumerate(rows)])


def latest(rows: list[dict], at: datetime, ttl_hours: int, match: dict) -> dict | None:
    """Feast's rule: the newest row (event time, then created) in [at - ttl, at]."""
    found = [r for r in rows if all(r[k] == v for k, v in match.items())
             and at - timedelta(hours=ttl_hours) <= r["ts"] <= at]
    return max(found, key=lambda r: (r["ts"], r["created"]), default=None)


def write(folder: str, name: str, rows: list[dict], value: str, key: str | None) -> str:
    path = str(Path(folder) / f"{name}.parquet")
    columns = {"ts": pa.array([r["ts"] for r in rows], STAMP),
               "created": pa.array([r["created"] for r in rows], STAMP),
               value: [r["value"] for r in rows],
               KEY: [f"{name}-{i}" for i in range(len(rows))]}  # as stored records have
    if key is not None:
        columns[key] = pa.array([r[key] for r in rows], pa.int64())
    pq.write_table(pa.table(columns), path)
    return path


@settings(max_examples=40, deadline=None)
@given(drivers=rows_of("driver_id", st.sampled_from([0.1, 0.5, 0.9, None])),
       locations=rows_of("location_id", st.sampled_from([10.0, 20.0, 30.0])),
       stats=rows_of("g", st.integers(0, 100)),
       orders=st.lists(st.tuples(st.integers(1, 3), st.integers(1, 2), st.integers(1, 2),
                                 st.integers(0, 12)), min_size=1, max_size=10),
       full_names=st.booleans())
def test_historical_retrieval_as_feast(drivers, locations, stats, orders, full_names) -> None:
    spine = pa.table({
        "driver_id": pa.array([d for d, _, _, _ in orders], pa.int64()),
        "origin_id": pa.array([o for _, o, _, _ in orders], pa.int64()),
        "destination_id": pa.array([d for _, _, d, _ in orders], pa.int64()),
        "event_timestamp": pa.array([hours(h) for _, _, _, h in orders], STAMP)})
    requests = ["driver_stats", "location[origin_id]", "location[destination_id]",
                "global_stats"]
    definitions = Definitions(entities=[v.entity for v in VIEWS[:2]],
                              sources=[v.source for v in VIEWS], feature_views=VIEWS)
    refs = resolve_features(definitions, requests, full_names=full_names)
    with tempfile.TemporaryDirectory() as folder:
        files = {"drivers": write(folder, "drivers", drivers, "conv_rate", "driver_id"),
                 "locations": write(folder, "locations", locations, "temperature",
                                    "location_id"),
                 "global_stats": write(folder, "global_stats", stats, "num_rides", None)}
        out = training_set(refs, lambda source: [files[source]], spine).to_pylist()
    full = {True: "{view}__", False: ""}[full_names]
    names = {"conv_rate": full.format(view="driver_stats") + "conv_rate",
             "origin": full.format(view="location") + "origin_id__temperature",
             "destination": full.format(view="location") + "destination_id__temperature",
             "num_rides": full.format(view="global_stats") + "num_rides"}
    for row, (driver, origin, destination, h) in zip(out, orders, strict=True):
        at = hours(h)
        expected = {
            "conv_rate": latest(drivers, at, TTL["driver_stats"], {"driver_id": driver}),
            "origin": latest(locations, at, TTL["location"], {"location_id": origin}),
            "destination": latest(locations, at, TTL["location"],
                                  {"location_id": destination}),
            "num_rides": latest(stats, at, TTL["global_stats"], {}),
        }
        for what, record in expected.items():
            want = None if record is None else record["value"]
            assert row[names[what]] == want, (what, row, want)
