"""Which partitions of each source a stream worker processes: an ``Assignment``.

``StaticAssignment`` is ``--worker I/N`` (and the default, 0/1: every partition): the
partitions p with p % N == I, fixed for the whole run. ``group.ConsumerGroup`` is the
dynamic one (``--group``): partitions held by leases, which move between workers.

``owned(source)`` answers with an ``Owned``: the partitions, and an ``epoch`` that
changes whenever the worker lost or gained any of them, even if it holds the same ones
again, so that the run rebuilds the source's processor from the checkpoints rather
than go on from state another worker may have moved on since.

>>> a = StaticAssignment((1, 2))
>>> a.owned("tx", 5)
Owned(epoch=0, partitions=(1, 3))
>>> StaticAssignment((2, 2))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
confluens.errors.InputError: --worker: must be I/N with 0 <= I < N; got '2/2'. Fix: ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from confluens.errors import InputError

__all__ = ["Assignment", "Owned", "StaticAssignment"]


@dataclass(frozen=True)
class Owned:
    epoch: int
    partitions: tuple[int, ...]


class Assignment(Protocol):
    """The partitions a worker processes, kept up to date by ``refresh``."""

    @property
    def dynamic(self) -> bool:
        """Whether partitions may move between workers during a run."""
        ...

    @property
    def fence(self) -> Callable[[str], None] | None:
        """What a batch's writes call first, with the batch's id (fencing.py)."""
        ...

    def refresh(self, *, force: bool = False) -> None:
        """Bring the assignment up to date (due, or now with ``force``)."""
        ...

    def owned(self, source: str, partitions: int) -> Owned:
        """The partitions of ``source`` (which has ``partitions``) this worker owns."""
        ...

    def close(self) -> None:
        """Give up whatever the assignment holds."""
        ...


class StaticAssignment:
    """Partitions p with p % n == i, for worker ``(i, n)``."""

    def __init__(self, worker: tuple[int, int]) -> None:
        i, n = worker
        if n < 1 or not 0 <= i < n:
            raise InputError("--worker", "must be I/N with 0 <= I < N", got=f"{i}/{n}",
                             fix="number the workers from 0, e.g. --worker 0/2 and "
                             "--worker 1/2")
        self.worker = (i, n)

    @property
    def dynamic(self) -> bool:
        return False

    @property
    def fence(self) -> Callable[[str], None] | None:
        return None

    def refresh(self, *, force: bool = False) -> None:
        """Nothing changes."""

    def owned(self, source: str, partitions: int) -> Owned:
        i, n = self.worker
        return Owned(0, tuple(p for p in range(partitions) if p % n == i))

    def close(self) -> None:
        """Nothing is held."""
