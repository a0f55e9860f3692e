"""How results are shown: rich tables, one function per kind of result.

Every piece of user text (names, keys, values, paths) is escaped, so that square
brackets in it print as written instead of being read as rich markup.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.rule import Rule
from rich.table import Table

if TYPE_CHECKING:
    from confluens.core import DefinitionsDiff
    from confluens.stores.metadata import IngestRun

__all__ = ["arrow_rows", "arrow_table", "diff_lines", "run_summary"]


def diff_lines(diff: DefinitionsDiff) -> list[str]:
    lines = [f"[green]+ {escape(key)}[/]" for key in diff.added]
    lines += [f"[yellow]~ {escape(c.key)}[/] ({escape(', '.join(c.fields))})"
              for c in diff.changed]
    lines += [f"[red]- {escape(key)}[/]" for key in diff.removed]
    return lines


def run_summary(run: IngestRun) -> Table:
    table = Table(title=f"ingest {escape(run.source)}", title_justify="left")
    table.add_column("records", justify="left")
    table.add_column("count", justify="right")
    table.add_row("in", f"{run.rows_in:,}")
    table.add_row("accepted", f"{run.accepted:,}")
    table.add_row("quarantined", f"{run.quarantined:,}")
    table.add_row("duplicates", f"{run.duplicates:,}")
    for rule, n in sorted(run.rules.items()):
        table.add_row(f"  quarantine rule {escape(rule)}", f"{n:,}", style="dim")
    for rule, n in sorted(run.warnings.items()):
        if n:
            table.add_row(f"  warning {escape(rule)}", f"{n:,}", style="yellow")
    ok = "[green]✓[/]" if run.reconciles else "[red]✗ (please report this)[/]"
    table.add_section()
    table.add_row("in = accepted + quarantined + duplicates", ok)
    return table


def arrow_table(data: pa.Table, title: str | None = None, max_width: int = 40,
                whole: tuple[str, ...] = ()) -> Table:
    """``data`` as a rich table; ``title`` is plain text (it is escaped here). Columns
    named in ``whole`` (ids a user copies) are never folded or cut."""
    table = Table(title=None if title is None else escape(title), title_justify="left")
    for field in data.schema:
        numeric = pa.types.is_integer(field.type) or pa.types.is_floating(field.type)
        temporal = pa.types.is_timestamp(field.type) or pa.types.is_date(field.type)
        if field.name in whole:
            table.add_column(escape(field.name), no_wrap=True, min_width=max(
                (len(str(v)) for v in data.column(field.name).to_pylist()), default=0))
            continue
        table.add_column(escape(field.name), overflow="fold", max_width=max_width,
                         justify="right" if numeric else "left", no_wrap=numeric or temporal)
    for row in data.to_pylist():
        table.add_row(*[_cell(v) for v in row.values()])
    return table


_FOLDED = 8  # the narrowest a folded column may get and still be read


def arrow_rows(data: pa.Table, width: int, title: str | None = None,
               whole: tuple[str, ...] = ()) -> RenderableType:
    """``data`` as ``arrow_table`` draws it when it fits in ``width`` columns of text;
    otherwise each row as a block of ``column  value`` lines (psql's expanded display),
    instead of a table whose columns are squeezed to nothing.

    >>> from rich.console import Console
    >>> data = pa.table({"run": ["20240131T120000-1c3e2a40"], "source": ["payments"],
    ...                  "in": [12], "accepted": [11], "quarantined": [1]})
    >>> console = Console(width=40)
    >>> console.print(arrow_rows(data, 40, title="ingest runs", whole=("run",)))
    ingest runs
    ────────────────── 1 ───────────────────
    run          20240131T120000-1c3e2a40
    source       payments
    in           12
    accepted     11
    quarantined  1
    """
    if _narrowest(data, whole) <= width:
        return arrow_table(data, title=title, whole=whole)
    blocks: list[RenderableType] = [] if title is None else [escape(title)]
    for i, row in enumerate(data.to_pylist(), start=1):
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        for name, value in row.items():
            grid.add_row(escape(name), _cell(value))
        blocks += [Rule(str(i), style="dim"), grid]
    return Group(*blocks)


def _narrowest(data: pa.Table, whole: tuple[str, ...]) -> int:
    """The fewest columns of text ``arrow_table(data)`` needs without hiding a column:
    numbers, times and ``whole`` columns at full width, other columns folded to
    ``_FOLDED``, with the borders and padding."""
    need = 1
    for field in data.schema:
        header = len(field.name)
        folded = not (field.name in whole or pa.types.is_integer(field.type)
                      or pa.types.is_floating(field.type) or pa.types.is_timestamp(field.type)
                      or pa.types.is_date(field.type))
        longest = max((len(_cell(v)) for v in data.column(field.name).to_pylist()), default=0)
        cells = min(longest, _FOLDED) if folded else longest
        need += max(cells, min(header, _FOLDED) if folded else header) + 3
    return need


def _cell(value: Any) -> str:
    if value is None:
        return "[dim]null[/]"
    if isinstance(value, list):
        return escape(", ".join(map(str, value)))
    if isinstance(value, datetime):
        zone = "Z" if value.utcoffset() == timedelta(0) else value.strftime("%z")
        return value.strftime("%Y-%m-%d %H:%M:%S") + zone
    return escape(str(value))
