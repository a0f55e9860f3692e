"""How results are shown: rich tables, one function per kind of result.

Every piece of user text (names, keys, values, paths) is escaped, so that square
brackets in it print as written instead of being read as rich markup.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from confluens.core import DefinitionsDiff
    from confluens.stores.metadata import IngestRun

__all__ = ["arrow_table", "diff_lines", "run_summary"]


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


def _cell(value: Any) -> str:
    if value is None:
        return "[dim]null[/]"
    if isinstance(value, list):
        return escape(", ".join(map(str, value)))
    if isinstance(value, datetime):
        zone = "Z" if value.utcoffset() == timedelta(0) else value.strftime("%z")
        return value.strftime("%Y-%m-%d %H:%M:%S") + zone
    return escape(str(value))
