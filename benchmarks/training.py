"""Point-in-time training sets for a large spine, against a raw DuckDB ASOF join.

The spine: N random (customer, terminal, time) rows over the data's period. Features:
the handbook's 12 customer and terminal window features (benchmarks/features.py).

- confluens: `training_set` for both views (the path `project.training_set` takes,
  reading the events' Parquet file), exact at each spine time.
- duckdb-asof: precompute per-event features once (not timed), then one ASOF JOIN per
  view: the speed bar; it returns the last event's values, which is not the window at
  the spine's time (a 1-day count two days after the last event stays > 0).

Each run is a child process, so its peak memory (max RSS) is its own; each figure is
the median of three runs.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.harness import Figure

__all__ = ["run"]


def make_inputs(shared: Path | None, folder: Path, rows: int) -> tuple[Path, Path]:
    from benchmarks.features import _events

    events, _ = _events(shared)
    events_path = folder / "events.parquet"
    pq.write_table(events, events_path)
    rng = np.random.default_rng(0)
    pick = rng.integers(0, events.num_rows, rows)
    t = events.column("tx_datetime").cast(pa.int64()).to_numpy()
    lo, hi = int(t.min()), int(t.max())
    spine = pa.table({
        "customer_id": events.column("customer_id").take(pick),
        "terminal_id": events.column("terminal_id").take(pick),
        "__at": pa.array(rng.integers(lo, hi, rows), pa.int64()).cast(
            pa.timestamp("us", tz="UTC")),
        "__point": pa.array(np.arange(rows), pa.int64()),
    })
    spine_path = folder / f"spine_{rows}.parquet"
    pq.write_table(spine, spine_path)
    return events_path, spine_path


def child(kind: str, events_path: str, spine_path: str) -> None:
    """Runs in a child process: one implementation, prints its seconds."""
    import duckdb

    from benchmarks.features import VIEWS
    from confluens.plan import event_features, plan_view
    from confluens.project.training import FeatureRef, training_set

    events = pq.read_table(events_path)
    spine = pq.read_table(spine_path)
    if kind == "confluens":
        refs = [FeatureRef(view, list(view.feature_names)) for view in VIEWS]
        start = time.perf_counter()
        training_set(refs, lambda source: [events_path], spine.drop_columns(["__point"]))
    else:
        per_event = [event_features(plan_view(v), events) for v in VIEWS]
        con = duckdb.connect()
        con.register("spine", spine)
        for i, table in enumerate(per_event):
            con.register(f"f{i}", table)
        start = time.perf_counter()
        for i, view in enumerate(VIEWS):
            key = view.entity.keys[0]
            con.sql(f"SELECT s.__point, f.* FROM spine s ASOF LEFT JOIN f{i} f "  # baseline
                    f"ON s.{key} = f.{key} AND s.__at >= f.tx_datetime").to_arrow_table()
    print(time.perf_counter() - start)


def measure(kind: str, events: Path, spine: Path, repeat: int = 3) -> tuple[float, float]:
    """Median seconds and the largest peak memory (GiB) of ``repeat`` child runs."""
    seconds, peaks = [], []
    for _ in range(repeat):
        proc = subprocess.Popen([sys.executable, "-m", "benchmarks.training", kind,
                                 str(events), str(spine)], stdout=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        assert proc.stdout is not None
        output = proc.stdout.read()
        if status != 0:
            raise RuntimeError(f"{kind} failed")
        seconds.append(float(output.strip().splitlines()[-1]))
        peaks.append(usage.ru_maxrss / 1024 / 1024)
    return statistics.median(seconds), max(peaks)


def run(shared: Path | None) -> tuple[str, list[Figure]]:
    rows = int(os.environ.get("CONFLUENS_BENCH_SPINE", "1000000"))
    with tempfile.TemporaryDirectory() as tmp:
        events, spine = make_inputs(shared, Path(tmp), rows)
        figures = []
        for kind, name in (("confluens", "confluens training set (exact)"),
                           ("asof", "duckdb-asof (last event, inexact)")):
            seconds, peak = measure(kind, events, spine)
            figures.append(Figure("training", f"{name}, peak {peak:.2f} GiB", seconds, rows,
                                  None if kind == "asof" else
                                  "duckdb-asof (last event, inexact), peak"))
    # match the baseline by prefix (its name carries its own peak)
    base = next(f for f in figures if f.name.startswith("duckdb-asof"))
    figures[0] = Figure(figures[0].group, figures[0].name, figures[0].seconds, rows, base.name)
    return f"{rows:,}-row spine, 12 features", figures


if __name__ == "__main__":
    child(*sys.argv[1:4])
