"""The one check of a ``--start``/``--end`` pair of instants (materialize, spine)."""

from __future__ import annotations

from datetime import datetime

from confluens.errors import InputError

__all__ = ["check_range"]


def check_range(start: datetime | None, end: datetime | None) -> None:
    """Each bound given carries a time zone, and ``end`` comes after ``start``."""
    for name, value in (("--start", start), ("--end", end)):
        if value is not None and value.tzinfo is None:
            raise InputError(name, "must carry a time zone", got=value.isoformat(),
                             fix="write e.g. 2024-01-31T00:00:00+00:00")
    if start is not None and end is not None and end <= start:
        raise InputError("--end", "must be after --start", got=f"{start} .. {end}",
                         fix="swap them, or widen the range")
