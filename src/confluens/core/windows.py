"""Durations and windows: what a windowed feature covers.

A duration is a whole number and a unit: ``s``, ``m``, ``h``, ``d`` or ``w``
(weeks). A window is either a :class:`TimeWindow` of a duration or an
:class:`EventsWindow` of the n latest events. Semantics: docs/concepts.md.

>>> Duration.parse("7d")
Duration(microseconds=604800000000)
>>> str(Duration.parse("90m"))
'90m'
>>> window_of("30d").label, window_of(Events(5)).label
('30d', 'last5')
>>> Duration.parse("7 days")
Traceback (most recent call last):
...
confluens.errors.DefinitionError: window or delay: must be a whole number and a unit ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from confluens.errors import DefinitionError

__all__ = ["FOREVER", "MAX_EVENTS", "MAX_SPAN", "Duration", "Events", "EventsWindow", "TimeWindow",
           "Window", "window_of"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_DURATION = re.compile(r"^\s*([0-9]+)\s*([smhdw])\s*$")
_US = 1_000_000


@dataclass(frozen=True, slots=True, order=True)
class Duration:
    """A non-negative span of time, exact to the microsecond."""

    microseconds: int

    @classmethod
    def parse(cls, value: Duration | str, where: str = "window or delay") -> Duration:
        if isinstance(value, Duration):
            return value
        match = _DURATION.match(value) if isinstance(value, str) else None
        if match is None:
            raise DefinitionError(where, "must be a whole number and a unit (s, m, h, d or w)",
                                  got=value, fix="write e.g. '90s', '15m', '1h', '7d' or '2w'")
        return cls(int(match.group(1)) * _UNITS[match.group(2)] * _US)

    @property
    def days(self) -> int:
        return self.microseconds // (_UNITS["d"] * _US)

    @property
    def seconds(self) -> float:
        return self.microseconds / _US

    def __str__(self) -> str:
        """The largest unit that divides the span exactly, up to days: '7d', '90m'."""
        if self.microseconds == 0:
            return "0s"
        seconds = self.microseconds // _US
        for unit in ("d", "h", "m", "s"):
            size = _UNITS[unit]
            if seconds % size == 0:
                return f"{seconds // size}{unit}"
        return f"{self.microseconds}us"


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Events whose event time lies in ``(t - delay - length, t - delay]``."""

    length: Duration

    @property
    def label(self) -> str:
        return str(self.length)


@dataclass(frozen=True, slots=True)
class EventsWindow:
    """The ``n`` latest events whose event time is at most ``t - delay``."""

    n: int

    @property
    def label(self) -> str:
        return f"last{self.n}"


Window = TimeWindow | EventsWindow

# The longest window or delay a feature view takes: 100 years (36,525 days). Event times
# and their differences stay far inside int64 microseconds in every engine.
MAX_SPAN = Duration(36_525 * _UNITS["d"] * _US)
# The look-back of a snapshot without a TTL: 10 million days, longer ago than any event
# time a source accepts, yet t - FOREVER stays inside int64 microseconds in every engine.
# It is the one window longer than MAX_SPAN that a view may hold.
FOREVER = Duration(10_000_000 * _UNITS["d"] * _US)
# The most events an event-count window holds (positions stay 32-bit everywhere).
MAX_EVENTS = 2**31 - 1


def Events(n: int) -> EventsWindow:
    """A count window of the ``n`` latest events."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise DefinitionError("Events(n)", "n must be a whole number of at least 1", got=n,
                              fix="write e.g. Events(5)")
    return EventsWindow(n)


def window_of(value: Window | str, where: str = "window") -> Window:
    """A window from ``"7d"``-style text or a window value (``where`` names it in errors)."""
    if isinstance(value, TimeWindow | EventsWindow):
        return value
    length = Duration.parse(value, where=where)
    if length.microseconds == 0:
        raise DefinitionError(where, "a time window must be longer than zero", got=value,
                              fix="write e.g. '1h' or '7d'")
    return TimeWindow(length)
