"""The processor on the other kinds of stream, against the real brokers: NATS
JetStream (records replayed into it) and MQTT (devices publishing with QoS 1, bridged
into the embedded log by `confluens stream`); the values equal the batch engine's."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import confluens

from .streamed_project import (
    AFTER,
    batch_values,
    compare,
    entities,
    online_values,
    replay_all,
    streamed_project,
)


def _same_as_batch(project: confluens.Project) -> None:
    for view in ("customer_spending", "terminal_risk"):
        keys = entities(project, view)
        if keys:
            assert compare(keys, online_values(project, view, keys, AFTER),
                           batch_values(project, view, keys, AFTER)) == []


@pytest.mark.service("nats")
def test_nats_jetstream_streams_equal_the_batch_values(tmp_path: Path, nats_url: str) -> None:
    topic = f"n{uuid.uuid4().hex[:8]}"
    root = streamed_project(tmp_path / "nats", kind="nats", topic=topic, partitions=2,
                            toml=f'[streams]\nnats_url = "{nats_url}"\n')
    with confluens.open(root) as project:
        replay_all(project)
        totals = project.stream(until_idle=True, batch_size=200)
        expected = pq.read_table(root / "data/transactions/transactions.parquet").num_rows
        assert totals["transactions"].accepted == expected
        assert project.count("transactions") == expected
        assert all(s.caught_up for s in project.stream_status())
        _same_as_batch(project)


@pytest.mark.service("mqtt")
def test_mqtt_devices_are_bridged_processed_and_exact(tmp_path: Path, mqtt_url: str) -> None:
    from tests.connectors.mqtt_helpers import publish

    topic = f"m{uuid.uuid4().hex[:8]}"
    root = streamed_project(tmp_path / "mqtt", kind="mqtt", topic=topic)
    text = (root / "definitions.py").read_text().replace(f'"{topic}-tx"', f'"{topic}/tx/#"')
    (root / "definitions.py").write_text(text)
    table = pq.read_table(root / "data/transactions/transactions.parquet")
    records = table.to_pylist()
    payloads = [json.dumps(r, default=str).encode() for r in records]
    stop = threading.Event()
    with confluens.open(root) as project:
        project.apply()
        worker = threading.Thread(target=project.stream, args=(["transactions"],),
                                  kwargs={"stop": stop, "poll_ms": 20})
        worker.start()
        try:
            # messages published before the bridge's first subscription reach no one:
            # publish again until they arrive (copies are duplicates by id, stored once)
            deadline = time.monotonic() + 120
            while project.count("transactions") < len(records):
                assert time.monotonic() < deadline, "the devices' records did not arrive"
                publish(mqtt_url, lambda i: f"{topic}/tx/terminal-{i % 7}", payloads,
                        client_id=f"{topic}-devices")
                settle = time.monotonic() + 15
                while (project.count("transactions") < len(records)
                       and time.monotonic() < settle):
                    time.sleep(0.1)
        finally:
            stop.set()
            worker.join(timeout=60)
        assert project.count("transactions") == len(records)
        keys = entities(project, "customer_spending")
        assert compare(keys, online_values(project, "customer_spending", keys, AFTER),
                       batch_values(project, "customer_spending", keys, AFTER)) == []
