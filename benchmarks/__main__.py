"""Run every benchmark and print each figure with its ratio to its baseline (same run)."""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks import cli, datagen, features, ingest, materialize, online, snapshot, training

SUITES = {"ingest": ingest.run, "features": features.run, "training": training.run,
          "materialize": materialize.run, "online": online.run, "datagen": datagen.run,
          "snapshot": snapshot.run, "cli": cli.run}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("suites", nargs="*", metavar="SUITE",
                        help=f"which to run: {', '.join(SUITES)} (default: all)")
    parser.add_argument("--shared", default=os.environ.get(
        "CONFLUENS_SHARED_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data")))
    args = parser.parse_args()
    unknown = set(args.suites) - set(SUITES)
    if unknown:
        parser.error(f"unknown suite {sorted(unknown)}; choose from {list(SUITES)}")
    shared = Path(args.shared) if Path(args.shared).exists() else None
    console = Console()
    console.print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, "
                  f"python {platform.python_version()}")
    for name in args.suites or list(SUITES):
        label, figures = SUITES[name](shared)
        by_name = {f.name: f for f in figures}
        table = Table(title=f"{name}: {label}", title_justify="left")
        unit = "µs" if any("µs" in f.name for f in figures) else (
            "ms" if any("(ms)" in f.name for f in figures) else "")
        micro = bool(unit)
        for column in ("figure", unit or "seconds",
                       "" if micro else "rows/s", "vs baseline"):
            table.add_column(column, justify="left" if column == "figure" else "right")
        for f in figures:
            ratio = ""
            if f.baseline and f.baseline in by_name:
                ratio = f"{f.seconds / by_name[f.baseline].seconds:.2f}× {f.baseline}"
            rate = "" if micro else f"{f.rows / f.seconds:,.0f}"
            table.add_row(f.name, f"{f.seconds:.2f}" if not micro else f"{f.seconds:.0f}",
                          rate, ratio)
        console.print(table)


if __name__ == "__main__":
    main()
