"""The stream log protocol: a durable, partitioned, append-only log of messages.

A stream processor reads each partition of a log from a position it checkpointed,
so every kind of log offers the same few operations (``StreamLog``):

- ``append(messages)`` adds ``(key, payload)`` pairs; a message goes to partition
  :func:`partition_of` ``(key, partitions)`` (a key of ``None``: partition 0), so one
  key's messages stay in order in one partition;
- ``read(partition, after, limit, wait_ms)`` gives up to ``limit`` messages that follow
  position ``after`` (``None``: from the start), in log order, waiting up to ``wait_ms``
  for the first one when none is there yet. Reading twice from one position gives the
  same messages: that is what makes a replay after a crash exact;
- ``last(partition)`` is the position of the partition's last message (``None``: empty),
  which tells a processor how far behind it is.

Positions are text, opaque to callers and only compared for equality: the embedded log
numbers messages from 1 (``"1"``, ``"2"``, ...), Redis Streams uses its entry IDs
(``"1700000000000-0"``), NATS JetStream its stream sequence.

>>> partition_of("customer-7", 4) == partition_of("customer-7", 4)
True
>>> partition_of(None, 4)
0
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import NamedTuple, Protocol

__all__ = ["Message", "StreamLog", "partition_of"]


class Message(NamedTuple):
    """One message as read from a log (a named tuple: cheap to make by the thousand).

    ``published_us``: when the log accepted it (µs since the epoch, the log's clock),
    from which a processor measures event-to-online lag.
    """

    partition: int
    position: str
    key: str | None
    payload: bytes
    published_us: int


def partition_of(key: str | None, partitions: int) -> int:
    """The partition of a message key: CRC-32 of its UTF-8 bytes modulo ``partitions``
    (stable across processes and releases, unlike ``hash``)."""
    if key is None or partitions <= 1:
        return 0
    return zlib.crc32(key.encode()) % partitions


class StreamLog(Protocol):
    """One topic (stream, subject) of a log, with a fixed number of partitions."""

    partitions: int

    @property
    def location(self) -> str:
        """The log's kind, place and topic (never a secret), e.g. ``redis://host/tx``."""
        ...

    def append(self, messages: Sequence[tuple[str | None, bytes]]) -> int:
        """Append ``(key, payload)`` pairs durably; return how many were appended."""
        ...

    def read(self, partition: int, after: str | None, limit: int, *,
             wait_ms: int = 0) -> list[Message]:
        """Up to ``limit`` messages of ``partition`` after position ``after``."""
        ...

    def last(self, partition: int) -> str | None:
        """The position of the last message of ``partition`` (None: it is empty)."""
        ...

    def close(self) -> None:
        ...
