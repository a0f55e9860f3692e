"""Point-in-time training sets for a large spine, on the user's path, against a raw
DuckDB ASOF join, interleaved in one run.

The spine: N random (customer, terminal, time) rows over the data's period (seeded,
kept under ``.bench/``). Features: the handbook's 12 customer and terminal window
features (``benchmarks/fraud_definitions.py``), from the benchmark project
(``benchmarks/project.py``).

- confluens: ``confluens.open(project).training_set(spine, ["customer", "terminal"])``:
  exact windows at each spine time, reading the events from the project's store.
- duckdb-asof: the fastest form of "the latest precomputed feature row at or before
  t": each view's per-event features precomputed (by confluens, not timed, loaded
  before the clock starts), then one query with an ASOF LEFT JOIN per view. It is
  inexact: it returns the last event's values, not the window at the spine's time (a
  1-day count two days after the last event stays > 0).

Both receive the spine as an Arrow table loaded before the clock starts. Each run is
a child process, so its peak memory (its own VmHWM, loading and imports included) is
its own; the two alternate (A B A B ...) and each figure is the median of five runs (three for 10M;
``CONFLUENS_BENCH_REPEAT`` sets the first).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.harness import Figure

__all__ = ["run"]

CONFLUENS = "confluens training_set (exact, store)"
ASOF = "duckdb ASOF join (last event, inexact)"


def make_spine(folder: Path, rows: int) -> Path:
    """A seeded random spine of ``rows`` rows, written once beside the project."""
    path = folder.parent / f"spine-{rows}.parquet"
    stamp = (folder / "bench-fingerprint.json").read_text()
    mark = path.with_suffix(".fingerprint")
    if path.exists() and mark.exists() and mark.read_text() == stamp:
        return path
    from benchmarks.project import one_file

    events = pq.read_table(one_file(folder), columns=["tx_datetime", "customer_id",
                                                       "terminal_id"])
    rng = np.random.default_rng(0)
    pick = pa.array(rng.integers(0, events.num_rows, rows))
    t = events.column("tx_datetime").cast(pa.int64()).to_numpy()
    spine = pa.table({
        "customer_id": events.column("customer_id").take(pick),
        "terminal_id": events.column("terminal_id").take(pick),
        "at": pa.array(rng.integers(int(t.min()), int(t.max()), rows), pa.int64()).cast(
            pa.timestamp("us", tz="UTC")),
    })
    pq.write_table(spine, path)
    mark.write_text(stamp)
    return path


def precomputed(folder: Path) -> list[Path]:
    """Each view's per-event features, as the ASOF join's input (built once)."""
    import confluens

    stamp = (folder / "bench-fingerprint.json").read_text()
    paths = []
    with confluens.open(folder) as project:
        for view in ("customer", "terminal"):
            path = folder.parent / f"features-{view}.parquet"
            mark = path.with_suffix(".fingerprint")
            if not (path.exists() and mark.exists() and mark.read_text() == stamp):
                pq.write_table(project.event_features(view).drop_columns(["__tie"]), path)
                mark.write_text(stamp)
            paths.append(path)
    return paths


def child(kind: str, folder: str, spine_path: str) -> None:
    """Runs in a child process: one implementation, prints its seconds."""
    import duckdb

    import confluens

    spine = pq.read_table(spine_path)
    if kind == "confluens":
        with confluens.open(folder) as project:
            start = time.perf_counter()
            out = project.training_set(spine, ["customer", "terminal"], at="at")
    else:
        customer, terminal = (pq.read_table(p) for p in precomputed(Path(folder)))
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        for name, table in (("spine", spine), ("fc", customer), ("ft", terminal)):
            con.register(name, table)
        names = [c for t in (customer, terminal) for c in t.column_names
                 if c not in ("customer_id", "terminal_id", "tx_datetime")]
        start = time.perf_counter()
        out = con.sql(  # a baseline written by hand, as a user would
            f"SELECT s.*, {', '.join(names)} FROM spine s "
            "ASOF LEFT JOIN fc c ON s.customer_id = c.customer_id AND s.at >= c.tx_datetime "
            "ASOF LEFT JOIN ft t ON s.terminal_id = t.terminal_id AND s.at >= t.tx_datetime"
        ).to_arrow_table()
    seconds = time.perf_counter() - start
    if out.num_rows != spine.num_rows or out.num_columns != spine.num_columns + 12:
        raise SystemExit(f"{kind}: {out.num_rows:,} rows x {out.num_columns} columns, "
                         f"expected {spine.num_rows:,} x {spine.num_columns + 12}")
    print(seconds, _peak_kib())


def _peak_kib() -> int:
    """This process's peak resident memory in KiB: VmHWM, the high-water mark of its
    own address space. (``ru_maxrss`` would do, but Linux carries the parent's
    high-water mark into a child across fork and exec, so a child of a large
    benchmark process would report at least the parent's peak.)"""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _once(kind: str, folder: Path, spine: Path) -> tuple[float, float]:
    """Seconds and peak memory (GiB) of one child run."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.training", kind, str(folder),
                             str(spine)], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    output = proc.stdout.read()
    if proc.wait() != 0:
        raise SystemExit(f"training benchmark: the {kind} run failed")
    seconds, peak_kib = output.strip().splitlines()[-1].split()
    return float(seconds), int(peak_kib) / 1024 / 1024


def measure(folder: Path, rows: int, max_gib: float, repeat: int) -> list[Figure]:
    spine = make_spine(folder, rows)
    runs: dict[str, list[tuple[float, float]]] = {"confluens": [], "asof": []}
    for _ in range(repeat):  # A B A B ...
        for kind in runs:
            runs[kind].append(_once(kind, folder, spine))
    label = f"{rows / 1e6:g}M-row spine"
    figures = []
    for kind, name in (("confluens", CONFLUENS), ("asof", ASOF)):
        seconds = statistics.median(s for s, _ in runs[kind])
        peak = max(p for _, p in runs[kind])
        ours = kind == "confluens"
        figures.append(Figure(
            "training", f"{name}, {label}", seconds, rows,
            f"{ASOF}, {label}" if ours else None,
            targets=((f"{ASOF}, {label}", 1.3),) if ours else (),
            peak_gib=peak, max_gib=max_gib if ours else None,
            note=f"peak {peak:.2f} GiB; median of {repeat} interleaved child runs: "
                 + ", ".join(f"{s:.2f}" for s, _ in runs[kind])))
    return figures


def run(shared: Path | None) -> tuple[str, list[Figure]]:
    from benchmarks.project import MissingData, fraud_project

    try:
        folder, label = fraud_project(shared)
    except MissingData as missing:
        return str(missing), []
    precomputed(folder)
    rows = int(os.environ.get("CONFLUENS_BENCH_SPINE", "1000000"))
    repeat = int(os.environ.get("CONFLUENS_BENCH_REPEAT", "5"))
    figures = measure(folder, rows, 2.0, repeat)
    if os.environ.get("CONFLUENS_BENCH_SPINE_10M"):
        figures += measure(folder, 10_000_000, 3.0, 3)
    return f"{label}; 12 features; spine in memory before timing", figures


if __name__ == "__main__":
    child(*sys.argv[1:4])
