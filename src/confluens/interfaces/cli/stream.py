"""`confluens stream`, `confluens replay` and `confluens status`: the live half.

``stream`` runs the stream processors until stopped (Ctrl-C or SIGTERM finish the
batch in hand, commit it, and exit 0) or, with ``--until-idle``, until the streams are
consumed; a live line shows records, throughput and lag per source. ``--worker I/N``
takes fixed partitions; ``--group [NAME]`` joins a consumer group that divides the
partitions among its live workers by leases. ``replay``
publishes a file into a source's stream with a progress bar. ``status`` shows, per
source partition and per feature view, how far the processor is, its lag and
throughput, and any freshness SLA breach.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from confluens.errors import InputError
from confluens.interfaces.cli.context import (
    PathText,
    err,
    escape,
    open_project,
    out,
    project_option,
    reports_errors,
)

if TYPE_CHECKING:
    from confluens.project.stream import BatchResult
    from confluens.project.stream.group import GroupOptions

__all__ = ["replay", "status", "stream"]


def _worker(text: str) -> tuple[int, int]:
    i, sep, n = text.partition("/")
    if not sep or not i.isdigit() or not n.isdigit():
        raise InputError("--worker", "must be I/N, this worker's number and how many "
                         "there are", got=text, fix="write e.g. 0/2 for the first of two")
    return int(i), int(n)


def _group(name: str | None, lease_ttl: float | None) -> GroupOptions | None:
    from confluens.project.stream.group import LEASE_TTL, GroupOptions

    if name is None:
        if lease_ttl is not None:
            raise InputError("--lease-ttl", "applies to a consumer group's leases only",
                             got=lease_ttl, fix="add --group, or leave out --lease-ttl")
        return None
    return GroupOptions(name, LEASE_TTL if lease_ttl is None else lease_ttl)


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """SIGINT and SIGTERM ask the processors to stop after the batch in hand."""
    stop = threading.Event()
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def ask(signum: int, frame: object) -> None:
        stop.set()

    for s in previous:
        signal.signal(s, ask)
    try:
        yield stop
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _ms(us: int | None) -> str:
    if us is None:
        return "-"
    return f"{us / 1000:,.1f}ms" if us < 10_000_000 else f"{us / 1e6:,.0f}s"


@click.command()
@click.argument("sources", nargs=-1)
@click.option("--worker", "worker_text", default=None, metavar="I/N",
              help="This process takes the partitions p with p % N == I (run N "
              "workers to share a partitioned stream). Default: every partition.")
@click.option("--group", "group_name", is_flag=False, flag_value="default", default=None,
              metavar="[NAME]",
              help="Join consumer group NAME (default: 'default'): the group's live "
              "workers divide the partitions among themselves by leases, and divide them "
              "again as workers join, stop or die. Write --group NAME or put it after "
              "the SOURCES.")
@click.option("--lease-ttl", type=float, default=None, metavar="SECONDS",
              help="With --group: how long a worker's leases last unrenewed, so how soon "
              "a dead worker's partitions move to the others (default 10).")
@click.option("--batch-size", type=click.IntRange(1, 1_000_000), default=100_000,
              show_default=True, help="The most messages of one partition per batch.")
@click.option("--until-idle", is_flag=True, help="Stop once every stream is consumed.")
@click.option("--max-seconds", type=click.FloatRange(min=0), default=None,
              help="Stop after this many seconds.")
@click.option("--score", "score_models", multiple=True, metavar="MODEL",
              help="Score each event as it arrives with MODEL (repeat for several); "
              "predictions go to the prediction log.")
@click.option("--alias", default="champion", show_default=True,
              help="The registry alias (or version) of the models to score with.")
@click.option("--score-source", default=None, metavar="SOURCE",
              help="The source whose events are scored (default: the one bound source "
              "other than the model's labels).")
@click.option("--alert-threshold", type=float, default=None,
              help="Append every score at or above this to the alerts log.")
@click.option("--alerts", "alerts_topic", default="alerts", show_default=True,
              help="The embedded log topic alerts go to.")
@project_option
@reports_errors
def stream(sources: tuple[str, ...], worker_text: str | None, group_name: str | None,
           lease_ttl: float | None, batch_size: int, until_idle: bool,
           max_seconds: float | None, score_models: tuple[str, ...], alias: str,
           score_source: str | None, alert_threshold: float | None, alerts_topic: str,
           project_dir: str) -> None:
    """Consume SOURCES' streams (default: every source bound to one) into the stores.

    Each record is checked as in batch ingest (rejects go to quarantine with their
    reason), appended to the offline store, and folded into its views' online window
    state, committed with the stream position at once: after a crash, the next run
    resumes exactly where the last commit left off.
    """
    from rich.live import Live

    from confluens.project.stream.service import ScoringSpec

    worker = None if worker_text is None else _worker(worker_text)
    group = _group(group_name, lease_ttl)
    scoring = [ScoringSpec(m, alias, score_source, alert_threshold,
                           alerts_topic if alert_threshold is not None else None)
               for m in score_models]
    seen: dict[str, tuple[int, int, float | None, int | None]] = {}
    alerts = [0]

    def line() -> str:
        parts = [f"{escape(s)}: {n:,} records ({q:,} quarantined), "
                 + (f"{eps:,.0f}/s" if eps else "-") + f", lag p99 {_ms(p99)}"
                 for s, (n, q, eps, p99) in sorted(seen.items())]
        if scoring:
            parts.append(f"{alerts[0]:,} alerts")
        return "streaming " + ("; ".join(parts) or "(waiting for messages)")

    with open_project(project_dir) as project, _stop_on_signals() as stop, \
            Live(line(), console=err, transient=True, refresh_per_second=4) as live:

        def on_batch(source: str, result: BatchResult) -> None:
            stats = result.stats
            seen[source] = (stats.rows_in, stats.quarantined, stats.events_per_second,
                            stats.lag_quantile(0.99))
            alerts[0] += result.scored.alerts
            live.update(line())

        def on_outage(source: str, error: Exception, pause: float) -> None:
            err.print(f"[yellow]{escape(source)}: {escape(str(error))}[/]\n"
                      f"resuming from the last checkpoint in {pause:.0f}s", soft_wrap=True)

        started = time.monotonic()
        totals = project.stream(list(sources), worker=worker, group=group,
                                batch_size=batch_size,
                                until_idle=until_idle, max_seconds=max_seconds, stop=stop,
                                on_batch=on_batch, on_outage=on_outage, scoring=scoring)
    took = time.monotonic() - started
    for source, t in totals.items():
        out.print(f"{escape(source)}: {t.rows_in:,} records in {t.batches:,} batches: "
                  f"{t.accepted:,} accepted, {t.quarantined:,} quarantined, "
                  f"{t.duplicates:,} duplicates"
                  + (f"; {t.scored:,} scored, {t.alerts:,} alerts" if scoring else ""))
    records = sum(t.rows_in for t in totals.values())
    out.print(f"{records:,} records in {took:.1f}s ({records / took if took else 0:,.0f}/s, "
              "start-up included)")


@click.command()
@click.argument("source")
@click.argument("file", type=PathText())
@click.option("--speed", default="max", show_default=True,
              help="How much faster than the clock event time passes, e.g. 100x; max: "
              "as fast as the stream takes them.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Publish only the first N records (in event-time order).")
@project_option
@reports_errors
def replay(source: str, file: str, speed: str, limit: int | None, project_dir: str) -> None:
    """Publish FILE's records into SOURCE's stream in event-time order.

    FILE is CSV/TSV, Parquet or JSON lines with the source's columns. Use it for demos,
    load tests, or to backfill a live system through the stream processor.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with open_project(project_dir) as project, Progress(
            "replaying", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("replay", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        started = time.monotonic()
        sent = project.replay(source, file, speed=speed, limit=limit, progress=progress)
    took = time.monotonic() - started
    out.print(f"published {sent:,} records of {escape(file)} to {escape(source)}'s stream "
              f"in {took:.1f}s")


@click.command()
@click.argument("sources", nargs=-1)
@project_option
@reports_errors
def status(sources: tuple[str, ...], project_dir: str) -> None:
    """Where each stream stands: per partition and per feature view, with freshness.

    Exits 1 when a view's freshness SLA is breached (for health checks and alerts).
    """
    from rich.table import Table

    with open_project(project_dir) as project:
        partitions = project.stream_status(list(sources))
        views = project.streams.freshness(list(sources))
    table = Table(title="streams", title_justify="left")
    for name in ("source", "p", "consumed", "log end", "accepted", "quarant.", "dupl.",
                 "watermark (UTC)"):
        table.add_column(name, justify="left" if name == "source" else "right")
    for p in partitions:
        s = p.stats
        watermark = "-" if s.watermark_us is None else _time(s.watermark_us)
        table.add_row(escape(p.source), str(p.partition), escape(p.position or "-"),
                      escape(p.last or "-"), f"{s.accepted:,}", f"{s.quarantined:,}",
                      f"{s.duplicates:,}", watermark)
    out.print(table)
    leased = [p for p in partitions if p.lease is not None]
    if leased:  # consumer-group workers hold (or held) partitions
        owners = Table(title="consumer-group leases", title_justify="left")
        for name in ("source", "p", "owner", "lease"):
            owners.add_column(name, justify="right" if name == "p" else "left")
        now = time.time()
        for p in leased:
            assert p.lease is not None
            owners.add_row(escape(p.source), str(p.partition), escape(p.lease.owner),
                           _expiry(p.lease.expires_at - now))
        out.print(owners)
    fresh = Table(title="freshness per feature view", title_justify="left")
    for name in ("view", "lag p50", "lag p99", "events/s", "committed", "SLA", "state"):
        fresh.add_column(name, justify="left" if name in ("view", "state") else "right")
    breaches = []
    for v in views:
        state = ("[red]BREACH[/]" if v.breach else "behind" if v.behind else "caught up")
        if v.breach:
            breaches.append(f"[red]BREACH[/] {escape(v.view)}: {escape(v.breach)}")
        fresh.add_row(escape(v.view), _ms(v.lag_p50_us), _ms(v.lag_p99_us),
                      "-" if v.events_per_second is None else f"{v.events_per_second:,.0f}",
                      "-" if v.since_commit_us is None else f"{v.since_commit_us / 1e6:,.0f}s ago",
                      "-" if v.sla_us is None else f"{v.sla_us / 1e6:g}s", state)
    out.print(fresh)
    for line in breaches:
        out.print(line, soft_wrap=True)
    if breaches:
        err.print("a freshness SLA is breached")
        raise SystemExit(1)


def _expiry(seconds: float) -> str:
    """When a lease expires, from now: "expires in 7.2s" or "expired 3.0s ago (free)"."""
    return (f"expires in {seconds:,.1f}s" if seconds > 0
            else f"expired {-seconds:,.1f}s ago (free)")


def _time(us: int) -> str:
    from datetime import UTC, datetime, timedelta

    at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
    return at.strftime("%Y-%m-%d %H:%M:%S")
