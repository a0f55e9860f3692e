"""MqttBridge against the real Mosquitto on 127.0.0.1:1883: messages published by a
separate client land in an embedded log, in order per key, at least once, and what a
stopped or failed bridge did not acknowledge comes again on its next run."""

from __future__ import annotations

import json
import sys
import threading
import uuid
from collections import defaultdict
from pathlib import Path

import pytest

from confluens.connectors.streams import EmbeddedLog, partition_of
from confluens.errors import InputError, MissingExtraError, StorageError

pytest.importorskip("paho.mqtt.client")

from confluens.connectors.streams.mqtt_bridge import MqttBridge
from tests.connectors.mqtt_helpers import (
    FailingLog,
    all_messages,
    forget_session,
    publish,
    reading,
    wait_for_payloads,
)

pytestmark = pytest.mark.service("mqtt")

DEVICES = [f"d-{i}" for i in range(10)]


@pytest.fixture
def names(mqtt_url: str):
    """A topic prefix and a bridge client id of this test's own; the broker's session
    of that id is removed afterwards."""
    tag = uuid.uuid4().hex[:10]
    yield f"confluens-test/{tag}", f"bridge-{tag}"
    forget_session(mqtt_url, f"bridge-{tag}")


@pytest.fixture
def log(tmp_path: Path):
    log = EmbeddedLog(tmp_path / "devices.log", "devices", partitions=4)
    yield log
    log.close()


def device_readings(count: int, start: int = 0) -> list[bytes]:
    """Readings of ten devices, each device's numbered 0, 1, 2, ... in order."""
    return [reading(DEVICES[i % 10], i // 10) for i in range(start, start + count)]


def topic_of(base: str):
    return lambda i: f"{base}/{DEVICES[i % 10]}/telemetry"


def assert_in_order_per_device(messages) -> None:
    seqs: dict[str, list[int]] = defaultdict(list)
    for m in sorted(messages, key=lambda m: (m.partition, int(m.position))):
        body = json.loads(m.payload)
        assert m.key == body["device"]
        assert m.partition == partition_of(body["device"], 4)
        seqs[body["device"]].append(body["seq"])
    assert all(s == list(range(len(s))) for s in seqs.values()), seqs


def test_two_thousand_messages_land_once_each_in_order_per_key(mqtt_url, names, log):
    base, client_id = names
    bridge = MqttBridge(mqtt_url, f"{base}/+/telemetry", log, key_field="device",
                        client_id=client_id, batch_size=250)
    bridge.start()
    try:
        assert bridge.wait_subscribed(10)
        publish(mqtt_url, lambda i: f"{base}/d-0/other", [b"not matched"],
                client_id=f"{client_id}-device-other")
        sent = device_readings(2000)
        publish(mqtt_url, topic_of(base), sent, client_id=f"{client_id}-devices")
        assert bridge.wait_landed(2000, timeout_s=60)
    finally:
        bridge.stop()
    assert bridge.landed == 2000
    messages = all_messages(log)
    assert sorted(m.payload for m in messages) == sorted(sent)
    assert_in_order_per_device(messages)


def test_keys_come_from_the_json_field_and_no_message_is_dropped(mqtt_url, names, log):
    base, client_id = names
    bridge = MqttBridge(mqtt_url, f"{base}/#", log, key_field="device",
                        client_id=client_id)
    payloads = [b"not json", b"[1, 2]", b'{"other": 1}', b'{"device": 7}',
                b'{"device": "d-1"}', b'{"device": null}', b"\xff\xfe"]
    bridge.start()
    try:
        assert bridge.wait_subscribed(10)
        publish(mqtt_url, lambda i: f"{base}/any/level/{i}", payloads,
                client_id=f"{client_id}-device")
        assert bridge.wait_landed(len(payloads), timeout_s=30)
    finally:
        bridge.stop()
    keys = {m.payload: m.key for m in all_messages(log)}
    assert keys == {b"not json": None, b"[1, 2]": None, b'{"other": 1}': None,
                    b'{"device": 7}': "7", b'{"device": "d-1"}': "d-1",
                    b'{"device": null}': None, b"\xff\xfe": None}


def test_a_stopped_bridge_gets_what_was_published_meanwhile_without_copies(
        mqtt_url, names, log):
    base, client_id = names
    bridge = MqttBridge(mqtt_url, f"{base}/+/telemetry", log, key_field="device",
                        client_id=client_id, batch_size=64)
    bridge.start()
    try:
        assert bridge.wait_subscribed(10)
        publish(mqtt_url, topic_of(base), device_readings(300), client_id=f"{client_id}-d")
        assert bridge.wait_landed(300, timeout_s=30)
    finally:
        bridge.stop()
    # the broker queues these for the bridge's persistent session while it is stopped
    publish(mqtt_url, topic_of(base), device_readings(200, start=300),
            client_id=f"{client_id}-d")
    bridge.start()
    try:
        assert bridge.wait_landed(500, timeout_s=30)
    finally:
        bridge.stop()
    messages = all_messages(log)
    assert len(messages) == bridge.landed == 500
    assert sorted(m.payload for m in messages) == sorted(device_readings(500))
    assert_in_order_per_device(messages)


@pytest.mark.parametrize("appended", [False, True], ids=["before-append", "after-append"])
def test_unacknowledged_messages_come_again_after_a_failed_append(
        mqtt_url, names, log, appended):
    base, client_id = names
    failing = FailingLog(log, fail_at=2, after=appended)
    failed = threading.Event()
    original = failing.append

    def append(messages):
        try:
            return original(messages)
        except StorageError:
            failing.failed_size = len(messages)
            failed.set()
            raise

    failing.append = append
    first = MqttBridge(mqtt_url, f"{base}/+/telemetry", failing, key_field="device",
                       client_id=client_id, batch_size=50)
    first.start()
    assert first.wait_subscribed(10)
    sent = device_readings(500)
    publish(mqtt_url, topic_of(base), sent, client_id=f"{client_id}-d")
    assert failed.wait(30)
    with pytest.raises(StorageError, match="fails on purpose"):
        first.stop()

    second = MqttBridge(mqtt_url, f"{base}/+/telemetry", log, key_field="device",
                        client_id=client_id, batch_size=50)
    second.start()
    try:
        messages = wait_for_payloads(log, set(sent), timeout_s=30)
    finally:
        second.stop()
    assert {m.payload for m in messages} == set(sent)  # nothing lost
    messages = all_messages(log)
    copies = failing.failed_size if appended else 0  # appended, never acknowledged
    assert len(messages) == first.landed + second.landed + copies


def test_arguments_are_checked(mqtt_url, log):
    def bridge(**changes):
        args = {"url": mqtt_url, "topic_pattern": "a/+/b", "log": log,
                "key_field": None, "client_id": "c"} | changes
        return MqttBridge(args.pop("url"), args.pop("topic_pattern"), args.pop("log"),
                          **args)

    for pattern in ["", "a/#/b", "a+/b", "a/b#", "a/\0"]:
        with pytest.raises(InputError, match="whole level") as info:
            bridge(topic_pattern=pattern)
        assert info.value.got == pattern
    assert bridge(topic_pattern="#").topic_pattern == "#"
    with pytest.raises(InputError, match="fixed client id"):
        bridge(client_id="")
    with pytest.raises(InputError, match="batch_size"):
        bridge(batch_size=0)
    with pytest.raises(InputError, match="max_in_flight"):
        bridge(max_in_flight=70_000)
    with pytest.raises(InputError, match=r"mqtt://host"):
        bridge(url="http://127.0.0.1:1883")


def test_a_bridge_that_never_connects_still_stops(log):
    bridge = MqttBridge("mqtt://127.0.0.1:1", "a/#", log, key_field=None,
                        client_id=f"never-{uuid.uuid4().hex[:8]}")
    bridge.start()
    assert not bridge.wait_subscribed(0.2)
    bridge.stop()
    assert bridge.landed == 0


def test_the_extra_is_named_when_paho_is_missing(monkeypatch, log):
    monkeypatch.setitem(sys.modules, "paho.mqtt.client", None)
    with pytest.raises(MissingExtraError, match=r"confluens\[mqtt\]"):
        MqttBridge("mqtt://127.0.0.1:1883", "a/#", log, key_field=None, client_id="c")
