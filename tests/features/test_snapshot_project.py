"""Snapshots through a project: training sets, materialize, online reads, reruns."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

SNAPSHOT_DEFINITIONS = '''
from confluens import Entity, Snapshot, Source
profiles = Source("profiles", {"id": "int64", "ts": "timestamp", "customer": "string",
                               "tier": "string", "credit": "float64",
                               "created": "timestamp"},
                  "ts", id="id", version="created")
profile = Snapshot("profile", Entity("customer", ["customer"]), profiles,
                   ["tier", "credit"], ttl="10d")
complete = Snapshot("complete", Entity("customer", ["customer"]), profiles,
                    {"last_tier": "tier", "last_credit": "credit"}, ttl=None,
                    nulls="skip")
'''


def test_a_snapshot_in_training_sets_feature_tables_and_online_reads(
        make_project, tmp_path: Path) -> None:
    project = make_project(SNAPSHOT_DEFINITIONS)
    project.apply()
    (tmp_path / "p1.csv").write_text(
        "id,ts,customer,tier,credit,created\n"
        "1,2024-01-01,c1,gold,100,2024-01-01\n"
        "2,2024-01-05,c1,silver,,2024-01-06\n"      # same time as 3, but older
        "3,2024-01-05,c1,bronze,50,2024-01-07\n"    # the newest created: wins the tie
        "4,2024-01-02,c2,gold,,2024-01-02\n")
    project.ingest("profiles", str(tmp_path / "p1.csv"))
    spine = pd.DataFrame({
        "customer": ["c1", "c1", "c1", "c1", "c2", "c2", "zz"],
        "ts": pd.to_datetime(["2023-12-31", "2024-01-03", "2024-01-05", "2024-01-15",
                              "2024-01-12", "2024-01-13", "2024-01-05"], utc=True)})
    out = project.training_set(spine, ["profile", "complete"]).to_pydict()
    # 01-15 is exactly 10 days after 01-05: the TTL's lower edge is included
    assert out["tier"] == [None, "gold", "bronze", "bronze", "gold", None, None]
    assert out["credit"] == [None, 100.0, 50.0, 50.0, None, None, None]
    # nulls="skip" and no TTL: the latest row with every column set, however old
    assert out["last_tier"] == [None, "gold", "bronze", "bronze", None, None, None]
    assert out["last_credit"] == [None, 100.0, 50.0, 50.0, None, None, None]

    done = {m.view: m for m in project.materialize()}
    assert set(done) == {"profile", "complete"}
    table = project.event_features("profile").to_pandas().sort_values("__tie")
    assert table["tier"].tolist() == ["gold", "silver", "bronze", "gold"]

    def read(view: str, key: str, day: int) -> dict[str, object]:
        return project.online_features(view, [key],
                                       at=datetime(2024, 1, day, tzinfo=UTC))[0]

    assert read("profile", "c1", 15) == {"tier": "bronze", "credit": 50.0}
    assert read("profile", "c1", 16) == {"tier": None, "credit": None}, "past the TTL"
    assert read("complete", "c1", 28) == {"last_tier": "bronze", "last_credit": 50.0}
    assert read("profile", "c2", 6) == {"tier": "gold", "credit": None}

    # a later ingest: the incremental materialize equals a full rebuild
    (tmp_path / "p2.csv").write_text(
        "id,ts,customer,tier,credit,created\n"
        "5,2024-01-20,c1,,70,2024-01-20\n"
        "6,2024-01-03,c2,silver,20,2024-01-03\n")   # arrives late, in the past
    project.ingest("profiles", str(tmp_path / "p2.csv"))
    incremental = _sorted(project.event_features("complete"))
    project.materialize()
    assert read("profile", "c1", 21) == {"tier": None, "credit": 70.0}
    assert read("complete", "c1", 21) == {"last_tier": "bronze", "last_credit": 50.0}
    assert read("complete", "c2", 21) == {"last_tier": "silver", "last_credit": 20.0}
    stored = _sorted(pa.concat_tables(pq.read_table(f)
                                      for f in project.feature_tables.files("complete")))
    assert stored.select(incremental.column_names).equals(incremental)


def _sorted(table: pa.Table) -> pa.Table:
    return table.select(["customer", "ts", "__tie", "last_tier", "last_credit"]).sort_by(
        [("__tie", "ascending")])
