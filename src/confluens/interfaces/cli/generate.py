"""`confluens generate`: synthetic data for the reference applications."""

from __future__ import annotations

import datetime as dt

import click

from confluens.errors import InputError
from confluens.interfaces.cli.context import PathText, err, escape, out, reports_errors

__all__ = ["generate", "simulated_days"]


@click.group()
def generate() -> None:
    """Write seeded synthetic datasets (no download needed)."""


def simulated_days(days: int, start: str | None, end: str | None,
                   today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and the last simulated day: ``days`` days from ``start``, or ending the
    day before ``end`` (default: ``today``, so that the data ends where "now" begins).

    >>> simulated_days(30, None, None, dt.date(2024, 1, 31))
    (datetime.date(2024, 1, 1), datetime.date(2024, 1, 30))
    >>> simulated_days(2, "2018-04-01", None, dt.date(2024, 1, 31))
    (datetime.date(2018, 4, 1), datetime.date(2018, 4, 2))
    """
    if start is not None and end is not None:
        raise InputError("--start", "cannot be combined with --end", got=f"{start}, {end}",
                         fix="give one of them: --days counts from --start or up to --end")
    try:
        if start is not None:
            first = dt.date.fromisoformat(start)
        else:
            last_excluded = today if end is None else dt.date.fromisoformat(end)
            first = last_excluded - dt.timedelta(days=days)
    except ValueError:
        raise InputError("--start" if start is not None else "--end",
                         "must be an ISO date (YYYY-MM-DD)", got=start or end,
                         fix="write e.g. 2024-01-31") from None
    except OverflowError:
        raise InputError("--days", "reaches before year 1", got=days,
                         fix="ask for fewer days or a later --end") from None
    try:
        return first, first + dt.timedelta(days=days - 1)
    except OverflowError:
        raise InputError("--days", "reaches past year 9999", got=days,
                         fix="ask for fewer days or an earlier --start") from None


@generate.command()
@click.argument("out_dir", type=PathText(), default="data")
@click.option("--customers", default=5000, show_default=True, type=click.IntRange(min=1))
@click.option("--terminals", default=10000, show_default=True, type=click.IntRange(min=1))
@click.option("--days", default=183, show_default=True, type=click.IntRange(min=1))
@click.option("--end", help="The day after the last simulated one (ISO date; default: "
              "today, so the data ends where now begins).")
@click.option("--start", help="Or: the first simulated day (ISO date).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@reports_errors
def fraud(out_dir: str, customers: int, terminals: int, days: int, end: str | None,
          start: str | None, seed: int) -> None:
    """Card transactions and late fraud labels, after the Fraud Detection Handbook's simulator.

    Writes OUT_DIR/transactions/transactions.parquet, OUT_DIR/labels/labels.parquet and
    OUT_DIR/late_batch.csv (eleven late records with typical mistakes, on the last
    day). By default the last simulated day is yesterday (UTC). OUT_DIR is relative
    to the current folder.
    """
    from pathlib import Path

    from confluens.datagen import (
        LATE_BATCH_FILE,
        FraudSimulation,
        write_fraud_dataset,
        write_late_batch,
    )

    first, last = simulated_days(days, start, end, dt.datetime.now(dt.UTC).date())
    sim = FraudSimulation(n_customers=customers, n_terminals=terminals, n_days=days,
                          start=first.isoformat(), seed=seed)
    with err.status(f"simulating {days} days of {customers:,} customers"):
        counts = write_fraud_dataset(out_dir, sim)
        write_late_batch(Path(out_dir) / LATE_BATCH_FILE, last)
    out.print(f"wrote {counts['transactions']:,} transactions and {counts['labels']:,} labels "
              f"from {first} to {last} (UTC), and {LATE_BATCH_FILE}, to "
              f"{escape(out_dir)}/")
