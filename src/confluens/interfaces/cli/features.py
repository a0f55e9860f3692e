"""Features on the command line: `training-set`, `materialize`, `features get`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click
import pyarrow as pa
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from confluens.errors import InputError
from confluens.interfaces.cli.context import (
    PathText,
    err,
    open_project,
    out,
    project_option,
    reports_errors,
)
from confluens.interfaces.cli.context import escape as escape_markup
from confluens.interfaces.cli.render import arrow_table
from confluens.project.instants import TEXT_EXAMPLE, require_zone

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


def split_requests(items: tuple[str, ...]) -> list[str]:
    """The feature requests in ``-f`` values: each value may hold several, separated by
    commas outside square brackets (``location[origin_id,day]:temp,customer``)."""
    names: list[str] = []
    for item in items:
        depth, start = 0, 0
        for i, char in enumerate(item):
            if char == "[":
                depth += 1
            elif char == "]":
                depth = max(depth - 1, 0)
            elif char == "," and depth == 0:
                names.append(item[start:i].strip())
                start = i + 1
        names.append(item[start:].strip())  # an unclosed bracket is for the request's check
    return [name for name in names if name]


@click.command("training-set")
@click.option("--spine", required=True, type=PathText(),
              help="Parquet or CSV (*.csv) file: entity keys, a timestamp, any labels; "
              "`confluens spine` writes one.")
@click.option("--features", "-f", required=True, multiple=True,
              help="'view:feature' or 'view' (all its features); 'view[spine_col]:feature' "
              "reads the view's key from another spine column; repeat or comma-separate.")
@click.option("--full-names", is_flag=True,
              help="Name every feature column 'view__feature'.")
@click.option("--out", "-o", "out_path", required=True, type=PathText(),
              help="Where to write the training set: Parquet, or CSV if it ends in .csv "
              "(missing folders are created).")
@click.option("--at", help="The spine's timestamp column (if it has several).")
@click.option("--timezone", help="Read a spine's zone-less timestamps in this IANA zone.")
@click.option("--as-of", help="Ignore records ingested after this ISO instant.")
@project_option
@reports_errors
def training_set(spine: str, features: tuple[str, ...], full_names: bool, out_path: str,
                 at: str | None, timezone: str | None, as_of: str | None,
                 project_dir: str) -> None:
    """Join features to a spine, each value as of its row's timestamp (no leakage).

    Relative paths start at the project folder, as in confluens.toml.
    """
    from confluens.project.output import write_table
    from confluens.project.training import check_timezone

    names = split_requests(features)
    check_timezone(timezone, "--timezone")
    when = _instant(as_of)
    with open_project(project_dir) as project, err.status("building the training set"):
        table = project.training_set(spine, names, at=at, timezone=timezone, as_of=when,
                                     full_names=full_names)
        written = write_table(table, project.path(out_path))
    out.print(f"wrote {table.num_rows:,} rows × {table.num_columns} columns to "
              f"{escape_markup(str(written))}")
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
    from confluens.interfaces.cli.steps import step_reporter

    start, end = _instant(start_text, "--start"), _instant(end_text, "--end")
    with open_project(project_dir) as project:
        total = len(views) or len(project.definitions.feature_views)
        with step_reporter(err, total) as steps:
            results = project.materialize(views, start=start, end=end,
                                          progress=steps.view_done, stage=steps.stage)
        for r in results:
            view = escape_markup(r.view)
            if r.skipped:
                out.print(f"{view}: up to date ({r.events:,} events)")
            elif r.mode == "range":
                out.print(f"{view}: rebuilt {r.recomputed:,} of {r.events:,} events")
            else:
                why = f" ({escape_markup(r.reason)})" if r.reason else ""
                out.print(f"{view}: {r.mode}{why}, {r.recomputed:,} of {r.events:,} events "
                          f"computed, online state for {r.entities:,} entities")


@click.group()
def features() -> None:
    """Read feature values."""


@features.command("get")
@click.argument("view")
@click.argument("keys", nargs=-1)
@click.option("--at", "at_text", help="Evaluate the windows at this ISO instant (default: now).")
@project_option
@reports_errors
def get(view: str, keys: tuple[str, ...], at_text: str | None, project_dir: str) -> None:
    """Online feature values of VIEW for entity KEYS (a value, or col=value,col2=value);
    a view without an entity takes no key.

    Windows are evaluated at the time of the read, so values decay as time passes.
    """
    parsed = [dict(part.split("=", 1) for part in k.split(",")) if "=" in k else k
              for k in keys] or [{}]  # no key: a view without an entity (or a clear error)
    with open_project(project_dir) as project:
        when = _instant(at_text, "--at")
        if when is not None:
            require_zone(when, "--at", fix=TEXT_EXAMPLE, got=at_text)
        values = project.online_features(view, parsed, at=when)
    names = list(values[0]) if values else []
    # one row per feature, one column per entity: readable however many features
    columns: dict[str, list[str | None]] = {"feature": list(names)}
    for key, vals in zip(keys or ("value",), values, strict=True):
        columns[key] = [None if vals[n] is None else str(vals[n]) for n in names]
    out.print(arrow_table(pa.table(columns), title=f"{view} at "
                          f"{(when or datetime.now(UTC)).isoformat(timespec='seconds')}"))
    unknown = [key for key, found in zip(keys or ("(no key)",), values.found, strict=True)
               if not found]
    if unknown:
        from rich.markup import escape

        err.print(escape(f"note: no online state for {', '.join(unknown)} (an unknown key, not "
                         "materialized yet, or expired): its values are those of an empty "
                         "window (0 for counts and sums, null otherwise)"))
