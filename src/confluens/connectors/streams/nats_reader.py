"""Reading one partition of a NATS JetStream log, exactly, through a pull consumer.

A :class:`PartitionReader` serves ``read(after, limit, wait)`` for one partition's
subject. It owns an ephemeral pull consumer (no acknowledgements, kept in memory by
the server, filtered on the subject, starting at the stream sequence after ``after``)
and an inbox its messages arrive on; successive reads that go on from the position
the previous read ended at reuse both, so a processor reading a partition in order
costs one request per read. A read from any other position, a reconnection of the
client, an idle consumer the server may have removed, or a lost delivery makes a new
consumer at the position asked for. That is what keeps reads exact: messages are
handed out only in consumer-sequence order with no gap (1, 2, 3, ... per consumer),
so reading twice from one position gives the same messages.

One pull request is outstanding at a time: ``{"batch": n, "no_wait": true}`` for
what is there now (the server ends it with a 404 or 408 status when it has fewer than
``n``), and ``{"batch": 1, "expires": wait}`` to wait for a first message when there
is none yet. Messages that arrive after a read returned (a request answered late)
stay buffered, in order, for the next read from the same position.

Every method runs on the log's event loop (:mod:`confluens.connectors.streams.
loop_thread`); the asyncio client is ``nats-py`` (imported lazily).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from confluens.connectors.streams.nats_wire import delivery_of, key_of
from confluens.connectors.streams.protocol import Message
from confluens.errors import StorageError

__all__ = ["CONSUMER_INACTIVE_S", "PartitionReader"]

CONSUMER_INACTIVE_S = 300.0
"""The server removes a reader's consumer after this long without a pull request; a
reader idle for half of it starts a new one rather than ask a consumer that may be
gone."""


class _Lost(Exception):
    """The consumer lost a delivery, stopped answering or reported an error."""


@dataclass(slots=True)
class _Pull:
    reply: str
    remaining: int
    done: asyncio.Event = field(default_factory=asyncio.Event)


class PartitionReader:
    """Reads partition ``partition`` (subject ``subject``) of stream ``stream``."""

    def __init__(self, nc: Any, stream: str, subject: str, partition: int, *,
                 timeout_s: float, api_prefix: str = "$JS.API") -> None:
        self._nc = nc
        self.stream = stream
        self.subject = subject
        self.partition = partition
        self._timeout_s = timeout_s
        self._api_prefix = api_prefix
        self._lock = asyncio.Lock()
        self._sub: Any = None
        self._inbox = ""
        self._consumer: str | None = None
        self._epoch = -1
        self._cursor = 0          # stream sequence of the last message handed out
        self._delivered = 0       # consumer sequence of the last message received
        self._buffer: deque[Message] = deque()
        self._pull: _Pull | None = None
        self._pulls = 0
        self._last_pull = 0.0
        self._lost: str | None = None

    async def read(self, after: int, limit: int, wait_s: float, epoch: int) -> list[Message]:
        """Up to ``limit`` messages after stream sequence ``after``, waiting up to
        ``wait_s`` for a first one; ``epoch`` counts the client's reconnections."""
        async with self._lock:
            try:
                return await self._read_from(after, limit, wait_s, epoch)
            except _Lost:
                # a fresh consumer at the same position, once
                self._lost = None
                try:
                    return await self._read_from(after, limit, wait_s, epoch, fresh=True)
                except _Lost:
                    raise StorageError(f"NATS stream '{self.stream}' partition "
                                       f"{self.partition}", "a new consumer must deliver "
                                       "the partition's messages in order", got=self._lost,
                                       fix="check the NATS server's health and logs; the "
                                       "read can be retried from the same position") from None

    async def _read_from(self, after: int, limit: int, wait_s: float, epoch: int, *,
                         fresh: bool = False) -> list[Message]:
        idle = time.monotonic() - self._last_pull > CONSUMER_INACTIVE_S / 2
        if fresh or self._consumer is None or after != self._cursor or epoch != self._epoch \
                or idle or self._lost is not None:
            await self._start(after, epoch)
        out = self._take(limit)
        if len(out) < limit:
            await self._request(limit - len(out), expires_s=None)
            out += self._take(limit - len(out))
        if not out and wait_s > 0:
            await self._request(1, expires_s=wait_s)
            out += self._take(limit)
            if out and len(out) < limit:
                await self._request(limit - len(out), expires_s=None)
                out += self._take(limit - len(out))
        if out:
            self._cursor = int(out[-1].position)
        return out

    def _take(self, n: int) -> list[Message]:
        return [self._buffer.popleft() for _ in range(min(n, len(self._buffer)))]

    async def _start(self, after: int, epoch: int) -> None:
        """A new consumer (and inbox) whose first message is the one after ``after``."""
        from nats.js import api

        await self.close()
        self._inbox = self._nc.new_inbox()
        self._sub = await self._nc.subscribe(f"{self._inbox}.*", cb=self._on_message)
        config = api.ConsumerConfig(
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=after + 1,
            filter_subject=self.subject, ack_policy=api.AckPolicy.NONE,
            inactive_threshold=CONSUMER_INACTIVE_S, mem_storage=True, num_replicas=1)
        info = await self._nc.jsm().add_consumer(self.stream, config, timeout=self._timeout_s)
        self._consumer = info.name
        self._epoch, self._cursor, self._delivered = epoch, after, 0
        self._buffer.clear()
        self._lost = None
        self._last_pull = time.monotonic()

    async def _request(self, batch: int, *, expires_s: float | None) -> None:
        """One pull request; returns once it is answered in full (or raises _Lost)."""
        self._pulls += 1
        pull = _Pull(f"{self._inbox}.{self._pulls}", batch)
        body: dict[str, Any] = {"batch": batch}
        if expires_s is None:
            body["no_wait"] = True
        else:
            body["expires"] = int(expires_s * 1e9)
        self._pull = pull
        self._last_pull = time.monotonic()
        try:
            await self._nc.publish(
                f"{self._api_prefix}.CONSUMER.MSG.NEXT.{self.stream}.{self._consumer}",
                json.dumps(body).encode(), reply=pull.reply)
            patience = self._timeout_s + (expires_s or 0.0)
            try:
                async with asyncio.timeout(patience):
                    await pull.done.wait()
            except TimeoutError:
                self._lost = self._lost or f"no answer to a pull request within {patience:g}s"
        finally:
            self._pull = None
        if self._lost is not None:
            raise _Lost(self._lost)

    async def _on_message(self, msg: Any) -> None:
        pull = self._pull
        if not str(msg.reply).startswith("$JS.ACK."):
            # a status: 404 no messages, 408 request ended, 100 heartbeat, 409 and
            # others are errors (consumer deleted, leadership change, ...)
            headers = msg.headers or {}
            status = str(headers.get("Status", ""))
            if pull is None or msg.subject != pull.reply or status == "100":
                return
            if status not in ("404", "408"):
                self._lost = f"status {status} {headers.get('Description', '')}".strip()
            pull.done.set()
            return
        delivery = delivery_of(msg.reply)
        if delivery.consumer != self._consumer or self._lost is not None:
            return
        if delivery.consumer_seq != self._delivered + 1:
            self._lost = (f"delivery {delivery.consumer_seq} arrived after "
                          f"{self._delivered}")
            if pull is not None:
                pull.done.set()
            return
        self._delivered = delivery.consumer_seq
        self._buffer.append(Message(self.partition, str(delivery.stream_seq),
                                    key_of(msg.headers), msg.data, delivery.published_us))
        if pull is not None:
            pull.remaining -= 1
            if pull.remaining == 0:
                pull.done.set()

    async def close(self) -> None:
        """Drop the inbox and delete the consumer (best effort: the server removes an
        idle consumer anyway)."""
        sub, consumer = self._sub, self._consumer
        self._sub, self._consumer = None, None
        if sub is not None:
            with contextlib.suppress(Exception):  # the connection may be gone already
                await sub.unsubscribe()
        if consumer is not None and self._nc.is_connected:
            with contextlib.suppress(Exception):  # an idle consumer expires on the server
                async with asyncio.timeout(min(self._timeout_s, 1.0)):
                    await self._nc.jsm().delete_consumer(self.stream, consumer)
