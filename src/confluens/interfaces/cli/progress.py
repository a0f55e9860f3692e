"""A rich progress bar over the chunks of an ingest run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from confluens.connectors import RawChunk
from confluens.ingest import ChunkCounts
from confluens.interfaces.cli.context import err

__all__ = ["ingest_progress"]


@contextmanager
def ingest_progress(description: str,
                    total: int | None) -> Iterator[Callable[[RawChunk, ChunkCounts], None]]:
    """Yield a callback for ``Project.ingest(progress=...)`` that advances a bar."""
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               MofNCompleteColumn(), TextColumn("{task.fields[rows]:,} records"),
               TimeElapsedColumn()]
    # off when stderr is not a terminal: a bar would only print a blank line there
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(description, total=total, rows=0)
        rows = 0

        def advance(chunk: RawChunk, counts: ChunkCounts) -> None:
            nonlocal rows
            rows += counts.rows_in
            bar.update(task, advance=1, rows=rows)

        yield advance
