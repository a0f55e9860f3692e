"""Features on the command line: `training-set`, `materialize`, `features get`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click
import pyarrow as pa
import pyarrow.parquet as pq
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from confluens.errors import InputError
from confluens.interfaces.cli.context import err, open_project, out, project_option, reports_errors
from confluens.interfaces.cli.render import arrow_table

__all__ = ["features", "materialize", "training_set"]


@contextmanager
def progress_bar(description: str, total: int) -> Iterator[Callable[[], None]]:
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda: bar.advance(task)


def column_summary(table: pa.Table) -> pa.Table:
    """Per column: its type, how many values are null, and the mean of numeric ones."""
    import pyarrow.compute as pc

    rows = []
    for field, column in zip(table.schema, table.columns, strict=True):
        numeric = pa.types.is_integer(field.type) or pa.types.is_floating(field.type)
        mean = pc.mean(column).as_py() if numeric else None
        rows.append({"column": field.name, "type": str(field.type),
                     "nulls": column.null_count,
                     "mean": None if mean is None else f"{mean:.6g}"})
    return pa.Table.from_pylist(rows)


def _instant(value: str | None, option: str = "--as-of") -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(option, "must be an ISO timestamp", got=value,
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
    out.print(arrow_table(column_summary(table), title="columns"))


@click.command()
@click.argument("views", nargs=-1)
@click.option("--start", "start_text",
              help="Rebuild feature-table rows from this ISO instant on (with a zone).")
@click.option("--end", "end_text", help="... up to this ISO instant (excluded).")
@project_option
@reports_errors
def materialize(views: tuple[str, ...], start_text: str | None, end_text: str | None,
                project_dir: str) -> None:
    """Bring VIEWS' per-event feature tables and online state up to date (all views by
    default).

    A view whose definition and source data did not change is skipped; after new
    ingests only the rows and entities they can change are recomputed. --start/--end
    rebuild the feature-table rows in that event-time range (the online state is left
    as it is).
    """
    start, end = _instant(start_text, "--start"), _instant(end_text, "--end")
    with open_project(project_dir) as project:
        total = len(views) or len(project.definitions.feature_views)
        with progress_bar("materialize", total) as advance:
            results = project.materialize(views, start=start, end=end,
                                          progress=lambda _: advance())
        for r in results:
            if r.skipped:
                out.print(f"{r.view}: up to date ({r.events:,} events)")
            elif r.mode == "range":
                out.print(f"{r.view}: rebuilt {r.recomputed:,} of {r.events:,} events")
            else:
                out.print(f"{r.view}: {r.mode}, {r.recomputed:,} of {r.events:,} events "
                          f"computed, online state for {r.entities:,} entities")


@click.group()
def features() -> None:
    """Read feature values."""


@features.command("get")
@click.argument("view")
@click.argument("keys", nargs=-1, required=True)
@click.option("--at", "at_text", help="Evaluate the windows at this ISO instant (default: now).")
@project_option
@reports_errors
def get(view: str, keys: tuple[str, ...], at_text: str | None, project_dir: str) -> None:
    """Online feature values of VIEW for entity KEYS (a value, or col=value,col2=value).

    Windows are evaluated at the time of the read, so values decay as time passes.
    """
    parsed = [dict(part.split("=", 1) for part in k.split(",")) if "=" in k else k
              for k in keys]
    with open_project(project_dir) as project:
        when = _instant(at_text, "--at")
        if when is not None and when.tzinfo is None:
            raise InputError("--at", "must carry a time zone", got=at_text,
                             fix="write e.g. 2024-01-31T00:00:00+00:00")
        values = project.online_features(view, parsed, at=when)
    names = list(values[0]) if values else []
    # one row per feature, one column per entity: readable however many features
    columns = {"feature": names}
    for key, vals in zip(keys, values, strict=True):
        columns[key] = [None if vals[n] is None else str(vals[n]) for n in names]
    out.print(arrow_table(pa.table(columns), title=f"{view} at "
                          f"{(when or datetime.now(UTC)).isoformat(timespec='seconds')}"))
    unknown = [key for key, found in zip(keys, values.found, strict=True) if not found]
    if unknown:
        from rich.markup import escape

        err.print(escape(f"note: no online state for {', '.join(unknown)} (an unknown key, not "
                         "materialized yet, or expired): its values are those of an empty "
                         "window (0 for counts and sums, null otherwise)"))
