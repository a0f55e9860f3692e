"""Test helpers for the MQTT bridge: a device publisher (its own paho client), the
session cleaner, and a log that fails on purpose."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.properties import Properties

from confluens.connectors.streams.protocol import Message, StreamLog
from confluens.errors import StorageError


def _client(client_id: str) -> mqtt.Client:
    return mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                       protocol=MQTTProtocolVersion.MQTTv5)


def _connect(client: mqtt.Client, url: str, *, clean: bool = True,
             properties: Properties | None = None) -> None:
    parts = urlsplit(url)
    connected = threading.Event()
    client.on_connect = lambda *args: connected.set()
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883, clean_start=clean,
                   properties=properties)
    client.loop_start()
    assert connected.wait(10), f"no CONNACK from {url}"


def publish(url: str, topic_of, payloads: Sequence[bytes], *, client_id: str) -> None:
    """Publish ``payloads`` with QoS 1 (``topic_of(i)`` names each one's topic) and
    return once the broker has acknowledged every one."""
    client = _client(client_id)
    _connect(client, url)
    try:
        infos = [client.publish(topic_of(i), p, qos=1) for i, p in enumerate(payloads)]
        for info in infos:
            info.wait_for_publish(timeout=30)
            assert info.is_published(), f"message {info.mid} not acknowledged by {url}"
    finally:
        client.disconnect()
        client.loop_stop()


def forget_session(url: str, client_id: str) -> None:
    """Remove the broker's persistent session of ``client_id`` (clean start, expiry 0)."""
    client = _client(client_id)
    _connect(client, url, clean=True)
    client.disconnect()
    client.loop_stop()


def reading(device: str, seq: int) -> bytes:
    return json.dumps({"device": device, "seq": seq, "temperature": 20 + seq % 7}).encode()


def all_messages(log: StreamLog) -> list[Message]:
    out: list[Message] = []
    for p in range(log.partitions):
        after = None
        while batch := log.read(p, after, 1000):
            out += batch
            after = batch[-1].position
    return out


def wait_for_payloads(log: StreamLog, expected: set[bytes], timeout_s: float) -> list[Message]:
    """Wait until ``log`` holds every payload of ``expected`` (a bridge's ``landed``
    counts copies too, so it cannot tell); return the log's messages."""
    deadline = time.monotonic() + timeout_s
    while True:
        messages = all_messages(log)
        if expected <= {m.payload for m in messages} or time.monotonic() > deadline:
            return messages
        time.sleep(0.05)


class FailingLog:
    """Appends to ``inner``; the append number ``fail_at`` (1, 2, ...) raises, before
    appending (``after=False``) or after (``after=True``: the crash between append and
    acknowledgement)."""

    def __init__(self, inner: StreamLog, fail_at: int, *, after: bool) -> None:
        self.inner, self.fail_at, self.after = inner, fail_at, after
        self.partitions = inner.partitions
        self.calls = 0

    @property
    def location(self) -> str:
        return self.inner.location

    def append(self, messages: Sequence[tuple[str | None, bytes]]) -> int:
        self.calls += 1
        if self.calls == self.fail_at:
            if self.after:
                self.inner.append(messages)
            raise StorageError("failing test log", "fails on purpose", got=self.calls,
                               fix="none: the test checks redelivery")
        return self.inner.append(messages)

    def read(self, partition: int, after: str | None, limit: int, *,
             wait_ms: int = 0) -> list[Message]:
        return self.inner.read(partition, after, limit, wait_ms=wait_ms)

    def last(self, partition: int) -> str | None:
        return self.inner.last(partition)

    def close(self) -> None:
        self.inner.close()
