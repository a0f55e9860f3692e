"""Leases: named, expiring claims that processes sharing an online store take in turn.

An online store with the ``LEASES`` capability (``LeaseStore``) keeps leases next to
the stream checkpoints. A lease names a thing (a stream partition, a group member),
its ``owner`` and the instant it ``expires_at`` (seconds since the epoch, by the store's
``clock``). Each operation is a compare-and-set, done by the store with no other
operation in between:

- ``acquire`` takes a lease that is free, expired or already the caller's, for
  ``ttl_seconds`` from now; a lease another owner holds, unexpired, is refused (None);
- ``renew`` extends the caller's own unexpired lease; an expired or lost one is
  refused (None), and the caller must ``acquire`` it again (it may be gone);
- ``release`` gives the caller's lease up (False: it was not the caller's);
- ``leases(prefix)`` lists every stored lease whose name starts with ``prefix``, live
  or expired, by name.

A lease alone does not fence a paused owner: it may act after its lease expired. The
checkpoint compare-and-set does (``checkpoint.py``); see ``project/stream/group.py``.

>>> Lease("partition/tx:0", "w1", 100.0).live(99.5), Lease("m", "w1", 100.0).live(100.0)
(True, False)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from confluens.stores.online.protocol import OnlineStore

__all__ = ["Lease", "LeaseStore"]


@dataclass(frozen=True)
class Lease:
    """``owner`` holds ``name`` until ``expires_at`` (seconds since the epoch)."""

    name: str
    owner: str
    expires_at: float

    def live(self, now: float) -> bool:
        """Whether the lease still holds at ``now``."""
        return self.expires_at > now


class LeaseStore(OnlineStore, Protocol):
    """An online store that keeps leases (see the module docstring); ``clock`` gives the
    time the leases' expiry is measured against."""

    clock: Callable[[], float]

    def acquire(self, name: str, owner: str, ttl_seconds: float) -> Lease | None:
        """Make ``owner`` hold ``name`` until ``ttl_seconds`` from now, if it is free,
        expired or ``owner``'s already; None if another owner holds it."""
        ...

    def renew(self, name: str, owner: str, ttl_seconds: float) -> Lease | None:
        """Extend ``owner``'s unexpired lease on ``name`` to ``ttl_seconds`` from now;
        None if it is expired, another's or gone (nothing changes)."""
        ...

    def release(self, name: str, owner: str) -> bool:
        """Remove ``owner``'s lease on ``name``; False if it is not ``owner``'s."""
        ...

    def leases(self, prefix: str) -> list[Lease]:
        """Every stored lease whose name starts with ``prefix``, by name."""
        ...
