"""Stream logs: durable, partitioned, replayable logs a stream processor reads
(``protocol.py``), the embedded one (``embedded.py``, the default, no server), and the
brokers' (each in its own module, importing its client library only when used:
``redis_streams.py``), which reconnect as a ``Reconnect`` policy says
(``reconnect.py``). ``conformance.py``: the checks every log must pass."""

from confluens.connectors.streams.embedded import EmbeddedLog
from confluens.connectors.streams.protocol import Message, StreamLog, partition_of
from confluens.connectors.streams.reconnect import Reconnect
from confluens.connectors.streams.redis_streams import RedisStreamLog

__all__ = ["EmbeddedLog", "Message", "Reconnect", "RedisStreamLog", "StreamLog",
           "partition_of"]
