"""`confluens generate`: synthetic data for the reference applications."""

from __future__ import annotations

import click

from confluens.datagen import FraudSimulation, write_fraud_dataset
from confluens.interfaces.cli.context import err, out, reports_errors

__all__ = ["generate"]


@click.group()
def generate() -> None:
    """Write seeded synthetic datasets (no download needed)."""


@generate.command()
@click.argument("out_dir", type=click.Path(file_okay=False), default="data")
@click.option("--customers", default=5000, show_default=True, type=click.IntRange(min=1))
@click.option("--terminals", default=10000, show_default=True, type=click.IntRange(min=1))
@click.option("--days", default=183, show_default=True, type=click.IntRange(min=1))
@click.option("--start", default="2018-04-01", show_default=True, help="First day (ISO date).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@reports_errors
def fraud(out_dir: str, customers: int, terminals: int, days: int, start: str,
          seed: int) -> None:
    """Card transactions and late fraud labels, after the Fraud Detection Handbook's simulator.

    Writes OUT_DIR/transactions/transactions.parquet and OUT_DIR/labels/labels.parquet.
    """
    sim = FraudSimulation(n_customers=customers, n_terminals=terminals, n_days=days,
                          start=start, seed=seed)
    with err.status(f"simulating {days} days of {customers:,} customers"):
        counts = write_fraud_dataset(out_dir, sim)
    out.print(f"wrote {counts['transactions']:,} transactions and {counts['labels']:,} labels "
              f"to {out_dir}/")
