"""`confluens`: the command group and its commands."""

from __future__ import annotations

import click

from confluens import __version__
from confluens.interfaces.cli.context import (
    open_project,
    out,
    project_option,
    reports_errors,
)
from confluens.interfaces.cli.features import features, materialize, training_set
from confluens.interfaces.cli.generate import generate
from confluens.interfaces.cli.progress import ingest_progress
from confluens.interfaces.cli.quarantine import quarantine
from confluens.interfaces.cli.render import arrow_table, diff_lines, run_summary
from confluens.project import TEMPLATES, init_project

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="confluens")
def cli() -> None:
    """confluens: sources, checks and features defined once in Python, run everywhere.

    Start with `confluens init DIR`, then `confluens apply` and `confluens ingest`.
    """


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--template", "-t", type=click.Choice(TEMPLATES), default="fraud",
              show_default=True, help="Which reference application to start from.")
@click.option("--force", is_flag=True, help="Overwrite the template's files if present.")
@reports_errors
def init(directory: str, template: str, force: bool) -> None:
    """Create a project folder DIRECTORY from a template."""
    path = init_project(directory, template=template, force=force)
    out.print(f"created project [bold]{path}[/] from template '{template}'")
    out.print(f"next: cd {path} && confluens apply")


@cli.command()
@project_option
@click.option("--dry-run", is_flag=True, help="Show what would change; register nothing.")
@reports_errors
def apply(project_dir: str, dry_run: bool) -> None:
    """Validate the definitions and register them; print what changed since the last apply."""
    with open_project(project_dir) as project:
        diff = project.plan() if dry_run else project.apply()
        if diff.empty:
            out.print("no changes: the definitions match the last apply")
            return
        for line in diff_lines(diff):
            out.print(line)
        verb = "would change" if dry_run else "applied"
        out.print(f"{verb}: {len(diff.added)} added, {len(diff.changed)} changed, "
                  f"{len(diff.removed)} removed")


@cli.command()
@click.argument("source")
@click.argument("input", required=False, metavar="[PATH|GLOB|URI]")
@click.option("--query", "-q", help="SQL to run when INPUT is a database URI.")
@project_option
@reports_errors
def ingest(source: str, input: str | None, query: str | None,
           project_dir: str) -> None:
    """Ingest records into SOURCE from a file, a glob, or a database query.

    Without INPUT, reads the source's batch location. CSV, Parquet and JSON lines
    files are read; a database URI (postgresql://...) needs --query. Records that
    break a rule go to quarantine; records already stored are counted as duplicates.
    """
    with open_project(project_dir) as project:
        with ingest_progress(f"ingest {source}", project.chunk_count(source, input)) as progress:
            run = project.ingest(source, input, query=query, progress=progress)
        out.print(f"read {run.input} (run {run.run_id})")
        out.print(run_summary(run))
        if run.quarantined:
            out.print(f"see them with: confluens quarantine list {source}")


@cli.command()
@click.argument("source")
@click.option("--where", "-w", help="Filter, e.g. \"amount > 100 AND country = 'FR'\".")
@click.option("--limit", "-n", type=click.IntRange(min=0), default=20, show_default=True)
@click.option("--columns", "-c", help="Comma-separated columns to show.")
@click.option("--system", is_flag=True, help="Also show confluens' own columns.")
@project_option
@reports_errors
def show(source: str, where: str | None, limit: int, columns: str | None, system: bool,
         project_dir: str) -> None:
    """Show stored records of SOURCE."""
    with open_project(project_dir) as project:
        cols = [c.strip() for c in columns.split(",")] if columns else None
        data = project.table(source, columns=cols, where=where, limit=limit,
                             system_columns=system)
        total = project.offline.row_count(source)
        out.print(arrow_table(data, title=f"{source}: {data.num_rows} of {total:,} records"))


@cli.command()
@click.argument("source", required=False)
@project_option
@reports_errors
def runs(source: str | None, project_dir: str) -> None:
    """List ingest runs, with their counts."""
    import pyarrow as pa

    with open_project(project_dir) as project:
        rows = [{"started": r.started_at.strftime("%Y-%m-%d %H:%M:%S"), "source": r.source,
                 "input": r.input, "status": r.status,
                 "in": r.rows_in, "accepted": r.accepted, "quarantined": r.quarantined,
                 "duplicates": r.duplicates} for r in project.runs(source)]
        if not rows:
            out.print("no ingest runs yet")
            return
        out.print(arrow_table(pa.Table.from_pylist(rows), title="ingest runs"))


cli.add_command(quarantine)
cli.add_command(generate)
cli.add_command(training_set)
cli.add_command(materialize)
cli.add_command(features)


def main() -> None:
    cli(prog_name="confluens")


if __name__ == "__main__":  # pragma: no cover
    main()

