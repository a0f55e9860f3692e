"""A NatsLog and an MqttBridge made before their broker stops and starts again
reconnect and go on, losing nothing the broker acknowledged; a NatsLog whose server
stays down raises StorageError once its retry budget is spent. Each test runs a broker
of its own (tests/connectors/broker_processes.py), killed in a finalizer."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from confluens.connectors.streams import EmbeddedLog, partition_of
from confluens.errors import StorageError
from tests.connectors.broker_processes import BrokerProcess, mosquitto, nats_server

pytestmark = pytest.mark.slow


@pytest.fixture
def own_nats(tmp_path: Path):
    pytest.importorskip("nats")
    server = nats_server(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_mosquitto(tmp_path: Path):
    pytest.importorskip("paho.mqtt.client")
    broker = mosquitto(tmp_path)
    broker.start()
    yield broker
    broker.stop()


def restart(broker: BrokerProcess) -> None:
    broker.stop()
    broker.start()


def payloads(start: int, count: int) -> list[tuple[str, bytes]]:
    return [(f"card-{i % 7}", json.dumps({"id": i}).encode()) for i in range(start, start + count)]


def read_all(log, partition: int, after: str | None = None):
    out = []
    while batch := log.read(partition, after, 500):
        out += batch
        after = batch[-1].position
    return out


def test_a_nats_log_goes_on_after_its_server_restarts(own_nats):
    from confluens.connectors.streams.nats_jetstream import NatsLog

    log = NatsLog(own_nats.url, "restart.tx", partitions=2, reconnect_attempts=100,
                  reconnect_wait_s=0.1)
    try:
        log.append(payloads(0, 400))
        before = read_all(log, 0)  # partition 0 has a consumer when the server stops
        restart(own_nats)
        log.append(payloads(400, 300))  # waits for the client to reconnect
        # the server comes back while an append waits for it
        own_nats.stop()
        timer = threading.Timer(0.5, own_nats.start)
        timer.start()
        try:
            log.append(payloads(700, 300))
        finally:
            timer.join()
        after = read_all(log, 0, before[-1].position)  # goes on from where it was
        assert read_all(log, 0) == before + after
        stored = read_all(log, 0) + read_all(log, 1)
    finally:
        log.close()
    assert sorted(m.payload for m in stored) == sorted(p for _, p in payloads(0, 1000))
    for key in {k for k, _ in payloads(0, 7)}:  # one key's messages in their order
        ids = [json.loads(m.payload)["id"] for m in stored if m.key == key]
        assert ids == sorted(ids)
        assert {partition_of(key, 2)} == {m.partition for m in stored if m.key == key}


def test_an_append_cut_by_a_server_restart_stores_each_message_once(own_nats):
    from confluens.connectors.streams.nats_jetstream import NatsLog

    log = NatsLog(own_nats.url, "cut.tx", reconnect_attempts=100, reconnect_wait_s=0.1)
    sent = payloads(0, 20_000)
    # the restart may cut the append anywhere, or come before or after it: whichever,
    # the unacknowledged messages are published again under the same message ids and
    # the stream keeps one copy of each
    bounce = threading.Timer(0.05, restart, (own_nats,))
    bounce.start()
    try:
        log.append(sent)
    finally:
        bounce.join()
    try:
        stored = read_all(log, 0)
    finally:
        log.close()
    assert sorted(m.payload for m in stored) == sorted(p for _, p in sent)


def test_a_nats_log_whose_server_stays_down_raises_storage_error(own_nats):
    from confluens.connectors.streams.nats_jetstream import NatsLog

    log = NatsLog(own_nats.url, "down.tx", timeout_s=1, reconnect_attempts=3,
                  reconnect_wait_s=0.1)
    try:
        log.append(payloads(0, 10))
        own_nats.stop()
        with pytest.raises(StorageError, match=r"retry budget|must reconnect within") as info:
            log.append(payloads(10, 10))
        assert "start the NATS server" in info.value.fix or "retry" in info.value.fix
        with pytest.raises(StorageError):
            log.read(0, None, 10)
    finally:
        log.close()
    own_nats.start()  # the acknowledged messages are still there
    again = NatsLog(own_nats.url, "down.tx")
    try:
        assert [m.payload for m in read_all(again, 0)] == [p for _, p in payloads(0, 10)]
    finally:
        again.close()


def test_a_server_without_jetstream_is_a_storage_error_naming_the_flag(tmp_path):
    from confluens.connectors.streams.nats_jetstream import NatsLog

    pytest.importorskip("nats")
    server = nats_server(tmp_path, jetstream=False)
    server.start()
    try:
        with pytest.raises(StorageError, match="JetStream enabled") as info:
            NatsLog(server.url, "tx", timeout_s=1)
        assert "-js" in info.value.fix
    finally:
        server.stop()


def test_an_mqtt_bridge_goes_on_after_its_broker_restarts(own_mosquitto, tmp_path):
    from confluens.connectors.streams.mqtt_bridge import MqttBridge
    from tests.connectors.mqtt_helpers import all_messages, publish, reading, wait_for_payloads

    log = EmbeddedLog(tmp_path / "devices.log", "devices", partitions=2)
    bridge = MqttBridge(own_mosquitto.url, "dev/+/telemetry", log, key_field="device",
                        client_id="restart-bridge", batch_size=100, reconnect_min_s=1,
                        reconnect_max_s=2)

    def reading_of(i: int) -> bytes:
        return reading(f"d-{i % 5}", i)

    def send(start: int, count: int) -> None:
        publish(own_mosquitto.url, lambda i: f"dev/d-{(start + i) % 5}/telemetry",
                [reading_of(i) for i in range(start, start + count)],
                client_id="restart-devices")

    def landed_through(count: int) -> set[int]:
        """The readings 0 to count - 1 the log holds once it holds them all (or after
        a minute); copies count once."""
        messages = wait_for_payloads(log, {reading_of(i) for i in range(count)}, 60)
        return {json.loads(m.payload)["seq"] for m in messages}

    bridge.start()
    try:
        assert bridge.wait_subscribed(10)
        send(0, 300)
        assert landed_through(300) == set(range(300))
        # the broker restarts under a running bridge: its session (subscription,
        # unacknowledged messages) survives in the broker's store, and the bridge
        # reconnects with backoff; acknowledgements cut off come again as copies
        restart(own_mosquitto)
        send(300, 300)
        assert landed_through(600) == set(range(600))
        # messages queued for a stopped bridge survive a broker restart too
        bridge.stop()
        send(600, 200)
        restart(own_mosquitto)
        bridge.start()
        assert landed_through(800) == set(range(800))  # nothing lost
    finally:
        bridge.stop()
        stored = all_messages(log)
        log.close()
    assert len(stored) == bridge.landed
