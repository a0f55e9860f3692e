"""What the Redis stream log adds to the conformance checks: its Redis layout (so other
tools can write to it), its own clock, and its errors."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from confluens.connectors.streams.redis_streams import RedisStreamLog
from confluens.errors import InputError, MissingExtraError, StorageError


@pytest.fixture
def topic() -> str:
    return f"redis-log-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def client(redis_url: str, topic: str) -> Iterator[Any]:
    """A plain redis-py client; afterwards, the keys of ``topic`` are removed."""
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.delete(topic, *client.scan_iter(match=f"{topic}:*"))
    client.close()


@pytest.mark.service("redis")
def test_one_partition_is_the_stream_named_topic(redis_url: str, client: Any,
                                                 topic: str) -> None:
    log = RedisStreamLog(redis_url, topic)
    log.append([("customer-7", b'{"amount": 3}'), (None, b"{}")])
    entries = client.xrange(topic)
    assert [fields for _, fields in entries] == [
        {b"key": b"customer-7", b"payload": b'{"amount": 3}'}, {b"payload": b"{}"}]
    assert client.hget(f"{topic}:meta", "partitions") == b"1"
    client.xadd(topic, {"payload": b"from another tool"})
    client.xadd(topic, {"key": "k", "payload": b"keyed", "extra": "ignored"})
    got = log.read(0, entries[-1][0].decode(), 10)
    assert [(m.key, m.payload) for m in got] == [(None, b"from another tool"), ("k", b"keyed")]
    assert got[0].published_us == int(got[0].position.split("-")[0]) * 1000
    assert log.location.startswith("redis://127.0.0.1:6379/")
    assert log.location.endswith(f"/{topic}"), "the location names the topic"
    log.close()


@pytest.mark.service("redis")
def test_partitions_are_streams_topic_colon_number(redis_url: str, client: Any,
                                                   topic: str) -> None:
    log = RedisStreamLog(redis_url, topic, partitions=3)
    log.append([(f"k{i}", b"x") for i in range(30)])
    assert sorted(client.keys(f"{topic}*")) == sorted(
        [f"{topic}:{p}".encode() for p in range(3)] + [f"{topic}:meta".encode()])
    assert client.hget(f"{topic}:meta", "partitions") == b"3"
    log.close()


@pytest.mark.service("redis")
def test_a_clock_sets_the_entry_ids_never_before_the_last(redis_url: str, client: Any,
                                                          topic: str) -> None:
    now_us = [1_700_000_000_123_456]
    log = RedisStreamLog(redis_url, topic, clock_us=lambda: now_us[0])
    log.append([("a", b"1"), ("b", b"2")])
    now_us[0] -= 5_000_000  # the clock goes back: ids stay after the last one
    log.append([("c", b"3")])
    got = log.read(0, None, 10)
    assert [m.position for m in got] == ["1700000000123-0", "1700000000123-1",
                                         "1700000000123-2"]
    assert {m.published_us for m in got} == {1_700_000_000_123_000}
    client.xadd(topic, {"payload": b"later"}, id="1800000000000-0")
    now_us[0] = 1_700_000_001_000_000
    log.append([("d", b"4")])
    assert log.last(0) == "1800000000000-1"
    log.close()


@pytest.mark.service("redis")
def test_an_entry_without_a_payload_is_a_storage_error(redis_url: str, client: Any,
                                                       topic: str) -> None:
    log = RedisStreamLog(redis_url, topic)
    client.xadd(topic, {"data": b"{}"})
    with pytest.raises(StorageError, match=r"'payload' field; got \['data'\]"):
        log.read(0, None, 10)
    log.close()


@pytest.mark.service("redis")
def test_positions_must_be_entry_ids(redis_url: str, topic: str, client: Any) -> None:
    log = RedisStreamLog(redis_url, topic)
    with pytest.raises(StorageError, match="positions are entry IDs"):
        log.read(0, "17", 10)
    log.close()


@pytest.mark.service("redis")
def test_a_key_of_another_type_is_refused_when_the_log_opens(redis_url: str, client: Any,
                                                             topic: str) -> None:
    client.set(f"{topic}:1", b"not a stream")
    with pytest.raises(InputError, match="its streams' names must hold streams"):
        RedisStreamLog(redis_url, topic, partitions=2)
    client.delete(f"{topic}:meta")
    client.set(f"{topic}:meta", b"not a hash")
    with pytest.raises(StorageError, match="Redis refused the command"):
        RedisStreamLog(redis_url, topic, partitions=2)


def test_a_url_that_is_not_redis_is_an_input_error() -> None:
    with pytest.raises(InputError, match="the URL must be a Redis URL") as raised:
        RedisStreamLog("http://user:pw123@127.0.0.1/", "tx")
    assert "pw123" not in str(raised.value), "the message never shows a password"


def test_partitions_and_topic_are_checked() -> None:
    with pytest.raises(InputError, match="partitions must be at least 1"):
        RedisStreamLog("redis://127.0.0.1:1/0", "tx", partitions=0)
    with pytest.raises(InputError, match="a topic names its stream"):
        RedisStreamLog("redis://127.0.0.1:1/0", "")


def test_without_redis_installed_the_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(MissingExtraError, match=r"confluens\[redis\]"):
        RedisStreamLog("redis://127.0.0.1:6379/0", "tx")
