"""Run every benchmark and print each figure with its ratio to its baseline (same run)."""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks import (
    cli,
    datagen,
    expressions,
    features,
    ingest,
    materialize,
    online,
    serving,
    snapshot,
    stream_group,
    streaming,
    training,
)
from benchmarks.harness import Figure

SUITES = {"ingest": ingest.run, "features": features.run, "training": training.run,
          "materialize": materialize.run, "online": online.run, "datagen": datagen.run,
          "snapshot": snapshot.run, "cli": cli.run, "expressions": expressions.run,
          "serving": serving.run, "stream": streaming.run, "stream-lag": streaming.run_lag,
          "stream-group": stream_group.run}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("suites", nargs="*", metavar="SUITE",
                        help=f"which to run: {', '.join(SUITES)} (default: all)")
    parser.add_argument("--shared", default=os.environ.get(
        "CONFLUENS_SHARED_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data")))
    parser.add_argument("--skip-handbook", action="store_true",
                        help="features: skip the pandas groupby-apply run (the slowest)")
    parser.add_argument("--spine-10m", action="store_true",
                        help="training: also a 10M-row spine (memory target < 3 GiB)")
    parser.add_argument("--polars-threads", type=int, metavar="N",
                        help="features: Polars' thread pool size (default: all cores; on a "
                             "loaded machine one thread can be faster)")
    args = parser.parse_args()
    if args.polars_threads:
        os.environ["POLARS_MAX_THREADS"] = str(args.polars_threads)
    if args.skip_handbook:
        os.environ["CONFLUENS_BENCH_SKIP_HANDBOOK"] = "1"
    if args.spine_10m:
        os.environ["CONFLUENS_BENCH_SPINE_10M"] = "1"
    unknown = set(args.suites) - set(SUITES)
    if unknown:
        parser.error(f"unknown suite {sorted(unknown)}; choose from {list(SUITES)}")
    shared = Path(args.shared) if Path(args.shared).exists() else None
    console = Console(width=max(Console().width, 160))
    console.print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, "
                  f"python {platform.python_version()}")
    for name in args.suites or list(SUITES):
        label, figures = SUITES[name](shared)
        by_name = {f.name: f for f in figures}
        table = Table(title=f"{name}: {label}", title_justify="left")
        unit = "µs" if any("µs" in f.name for f in figures) else (
            "ms" if any("(ms)" in f.name for f in figures) else "")
        micro = bool(unit)
        checked = any(f.targets or f.max_gib for f in figures)
        for column in ("figure", unit or "seconds", "" if micro else "rows/s",
                       "vs baselines", *(("targets",) if checked else ())):
            table.add_column(column, justify="left" if column == "figure" else "right")
        for f in figures:
            ratios = "\n".join(f"{f.seconds / by_name[b].seconds:.2f}× {b}"
                                for b in f.baselines if b in by_name)
            rate = "" if micro else f"{f.rows / f.seconds:,.0f}"
            row = [f.name + (f"\n  {f.note}" if f.note else ""),
                   f"{f.seconds:.2f}" if not micro else f"{f.seconds:.0f}", rate, ratios]
            if checked:
                row.append(_targets(f, by_name))
            table.add_row(*row)
        console.print(table)


def _targets(f: Figure, by_name: dict[str, Figure]) -> str:
    """Each target of ``f`` with its measured value: ok, or MISSED."""
    lines = []
    for base, limit in f.targets:
        if base in by_name:
            ratio = f.seconds / by_name[base].seconds
            lines.append(f"≤{limit:.1f}× {base.split(' (')[0]}: "
                         f"{'ok' if ratio <= limit else 'MISSED'} ({ratio:.2f}×)")
    if f.max_gib is not None and f.peak_gib is not None:
        lines.append(f"<{f.max_gib:.0f} GiB: {'ok' if f.peak_gib < f.max_gib else 'MISSED'} "
                     f"({f.peak_gib:.2f} GiB)")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
