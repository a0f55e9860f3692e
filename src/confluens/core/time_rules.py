"""A source's rules for reading time: the plausible time range and the epoch unit.

A timestamp outside ``[start, end)`` of its source's time range is quarantined
(rule ``time_range:<column>``); numbers in a timestamp column are read in the
source's epoch unit. See docs/concepts.md, "Timestamps: range, epoch unit, offsets".

>>> start, end = parse_time_range(("1990-01-01", "2100-01-01T12:00:00+01:00"), "Source 'x'")
>>> start.isoformat(), end.isoformat()
('1990-01-01T00:00:00+00:00', '2100-01-01T11:00:00+00:00')
>>> parse_time_range(("2100-01-01", "1990-01-01"), "Source 'x'")
Traceback (most recent call last):
...
confluens.errors.DefinitionError: Source 'x': time_range must start before it ends; got
('2100-01-01', '1990-01-01'). Fix: pass (start, end) with start < end.
>>> MICROS_PER_UNIT["ms"]
1000
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from confluens.errors import DefinitionError

__all__ = ["DEFAULT_TIME_RANGE", "EPOCH_UNITS", "MICROS_PER_UNIT", "TimeRange",
           "parse_time_range", "to_micros"]

TimeRange = tuple[datetime, datetime]

#: The default plausible range of every timestamp column: [1970-01-01, 2200-01-01) UTC.
DEFAULT_TIME_RANGE: TimeRange = (datetime(1970, 1, 1, tzinfo=UTC),
                                 datetime(2200, 1, 1, tzinfo=UTC))

#: Epoch units a source may declare for numbers in timestamp columns.
EPOCH_UNITS = ("s", "ms", "us", "ns")

#: How many microseconds one unit is worth (ns: a thousandth).
MICROS_PER_UNIT: dict[str, float | int] = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 0.001}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(instant: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime (exact)."""
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _instant(value: object, where: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise DefinitionError(where, "time_range bounds must be ISO dates or times",
                                  got=value, fix="write e.g. '1990-01-01' or "
                                  "'1990-01-01T00:00:00+00:00'") from None
    else:
        raise DefinitionError(where, "time_range bounds must be ISO strings or datetimes",
                              got=value, fix="pass time_range=('1990-01-01', '2100-01-01')")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # bounds without a zone are UTC
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise DefinitionError(where, "time_range bounds must lie within the years 1 to 9999 "
                              "in UTC", got=value, fix="pick a bound inside that span") from None


def parse_time_range(value: object, where: str) -> TimeRange:
    """``(start, end)`` as UTC datetimes; a bound without a zone is read in UTC."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 2:
        raise DefinitionError(where, "time_range must be a pair (start, end)", got=value,
                              fix="pass time_range=('1990-01-01', '2100-01-01')")
    start, end = (_instant(v, where) for v in value)
    if start >= end:
        raise DefinitionError(where, "time_range must start before it ends", got=tuple(value),
                              fix="pass (start, end) with start < end")
    return start, end
