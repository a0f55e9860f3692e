"""NatsLog against the real NATS JetStream server on 127.0.0.1:4222: the StreamLog
properties (order, partitions, exact reads, positions, waiting, durability across
objects, refusals), each test on a stream of its own, deleted afterwards."""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from confluens.connectors.streams.protocol import Message, partition_of
from confluens.errors import InputError, MissingExtraError, StorageError

pytestmark = pytest.mark.service("nats")

nats_jetstream = pytest.importorskip("confluens.connectors.streams.nats_jetstream")
NatsLog = nats_jetstream.NatsLog


@pytest.fixture
def topic() -> str:
    return f"test.{uuid.uuid4().hex[:12]}"


@pytest.fixture
def open_log(nats_url: str, topic: str) -> Iterator[Callable[..., object]]:
    """Open logs on this test's topic (or another); every stream is deleted after."""
    opened: list = []

    def open_(partitions: int = 1, name: str | None = None, **options: object):
        log = NatsLog(nats_url, name or topic, partitions=partitions, **options)
        opened.append(log)
        return log

    yield open_
    for log in reversed(opened):
        with contextlib.suppress(StorageError):  # closed already (test_closing_twice...)
            log.delete()
        log.close()


def read_all(log, partition: int, after: str | None = None, page: int = 1000) -> list[Message]:
    out: list[Message] = []
    while batch := log.read(partition, after, page):
        out += batch
        after = batch[-1].position
    return out


def payload(i: int) -> bytes:
    return json.dumps({"id": i, "amount": i * 1.5}).encode()


def test_messages_go_to_the_partition_of_their_key_in_order(open_log):
    log = open_log(partitions=4)
    sent = [(f"customer-{i % 13}", payload(i)) for i in range(2500)]
    assert log.append(sent) == 2500
    seen = []
    for p in range(4):
        messages = read_all(log, p, page=333)
        assert all(partition_of(m.key, 4) == p and m.partition == p for m in messages)
        positions = [int(m.position) for m in messages]
        assert positions == sorted(positions)
        assert len(set(positions)) == len(positions)
        seen += messages
    assert sorted((m.key, m.payload) for m in seen) == sorted(sent)
    for key in {k for k, _ in sent}:  # one key's messages in the order they were sent
        mine = [m for m in seen if m.key == key]
        assert [m.payload for m in sorted(mine, key=lambda m: int(m.position))] == \
            [p for k, p in sent if k == key]


def test_reading_twice_from_a_position_gives_the_same_messages(open_log):
    log = open_log(partitions=2)
    log.append([(str(i % 5), payload(i)) for i in range(300)])
    whole = read_all(log, 1)
    middle = whole[40].position
    assert log.read(1, middle, 25) == whole[41:66]
    assert log.read(1, None, 10) == whole[:10]      # back to the start: a new consumer
    assert log.read(1, middle, 25) == whole[41:66]  # and forward again
    assert log.read(1, whole[9].position, 5) == whole[10:15]
    assert log.read(1, whole[-1].position, 10) == []
    assert log.read(1, None, 0) == []


def test_a_second_object_sees_what_the_first_appended(open_log):
    writer, reader = open_log(partitions=3), open_log(partitions=3)
    writer.append([("k", b"one"), ("k", b"two")])
    p = partition_of("k", 3)
    first = reader.read(p, None, 10)
    assert [m.payload for m in first] == [b"one", b"two"]
    writer.append([("k", b"three")])
    (third,) = reader.read(p, first[-1].position, 10)
    assert third.payload == b"three"
    assert reader.last(p) == writer.last(p) == third.position


def test_last_is_the_position_of_the_partitions_last_message(open_log):
    log = open_log(partitions=2)
    assert log.last(0) is None
    assert log.last(1) is None
    log.append([("a", b"1"), ("b", b"2"), ("c", b"3"), ("d", b"4")])
    for p in range(2):
        messages = read_all(log, p)
        assert log.last(p) == (messages[-1].position if messages else None)


def test_keys_and_payloads_survive_the_headers(open_log):
    keys = [None, "", " padded ", "line\nbreak", "é-ünïcode-✓", "a:b/c%20d", "x" * 300]
    log = open_log()
    log.append([(k, bytes([i, 0, 255, 10, 13])) for i, k in enumerate(keys)])
    messages = log.read(0, None, 100)
    assert [m.key for m in messages] == keys
    assert [m.payload for m in messages] == [bytes([i, 0, 255, 10, 13]) for i in range(7)]


def test_published_us_is_the_servers_store_time_in_microseconds(open_log):
    log = open_log()
    before = time.time_ns() // 1000
    log.append([(None, b"x"), (None, b"y")])
    after = time.time_ns() // 1000
    first, second = log.read(0, None, 2)
    # same machine: the server's clock is ours (a minute of slack for rounding)
    assert before - 60_000_000 <= first.published_us <= second.published_us
    assert second.published_us <= after + 60_000_000


def test_a_read_waits_for_a_first_message(open_log, nats_url, topic):
    log = open_log()
    assert log.read(0, None, 10, wait_ms=50) == []
    writer = NatsLog(nats_url, topic)
    appended = threading.Event()

    def append_later() -> None:
        writer.append([("k", b"late")])
        appended.set()

    timer = threading.Timer(0.2, append_later)
    timer.start()
    try:
        # whether the append lands before or during the wait, the read returns it
        messages = log.read(0, None, 10, wait_ms=20_000)
    finally:
        timer.join()
        writer.close()
    assert appended.is_set()
    assert [m.payload for m in messages] == [b"late"]
    assert log.read(0, messages[0].position, 10, wait_ms=50) == []


def test_reads_and_appends_from_two_threads(open_log):
    log = open_log(partitions=2)
    done = threading.Event()
    got: list[Message] = []

    def consume() -> None:
        after = None
        while len(got) < 1000:
            batch = log.read(0, after, 64, wait_ms=5_000)
            if not batch and done.is_set():
                break
            got.extend(batch)
            after = batch[-1].position if batch else after

    reader = threading.Thread(target=consume)
    reader.start()
    for start in range(0, 1000, 100):
        log.append([(None, payload(i)) for i in range(start, start + 100)])
    done.set()
    reader.join()
    assert [m.payload for m in got] == [payload(i) for i in range(1000)]


def test_reopening_keeps_messages_and_refuses_another_partition_count(open_log):
    log = open_log(partitions=3)
    log.append([("a", b"kept")])
    log.close()
    again = open_log(partitions=3)
    assert [m.payload for m in again.read(partition_of("a", 3), None, 5)] == [b"kept"]
    with pytest.raises(InputError, match="partitions it was created with") as info:
        open_log(partitions=2)
    assert info.value.got == 2
    assert "partitions=3" in info.value.fix


def test_a_stream_name_shared_by_two_topics_is_refused(open_log, topic):
    open_log()
    other = topic.replace(".", "_")  # test.abc and test_abc map to one stream name
    with pytest.raises(InputError, match="created for this topic"):
        open_log(name=other)


def test_subjects_held_by_another_stream_are_refused(open_log, nats_url, topic):
    import asyncio

    import nats

    async def squat() -> None:  # a stream of someone else's on this topic's subjects
        nc = await nats.connect(nats_url)
        await nc.jsm().add_stream(name=f"other_{topic.replace('.', '_')}",
                                  subjects=[f"{topic}.0"])
        await nc.close()

    async def unsquat() -> None:
        nc = await nats.connect(nats_url)
        await nc.jsm().delete_stream(f"other_{topic.replace('.', '_')}")
        await nc.close()

    asyncio.run(squat())
    try:
        with pytest.raises(InputError, match="another stream holds these subjects"):
            open_log()
    finally:
        asyncio.run(unsquat())


@pytest.mark.parametrize("bad", ["", "a b", "tx.*", "tx.>", "tx..y", ".tx"])
def test_a_topic_must_be_a_subject_without_wildcards(nats_url, bad):
    with pytest.raises(InputError, match="must be a NATS subject") as info:
        NatsLog(nats_url, bad)
    assert info.value.got == bad


def test_arguments_are_checked(open_log, nats_url, topic):
    with pytest.raises(InputError, match="at least 1"):
        NatsLog(nats_url, topic, partitions=0)
    with pytest.raises(InputError, match="reconnect_attempts must be at least 1"):
        NatsLog(nats_url, topic, reconnect_attempts=0)
    log = open_log(partitions=2)
    with pytest.raises(InputError, match="out of range"):
        log.read(2, None, 1)
    with pytest.raises(InputError, match="out of range"):
        log.last(-1)
    with pytest.raises(StorageError, match="stream sequence numbers"):
        log.read(0, "1700000000000-0", 1)


def test_a_message_larger_than_max_payload_is_refused_before_sending(open_log):
    log = open_log()
    with pytest.raises(InputError, match="max_payload"):
        log.append([("k", b"x" * (log.max_payload + 200))])
    log.append([("k", b"small"), ("k" * 100, b"y" * log.max_payload)])  # still connected
    assert [len(m.payload) for m in log.read(0, None, 5)] == [5, log.max_payload]


def test_no_server_is_a_storage_error_naming_the_fix():
    with pytest.raises(StorageError, match="cannot connect") as info:
        NatsLog("nats://127.0.0.1:1", "tx", timeout_s=1, reconnect_attempts=1,
                reconnect_wait_s=0.05)
    assert "nats-server -js" in info.value.fix


def test_location_names_server_and_topic_never_credentials(open_log, nats_url, topic):
    assert open_log().location == f"{nats_url.rstrip('/')}/{topic}"
    log = NatsLog(nats_url.replace("nats://", "nats://user:secret@"), topic)
    try:
        assert "secret" not in log.location
        assert "user" not in log.location
    finally:
        log.close()


def test_closing_twice_is_harmless(nats_url, topic):
    log = NatsLog(nats_url, topic)
    log.delete()
    log.close()
    log.close()
    with pytest.raises(StorageError, match="closed"):
        log.last(0)


def test_the_extra_is_named_when_nats_py_is_missing(monkeypatch, topic):
    monkeypatch.setitem(sys.modules, "nats", None)
    with pytest.raises(MissingExtraError, match=r"confluens\[nats\]"):
        NatsLog("nats://127.0.0.1:4222", topic)
