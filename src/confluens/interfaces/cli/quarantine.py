"""`confluens quarantine`: see and retry the records a source rejected."""

from __future__ import annotations

from collections import Counter

import click

from confluens.interfaces.cli.context import open_project, out, project_option, reports_errors
from confluens.interfaces.cli.progress import ingest_progress
from confluens.interfaces.cli.render import arrow_table, run_summary

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
    """List the quarantined records of SOURCE, with the rule and the reason."""
    with open_project(project_dir) as project:
        records = project.quarantine(source, include_retried=include_retried)
        if rule:
            keep = [rule in rules for rules in records.column("rules").to_pylist()]
            records = records.filter(keep)
        by_rule = Counter(r for rules in records.column("rules").to_pylist() for r in rules)
        if not records.num_rows:
            out.print(f"no quarantined records for {source}")
            return
        out.print(f"{records.num_rows:,} quarantined records for {source}; by rule: "
                  + ", ".join(f"{r} {n:,}" for r, n in by_rule.most_common()))
        shown = records.select(["input", "position", "reason", "record"]).slice(0, limit)
        out.print(arrow_table(shown, max_width=50))
        if records.num_rows > limit:
            out.print(f"showing {limit} of {records.num_rows:,}; use --limit or --rule")


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
        with ingest_progress(f"retry {source}", batches) as progress:
            run = project.retry_quarantine(source, progress=progress)
        out.print(run_summary(run))
