"""`confluens quarantine`: see and retry the records a source rejected."""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

import click

from confluens.interfaces.cli.context import (
    escape,
    open_project,
    out,
    project_option,
    reports_errors,
)
from confluens.interfaces.cli.progress import ingest_progress
from confluens.interfaces.cli.render import arrow_table, run_summary

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["quarantine"]


@click.group()
def quarantine() -> None:
    """Records rejected by a source's checks: list them, retry them after a fix."""


@quarantine.command("list")
@click.argument("source")
@click.option("--limit", "-n", type=click.IntRange(min=0), default=20, show_default=True)
@click.option("--rule", "-r", help="Only records that broke this rule.")
@click.option("--all", "include_retried", is_flag=True, help="Include retried records.")
@project_option
@reports_errors
def list_(source: str, limit: int, rule: str | None, include_retried: bool,
          project_dir: str) -> None:
    """List the quarantined records of SOURCE, with the rule and the reason.

    "row" is the record's number in its input, counting from 1 (a CSV header line
    is not counted).
    """
    with open_project(project_dir) as project:
        records = project.quarantine(source, include_retried=include_retried)
        if rule:
            import pyarrow as pa

            keep = [rule in rules for rules in records.column("rules").to_pylist()]
            records = records.filter(pa.array(keep, pa.bool_()))  # typed, even when empty
        by_rule = Counter(r for rules in records.column("rules").to_pylist() for r in rules)
        if not records.num_rows:
            out.print(f"no quarantined records for {escape(source)}")
            return
        out.print(f"{records.num_rows:,} quarantined records for {escape(source)}; by rule: "
                  + ", ".join(f"{escape(r)} {n:,}" for r, n in by_rule.most_common()))
        out.print(arrow_table(shown_records(records.slice(0, limit)), max_width=50))
        if records.num_rows > limit:
            out.print(f"showing {limit} of {records.num_rows:,}; use --limit or --rule")


_LINE = re.compile(r"\bline (\d+): ")


def shown_records(records: pa.Table) -> pa.Table:
    """The columns a user reads, with one notion of where a record was: its row in the
    input, counting from 1 without a CSV header (its position + 1). Records quarantined
    by earlier versions numbered a malformed CSV line after the good ones, and gave
    the parser's "line N" (counting the header) in the reason: that becomes row N - 1,
    and is left out of the reason, so no record gets two numbers."""
    import pyarrow as pa

    rows, reasons = [], []
    for position, reason in zip(records.column("position").to_pylist(),
                                records.column("reason").to_pylist(), strict=True):
        line = _LINE.search(reason or "")
        rows.append(int(line.group(1)) - 1 if line else int(position) + 1)
        reasons.append(_LINE.sub("", reason) if reason is not None else None)
    return pa.table({"input": records.column("input"), "row": pa.array(rows, pa.int64()),
                     "reason": pa.array(reasons, pa.string()),
                     "record": records.column("record")})


@quarantine.command()
@click.argument("source")
@project_option
@reports_errors
def retry(source: str, project_dir: str) -> None:
    """Ingest SOURCE's quarantined records again, e.g. after correcting a check.

    Records that now pass are stored; the others stay in quarantine.
    """
    with open_project(project_dir) as project:
        batches = len(project.metadata.quarantine(source))
        with ingest_progress(f"retry {escape(source)}", batches) as progress:
            run = project.retry_quarantine(source, progress=progress)
        out.print(run_summary(run))
