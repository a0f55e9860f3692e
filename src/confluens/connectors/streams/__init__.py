"""Stream logs: durable, partitioned, replayable logs a stream processor reads
(``protocol.py``), the embedded one (``embedded.py``, the default, no server), and the
brokers' (each in its own module, importing its client library only when used:
``nats_jetstream.py`` with ``nats_reader.py``, ``nats_wire.py`` and ``loop_thread.py``),
and ``mqtt_bridge.py``, which lands MQTT messages in a log."""

from confluens.connectors.streams.embedded import EmbeddedLog
from confluens.connectors.streams.mqtt_bridge import MqttBridge
from confluens.connectors.streams.nats_jetstream import NatsLog
from confluens.connectors.streams.protocol import Message, StreamLog, partition_of

__all__ = ["EmbeddedLog", "Message", "MqttBridge", "NatsLog", "StreamLog", "partition_of"]
