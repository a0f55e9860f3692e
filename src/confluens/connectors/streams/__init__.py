"""Stream logs: durable, partitioned, replayable logs a stream processor reads
(``protocol.py``), the embedded one (``embedded.py``, the default, no server), and the
brokers' (each in its own module, importing its client library only when used)."""

from confluens.connectors.streams.embedded import EmbeddedLog
from confluens.connectors.streams.protocol import Message, StreamLog, partition_of

__all__ = ["EmbeddedLog", "Message", "StreamLog", "partition_of"]
