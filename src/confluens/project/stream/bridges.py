"""The MQTT bridges a stream run needs: one per source bound to an ``mqtt`` stream.

MQTT keeps no replayable log, so while the processors run, a bridge
(``connectors/streams/mqtt_bridge.py``) lands the devices' messages in the source's
embedded log, acknowledging each only once it is appended; the processor then reads
the embedded log like any other stream.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from confluens.connectors.streams import EmbeddedLog
from confluens.core import Source
from confluens.project.config import ProjectConfig
from confluens.project.stream.logs import embedded_log_path

__all__ = ["mqtt_bridges"]


@contextmanager
def mqtt_bridges(config: ProjectConfig, chosen: Sequence[Source]) -> Iterator[None]:
    """Run a bridge for each ``mqtt``-bound source of ``chosen`` while inside."""
    bridges: list[tuple[Any, EmbeddedLog]] = []
    try:
        for source in chosen:
            binding = source.stream
            if binding is None or binding.kind != "mqtt":
                continue
            from confluens.connectors.streams.mqtt_bridge import MqttBridge

            log = EmbeddedLog(embedded_log_path(config, binding.topic), binding.topic,
                              partitions=binding.partitions)
            key = None if binding.key is None else source.schema[binding.key].input_name
            bridge = MqttBridge(config.mqtt_url, binding.topic, log, key_field=key,
                                client_id=f"confluens-{config.name}-{source.name}")
            bridges.append((bridge, log))
            bridge.start()
        yield
    finally:
        for bridge, log in bridges:
            try:
                bridge.stop()
            finally:
                log.close()
