"""The conformance checks every stream log must pass, the embedded one and each broker's.

A log is given as a factory, ``make_log(topic, partitions) -> StreamLog``, that opens
the topic ``topic`` with ``partitions`` partitions (creating it when it is new) over a
connection of its own. The checks name their topics themselves (a fresh name per
check, ``prefix`` then random hex, valid for every broker), and open a topic a second
time when they need two clients of one topic::

    from confluens.connectors.streams.conformance import check_stream_log
    check_stream_log(lambda topic, partitions: MyLog(URL, topic, partitions=partitions))

or one at a time (``LOG_CHECKS``, each a named :class:`LogCheck`). A check closes the
logs it opens; removing the topics it made is the caller's (``LogCheck.run`` returns
nothing; the factory sees every topic name). No check sleeps to synchronise: waiting
readers are threads joined on their result.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from confluens.connectors.streams.protocol import Message, StreamLog, partition_of
from confluens.errors import InputError

__all__ = ["LOG_CHECKS", "LogCheck", "LogFactory", "check_stream_log"]

LogFactory = Callable[[str, int], StreamLog]
"""``make_log(topic, partitions)``: the topic opened over a new connection."""

_KEYS = ("customer-1", "customer-2", "customer-3", "customer-4", "customer-5", None)
_LONG_WAIT_MS = 30_000


@dataclass(frozen=True, slots=True)
class LogCheck:
    """One named check; ``run(make_log, prefix)`` raises AssertionError on a failure."""

    name: str
    run: Callable[[LogFactory, str], None]

    def __repr__(self) -> str:
        return f"LogCheck({self.name!r})"


def _topic(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


@contextmanager
def _opened(make_log: LogFactory, topic: str, partitions: int) -> Iterator[StreamLog]:
    log = make_log(topic, partitions)
    try:
        yield log
    finally:
        log.close()


def _read_all(log: StreamLog, partition: int, after: str | None = None,
              page: int = 1000) -> list[Message]:
    out: list[Message] = []
    while True:
        got = log.read(partition, after, page)
        if not got:
            return out
        out.extend(got)
        after = got[-1].position


def _messages(n: int, tag: str) -> list[tuple[str | None, bytes]]:
    return [(_KEYS[i % len(_KEYS)], f'{{"{tag}": {i}}}'.encode()) for i in range(n)]


def check_order(make_log: LogFactory, prefix: str) -> None:
    """Each partition gives its messages in append order, across appends, with the
    key, the payload, its partition, distinct text positions and a publication time."""
    with _opened(make_log, _topic(prefix), 3) as log:
        assert log.partitions == 3
        assert log.append([]) == 0, "an empty append appends nothing"
        first, second = _messages(40, "a"), _messages(25, "b")
        assert log.append(first) == 40
        assert log.append(second) == 25
        for p in range(3):
            expected = [m for m in first + second if partition_of(m[0], 3) == p]
            got = _read_all(log, p)
            assert [(m.key, m.payload) for m in got] == expected, f"partition {p} in order"
            assert all(m.partition == p for m in got)
            assert all(isinstance(m.position, str) for m in got)
            assert len({m.position for m in got}) == len(got), "positions are distinct"
            assert all(isinstance(m.published_us, int) and m.published_us > 0 for m in got)


def check_read_after(make_log: LogFactory, prefix: str) -> None:
    """``read`` gives up to ``limit`` messages after a position; paging with it walks
    the partition once; after the last message there is nothing."""
    with _opened(make_log, _topic(prefix), 1) as log:
        log.append([(None, str(i).encode()) for i in range(5000)])
        assert log.read(0, None, 0) == [], "limit 0 reads nothing"
        head = log.read(0, None, 7)
        assert [m.payload for m in head] == [str(i).encode() for i in range(7)]
        after = log.read(0, head[2].position, 3)
        assert [m.payload for m in after] == [b"3", b"4", b"5"]
        pages = [len(got) for got in _pages(log, 0, 1500)]
        assert pages == [1500, 1500, 1500, 500], "limit bounds every page"
        every = _read_all(log, 0, page=1500)
        assert [m.payload for m in every] == [str(i).encode() for i in range(5000)]
        assert log.read(0, every[-1].position, 10) == [], "nothing after the last message"


def _pages(log: StreamLog, partition: int, page: int) -> Iterator[list[Message]]:
    after = None
    while got := log.read(partition, after, page):
        yield got
        after = got[-1].position


def check_replay(make_log: LogFactory, prefix: str) -> None:
    """Reading twice from one position gives the same messages (replay determinism),
    from this log object and from another one on the topic."""
    topic = _topic(prefix)
    with _opened(make_log, topic, 2) as log, _opened(make_log, topic, 2) as other:
        log.append(_messages(30, "r"))
        for p in range(2):
            start = log.read(p, None, 4)[-1].position
            once = log.read(p, start, 100)
            assert once, "messages follow the position"
            assert log.read(p, start, 100) == once, "a second read repeats the first"
            assert other.read(p, start, 100) == once, "every client reads the same"


def check_last(make_log: LogFactory, prefix: str) -> None:
    """``last`` is None for an empty partition, else its last message's position."""
    with _opened(make_log, _topic(prefix), 2) as log:
        assert [log.last(p) for p in range(2)] == [None, None]
        log.append([(None, b"0")])
        last_of_0 = log.read(0, None, 10)[-1].position
        assert log.last(0) == last_of_0
        assert log.last(1) is None, "partition 1 is still empty"
        log.append(_messages(12, "l"))
        for p in range(2):
            got = _read_all(log, p)
            assert log.last(p) == (got[-1].position if got else None)


def check_routing(make_log: LogFactory, prefix: str) -> None:
    """A message goes to ``partition_of(key, partitions)``; a key of None to partition
    0, read back as None; text keys read back as written."""
    with _opened(make_log, _topic(prefix), 4) as log:
        keys: list[str | None] = [*(f"k{i}" for i in range(40)), None, "clé-é", ""]
        log.append([(key, b"x") for key in keys])
        for p in range(4):
            got = [m.key for m in _read_all(log, p)]
            assert got == [k for k in keys if partition_of(k, 4) == p], f"partition {p}"
        assert None in [m.key for m in _read_all(log, 0)], "key None goes to partition 0"
        assert {partition_of(k, 4) for k in keys} == {0, 1, 2, 3}, "the keys span 4"


def check_partition_range(make_log: LogFactory, prefix: str) -> None:
    """A partition outside ``0 .. partitions - 1`` is refused with InputError."""
    with _opened(make_log, _topic(prefix), 2) as log:
        calls: list[tuple[str, Callable[[int], object]]] = [
            ("read", lambda p: log.read(p, None, 1)), ("last", log.last)]
        for bad in (-1, 2):
            for name, call in calls:
                try:
                    call(bad)
                except InputError:
                    continue
                raise AssertionError(f"{name} of partition {bad} of 2 must raise InputError")


def check_wait(make_log: LogFactory, prefix: str) -> None:
    """A read with ``wait_ms`` returns [] after the wait when nothing comes, and
    returns a message another connection appends while it waits, before its wait is
    over."""
    topic = _topic(prefix)
    with _opened(make_log, topic, 2) as log, _opened(make_log, topic, 2) as writer:
        assert log.read(0, None, 10, wait_ms=50) == [], "nothing came: []"
        writer.append([(None, b"first")])
        first = log.read(0, None, 10, wait_ms=50)
        assert [m.payload for m in first] == [b"first"], "a message there: no wait"
        assert log.read(0, first[0].position, 10, wait_ms=50) == []
        got: list[Message] = []
        failed: list[BaseException] = []
        reading = threading.Event()

        def wait_for_next() -> None:
            try:
                reading.set()
                got.extend(log.read(0, first[0].position, 10, wait_ms=_LONG_WAIT_MS))
            except BaseException as exc:  # reported from the main thread
                failed.append(exc)

        reader = threading.Thread(target=wait_for_next, daemon=True)
        reader.start()
        reading.wait()
        writer.append([(None, b"second")])
        reader.join(timeout=_LONG_WAIT_MS / 1000 * 0.8)
        assert not reader.is_alive(), "a waiting read returns when a message arrives"
        assert not failed, f"the waiting read raised {failed[0]!r}"
        assert [m.payload for m in got] == [b"second"]


def check_binary(make_log: LogFactory, prefix: str) -> None:
    """Payloads are bytes, round-tripped byte for byte: every byte value, empty, and
    1 MiB, or the largest a log takes (its ``max_payload``, e.g. a NATS server's)."""
    with _opened(make_log, _topic(prefix), 1) as log:
        big = os.urandom(min(1 << 20, int(getattr(log, "max_payload", 1 << 20))))
        payloads = [bytes(range(256)), b"", b"\x00", b"\xff\xfe{not json", big, big[::-1]]
        log.append([("k", p) for p in payloads])
        got = _read_all(log, 0, page=2)
        assert len(got) == len(payloads)
        for i, (message, sent) in enumerate(zip(got, payloads, strict=True)):
            assert type(message.payload) is bytes, "payloads read back as bytes"
            assert message.payload == sent, f"payload {i} ({len(sent)} bytes) round-trips"


def check_partition_count(make_log: LogFactory, prefix: str) -> None:
    """A topic keeps the partition count it was created with: opening it with another
    is refused (InputError); with the same count, it opens with its messages."""
    topic = _topic(prefix)
    with _opened(make_log, topic, 2) as log:
        log.append(_messages(6, "c"))
        for other in (1, 3):
            try:
                make_log(topic, other).close()
            except InputError:
                continue
            raise AssertionError(f"a topic of 2 partitions opened with {other} must raise")
        with _opened(make_log, topic, 2) as again:
            assert sum(len(_read_all(again, p)) for p in range(2)) == 6


def check_shared_topic(make_log: LogFactory, prefix: str) -> None:
    """Two log objects on one topic see each other's appends, in one order."""
    topic = _topic(prefix)
    with _opened(make_log, topic, 2) as a, _opened(make_log, topic, 2) as b:
        a.append([("customer-1", b"a1")])
        b.append([("customer-1", b"b1")])
        a.append([("customer-1", b"a2")])
        p = partition_of("customer-1", 2)
        assert [m.payload for m in _read_all(a, p)] == [b"a1", b"b1", b"a2"]
        assert _read_all(b, p) == _read_all(a, p), "both clients read one order"
        assert a.last(p) == b.last(p)


LOG_CHECKS = (
    LogCheck("order", check_order),
    LogCheck("read_after", check_read_after),
    LogCheck("replay", check_replay),
    LogCheck("last", check_last),
    LogCheck("routing", check_routing),
    LogCheck("partition_range", check_partition_range),
    LogCheck("wait", check_wait),
    LogCheck("binary", check_binary),
    LogCheck("partition_count", check_partition_count),
    LogCheck("shared_topic", check_shared_topic),
)


def check_stream_log(make_log: LogFactory, prefix: str = "conformance-") -> list[str]:
    """Every check, each on topics of its own named ``prefix`` + random hex; returns
    the names of the checks run."""
    for check in LOG_CHECKS:
        check.run(make_log, prefix)
    return [check.name for check in LOG_CHECKS]
