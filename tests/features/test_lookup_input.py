"""The lookup engine's input read straight from stored files (read_lookup_input) holds
what DuckDB's input query gives, and steps aside where the view needs the query."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from confluens.core import Count, Entity, FeatureView, Mean, Source, Sum
from confluens.duckdb_session import connect
from confluens.plan import event_features, plan_view
from confluens.plan.lookup import lookup_input
from confluens.plan.lookup_input import read_lookup_input

SOURCE = Source("ev", {"id": "int64", "ts": "timestamp", "k": "string", "v": "float64",
                       "n": "int64"}, "ts", id="id")
ENTITY = Entity("k", ["k"])
VIEW = FeatureView("v", ENTITY, SOURCE, [Count(window="3s"), Mean("v", window="4s"),
                                         Sum("n", window="2s", delay="1s")])
STAMP = pa.timestamp("us", tz="UTC")


def _events(first: int, rows: int) -> pa.Table:
    return pa.table({
        "id": pa.array(range(first, first + rows), pa.int64()),
        "ts": pa.array([datetime(2024, 1, 1, 0, 0, (7 * i) % 13, tzinfo=UTC)
                        for i in range(first, first + rows)], STAMP),
        "k": ["ab"[i % 2] if i % 5 else None for i in range(first, first + rows)],
        "v": pa.array([None if i % 4 == 0 else i / 3 for i in range(first, first + rows)],
                      pa.float64()),
        "n": pa.array(range(first, first + rows), pa.int64())})


def _store(tmp_path: Path, *tables: pa.Table) -> list[str]:
    paths = []
    for i, table in enumerate(tables):
        path = tmp_path / f"event_date=2024-01-0{i + 1}" / "part.parquet"
        path.parent.mkdir()
        pq.write_table(table, path)
        paths.append(str(path))
    return paths


def test_the_direct_read_holds_the_input_querys_rows(tmp_path: Path) -> None:
    files = _store(tmp_path, _events(0, 9), _events(9, 7))
    plan = plan_view(VIEW)
    direct = read_lookup_input(plan, files)
    assert direct is not None
    con = connect()
    try:
        con.register("events", con.read_parquet(files, union_by_name=True))
        queried = lookup_input(plan, con)
    finally:
        con.close()
    assert direct.schema == queried.schema
    assert direct.sort_by("__tie").equals(queried.sort_by("__tie"))


def test_views_with_expressions_or_columns_the_first_file_lacks_take_the_query(
        tmp_path: Path) -> None:
    files = _store(tmp_path, _events(0, 4).drop_columns(["n"]), _events(4, 4))
    assert read_lookup_input(plan_view(VIEW), files) is None
    derived = FeatureView("d", ENTITY, SOURCE, [Sum("w", window="3s")],
                          derive={"w": "v * 2"})
    filtered = FeatureView("f", ENTITY, SOURCE, [Count(window="3s", where="v > 1", name="big")])
    for view in (derived, filtered):
        assert read_lookup_input(plan_view(view), files[1:]) is None


def test_features_from_stored_files_equal_the_window_compilers(tmp_path: Path) -> None:
    files = _store(tmp_path, _events(0, 9), _events(9, 7))
    plan = plan_view(VIEW)
    fast = event_features(plan, files).sort_by("__tie")
    exact = event_features(plan, files, engine="window").sort_by("__tie")
    assert fast.schema == exact.schema
    for name in fast.column_names:
        got, want = fast.column(name).to_pylist(), exact.column(name).to_pylist()
        assert all(a == b or abs(a - b) < 1e-12 for a, b in zip(got, want, strict=True)), name
