"""Consumer groups: stream workers that share sources' partitions through leases.

Workers started with the same group name (``confluens stream --group NAME``) divide the
partitions of their sources among themselves, and divide them again as workers join
and leave. Everything is kept in the online store as leases (``stores/online/lease.py``):

- ``member/<group>/<member>``: a worker's membership; the live ones (unexpired) are
  the group's members;
- ``partition/<source>:<p>``: who processes a partition (the name is the partition's
  checkpoint consumer, so two groups never process one partition at once either).

Every ``lease_ttl / 3`` seconds (``refresh``, between batches) a worker renews its
leases, counts the live members, gives up its partitions beyond a fair share
ceil(partitions / members) (it is between batches: the batch in hand is committed),
and takes free or expired partitions up to that share, in an order of its own (a hash
of its id and the partition, so workers spread over the sources). A thread renews the
leases at the same pace while a long batch runs.

Fencing: before a batch writes anything (its quarantine file, its offline append),
``confirm`` renews the lease of its partition; a lease that expired or passed to
another worker raises ``LeaseLostError`` and nothing is written. The online state is
committed with the checkpoint by compare-and-set, so a worker that lost its lease and
commits late finds another commit in its place (``CheckpointConflictError``) and
writes nothing. Either way the run drops the partition and reads the assignment again.

>>> GroupOptions("fraud-1", lease_ttl=3, member="w1")
GroupOptions(name='fraud-1', lease_ttl=3.0, member='w1')
>>> partition_lease("transactions", 2), member_lease("fraud-1", "w1")
('partition/transactions:2', 'member/fraud-1/w1')
>>> fair_share(8, 3)
3
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field

from confluens.errors import ConfluensError, InputError, LeaseLostError
from confluens.project.stream.assignment import Owned
from confluens.project.stream.batch_ids import BatchId, consumer_of
from confluens.stores.online.lease import Lease, LeaseStore

__all__ = ["DEFAULT_GROUP", "LEASE_TTL", "ConsumerGroup", "GroupOptions", "fair_share",
           "member_lease", "partition_lease"]

DEFAULT_GROUP = "default"
LEASE_TTL = 10.0  # seconds
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

Unit = tuple[str, int]  # (source, partition)


def _member_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def partition_lease(source: str, partition: int) -> str:
    return f"partition/{consumer_of(source, partition)}"


def member_lease(group: str, member: str) -> str:
    return f"member/{group}/{member}"


def fair_share(partitions: int, members: int) -> int:
    """The most partitions one of ``members`` workers takes: ceil(partitions / members)."""
    return math.ceil(partitions / max(1, members))


@dataclass(frozen=True)
class GroupOptions:
    """A group's ``name``, how long a lease lasts unrenewed (``lease_ttl``, seconds:
    how soon a dead worker's partitions move), and this worker's id (``member``)."""

    name: str = DEFAULT_GROUP
    lease_ttl: float = LEASE_TTL
    member: str = field(default_factory=_member_id)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise InputError("--group", "a group name is 1 to 64 letters, digits, '_', "
                             "'.' or '-'", got=self.name, fix="name the group e.g. fraud-1")
        ttl = self.lease_ttl
        if (isinstance(ttl, bool) or not isinstance(ttl, int | float) or not math.isfinite(ttl)
                or not 0.1 <= ttl <= 3600):
            raise InputError("--lease-ttl", "must be a number of seconds from 0.1 to 3600",
                             got=ttl, fix="pass e.g. --lease-ttl 10 (the default)")
        object.__setattr__(self, "lease_ttl", float(ttl))
        if not self.member or "/" in self.member:
            raise InputError("group member", "a member id is a non-empty text without '/'",
                             got=self.member, fix="leave it out: a unique id is made")


class ConsumerGroup:
    """One worker's membership of a group, over ``units`` (source -> partition count);
    see the module docstring. ``close`` gives every lease up (the others then take
    the partitions at once, with no wait for expiry)."""

    def __init__(self, store: LeaseStore, options: GroupOptions,
                 units: Mapping[str, int]) -> None:
        self.store = store
        self.options = options
        self.units: list[Unit] = [(s, p) for s, n in units.items() for p in range(n)]
        self.order = sorted(self.units, key=self._rank)  # this member's preference
        self.held: dict[Unit, Lease] = {}
        self.members = 1
        self._epochs: dict[str, int] = dict.fromkeys(units, 0)
        self._lock = threading.Lock()  # held and epochs, shared with the heartbeat
        self._due = 0.0  # time.monotonic() of the next refresh
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self.refresh(force=True)
        self._heartbeat = threading.Thread(target=self._beat, daemon=True,
                                           name=f"confluens-group-{options.name}")
        self._heartbeat.start()

    @property
    def dynamic(self) -> bool:
        return True

    @property
    def fence(self) -> Callable[[str], None] | None:
        return self.confirm

    @property
    def interval(self) -> float:
        """How often leases are renewed and the shares looked at again (s)."""
        return self.options.lease_ttl / 3

    def _rank(self, unit: Unit) -> bytes:
        text = f"{self.options.member}/{unit[0]}:{unit[1]}".encode()
        return hashlib.blake2b(text, digest_size=8).digest()

    def owned(self, source: str, partitions: int) -> Owned:
        with self._lock:
            return Owned(self._epochs.get(source, 0),
                         tuple(sorted(p for s, p in self.held if s == source)))

    def confirm(self, batch_id: str) -> None:
        """Renew the lease of the batch's partition, or raise ``LeaseLostError``."""
        bid = BatchId.parse(batch_id)
        if bid is None:
            return
        unit = (bid.source, bid.partition)
        lease = self.store.renew(partition_lease(*unit), self.options.member,
                                 self.options.lease_ttl)
        if lease is None:
            self._lose(unit)
            raise LeaseLostError(
                f"stream partition {bid.source}:{bid.partition}",
                f"worker {self.options.member} of group '{self.options.name}' no longer "
                "holds its lease (it expired or another worker took it)",
                got=str(bid), fix="nothing to do: this worker drops the partition, wrote "
                "nothing of the batch, and takes partitions again from the group")
        with self._lock:
            if unit in self.held:
                self.held[unit] = lease

    # -- membership ----------------------------------------------------------------

    def refresh(self, *, force: bool = False) -> None:
        """Renew, count the members, give up surplus and take free partitions (when
        due: every ``interval`` seconds, or now with ``force``)."""
        if not force and time.monotonic() < self._due:
            return
        self._due = time.monotonic() + self.interval
        store, member, ttl = self.store, self.options.member, self.options.lease_ttl
        self._renew_all()
        now = store.clock()
        members = store.leases(f"member/{self.options.name}/")
        live = {row.owner for row in members if row.live(now)} | {member}
        for row in members:  # a dead member's row, expired a TTL ago: forget it (were
            if row.expires_at < now - ttl:  # it only paused, it joins again on waking)
                store.release(row.name, row.owner)
        self.members = len(live)
        share = fair_share(len(self.units), self.members)
        with self._lock:
            mine = [u for u in self.order if u in self.held]
        for unit in reversed(mine[share:]):  # the surplus: the least preferred first
            self._lose(unit)
            store.release(partition_lease(*unit), member)
        if len(mine) >= share:
            return
        taken = {lease.name: lease for lease in store.leases("partition/")}
        for unit in self.order:
            with self._lock:
                if len(self.held) >= share:
                    return
                if unit in self.held:
                    continue
            other = taken.get(partition_lease(*unit))
            if other is not None and other.live(now):
                continue
            lease = store.acquire(partition_lease(*unit), member, ttl)
            if lease is not None:
                with self._lock:
                    self.held[unit] = lease
                    self._epochs[unit[0]] = self._epochs.get(unit[0], 0) + 1

    def _renew_all(self) -> None:
        store, member, ttl = self.store, self.options.member, self.options.lease_ttl
        me = member_lease(self.options.name, member)
        if store.renew(me, member, ttl) is None:
            store.acquire(me, member, ttl)  # (re)join: the name is this member's alone
        with self._lock:
            units = list(self.held)
        for unit in units:
            lease = store.renew(partition_lease(*unit), member, ttl)
            if lease is None:
                self._lose(unit)
            else:
                with self._lock:
                    if unit in self.held:
                        self.held[unit] = lease

    def _lose(self, unit: Unit) -> None:
        with self._lock:
            if self.held.pop(unit, None) is not None:
                self._epochs[unit[0]] = self._epochs.get(unit[0], 0) + 1

    def _beat(self) -> None:
        """Renew the leases while the worker is busy with a batch."""
        while not self._stop.wait(self.interval):
            with suppress(ConfluensError):  # an outage: the leases may lapse; fenced
                self._renew_all()

    def close(self) -> None:
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
        member = self.options.member
        with self._lock:
            units = list(self.held)
            self.held.clear()
        with suppress(ConfluensError):  # unreachable store: the leases expire instead
            for unit in units:
                self.store.release(partition_lease(*unit), member)
            self.store.release(member_lease(self.options.name, member), member)
