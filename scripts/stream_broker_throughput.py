"""Rough throughput of the broker stream logs, measured once by hand (no baseline, no
assertion): NatsLog appends and reads of 200-byte JSON payloads, and the MQTT bridge
landing QoS-1 messages of the same size in an embedded log. Needs NATS JetStream on
127.0.0.1:4222 and Mosquitto on 127.0.0.1:1883 (``bash scripts/services.sh mosquitto
nats``) and the ``nats`` and ``mqtt`` extras.

    .venv/bin/python scripts/stream_broker_throughput.py [--messages 50000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from confluens.connectors.streams import EmbeddedLog
from confluens.connectors.streams.mqtt_bridge import MqttBridge
from confluens.connectors.streams.nats_jetstream import NatsLog

SIZE = 200


def payload(i: int) -> bytes:
    """A JSON object of exactly SIZE bytes."""
    body = {"id": i, "card": f"card-{i % 1000}", "amount": round(i * 0.37, 2), "pad": ""}
    body["pad"] = "x" * (SIZE - len(json.dumps(body)))
    data = json.dumps(body).encode()
    assert len(data) == SIZE
    return data


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>10,.0f} msg/s  ({count:,} in {seconds:.2f}s)"


def nats(count: int) -> None:
    log = NatsLog("nats://127.0.0.1:4222", f"bench.{uuid.uuid4().hex[:8]}", partitions=4)
    try:
        messages = [(f"card-{i % 1000}", payload(i)) for i in range(count)]
        started = time.perf_counter()
        for start in range(0, count, 1000):
            log.append(messages[start:start + 1000])
        print("NatsLog append, 1,000 per call     ", rate(count, time.perf_counter() - started))
        started = time.perf_counter()
        for key, body in messages[:2000]:
            log.append([(key, body)])
        print("NatsLog append, 1 per call         ", rate(2000, time.perf_counter() - started))
        started, read = time.perf_counter(), 0
        for p in range(log.partitions):
            after = None
            while batch := log.read(p, after, 1000):
                read += len(batch)
                after = batch[-1].position
        print("NatsLog read, 1,000 per call       ", rate(read, time.perf_counter() - started))
    finally:
        log.delete()
        log.close()


def mqtt_bridge(count: int, folder: Path, in_flight: int, port: int, backlog: bool) -> None:
    """Publish ``count`` QoS-1 messages from one client and time them until landed; with
    ``backlog``, publish them while the bridge is stopped (the broker's
    ``max_queued_messages`` must hold them) and time the bridge draining them."""
    tag = uuid.uuid4().hex[:8]
    log = EmbeddedLog(folder / "devices.log", "devices", partitions=4)
    bridge = MqttBridge(f"mqtt://127.0.0.1:{port}", f"bench/{tag}/+", log, key_field="card",
                        client_id=f"bench-bridge-{tag}", batch_size=1000,
                        max_in_flight=in_flight)
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{tag}",
                            protocol=MQTTProtocolVersion.MQTTv5)
    publisher.max_inflight_messages_set(1000)
    connected = threading.Event()
    publisher.on_connect = lambda *args: connected.set()
    publisher.connect("127.0.0.1", port)
    publisher.loop_start()
    bridge.start()
    try:
        assert connected.wait(10)
        assert bridge.wait_subscribed(10)
        if backlog:
            bridge.stop()
        bodies = [payload(i) for i in range(count)]
        started = time.perf_counter()
        infos = [publisher.publish(f"bench/{tag}/{i % 10}", b, qos=1)
                 for i, b in enumerate(bodies)]
        for info in infos:
            info.wait_for_publish(60)
        published = time.perf_counter() - started
        print("MQTT publish QoS 1 (one client)    ", rate(count, published))
        if backlog:
            started = time.perf_counter()
            bridge.start()
        landed = bridge.wait_landed(count, 300)
        total = time.perf_counter() - started
        what = "draining a backlog " if backlog else "publish to landed  "
        print(f"MQTT bridge, {what}     ", rate(count, total),
              "" if landed else f"(only {bridge.landed:,} landed)")
    finally:
        bridge.stop()
        publisher.disconnect()
        publisher.loop_stop()
        log.close()
        cleaner = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-bridge-{tag}",
                              protocol=MQTTProtocolVersion.MQTTv5)
        cleaner.connect("127.0.0.1", port, clean_start=True)  # drop the bridge's session
        cleaner.disconnect()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--in-flight", type=int, default=65_535,
                        help="the bridge's max_in_flight (MQTT 5 receive maximum)")
    parser.add_argument("--only", choices=["nats", "mqtt"])
    parser.add_argument("--mqtt-port", type=int, default=1883)
    parser.add_argument("--backlog", action="store_true",
                        help="time the bridge draining messages published while it was "
                        "stopped (needs a broker whose max_queued_messages holds them)")
    args = parser.parse_args()
    print(f"{args.messages:,} messages of {SIZE} bytes")
    if args.only != "mqtt":
        nats(args.messages)
    if args.only != "nats":
        with tempfile.TemporaryDirectory() as folder:
            mqtt_bridge(args.messages, Path(folder), args.in_flight, args.mqtt_port,
                        args.backlog)


if __name__ == "__main__":
    main()
