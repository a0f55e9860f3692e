"""`confluens training-set`: point-in-time training sets from the command line."""

from __future__ import annotations

from datetime import datetime

import click
import pyarrow.parquet as pq

from confluens.errors import InputError
from confluens.interfaces.cli.context import err, open_project, out, project_option, reports_errors
from confluens.interfaces.cli.render import arrow_table

__all__ = ["training_set"]


def _instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError("--as-of", "must be an ISO timestamp", got=value,
                         fix="write e.g. 2024-01-31T00:00:00+00:00") from None
    return parsed


@click.command("training-set")
@click.option("--spine", required=True, type=click.Path(dir_okay=False),
              help="Parquet or CSV file: entity keys, a timestamp, any labels.")
@click.option("--features", "-f", required=True, multiple=True,
              help="'view:feature' or 'view' (all its features); repeat or comma-separate.")
@click.option("--out", "-o", "out_path", required=True, type=click.Path(dir_okay=False),
              help="Where to write the training set (Parquet).")
@click.option("--at", help="The spine's timestamp column (if it has several).")
@click.option("--timezone", help="Read a spine's zone-less timestamps in this IANA zone.")
@click.option("--as-of", help="Ignore records ingested after this ISO instant.")
@project_option
@reports_errors
def training_set(spine: str, features: tuple[str, ...], out_path: str, at: str | None,
                 timezone: str | None, as_of: str | None, project_dir: str) -> None:
    """Join features to a spine, each value as of its row's timestamp (no leakage)."""
    names = [name.strip() for item in features for name in item.split(",") if name.strip()]
    with open_project(project_dir) as project, err.status("building the training set"):
        table = project.training_set(spine, names, at=at, timezone=timezone,
                                     as_of=_instant(as_of))
        pq.write_table(table, out_path)
    out.print(f"wrote {table.num_rows:,} rows × {table.num_columns} columns to {out_path}")
    out.print(arrow_table(table.slice(0, 5), title="first rows"))
