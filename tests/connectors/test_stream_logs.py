"""Every stream log passes the shipped conformance checks: the embedded log and each
broker's log on its real server, one named check at a time."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from confluens.connectors.streams import EmbeddedLog, Message, StreamLog
from confluens.connectors.streams.conformance import (
    LOG_CHECKS,
    LogCheck,
    LogFactory,
    check_stream_log,
)


@pytest.fixture
def embedded_logs(tmp_path: Path) -> LogFactory:
    def make(topic: str, partitions: int) -> StreamLog:
        return EmbeddedLog(tmp_path / f"{topic}.log", topic, partitions=partitions)
    return make


@pytest.fixture
def redis_logs(redis_url: str) -> Iterator[LogFactory]:
    import redis

    from confluens.connectors.streams.redis_streams import RedisStreamLog

    topics: list[str] = []

    def make(topic: str, partitions: int) -> StreamLog:
        topics.append(topic)
        return RedisStreamLog(redis_url, topic, partitions=partitions)

    yield make
    client = redis.Redis.from_url(redis_url)
    for topic in set(topics):  # the stream, or topic:<p> and topic:meta
        client.delete(topic, *client.scan_iter(match=f"{topic}:*"))
    client.close()


@pytest.fixture
def nats_logs(nats_url: str) -> Iterator[LogFactory]:
    from confluens.connectors.streams.nats_jetstream import NatsLog

    made: dict[str, int] = {}

    def make(topic: str, partitions: int) -> StreamLog:
        made.setdefault(topic, partitions)
        return NatsLog(nats_url, topic, partitions=partitions)

    yield make
    for topic, partitions in made.items():  # the checks close their logs: reopen to delete
        with contextlib.suppress(Exception):
            log = NatsLog(nats_url, topic, partitions=partitions)
            log.delete()
            log.close()


# one factory fixture per kind of log; a broker's carries its service marker
LOGS = [
    pytest.param("embedded_logs", id="embedded"),
    pytest.param("redis_logs", id="redis", marks=pytest.mark.service("redis")),
    pytest.param("nats_logs", id="nats", marks=pytest.mark.service("nats")),
]


@pytest.mark.parametrize("check", LOG_CHECKS, ids=[c.name for c in LOG_CHECKS])
@pytest.mark.parametrize("logs", LOGS)
def test_stream_log(request: pytest.FixtureRequest, logs: str, check: LogCheck) -> None:
    make_log: LogFactory = request.getfixturevalue(logs)
    check.run(make_log, "conformance-")


def test_the_checks_run_one_after_another(embedded_logs: LogFactory) -> None:
    assert check_stream_log(embedded_logs) == [c.name for c in LOG_CHECKS]


# -- the checks catch a log that breaks the contract ---------------------------------

class _Broken:
    """An embedded log with one behaviour broken, to show the check that catches it."""

    def __init__(self, log: EmbeddedLog, breaks: str) -> None:
        self._log = log
        self._breaks = breaks
        self.partitions = log.partitions
        self._reads = 0

    @property
    def location(self) -> str:
        return self._log.location

    def append(self, messages: list[tuple[str | None, bytes]]) -> int:
        if self._breaks == "truncates":
            messages = [(key, payload[:65536]) for key, payload in messages]
        if self._breaks == "one_partition":
            messages = [(None, payload) for _, payload in messages]
        return self._log.append(messages)

    def read(self, partition: int, after: str | None, limit: int, *,
             wait_ms: int = 0) -> list[Message]:
        if self._breaks == "inclusive" and after is not None:
            after = str(int(after) - 1)
        if self._breaks == "no_wait":
            wait_ms = 0
        got = self._log.read(partition, after, limit, wait_ms=wait_ms)
        self._reads += 1
        if self._breaks == "unstable" and self._reads % 2 == 0:
            return got[:-1]
        return got

    def last(self, partition: int) -> str | None:
        return self._log.last(partition)

    def close(self) -> None:
        self._log.close()


@pytest.mark.parametrize(("breaks", "caught_by"), [
    ("truncates", "binary"), ("inclusive", "read_after"), ("unstable", "replay"),
    ("no_wait", "wait"), ("one_partition", "routing"), ("one_partition", "order")])
def test_a_broken_log_fails_the_check(embedded_logs: LogFactory, breaks: str,
                                      caught_by: str) -> None:
    def make(topic: str, partitions: int) -> StreamLog:
        log = embedded_logs(topic, partitions)
        assert isinstance(log, EmbeddedLog)
        return _Broken(log, breaks)

    (check,) = [c for c in LOG_CHECKS if c.name == caught_by]
    with pytest.raises(AssertionError):
        check.run(make, "broken-")
