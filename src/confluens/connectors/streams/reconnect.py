"""Reconnecting to a broker: a bounded exponential backoff, shared by the brokers' logs.

A broker restarts, a network blips: a log retries the call that failed on a lost
connection, waiting ``first_delay_s``, then twice that, and so on up to
``max_delay_s`` between attempts, ``attempts`` times in all; then it gives up and
raises ``StorageError``. ``budget_s`` is how long a broker may stay away before a
call fails.

>>> policy = Reconnect(attempts=6, first_delay_s=0.1, max_delay_s=0.5)
>>> policy.delays()
(0.1, 0.2, 0.4, 0.5, 0.5)
>>> policy.budget_s
1.7
>>> Reconnect(attempts=1).delays()  # one attempt: no retry
()
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from confluens.errors import InputError

__all__ = ["Reconnect", "call_with_reconnect"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Reconnect:
    """How a log retries a call that lost its connection (the defaults ride out a
    broker restart of about nine seconds)."""

    attempts: int = 10
    first_delay_s: float = 0.05
    max_delay_s: float = 2.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise InputError("Reconnect", "attempts counts the first call, so it must be "
                             "at least 1", got=self.attempts, fix="pass attempts=1 or more")
        if not 0 <= self.first_delay_s <= self.max_delay_s:
            raise InputError("Reconnect", "delays must satisfy 0 <= first_delay_s <= "
                             "max_delay_s", got=(self.first_delay_s, self.max_delay_s),
                             fix="pass a first delay no longer than the longest one")

    def delays(self) -> tuple[float, ...]:
        """The waits between attempts, in seconds (one fewer than ``attempts``)."""
        return tuple(round(min(self.first_delay_s * 2 ** i, self.max_delay_s), 6)
                     for i in range(self.attempts - 1))

    @property
    def budget_s(self) -> float:
        """The longest a broker may stay unreachable before a call gives up."""
        return round(sum(self.delays()), 6)


def call_with_reconnect(policy: Reconnect, call: Callable[[], T],
                        lost: Callable[[Exception], bool],
                        sleep: Callable[[float], None]) -> T:
    """``call()``, retried after each of ``policy.delays()`` while it raises an error
    that ``lost`` says is a lost connection; any other error, and the last lost
    connection, propagate (for the caller to turn into a ``StorageError``).

    >>> failures = iter([ConnectionError(), ConnectionError()])
    >>> def flaky() -> str:
    ...     error = next(failures, None)
    ...     if error:
    ...         raise error
    ...     return "ok"
    >>> waited: list[float] = []
    >>> def lost(exc: Exception) -> bool:
    ...     return isinstance(exc, ConnectionError)
    >>> call_with_reconnect(Reconnect(3, 0.1), flaky, lost, waited.append)
    'ok'
    >>> waited
    [0.1, 0.2]
    """
    for delay in policy.delays():
        try:
            return call()
        except Exception as exc:
            if not lost(exc):
                raise
        sleep(delay)
    return call()
