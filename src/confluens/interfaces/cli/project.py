"""Commands on a project folder: `init`, `apply`, `ingest`, `show`, `runs`."""

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
from confluens.project.scaffold import TEMPLATES

__all__ = ["apply", "ingest", "init", "runs", "show"]


@click.command()
@click.argument("directory", type=PathText())
@click.option("--template", "-t", type=click.Choice(TEMPLATES), default="fraud",
              show_default=True, help="Which reference application to start from.")
@click.option("--force", is_flag=True, help="Overwrite the template's files if present.")
@reports_errors
def init(directory: str, template: str, force: bool) -> None:
    """Create a project folder DIRECTORY from a template."""
    from confluens.project import init_project

    path = escape(str(init_project(directory, template=template, force=force)))
    out.print(f"created project [bold]{path}[/] from template '{template}'")
    first = "confluens generate fraud data --days 30 && " if template == "fraud" else ""
    out.print(f"next: cd {path} && {first}confluens apply")


@click.command()
@project_option
@click.option("--dry-run", is_flag=True, help="Show what would change; register nothing.")
@reports_errors
def apply(project_dir: str, dry_run: bool) -> None:
    """Validate the definitions and register them; print what changed since the last apply."""
    from confluens.interfaces.cli.render import diff_lines

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


@click.command()
@click.argument("source")
@click.argument("input", required=False, metavar="[PATH|GLOB|URI]", type=PathText())
@click.option("--query", "-q", help="SQL to run when INPUT is a database URI.")
@project_option
@reports_errors
def ingest(source: str, input: str | None, query: str | None,
           project_dir: str) -> None:
    """Ingest records into SOURCE from a file, a glob, or a database query.

    Without INPUT, reads the source's batch location. CSV, Parquet and JSON lines
    files are read; a database URI (postgresql://...) needs --query. Records that
    break a rule go to quarantine; records already stored are counted as duplicates.
    A relative PATH or GLOB starts at the project folder.
    """
    from confluens.interfaces.cli.progress import ingest_progress
    from confluens.interfaces.cli.render import run_summary

    with open_project(project_dir) as project:
        chunks = project.chunk_count(source, input)
        with ingest_progress(f"ingest {escape(source)}", chunks) as progress:
            run = project.ingest(source, input, query=query, progress=progress)
        out.print(f"read {escape(run.input)} (run {escape(run.run_id)})")
        out.print(run_summary(run))
        if run.quarantined:
            out.print(f"see them with: confluens quarantine list {escape(source)}")


@click.command()
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
    from confluens.interfaces.cli.render import arrow_table

    with open_project(project_dir) as project:
        cols = [c.strip() for c in columns.split(",")] if columns else None
        data = project.table(source, columns=cols, where=where, limit=limit,
                             system_columns=system)
        if where:
            title = f"{source}: {data.num_rows:,} of {project.count(source, where=where):,} " \
                    f"matching records ({project.count(source):,} stored)"
        else:
            title = f"{source}: {data.num_rows:,} of {project.count(source):,} records"
        out.print(arrow_table(data, title=title))


@click.command()
@click.argument("source", required=False)
@project_option
@reports_errors
def runs(source: str | None, project_dir: str) -> None:
    """List ingest runs, with their ids and counts.

    The run id is the one `ingest` prints; it begins with the run's start time
    (UTC), e.g. 20240131T120000-1c3e2a40. A run whose process died (killed, a crash)
    shows as `interrupted`, with the counts it committed; the reason a run failed or
    was interrupted is printed below the table.
    """
    import pyarrow as pa

    from confluens.interfaces.cli.render import arrow_rows

    with open_project(project_dir) as project:
        history = project.runs(source)
        rows = [{"run": r.run_id, "source": r.source, "input": r.input, "status": r.status,
                 "in": r.rows_in, "accepted": r.accepted, "quarantined": r.quarantined,
                 "duplicates": r.duplicates} for r in history]
        if not rows:
            if source is not None:  # a removed source's runs are still listed above
                project.definitions.source(source)
            out.print("no ingest runs yet")
            return
        out.print(arrow_rows(pa.Table.from_pylist(rows), out.width, title="ingest runs",
                             whole=("run",)))
        for run in history:
            if run.error:  # said once: "interrupted: process ..." names its status
                said = "" if run.error.startswith(f"{run.status}:") else f" {run.status}:"
                out.print(f"run {escape(run.run_id)}{escape(said)} {escape(run.error)}",
                          soft_wrap=True)
