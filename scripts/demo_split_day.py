"""Move the last day of a transactions (or labels) file into another file: the demo's
live day.

Usage: python scripts/demo_split_day.py ALL.parquet LIVE.parquet
ALL keeps every record whose tx_datetime is before the last UTC day; LIVE gets that
day's, which the demo then replays through the stream.
"""

from __future__ import annotations

import datetime as dt
import sys

import pyarrow.compute as pc
import pyarrow.parquet as pq


def main(all_path: str, live_path: str) -> None:
    table = pq.read_table(all_path)
    times = table["tx_datetime"]
    last = pc.max(times).as_py()
    cut = dt.datetime.combine(last.date(), dt.time(), tzinfo=dt.UTC)
    live = pc.greater_equal(times, pc.cast(cut, times.type))  # type: ignore[arg-type]
    pq.write_table(table.filter(live), live_path)
    pq.write_table(table.filter(pc.invert(live)), all_path)
    print(f"kept {pc.sum(live).as_py():,} records of {cut.date()} for the live replay")


if __name__ == "__main__":
    main(*sys.argv[1:3])
