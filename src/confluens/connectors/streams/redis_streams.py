"""Redis Streams as a stream log (``pip install 'confluens[redis]'``).

A topic of one partition is the Redis stream named exactly ``topic``, so any other
tool can ``XADD tx * payload <bytes>`` to it; a topic of ``n`` partitions is the
streams ``topic:0`` ... ``topic:<n-1>``. The hash ``topic:meta`` records the number of
partitions, and opening the topic with another number is refused.

- An entry carries the message's ``payload`` (bytes) and, when it has one, its
  ``key`` (UTF-8 text) as fields; an entry without a ``payload`` field is refused.
- A position is the entry's ID (``"1700000000000-0"``); ``published_us`` is the ID's
  milliseconds, the Redis server's clock (or the ``clock_us`` the log was given: IDs
  then carry that clock's milliseconds, never before a stream's last ID).
- ``append`` sends every message in one MULTI/EXEC: all of them are appended, or none.
- ``read`` is an XRANGE after the position (exclusive); when that finds nothing and
  ``wait_ms`` is set, an XREAD BLOCK waits for a message, and as soon as one arrives
  the XRANGE runs again.
- A call that loses its connection (a restart, a network blip) reconnects and is
  retried with exponential backoff (:class:`Reconnect`); when the server stays away
  longer than the policy allows, the call raises ``StorageError``. A retried
  ``append`` whose first EXEC reached the server before the connection dropped is
  appended twice: publishing is at least once, as with every broker.

Entries stay until someone trims them (``XTRIM tx MINID ...``): the log does not
expire what a processor may still replay.

>>> _partition_streams("tx", 1), _partition_streams("tx", 3)
(('tx',), ('tx:0', 'tx:1', 'tx:2'))
>>> _published_us(b"1700000000123-4")
1700000000123000
>>> _fields("customer-7", b"{}") == {"key": b"customer-7", "payload": b"{}"}
True
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from confluens.connectors.streams.protocol import Message, partition_of
from confluens.connectors.streams.reconnect import Reconnect, call_with_reconnect
from confluens.errors import InputError, MissingExtraError, StorageError

__all__ = ["RedisStreamLog"]

_ENTRY_ID = re.compile(r"[0-9]+-[0-9]+\Z")
_WATCH_ATTEMPTS = 1000


def _partition_streams(topic: str, partitions: int) -> tuple[str, ...]:
    if partitions == 1:
        return (topic,)
    return tuple(f"{topic}:{p}" for p in range(partitions))


def _published_us(entry_id: bytes) -> int:
    return int(entry_id.split(b"-", 1)[0]) * 1000


def _without_password(url: str) -> str:
    """``url`` fit to show: a password in it becomes ``***``.

    >>> _without_password("redis://:s3cret@db.internal:6379/0")
    'redis://:***@db.internal:6379/0'
    """
    return re.sub(r"(//[^:@/]*:)[^@/]*@", r"\1***@", url)


def _as_sent(response: Any, **options: Any) -> Any:
    return response


def _fields(key: str | None, payload: bytes) -> dict[str, bytes]:
    if key is None:
        return {"payload": bytes(payload)}
    return {"key": key.encode(), "payload": bytes(payload)}


class RedisStreamLog:
    """A topic of Redis Streams at ``url`` (``redis://host:port/db``)."""

    def __init__(self, url: str, topic: str, *, partitions: int = 1,
                 clock_us: Callable[[], int] | None = None,
                 reconnect: Reconnect | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 connect_timeout_s: float = 5.0) -> None:
        if partitions < 1:
            raise InputError(f"Redis stream log '{topic}'", "partitions must be at least 1",
                             got=partitions, fix="pass partitions=1 or more")
        if not topic:
            raise InputError("Redis stream log", "a topic names its stream", got=topic,
                             fix="pass a non-empty topic, e.g. 'transactions'")
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ModuleNotFoundError:
            raise MissingExtraError("the Redis stream log", "redis", "redis") from None
        self.topic = topic
        self.partitions = partitions
        self.reconnect = reconnect or Reconnect()
        self._clock_us = clock_us
        self._sleep = sleep
        self._streams = _partition_streams(topic, partitions)
        self._meta = f"{topic}:meta"
        self._redis_module: Any = redis
        try:  # the retries are ours (self.reconnect), not redis-py's
            self._redis: Any = redis.Redis.from_url(
                url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=connect_timeout_s)
        except ValueError as exc:
            raise InputError(f"Redis stream log '{topic}'", "the URL must be a Redis URL",
                             got=_without_password(url),
                             fix=f"use redis://host:port/db ({exc})") from None
        # XRANGE replies as Redis sends them ([id, [field, value, ...]] per entry):
        # _messages reads them directly, without a dict per entry
        self._redis.set_response_callback("XRANGE", _as_sent)
        try:
            stored = self._call("open", self._record_partitions)
        except BaseException:
            self.close()
            raise
        if stored != partitions:
            self.close()
            raise InputError(f"Redis stream log '{topic}' at {self.location}",
                             "a log keeps the number of partitions it was created with",
                             got=partitions, fix=f"use partitions={stored}, or replay into "
                             "a new topic")

    @property
    def location(self) -> str:
        args = self._redis.connection_pool.connection_kwargs
        where = args.get("path") or f"{args.get('host')}:{args.get('port')}"
        return f"redis://{where}/{args.get('db', 0)}/{self.topic}"

    def append(self, messages: Sequence[tuple[str | None, bytes]]) -> int:
        if not messages:
            return 0
        entries = [(partition_of(key, self.partitions), _fields(key, payload))
                   for key, payload in messages]
        if self._clock_us is None:
            self._call("append", self._append, entries)
        else:
            self._call("append", self._append_at, entries, self._clock_us() // 1000)
        return len(messages)

    def read(self, partition: int, after: str | None, limit: int, *,
             wait_ms: int = 0) -> list[Message]:
        self._check_partition(partition)
        if after is not None and not _ENTRY_ID.match(after):
            raise StorageError(f"Redis stream log '{self.topic}'",
                               "positions are entry IDs (<milliseconds>-<sequence>)",
                               got=after, fix="pass a position this log gave")
        if limit < 1:
            return []
        stream = self._streams[partition]
        entries = self._call("read", self._redis.xrange, stream,
                             "-" if after is None else f"({after}", "+", limit)
        if not entries and wait_ms > 0 and self._call(
                "read", self._redis.xread, {stream: after or "0-0"}, 1, wait_ms):
            # something arrived: read it as above (one reply shape, RESP2 or RESP3)
            entries = self._call("read", self._redis.xrange, stream,
                                 "-" if after is None else f"({after}", "+", limit)
        return self._messages(partition, entries)

    def last(self, partition: int) -> str | None:
        self._check_partition(partition)
        found = self._call("last", self._redis.xrevrange, self._streams[partition], "+",
                           "-", 1)
        return found[0][0].decode() if found else None

    def close(self) -> None:
        self._redis.close()

    # -- Redis commands, each run by _call ----------------------------------------------

    def _record_partitions(self) -> int:
        """The partition count stored for the topic (this one if it is new); keys of
        another type under the streams' names are refused here, since they would make
        an append's MULTI/EXEC fail half-way."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.hsetnx(self._meta, "partitions", self.partitions)
        pipe.hget(self._meta, "partitions")
        for stream in self._streams:
            pipe.type(stream)
        _, stored, *types = pipe.execute()
        others = {s: t.decode() for s, t in zip(self._streams, types, strict=True)
                  if t not in (b"stream", b"none")}
        if others:
            raise InputError(f"Redis stream log '{self.topic}' at {self.location}",
                             "its streams' names must hold streams", got=others,
                             fix="rename or delete those keys, or choose another topic")
        return int(stored)

    def _append(self, entries: list[tuple[int, dict[str, bytes]]]) -> None:
        pipe = self._redis.pipeline(transaction=True)
        for partition, fields in entries:
            pipe.xadd(self._streams[partition], fields)
        pipe.execute()

    def _append_at(self, entries: list[tuple[int, dict[str, bytes]]], ms: int) -> None:
        """IDs at the clock's ``ms``, or right after a stream's last ID if that is later:
        read the last IDs under WATCH, then MULTI/EXEC, again if another client wrote."""
        touched = [self._streams[p] for p in sorted({p for p, _ in entries})]
        with self._redis.pipeline(transaction=True) as pipe:
            for _ in range(_WATCH_ATTEMPTS):
                pipe.watch(*touched)
                floor = {stream: max(ms, self._last_generated_ms(pipe, stream))
                         for stream in touched}
                pipe.multi()
                for partition, fields in entries:
                    stream = self._streams[partition]
                    pipe.xadd(stream, fields, id=f"{floor[stream]}-*")
                try:
                    pipe.execute()
                    return
                except self._redis_module.WatchError:
                    continue
        raise StorageError(f"Redis stream log '{self.topic}'", "an append at the log's "
                           "clock retries while other clients append", got=_WATCH_ATTEMPTS,
                           fix="append with the server's clock (clock_us=None)")

    @staticmethod
    def _last_generated_ms(pipe: Any, stream: str) -> int:
        if not pipe.exists(stream):
            return 0
        info = pipe.xinfo_stream(stream)
        last = info.get("last-generated-id") or info[b"last-generated-id"]  # RESP2 | RESP3
        return _published_us(last) // 1000

    def _messages(self, partition: int, entries: list[list[Any]]) -> list[Message]:
        """Messages from XRANGE entries as sent: the fields ``key`` then ``payload``
        (as ``append`` writes them) or ``payload`` alone are read in place; any other
        entry as a dict of its fields (the last of a repeated field counts)."""
        out = []
        for entry_id, flat in entries:
            if len(flat) == 4 and flat[0] == b"key" and flat[2] == b"payload":
                position = entry_id.decode()
                out.append(Message(partition, position, flat[1].decode(errors="replace"),
                                   flat[3], int(position.split("-", 1)[0]) * 1000))
            elif len(flat) == 2 and flat[0] == b"payload":
                position = entry_id.decode()
                out.append(Message(partition, position, None, flat[1],
                                   int(position.split("-", 1)[0]) * 1000))
            else:
                out.append(self._message(partition, entry_id,
                                         dict(zip(flat[::2], flat[1::2], strict=True))))
        return out

    def _message(self, partition: int, entry_id: bytes, fields: dict[bytes, bytes],
                 ) -> Message:
        position = entry_id.decode()
        payload = fields.get(b"payload")
        if payload is None:
            raise StorageError(
                f"Redis stream '{self._streams[partition]}', entry {position}",
                "an entry carries its message in a 'payload' field",
                got=sorted(name.decode(errors="replace") for name in fields),
                fix="XADD entries with the fields payload (bytes) and, optionally, key "
                "(UTF-8 text)")
        key = fields.get(b"key")
        return Message(partition, position,
                       None if key is None else key.decode(errors="replace"),
                       payload, _published_us(entry_id))

    def _check_partition(self, partition: int) -> None:
        if not 0 <= partition < self.partitions:
            raise InputError(f"Redis stream log '{self.topic}'", "partition out of range",
                             got=partition, fix=f"use 0 to {self.partitions - 1}")

    def _lost(self, exc: Exception) -> bool:
        """A lost connection (retried), not a refusal such as a wrong password."""
        errors = self._redis_module
        return (isinstance(exc, errors.ConnectionError | errors.TimeoutError)
                and not isinstance(exc, errors.AuthenticationError))

    def _call(self, what: str, command: Callable[..., Any], *args: Any) -> Any:
        """``command(*args)``, reconnecting as ``self.reconnect`` says; Redis errors
        become ``StorageError`` (no redis-py traceback reaches the user)."""
        try:
            return call_with_reconnect(self.reconnect, lambda: command(*args), self._lost,
                                       self._sleep)
        except self._redis_module.RedisError as exc:
            if self._lost(exc):
                raise StorageError(
                    f"Redis stream log '{self.topic}' at {self.location}",
                    f"{what}: the connection is lost and {self.reconnect.attempts} attempts "
                    f"over {self.reconnect.budget_s:g}s did not restore it", got=str(exc),
                    fix="start Redis or restore the network, then retry; to wait longer, "
                    "pass reconnect=Reconnect(attempts=..., max_delay_s=...)") from None
            raise StorageError(f"Redis stream log '{self.topic}' at {self.location}",
                               f"{what}: Redis refused the command", got=str(exc),
                               fix=f"check that no other kind of key is named "
                               f"{self._streams[0]!r} or {self._meta!r}, and the server's "
                               "credentials and memory") from None
