"""A spine from a source's stored records: the rows a training set is built for.

``confluens spine transactions --last 7d --out spine.parquet`` writes the entity keys,
the event time and every other column of the transactions of the data's last seven
days: each row asks "what were the features at this event's time?".

The period is either ``last`` (a duration ending at the latest stored event, included,
whatever ``where`` keeps) or ``start``/``end`` (event times in ``[start, end)``, each
optional); ``where`` filters as `confluens show --where` does. Rows come in
event-time order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from confluens.core import Duration, Source
from confluens.errors import InputError
from confluens.project.instants import check_range
from confluens.project.reading import read_table

__all__ = ["build_spine"]


def build_spine(source: Source, files: list[str], *, last: str | None = None,
                start: datetime | None = None, end: datetime | None = None,
                where: str | None = None, columns: Sequence[str] | None = None) -> pa.Table:
    """The stored records of ``source`` in the period, as a spine table."""
    _check_period(last, start, end)
    time = source.event_time
    wanted = list(columns) if columns else list(source.schema.names)
    if time not in wanted:
        wanted.append(time)
    table = read_table(source, files, columns=wanted, where=where)
    times = table.column(time)
    low: datetime | None = start
    if last is not None:
        span = Duration.parse(last, where="--last")
        if span.microseconds <= 0:
            raise InputError("--last", "must be a span longer than zero", got=last,
                             fix="write e.g. --last 7d")
        # the data's last span, then the filter: t_max is over every stored record
        every = read_table(source, files, columns=[time]).column(time) if where else times
        latest = pc.max(every).as_py()
        try:
            low = None if latest is None else latest - timedelta(
                microseconds=span.microseconds)
        except OverflowError:  # reaches before year 1: every stored record is in
            low = None
    keep = pc.true_unless_null(times) if len(times) else pa.array([], pa.bool_())
    if low is not None:
        bound = pc.greater(times, low) if last is not None else pc.greater_equal(times, low)
        keep = pc.and_(keep, bound)
    if end is not None:
        keep = pc.and_(keep, pc.less(times, end))
    chosen = table.filter(keep)
    return chosen.take(pc.sort_indices(chosen, sort_keys=[(time, "ascending")]))


def _check_period(last: str | None, start: datetime | None, end: datetime | None) -> None:
    if last is not None and (start is not None or end is not None):
        raise InputError("--last", "cannot be combined with --start/--end", got=last,
                         fix="give either --last 7d, or --start and/or --end")
    check_range(start, end)
