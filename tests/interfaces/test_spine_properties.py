"""`confluens spine` (project/spine.py) against a brute-force reference on random data:
`--last D` keeps the events in (t_max - D, t_max], `--start/--end` those in
[start, end), `--where` filters like show, and rows come in event-time order."""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from confluens import Source
from confluens.project.spine import build_spine

SOURCE = Source("s", schema={"k": "string", "t": "timestamp", "v": "int64"}, event_time="t")
BASE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)

ROWS = st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 20 * 86_400),
                          st.integers(-5, 5)), max_size=40)
BOUND = st.one_of(st.none(), st.integers(-86_400, 21 * 86_400))


def stored(rows: list[tuple[str, int, int]], folder: Path) -> list[str]:
    """The rows as two Parquet files (a source's partitions), times in UTC."""
    table = pa.table({"k": [r[0] for r in rows],
                      "t": pa.array([BASE + r[1] * SECOND for r in rows],
                                    pa.timestamp("us", tz="UTC")),
                      "v": pa.array([r[2] for r in rows], pa.int64())})
    half = len(rows) // 2
    files = []
    for i, part in enumerate((table.slice(0, half), table.slice(half))):
        path = folder / f"part-{i}.parquet"
        pq.write_table(part, path)
        files.append(str(path))
    return files


def as_rows(table: pa.Table) -> list[tuple[str, dt.datetime, int]]:
    return list(zip(*(table.column(c).to_pylist() for c in ("k", "t", "v")), strict=True))


def reference(rows: list[tuple[str, int, int]], keep: object) -> list[tuple[str, dt.datetime,
                                                                             int]]:
    return sorted(((k, BASE + s * SECOND, v) for k, s, v in rows if keep(s, v)),  # type: ignore[operator]
                  key=lambda r: (r[1], r[0], r[2]))


def in_time_order(table: pa.Table) -> bool:
    times = table.column("t").to_pylist()
    return all(a <= b for a, b in itertools.pairwise(times))


@settings(max_examples=60, deadline=None)
@given(rows=ROWS, days=st.integers(1, 25), positive=st.booleans())  # 0d is refused
def test_last(rows: list[tuple[str, int, int]], days: int, positive: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        spine = build_spine(SOURCE, stored(rows, Path(folder)), last=f"{days}d",
                            where="v > 0" if positive else None)
    latest = max((s for _, s, _ in rows), default=0)
    expected = reference(rows, lambda s, v: latest - days * 86_400 < s <= latest
                         and (v > 0 or not positive))
    assert sorted(as_rows(spine), key=lambda r: (r[1], r[0], r[2])) == expected
    assert in_time_order(spine)


@settings(max_examples=60, deadline=None)
@given(rows=ROWS, start=BOUND, end=BOUND)
def test_start_end(rows: list[tuple[str, int, int]], start: int | None,
                   end: int | None) -> None:
    if start is not None and end is not None and end <= start:
        start, end = end, start + 1
    with tempfile.TemporaryDirectory() as folder:
        spine = build_spine(SOURCE, stored(rows, Path(folder)),
                            start=None if start is None else BASE + start * SECOND,
                            end=None if end is None else BASE + end * SECOND)
    expected = reference(rows, lambda s, _: (start is None or start <= s)
                         and (end is None or s < end))
    assert sorted(as_rows(spine), key=lambda r: (r[1], r[0], r[2])) == expected
    assert in_time_order(spine)
    assert spine.column_names == ["k", "t", "v"]
