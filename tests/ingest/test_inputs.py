"""Inputs: CSV, Parquet, JSON lines, globs and SQL queries; types and time zones."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from confluens.errors import InputError, NotAppliedError, SchemaMismatchError, SourceReadError
from tests.helpers import write_csv

EVENTS = '''
from confluens import Source, Field, Range
events = Source(
    "events",
    [Field("id", "int64"), Field("ts", "timestamp"), Field("user", "string", raw="User Name"),
     Field("value", "float64"), Field("day", "date"), Field("flag", "bool")],
    event_time="ts", id="id", timezone="Europe/Paris", checks=[Range("value", min=0)],
)
'''
HEADER = ["id", "ts", "User Name", "value", "day", "flag"]


@pytest.fixture
def events(make_project):
    project = make_project(EVENTS)
    project.apply()
    return project


def test_naive_timestamps_are_read_in_the_source_time_zone(events, tmp_path: Path) -> None:
    rows = [[1, "2024-01-15 12:00:00", "a", 1, "2024-01-15", "true"],   # CET, UTC+1
            [2, "2024-07-15 12:00:00", "a", 1, "2024-07-15", "false"],  # CEST, UTC+2
            [3, "2024-07-15T12:00:00+00:00", "a", 1, "2024-07-15", "1"],  # explicit offset
            [4, "2024-07-15 23:30:00", "a", 1, "2024-07-15", "0"]]      # 21:30 UTC
    write_csv(tmp_path / "e.csv", rows, header=HEADER)
    run = events.ingest("events", str(tmp_path / "e.csv"))
    assert (run.accepted, run.quarantined) == (4, 0)
    table = events.table("events")
    assert table.schema.field("ts").type == pa.timestamp("us", tz="UTC")
    ts = dict(zip(table.column("id").to_pylist(), table.column("ts").to_pylist(), strict=True))
    assert ts[1] == datetime(2024, 1, 15, 11, 0, tzinfo=UTC)
    assert ts[2] == datetime(2024, 7, 15, 10, 0, tzinfo=UTC)
    assert ts[3] == datetime(2024, 7, 15, 12, 0, tzinfo=UTC)
    assert ts[4] == datetime(2024, 7, 15, 21, 30, tzinfo=UTC)
    assert table.column("flag").to_pylist() == [True, False, True, False]


def test_partitions_follow_the_utc_event_date(events, tmp_path: Path) -> None:
    # 00:30 in Paris on the 16th is 22:30 UTC on the 15th
    write_csv(tmp_path / "e.csv", [[1, "2024-07-16 00:30:00", "a", 1, "2024-07-16", "1"]],
              header=HEADER)
    events.ingest("events", str(tmp_path / "e.csv"))
    (path,) = events.offline.files("events")
    assert "event_date=2024-07-15" in path


def test_int_column_refuses_fractions_instead_of_rounding(events, tmp_path: Path) -> None:
    write_csv(tmp_path / "e.csv", [["1.0", "2024-01-01", "a", 1, None, None],
                                   ["2.5", "2024-01-01", "a", 1, None, None]], header=HEADER)
    run = events.ingest("events", str(tmp_path / "e.csv"))
    assert (run.accepted, run.quarantined) == (1, 1)
    assert events.table("events").column("id").to_pylist() == [1]
    assert events.quarantine("events").column("rule").to_pylist() == ["type:id"]


def test_parquet_with_native_types(events, tmp_path: Path) -> None:
    table = pa.table({
        "id": pa.array([1, 2], pa.int64()),
        "ts": pa.array([datetime(2024, 1, 1, 12), datetime(2024, 1, 2, 12)],
                       pa.timestamp("us")),
        "User Name": ["a", "b"], "value": [1.5, -1.0],
        "day": pa.array([datetime(2024, 1, 1).date()] * 2), "flag": [True, None],
    })
    pq.write_table(table, tmp_path / "e.parquet")
    run = events.ingest("events", str(tmp_path / "e.parquet"))
    assert (run.rows_in, run.accepted, run.quarantined) == (2, 1, 1)
    stored = events.table("events")
    assert stored.column("user").to_pylist() == ["a"]
    assert stored.column("ts").to_pylist() == [datetime(2024, 1, 1, 11, tzinfo=UTC)]


def test_json_lines_with_bad_lines_and_missing_keys(events, tmp_path: Path) -> None:
    lines = [json.dumps({"id": 1, "ts": "2024-01-01", "User Name": "a", "value": 2}),
             "this is not json",
             json.dumps([1, 2]),
             json.dumps({"id": 2, "ts": "2024-01-01", "value": "x"}),
             json.dumps({"id": 3, "ts": "2024-01-01"})]
    (tmp_path / "e.jsonl").write_text("\n".join(lines) + "\n")
    run = events.ingest("events", str(tmp_path / "e.jsonl"))
    assert (run.rows_in, run.accepted, run.quarantined) == (5, 2, 3)
    assert run.rules == {"parse": 2, "type:value": 1}
    assert sorted(events.table("events").column("id").to_pylist()) == [1, 3]


def test_missing_columns_fail_the_whole_input_with_a_fix(events, tmp_path: Path) -> None:
    write_csv(tmp_path / "e.csv", [[1, "2024-01-01"]], header=["id", "ts"])
    with pytest.raises(SchemaMismatchError) as info:
        events.ingest("events", str(tmp_path / "e.csv"))
    assert "User Name" in str(info.value)
    assert "raw=" in info.value.fix
    assert events.table("events").num_rows == 0


def test_nothing_matches_the_glob(events, tmp_path: Path) -> None:
    with pytest.raises(SourceReadError, match="no file matches"):
        events.ingest("events", str(tmp_path / "*.csv"))


def test_unknown_file_type(events, tmp_path: Path) -> None:
    (tmp_path / "e.xlsx").write_text("x")
    with pytest.raises(SourceReadError, match="file type"):
        events.ingest("events", str(tmp_path / "e.xlsx"))


def test_ingest_refuses_definitions_changed_since_apply(make_project, tmp_path) -> None:
    project = make_project(EVENTS)
    with pytest.raises(NotAppliedError, match="has not been registered"):
        project.ingest("events", str(tmp_path / "e.csv"))
    project.apply()
    (project.root / "definitions.py").write_text(EVENTS.replace('min=0', 'min=1'))
    changed = type(project)(project.root)
    with pytest.raises(NotAppliedError, match="differs"):
        changed.ingest("events", str(tmp_path / "e.csv"))
    changed.close()


def test_database_uri_needs_a_query(events) -> None:
    with pytest.raises(InputError, match="needs a query"):
        events.ingest("events", "postgresql://postgres@127.0.0.1/test")


@pytest.mark.service("postgres")
def test_ingest_from_a_postgres_query(events, postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    name = f"events_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE TABLE {name} (id bigint, ts timestamptz, '
                             f'"User Name" text, value numeric, day date, flag boolean)'))
        conn.execute(sa.text(
            f"INSERT INTO {name} VALUES (1, '2024-01-01 10:00+00', 'a', 1.25, '2024-01-01', "
            f"true), (2, '2024-01-01 11:00+00', 'b', -3, NULL, NULL), "
            f"(3, '2024-01-01 12:00+00', 'c', 2, NULL, false)"))
    try:
        uri = postgres_url.replace("+psycopg", "")
        run = events.ingest("events", uri, query=f"SELECT * FROM {name} ORDER BY id")
        assert (run.rows_in, run.accepted, run.quarantined, run.duplicates) == (3, 2, 1, 0)
        table = events.table("events")
        assert table.column("value").to_pylist() == [1.25, 2.0]
        assert table.column("ts").to_pylist()[0] == datetime(2024, 1, 1, 10, tzinfo=UTC)
        again = events.ingest("events", uri, query=f"SELECT * FROM {name}")
        assert (again.accepted, again.duplicates) == (0, 3)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE {name}"))
        engine.dispose()


def test_epoch_seconds_read_the_same_from_every_format(make_project, tmp_path: Path) -> None:
    project = make_project('''
        from confluens import Source
        ev = Source("ev", {"id": "int64", "ts": "timestamp"}, "ts", id="id")
    ''')
    project.apply()
    write_csv(tmp_path / "e.csv", [[1, "1704067200"], [2, "1704067200.5"]], header=["id", "ts"])
    (tmp_path / "e.jsonl").write_text('{"id": 3, "ts": 1704067200}\n')
    pq.write_table(pa.table({"id": [4], "ts": [1704067200]}), tmp_path / "e.parquet")
    for name in ("e.csv", "e.jsonl", "e.parquet"):
        assert project.ingest("ev", str(tmp_path / name)).quarantined == 0
    ts = project.table("ev").column("ts").to_pylist()
    assert ts[0] == ts[2] == ts[3] == datetime(2024, 1, 1, tzinfo=UTC)
    assert ts[1] == datetime(2024, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)


def test_a_second_concurrent_ingest_into_a_source_fails_at_once(events, tmp_path) -> None:
    from confluens.errors import ConcurrentWriteError
    from confluens.stores.offline import table_lock

    write_csv(tmp_path / "e.csv", [[1, "2024-01-01", "a", 1, None, None]], header=HEADER)
    with table_lock(events.config.store_root / "locks" / "events", wait=False), \
            pytest.raises(ConcurrentWriteError, match="another process"):
        events.ingest("events", str(tmp_path / "e.csv"))
    assert events.ingest("events", str(tmp_path / "e.csv")).accepted == 1
