"""`confluens spine`: a spine file from a source's stored records."""

from __future__ import annotations

import click

from confluens.interfaces.cli.context import (
    PathText,
    escape,
    open_project,
    out,
    project_option,
    reports_errors,
)

__all__ = ["spine"]


@click.command()
@click.argument("source")
@click.option("--out", "-o", "out_path", required=True, type=PathText(),
              help="Where to write it: Parquet, or CSV if it ends in .csv.")
@click.option("--last", help="The last span of the data, e.g. 7d (ending at the latest "
              "stored event).")
@click.option("--start", "start_text", help="Events from this ISO instant on (with a zone).")
@click.option("--end", "end_text", help="... up to this ISO instant (excluded).")
@click.option("--where", "-w", help="Filter, e.g. \"tx_amount > 100\".")
@click.option("--columns", "-c", help="Comma-separated columns to keep (default: all; the "
              "event time is always kept).")
@project_option
@reports_errors
def spine(source: str, out_path: str, last: str | None, start_text: str | None,
          end_text: str | None, where: str | None, columns: str | None,
          project_dir: str) -> None:
    """Write a spine: SOURCE's records of a period, for `confluens training-set`.

    Each row (entity keys, the event time, the other columns) asks for the features
    as of that event. Without --last or --start/--end, every stored record is taken.
    A relative --out starts at the project folder.
    """
    from confluens.interfaces.cli.features import _instant
    from confluens.project.output import write_table

    start, end = _instant(start_text, "--start"), _instant(end_text, "--end")
    cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    with open_project(project_dir) as project:
        table = project.spine(source, last=last, start=start, end=end, where=where,
                              columns=cols)
        written = write_table(table, project.path(out_path))
    out.print(f"wrote {table.num_rows:,} rows of {escape(source)} "
              f"({', '.join(map(escape, table.column_names))}) to {escape(str(written))}")
