"""A small append is partitioned and written by pyarrow, a large one by DuckDB: both
must give the same partitions, rows and types (tz-aware or naive timestamps, times
before 1970 and at midnight, nulls, NaN, text, lists of text), read back by pyarrow
and by DuckDB."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confluens.stores.offline import parquet

DAY = 86_400_000_000
ROWS = st.lists(st.tuples(
    st.one_of(st.integers(-3 * DAY, 3 * DAY), st.sampled_from([-DAY, -1, 0, DAY - 1, DAY])),
    st.one_of(st.none(), st.text(max_size=5)),
    st.one_of(st.none(), st.floats(allow_nan=True)),
    st.one_of(st.none(), st.booleans()),
    st.one_of(st.none(), st.lists(st.one_of(st.none(), st.text(max_size=3)), max_size=3))),
    min_size=1, max_size=40)


def _by_partition(written: list[tuple[Path, int]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path, rows in written:
        table = pq.read_table(path)
        assert table.num_rows == rows
        out.setdefault(path.parent.name, []).extend(str(r) for r in table.to_pylist())
    return {k: sorted(v) for k, v in out.items()}


def _duckdb_types(path: Path) -> list[tuple[str, str]]:
    rows = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
    return [(r[0], r[1]) for r in rows]


@settings(max_examples=60, deadline=None)
@given(rows=ROWS, tz=st.sampled_from([None, "UTC", "Etc/UTC"]))
def test_small_and_large_appends_write_the_same_files(rows, tz, tmp_path_factory) -> None:
    table = pa.table({
        "ts": pa.array([r[0] for r in rows], pa.timestamp("us", tz=tz)),
        "i": list(range(len(rows))), "s": [r[1] for r in rows], "f": [r[2] for r in rows],
        "b": pa.array([r[3] for r in rows], pa.bool_()),
        "d": pa.array([dt.date(2020, 1, 1)] * len(rows), pa.date32()),
        "l": pa.array([r[4] for r in rows], pa.list_(pa.string()))})
    folder = tmp_path_factory.mktemp("appends")
    assert parquet._utc_days(table.column("ts")) is not None  # the pyarrow path
    small = parquet._write_partitioned(table, "ts", folder / "small", "r")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parquet, "SMALL", -1)  # every append through DuckDB
        large = parquet._write_partitioned(table, "ts", folder / "large", "r")
    assert _by_partition(small) == _by_partition(large)
    for (a, _), (b, _) in zip(small, large, strict=True):
        assert pq.read_table(a).schema == pq.read_table(b).schema.remove_metadata()
        assert _duckdb_types(a) == _duckdb_types(b)


def test_other_types_go_through_duckdb() -> None:
    seconds = pa.chunked_array([pa.array([0], pa.timestamp("s"))])
    assert parquet._utc_days(seconds) is not None
    assert not parquet._plain(pa.timestamp("s"))
    assert not parquet._plain(pa.timestamp("us", tz="Europe/Paris"))
    assert parquet._plain(pa.list_(pa.string()))  # the prediction log's "missing"
    assert not parquet._plain(pa.list_(pa.list_(pa.string())))
    assert not parquet._plain(pa.list_(pa.timestamp("s")))
    nulls = pa.chunked_array([pa.array([None, 0], pa.timestamp("us"))])
    assert parquet._utc_days(nulls) is None
