"""The fraud simulator: rows per second for the default six-month simulation."""

from __future__ import annotations

from pathlib import Path

from benchmarks.harness import Figure, median_seconds
from confluens.datagen import FraudSimulation, generate_transactions

__all__ = ["run"]


def run(shared: Path | None) -> tuple[str, list[Figure]]:
    sim = FraudSimulation()
    rows = generate_transactions(sim).num_rows
    seconds = median_seconds(lambda: generate_transactions(sim))
    return "FraudSimulation() defaults", [Figure("datagen", "generate_transactions", seconds,
                                                 rows)]
