"""Consumer-group membership as pure lease logic, on the in-memory online store with a
clock the test sets: fair shares, giving up surplus partitions when members join,
taking over a dead member's partitions after its leases expire, and fencing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from confluens.errors import LeaseLostError
from confluens.project.stream.batch_ids import BatchId
from confluens.project.stream.group import ConsumerGroup, GroupOptions, fair_share
from confluens.stores.memory import MemoryOnlineStore

UNITS = {"tx": 4, "labels": 4}  # 8 partitions in all
TTL = 30.0  # the heartbeat thread (every TTL/3 of real time) stays out of the way


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def _members(store: MemoryOnlineStore, *names: str) -> Iterator[list[ConsumerGroup]]:
    groups: list[ConsumerGroup] = []
    try:
        for name in names:
            groups.append(ConsumerGroup(store, GroupOptions("g", TTL, member=name), UNITS))
        yield groups
    finally:
        for group in groups:
            group.close()


def _refresh(*groups: ConsumerGroup, rounds: int = 2) -> None:
    for _ in range(rounds):
        for group in groups:
            group.refresh(force=True)


def _held(group: ConsumerGroup) -> set[tuple[str, int]]:
    return {(s, p) for s, n in UNITS.items() for p in group.owned(s, n).partitions}


def test_fair_share_is_the_ceiling() -> None:
    assert [fair_share(8, n) for n in (1, 2, 3, 4, 8, 9)] == [8, 4, 3, 2, 1, 1]
    assert fair_share(0, 3) == 0


def test_members_divide_the_partitions_and_give_up_surplus_as_others_join() -> None:
    clock = _Clock()
    store = MemoryOnlineStore(clock=clock)
    with _members(store, "a") as (a,):
        assert len(_held(a)) == 8, "alone, a member takes every partition"
        with _members(store, "b") as (b,):
            assert _held(b) == set(), "all taken: b waits for a to give some up"
            _refresh(a, b)
            assert (len(_held(a)), len(_held(b))) == (4, 4)
            assert not _held(a) & _held(b), "no partition has two owners"
            before = (_held(a), _held(b))
            with _members(store, "c") as (c,):
                _refresh(a, b, c)
                counts = sorted(len(_held(g)) for g in (a, b, c))
                assert counts == [2, 3, 3], "a third member: a and b give up one each"
                assert _held(a) < before[0]
                assert _held(b) < before[1]
                assert len(_held(a) | _held(b) | _held(c)) == 8
            _refresh(a, b)
            assert (len(_held(a)), len(_held(b))) == (4, 4), "c left: its share returns"
        _refresh(a)
        assert len(_held(a)) == 8
    assert store.leases("partition/") == [], "closed members release their leases"
    assert [x.name for x in store.leases("member/")] == []


def test_a_dead_members_partitions_move_after_its_leases_expire() -> None:
    clock = _Clock()
    store = MemoryOnlineStore(clock=clock)
    with _members(store, "a", "b") as (a, b):
        _refresh(a, b)
        dead = _held(a)
        a._stop.set()  # a stops renewing (as a SIGKILLed process would)
        clock.now += TTL / 2
        _refresh(b)
        assert len(_held(b)) == 4, "a's leases still hold: b keeps its share"
        clock.now += TTL / 2 + 0.001
        _refresh(b)
        assert len(_held(b)) == 8, "a's member and partition leases expired: b takes all"
        assert [x.owner for x in store.leases("member/g/")] == ["a", "b"], "a is listed"
        clock.now += TTL
        _refresh(b)
        assert [x.owner for x in store.leases("member/g/")] == ["b"], \
            "a dead member's row is forgotten a TTL after it expired"
        assert dead <= _held(b)
        epoch = b.owned("tx", 4).epoch
        source, partition = sorted(dead)[0]
        with pytest.raises(LeaseLostError, match="no longer holds its lease"):
            a.confirm(str(BatchId(source, partition, 7, 10)))  # the fence: refused
        assert (source, partition) not in _held(a), "a dropped it"
        b.confirm(BatchId("tx", 0, 1, 10).quarantine_id)  # b's own lease: renewed
        assert b.owned("tx", 4).epoch == epoch, "a renewal changes nothing held"


def test_a_lost_and_retaken_partition_changes_the_epoch() -> None:
    clock = _Clock()
    store = MemoryOnlineStore(clock=clock)
    with _members(store, "a") as (a,):
        first = a.owned("tx", 4)
        assert first.partitions == (0, 1, 2, 3)
        store.release("partition/tx:2", "a")  # as if it expired and another took it
        store.acquire("partition/tx:2", "x", TTL)
        store.release("partition/tx:2", "x")
        a.refresh(force=True)  # renewal fails (lost), then a takes it again
        again = a.owned("tx", 4)
        assert again.partitions == first.partitions
        assert again.epoch != first.epoch, "same partitions, but rebuilt from checkpoints"


@pytest.mark.parametrize(("options", "words"), [
    ({"name": "two words"}, "--group: a group name is 1 to 64 letters"),
    ({"name": ""}, "--group: a group name"),
    ({"lease_ttl": 0}, "--lease-ttl: must be a number of seconds from 0.1 to 3600"),
    ({"lease_ttl": float("nan")}, "--lease-ttl"),
    ({"member": "a/b"}, "group member: a member id is a non-empty text without '/'"),
])
def test_bad_group_options_are_refused_with_the_fix(options: dict[str, object],
                                                    words: str) -> None:
    from confluens.errors import InputError

    with pytest.raises(InputError, match=words.replace("(", r"\(")) as caught:
        GroupOptions(**options)  # type: ignore[arg-type]
    assert "Fix:" in str(caught.value)
