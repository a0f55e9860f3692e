"""Stream logs: durable, partitioned, replayable logs a stream processor reads
(``protocol.py``), the embedded one (``embedded.py``, the default, no server), and the
brokers' (each in its own module, importing its client library only when used:
``redis_streams.py``; ``nats_jetstream.py`` with ``nats_reader.py``, ``nats_wire.py``
and ``loop_thread.py``), which reconnect as a ``Reconnect`` policy says
(``reconnect.py``) or, for NATS, as its client does. ``mqtt_bridge.py`` lands MQTT
messages in a log. ``conformance.py``: the checks every log must pass."""

from confluens.connectors.streams.embedded import EmbeddedLog
from confluens.connectors.streams.mqtt_bridge import MqttBridge
from confluens.connectors.streams.nats_jetstream import NatsLog
from confluens.connectors.streams.protocol import Message, StreamLog, partition_of
from confluens.connectors.streams.reconnect import Reconnect
from confluens.connectors.streams.redis_streams import RedisStreamLog

__all__ = ["EmbeddedLog", "Message", "MqttBridge", "NatsLog", "Reconnect", "RedisStreamLog",
           "StreamLog", "partition_of"]
