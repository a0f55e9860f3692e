"""The SQL each compiler generates, pinned: a change to it is a change to review.

Run with CONFLUENS_UPDATE_SNAPSHOTS=1 to rewrite the snapshots after a deliberate change.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlglot

from confluens.core import (
    Count,
    DistinctCount,
    Entity,
    Events,
    FeatureView,
    Last,
    Mean,
    Ratio,
    Snapshot,
    Source,
    Std,
    Sum,
)
from confluens.plan import compile_events, compile_points, plan_view
from confluens.plan.duckdb_known import compile_known_events, compile_known_points
from confluens.plan.retention import compile_retained
from confluens.sqlx import render

SNAPSHOTS = Path(__file__).parent / "snapshots"
TX = Source("tx", {"id": "int64", "ts": "timestamp", "card": "string", "amount": "float64",
                   "known": "timestamp"}, "ts", id="id")
LABELS = Source("labels", {"id": "int64", "ts": "timestamp", "card": "string",
                           "fraud": "int64", "known": "timestamp"}, "ts", id="id",
                known_at="known")
CARD = Entity("card", ["card"])
VIEW = FeatureView("spend", CARD, TX, [
    Count(window="1d"), Mean("amount", window="7d", delay="1d"), Std("amount", window="7d"),
    Last("amount", window=Events(3)), DistinctCount("amount", window="30d"),
    Sum("amount", window=Events(5), where="amount > 100", name="big_last5"),
    Ratio(Sum("amount", window="1d"), Count(window="1d"), empty=0.0, name="avg_1d")],
    derive={"night": "hour(ts) <= 6"})
RISK = FeatureView("risk", CARD, LABELS, [
    Count(window="7d", delay="7d"),
    Ratio(Sum("fraud", window="7d", delay="7d"), Count(window="7d", delay="7d"), empty=0.0,
          name="fraud_rate_7d")])
RECENT = FeatureView("recent", CARD, LABELS, [
    Count(window=Events(3)), Last("fraud", window=Events(5), delay="1d"),
    Sum("fraud", window=Events(10), where="fraud > 0", name="frauds_last10"),
    Ratio(Sum("fraud", window="30d"), Count(window=Events(10)), name="per_recent")])
# a snapshot over a source with a version column, one known late (bitemporal)
PROFILES = Source("profiles", {"id": "int64", "ts": "timestamp", "card": "string",
                               "tier": "string", "limit": "float64", "created": "timestamp",
                               "known": "timestamp"}, "ts", id="id", version="created")
PROFILE = Snapshot("profile", CARD, PROFILES, ["tier", "limit"], ttl="30d", nulls="skip")
KNOWN_PROFILE = Snapshot("known_profile", CARD, Source(
    "late_profiles", PROFILES.schema, "ts", id="id", version="created", known_at="known"),
    ["tier"], ttl="30d", ttl_inclusive=False)

CASES = {
    "duckdb_events": lambda: compile_events(plan_view(VIEW)),
    "duckdb_points": lambda: compile_points(plan_view(VIEW)),
    "duckdb_known_points": lambda: compile_known_points(plan_view(RISK)),
    "duckdb_known_events": lambda: compile_known_events(plan_view(RISK)),
    "duckdb_known_count_points": lambda: compile_known_points(plan_view(RECENT)),
    "duckdb_known_count_events": lambda: compile_known_events(plan_view(RECENT)),
    "prepared_known_count": lambda: compile_retained(plan_view(RECENT), 1_700_000_000_000_000),
    "snapshot_versioned_points": lambda: compile_points(plan_view(PROFILE)),
    "snapshot_versioned_events": lambda: compile_events(plan_view(PROFILE)),
    "snapshot_known_points": lambda: compile_known_points(plan_view(KNOWN_PROFILE)),
    "snapshot_prepared": lambda: compile_retained(plan_view(PROFILE), 1_700_000_000_000_000),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_generated_sql_matches_its_snapshot(case: str) -> None:
    sql = sqlglot.transpile(render(CASES[case]()), read="duckdb", write="duckdb",
                            pretty=True)[0] + "\n"
    path = SNAPSHOTS / f"{case}.sql"
    if os.environ.get("CONFLUENS_UPDATE_SNAPSHOTS") == "1":
        path.write_text(sql)
    assert path.exists(), f"no snapshot yet: run with CONFLUENS_UPDATE_SNAPSHOTS=1 ({path})"
    assert sql == path.read_text(), f"{case}: generated SQL changed; review, then update"
