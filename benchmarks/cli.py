"""CLI start-up: `confluens --help` and `--version` against a bare `python -c pass`.

The three commands run interleaved, one after another, in the same loop, so that
a busy machine slows them alike; each figure is the median wall time (ms) of its
runs. The target is `confluens --help` within 10× bare Python.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.harness import Figure

__all__ = ["run"]

REPEAT = 15


def _confluens() -> list[str]:
    """The installed `confluens` script next to this Python, else the module."""
    script = Path(sys.executable).with_name("confluens")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "confluens.interfaces.cli.main"]


def run(shared: Path | None) -> tuple[str, list[Figure]]:
    commands = {"python -c pass (ms)": [sys.executable, "-c", "pass"],
                "confluens --help (ms)": [*_confluens(), "--help"],
                "confluens --version (ms)": [*_confluens(), "--version"]}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(REPEAT):
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            times[name].append((time.perf_counter() - start) * 1000)
    base = "python -c pass (ms)"
    return f"start-up, median of {REPEAT} interleaved runs", [
        Figure("cli", name, statistics.median(values), 1, None if name == base else base)
        for name, values in times.items()]
