"""Timestamps: the source's time range, its epoch unit, UTC offsets (issue 7, "Timestamps").

Each value the issue reports is ingested and must end in quarantine with its rule and a
reason naming the value; the epoch conversion is checked against an exact reference.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confluens import Field, Source
from confluens.core.time_rules import DEFAULT_TIME_RANGE
from confluens.errors import DefinitionError
from confluens.ingest.coerce import coerce, out_of_time_range
from confluens.sqlx import col, render

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

DEFINITIONS = '''
from confluens import Source
tx = Source("tx", {{"id": "int64", "ts": "timestamp", "seen": "timestamp"}}, "ts", id="id",
            timezone="Europe/Paris"{extra})
'''


def ingest(make_project, tmp_path: Path, rows: list[str], extra: str = ""):
    project = make_project(DEFINITIONS.format(extra=extra))
    project.apply()
    path = tmp_path / "in.csv"
    path.write_text("id,ts,seen\n" + "".join(f"{i},{v},\n" for i, v in enumerate(rows)))
    run = project.ingest("tx", str(path))
    assert run.rows_in == run.accepted + run.quarantined + run.duplicates == len(rows)
    quarantined = {r["position"]: r for r in project.quarantine("tx").to_pylist()}
    stored = dict(zip(project.table("tx").column("id").to_pylist(),
                      project.table("tx").column("ts").to_pylist(), strict=True))
    return run, quarantined, stored


@pytest.mark.parametrize("value", ["1522922400000", "99999999999999", "-62135596801",
                                   "1e400", "50229-06-28 16:00:00", "0001-01-01",
                                   "1969-12-31T23:59:59Z", "2200-01-01T00:00:00Z"])
def test_values_outside_the_default_time_range_are_quarantined(make_project, tmp_path: Path,
                                                               value: str) -> None:
    if value == "1e400":  # not a plain number (exponent): a type failure, not a crash
        run, quarantined, _ = ingest(make_project, tmp_path, [value])
        assert quarantined[0]["rule"] == "type:ts"
        return
    run, quarantined, stored = ingest(make_project, tmp_path, [value])
    assert (run.accepted, run.quarantined) == (0, 1)
    assert stored == {}
    row = quarantined[0]
    assert row["rule"] == "time_range:ts"
    assert f"'{value}'" in row["reason"]
    assert "[1970-01-01 00:00:00+00:00, 2200-01-01 00:00:00+00:00)" in row["reason"]


def test_a_number_out_of_range_suggests_the_epoch_unit(make_project, tmp_path: Path) -> None:
    _, quarantined, _ = ingest(make_project, tmp_path, ["1522922400000"])
    assert "when read as seconds since 1970-01-01" in quarantined[0]["reason"]
    assert "epoch_unit=" in quarantined[0]["reason"]


def test_the_edges_of_the_range_start_included_end_excluded(make_project,
                                                            tmp_path: Path) -> None:
    rows = ["1970-01-01T00:00:00Z", "0", "2199-12-31T23:59:59.999999Z",
            "2200-01-01T00:00:00Z", "1969-12-31T23:59:59.999999Z"]
    _, quarantined, stored = ingest(make_project, tmp_path, rows)
    assert sorted(stored) == [0, 1, 2]
    assert sorted(quarantined) == [3, 4]
    assert stored[0] == stored[1] == EPOCH


def test_a_source_sets_its_own_time_range(make_project, tmp_path: Path) -> None:
    rows = ["1985-06-01 00:00:00", "1995-06-01 00:00:00", "2150-01-01 00:00:00"]
    extra = ', time_range=("1990-01-01", "2100-01-01")'
    _, quarantined, stored = ingest(make_project, tmp_path, rows, extra)
    assert sorted(stored) == [1]
    assert {p: r["rule"] for p, r in quarantined.items()} == {0: "time_range:ts",
                                                               2: "time_range:ts"}
    assert "[1990-01-01 00:00:00+00:00, 2100-01-01 00:00:00+00:00)" in quarantined[0]["reason"]


def test_every_timestamp_column_is_held_to_the_range(make_project, tmp_path: Path) -> None:
    project = make_project(DEFINITIONS.format(extra=""))
    project.apply()
    path = tmp_path / "in.csv"
    path.write_text("id,ts,seen\n1,2024-01-01,1522922400000\n2,2024-01-01,1522922400\n")
    run = project.ingest("tx", str(path))
    assert (run.accepted, run.quarantined) == (1, 1)
    assert project.quarantine("tx").column("rule").to_pylist() == ["time_range:seen"]


@pytest.mark.parametrize(("unit", "value"), [("s", "1522922400"), ("ms", "1522922400000"),
                                             ("us", "1522922400000000"),
                                             ("ns", "1522922400000000000")])
def test_the_epoch_unit_of_a_source(make_project, tmp_path: Path, unit: str,
                                    value: str) -> None:
    run, _, stored = ingest(make_project, tmp_path, [value], f", epoch_unit={unit!r}")
    assert run.accepted == 1
    assert stored[0] == datetime(2018, 4, 5, 10, 0, tzinfo=UTC)


def test_epoch_numbers_from_parquet_and_json_read_the_same(make_project,
                                                           tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    project = make_project(DEFINITIONS.format(extra=", epoch_unit='ms'"))
    project.apply()
    pq.write_table(pa.table({"id": [1, 2], "ts": [1522922400123, 99999999999999999],
                             "seen": pa.array([None, None], pa.int64())}), tmp_path / "a.parquet")
    (tmp_path / "b.jsonl").write_text('{"id": 3, "ts": 1522922400123}\n'
                                      '{"id": 4, "ts": "1522922400123.5"}\n')
    project.ingest("tx", str(tmp_path / "a.parquet"))
    project.ingest("tx", str(tmp_path / "b.jsonl"))
    stored = dict(zip(project.table("tx").column("id").to_pylist(),
                      project.table("tx").column("ts").to_pylist(), strict=True))
    at = datetime(2018, 4, 5, 10, 0, 0, 123000, tzinfo=UTC)
    assert stored == {1: at, 3: at, 4: at + timedelta(microseconds=500)}
    assert project.quarantine("tx").column("rule").to_pylist() == ["time_range:ts"]


@pytest.mark.parametrize("value", ["2024-01-01T00:00:00+25:00", "2024-01-01T00:00:00+2500",
                                   "2024-01-01T00:00:00+25", "2024-01-01T00:00:00-99:99",
                                   "2024-01-01T00:00:00+18:01", "2024-01-01T00:00:00+05:60",
                                   "infinity", "-infinity", "yesterday"])
def test_impossible_offsets_and_times_are_type_failures(make_project, tmp_path: Path,
                                                        value: str) -> None:
    run, quarantined, _ = ingest(make_project, tmp_path, [value])
    assert run.quarantined == 1
    assert quarantined[0]["rule"] == "type:ts"
    assert quarantined[0]["reason"] == f"type:ts: '{value}' is not a valid timestamp"


@pytest.mark.parametrize(("value", "utc"), [
    ("2024-01-01T00:00:00+05:30", datetime(2023, 12, 31, 18, 30, tzinfo=UTC)),
    ("2024-01-01T00:00:00-0800", datetime(2024, 1, 1, 8, 0, tzinfo=UTC)),
    ("2024-01-01T00:00:00+14:00", datetime(2023, 12, 31, 10, 0, tzinfo=UTC)),
    ("2024-01-01T00:00:00-18:00", datetime(2024, 1, 1, 18, 0, tzinfo=UTC)),
    ("2024-01-01T00:00:00+00", datetime(2024, 1, 1, 0, 0, tzinfo=UTC)),
    ("2024-01-01T00:00:00Z", datetime(2024, 1, 1, 0, 0, tzinfo=UTC)),
])
def test_valid_offsets_keep_their_instant(make_project, tmp_path: Path, value: str,
                                          utc: datetime) -> None:
    _, _, stored = ingest(make_project, tmp_path, [value])
    assert stored == {0: utc}


def test_definition_errors_name_the_setting() -> None:
    schema = {"ts": "timestamp"}
    with pytest.raises(DefinitionError, match="epoch_unit must be one of"):
        Source("s", schema, "ts", epoch_unit="minutes")
    with pytest.raises(DefinitionError, match="time_range must start before it ends"):
        Source("s", schema, "ts", time_range=("2000-01-01", "1990-01-01"))
    with pytest.raises(DefinitionError, match="time_range bounds must be ISO dates"):
        Source("s", schema, "ts", time_range=("last year", "2000-01-01"))
    with pytest.raises(DefinitionError, match="time_range must be a pair"):
        Source("s", schema, "ts", time_range="1990-01-01")


def test_reading_settings_enter_the_spec_only_when_set() -> None:
    schema = {"ts": "timestamp"}
    base = Source("s", schema, "ts").spec()
    assert "time_range" not in base
    assert "epoch_unit" not in base
    spec = Source("s", schema, "ts", time_range=("1990-01-01", "2100-01-01"),
                  epoch_unit="ms").spec()
    assert spec["time_range"] == ["1990-01-01T00:00:00+00:00", "2100-01-01T00:00:00+00:00"]
    assert spec["epoch_unit"] == "ms"
    assert Source("s", schema, "ts", time_range=DEFAULT_TIME_RANGE).spec() == base


# -- the epoch conversion against an exact reference -----------------------------------

PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
FIRST, LAST = datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def reference(text: str, unit: str) -> tuple[datetime | None, bool]:
    """(the instant, outside the default range) of an epoch number, exactly."""
    seconds = Decimal(text.strip()) / PER_SECOND[unit]
    if not (Decimal(-62_135_596_800) <= seconds <= Decimal(253_402_300_799)):
        return None, True
    micros = int((seconds * 10**6).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    instant = EPOCH + timedelta(microseconds=micros)
    start, end = DEFAULT_TIME_RANGE
    return instant, not (start <= instant < end)


numbers = st.one_of(
    st.integers(-(10**22), 10**22).map(str),
    st.decimals(min_value=-(10**13), max_value=10**13, places=6, allow_nan=False).map(str),
    st.integers(0, 8 * 10**18).map(lambda n: f" {n} "),
)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(numbers, min_size=1, max_size=40), unit=st.sampled_from(list(PER_SECOND)))
def test_epoch_numbers_match_an_exact_reference(values: list[str], unit: str) -> None:
    field = Field("ts", "timestamp")
    coerced = coerce(field, "raw", unit)
    outside = out_of_time_range(coerced, col("ts", "raw"), DEFAULT_TIME_RANGE)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'Asia/Kolkata'")  # the session zone must not matter
        con.execute("CREATE TABLE raw (i INTEGER, ts VARCHAR)")
        con.executemany("INSERT INTO raw VALUES (?, ?)", list(enumerate(values)))
        helpers = ", ".join(f'{render(e)} AS "{name}"' for name, e in coerced.helpers.items())
        rows = con.execute(f"SELECT i, epoch_us({render(coerced.value)}), {render(outside)}, "
                           f"{render(coerced.failed)} FROM (SELECT *, {helpers} FROM raw) AS raw "
                           "ORDER BY i").fetchall()
    finally:
        con.close()
    for (_, micros, out, failed), text in zip(rows, values, strict=True):
        want, want_out = reference(text, unit)
        got = None if micros is None else EPOCH + timedelta(microseconds=micros)
        assert (got, out, failed) == (want, want_out, False), text


def test_setting_the_epoch_unit_then_retrying_stores_the_quarantined(make_project,
                                                                     tmp_path: Path) -> None:
    # the fix a time_range reason suggests, end to end: declare the unit, apply, retry
    project = make_project(DEFINITIONS.format(extra=""))
    project.apply()
    (tmp_path / "in.csv").write_text("id,ts,seen\n1,1522922400000,\n2,1522922400,\n")
    first = project.ingest("tx", str(tmp_path / "in.csv"))
    assert (first.accepted, first.quarantined) == (1, 1)
    fixed = make_project(DEFINITIONS.format(extra=", epoch_unit='ms'"))  # same folder
    fixed.apply()
    retry = fixed.retry_quarantine("tx")
    assert (retry.accepted, retry.quarantined) == (1, 0)
    stored = dict(zip(fixed.table("tx").column("id").to_pylist(),
                      fixed.table("tx").column("ts").to_pylist(), strict=True))
    assert stored == {1: datetime(2018, 4, 5, 10, 0, tzinfo=UTC),
                      2: datetime(2018, 4, 5, 10, 0, tzinfo=UTC)}


@pytest.mark.parametrize("value", ["50229-01-01", "-5000-01-01", "2024-13-01"])
def test_dates_outside_the_years_1_to_9999_are_type_failures(make_project, tmp_path: Path,
                                                             value: str) -> None:
    project = make_project('''
from confluens import Source
tx = Source("tx", {"id": "int64", "ts": "timestamp", "day": "date"}, "ts", id="id")
''')
    project.apply()
    (tmp_path / "in.csv").write_text(f"id,ts,day\n1,2024-01-01,{value}\n2,2024-01-01,1960-05-01\n")
    run = project.ingest("tx", str(tmp_path / "in.csv"))
    assert (run.accepted, run.quarantined) == (1, 1)
    assert project.quarantine("tx").column("reason").to_pylist() == [
        f"type:day: '{value}' is not a valid date"]


def test_time_range_bounds_may_be_datetimes_and_zoned_strings() -> None:
    from datetime import date

    schema = {"ts": "timestamp"}
    source = Source("s", schema, "ts", time_range=(date(1990, 1, 1),
                                                   datetime(2100, 1, 1, tzinfo=UTC)))
    assert source.time_range == (datetime(1990, 1, 1, tzinfo=UTC),
                                 datetime(2100, 1, 1, tzinfo=UTC))
    zoned = Source("s", schema, "ts", time_range=("1990-01-01T01:00:00+01:00", "2100-01-01"))
    assert zoned.time_range[0] == datetime(1990, 1, 1, tzinfo=UTC)
