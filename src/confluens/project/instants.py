"""The checks of instants a user passes: each carries a time zone (``at``, ``as_of``,
``--start``/``--end``), and a ``--start``/``--end`` pair is in order."""

from __future__ import annotations

from datetime import datetime

from confluens.errors import InputError

__all__ = ["check_range", "require_zone"]

PYTHON_EXAMPLE = "pass e.g. datetime.now(timezone.utc)"
TEXT_EXAMPLE = "write e.g. 2024-01-31T00:00:00+00:00"


def require_zone(value: datetime, name: str, *, fix: str = PYTHON_EXAMPLE,
                 got: str | None = None) -> datetime:
    """``value`` itself when it carries a time zone; otherwise an InputError naming
    ``name`` (``got``: the text the user wrote, when the instant was parsed from one).

    >>> from datetime import UTC
    >>> require_zone(datetime(2024, 1, 1, tzinfo=UTC), "at").isoformat()
    '2024-01-01T00:00:00+00:00'
    >>> require_zone(datetime(2024, 1, 1), "at")
    Traceback (most recent call last):
    ...
    confluens.errors.InputError: at: must carry a time zone; got '2024-01-01T00:00:00'. Fix: ...
    """
    if value.tzinfo is None:
        raise InputError(name, "must carry a time zone", got=got or value.isoformat(),
                         fix=fix)
    return value


def check_range(start: datetime | None, end: datetime | None) -> None:
    """Each bound given carries a time zone, and ``end`` comes after ``start``."""
    for name, value in (("--start", start), ("--end", end)):
        if value is not None:
            require_zone(value, name, fix=TEXT_EXAMPLE)
    if start is not None and end is not None and end <= start:
        raise InputError("--end", "must be after --start", got=f"{start} .. {end}",
                         fix="swap them, or widen the range")
