"""`confluens compact`: merge the small files streaming and the prediction log leave."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from confluens.interfaces.cli.context import err, open_project, out, project_option, reports_errors

__all__ = ["compact"]


@click.command()
@click.argument("sources", nargs=-1)
@click.option("--predictions/--no-predictions", default=True, show_default=True,
              help="Also compact every model's prediction log.")
@click.option("--max-rows", default=2_000_000, show_default=True,
              type=click.IntRange(1_000, None), help="Rows per merged file at most.")
@project_option
@reports_errors
def compact(sources: tuple[str, ...], predictions: bool, max_rows: int,
            project_dir: str) -> None:
    """Merge the small files of SOURCES' stored records (all sources by default) and
    of the prediction logs, per event date.

    A stream processor appends a file per batch, and the prediction log one per flush;
    compacting keeps reads fast and appends cheap. It is safe while `confluens stream`
    and `confluens serve` run (their appends wait a moment), and changes no counts: a
    materialize afterwards has nothing to redo. Run it now and then (e.g. hourly).
    """
    with open_project(project_dir) as project, err.status("compacting") as status:
        results = project.compact(sources, predictions=predictions, max_rows=max_rows,
                                  progress=lambda what: status.update(
                                      f"compacting {escape(what)}"))
    table = Table(title="compaction", title_justify="left")
    for column in ("table", "files merged", "into", "rows"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for r in results:
        name = escape(r.table if r.kind == "source" else f"{r.table} (prediction log)")
        table.add_row(name, f"{r.result.files_before:,}", f"{r.result.files_after:,}",
                      f"{r.result.rows:,}")
    out.print(table)
    merged = sum(r.result.files_before for r in results)
    out.print(f"{merged:,} files merged into {sum(r.result.files_after for r in results):,}"
              if merged else "nothing to merge: every table's files are already few")
