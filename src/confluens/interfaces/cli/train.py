"""`confluens train MODEL`: build the training set point-in-time, train, evaluate.

The trained model is handed on in one place, ``hand_on`` below: it is logged to an
MLflow run and registered as a new version (``--no-register`` skips that).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click

from confluens.interfaces.cli.context import (
    err,
    escape,
    open_project,
    out,
    project_option,
    reports_errors,
)

if TYPE_CHECKING:
    from rich.table import Table

    from confluens.lifecycle.trained import TrainedModel
    from confluens.project import Project

__all__ = ["hand_on", "metrics_table", "train"]


@click.command()
@click.argument("model")
@click.option("--start", "start_text", help="The first training day (fold 0's), e.g. "
              "2018-07-25; default: the model's protocol start, else the latest whose test "
              "period ends on the last labelled day.")
@click.option("--register/--no-register", default=True, show_default=True,
              help="Log the run to MLflow and register a new version of the model.")
@project_option
@reports_errors
def train(model: str, start_text: str | None, register: bool, project_dir: str) -> None:
    """Train MODEL on its point-in-time training set and print its test metrics.

    The labels source is the spine: each label record with the model's features as of
    its event time, its label used once known. The protocol (time split or prequential
    folds, with an optional grid) splits the rows by day; the figures are measured on
    the test period(s).
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    start = _date(start_text)
    with open_project(project_dir) as project:
        columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                   MofNCompleteColumn(), TimeElapsedColumn()]
        with Progress(*columns, console=err, transient=True,
                      disable=not err.is_terminal) as bar:
            task = bar.add_task(f"training {escape(model)}", total=None)

            def stage(text: str) -> None:
                bar.update(task, description=escape(text))

            def fitted(_: str, done: int, total: int) -> None:
                bar.update(task, description="fitting and evaluating", completed=done,
                           total=total)

            trained = project.train(model, start=start, progress=fitted, stage=stage)
        out.print(metrics_table(trained))
        lineage = trained.lineage
        out.print(f"trained {escape(trained.model)} ({trained.flavor}) on "
                  f"{lineage.training_set.get('train_rows', 0):,} rows from "
                  f"{lineage.training_set.get('train_start')}; code {escape(lineage.code_version)}"
                  f"; definitions {lineage.definitions_hash[:12]}")
        if register:
            hand_on(project, trained)


def hand_on(project: Project, trained: TrainedModel) -> None:
    """Where a trained model leaves `confluens train`: logged to an MLflow run and
    registered as a new version, aliases left as they are (promotion is a decision)."""
    registry = project.registry
    version = registry.record(trained)
    out.print(f"registered {escape(trained.model)} version {version.version}; promote it "
              f"with `confluens models promote {escape(trained.model)} {version.version} "
              f"--reason \"...\"`", soft_wrap=True)
    out.print(f"[dim]MLflow UI: {escape(registry.settings.ui_command())}[/]", soft_wrap=True)


def metrics_table(trained: TrainedModel) -> Table:
    from rich.table import Table

    lineage = trained.lineage.training_set
    table = Table(title=trained.model, caption=f"test {lineage.get('test_start')} to "
                  f"{lineage.get('test_end')}, {lineage.get('folds', 1)} fold(s)")
    table.add_column("metric")
    table.add_column("test", justify="right")
    has_std = any(k.endswith("_std") for k in trained.metrics)
    has_valid = any(k.startswith("valid_") for k in trained.metrics)
    if has_std:
        table.add_column("std", justify="right")
    if has_valid:
        table.add_column("validation", justify="right")
    names = [k for k in trained.metrics if not k.endswith("_std") and not k.startswith("valid_")]
    for name in names:
        row = [name, f"{trained.metrics[name]:.4f}"]
        if has_std:
            row.append(f"{trained.metrics.get(f'{name}_std', float('nan')):.4f}")
        if has_valid:
            row.append(f"{trained.metrics.get(f'valid_{name}', float('nan')):.4f}")
        table.add_row(*row)
    return table


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        from confluens.errors import InputError

        raise InputError("--start", "must be a date", got=text,
                         fix="write e.g. --start 2018-07-25") from None
