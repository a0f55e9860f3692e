"""The NATS JetStream log (``pip install 'confluens[nats]'``): a topic as one stream.

:class:`NatsLog` implements :class:`~confluens.connectors.streams.protocol.StreamLog`
on a NATS server with JetStream enabled (``nats-server -js``):

- **Layout.** One JetStream stream per topic, named after it (``cards.tx`` is stream
  ``cards_tx``; file storage, limits retention, nothing expires unless the stream is
  edited), one subject per partition, ``<topic>.<p>``. The stream's description
  records the topic and the number of partitions: reopening with another number is
  refused, as with the embedded log.
- **Positions** are stream sequence numbers as text. They grow across the whole
  stream, so one partition's positions are increasing but not consecutive.
- **Appends** are acknowledged by the server before ``append`` returns: an appended
  message is stored (file storage: it survives a restart of the server; whether it
  survives a crash of the machine depends on the server's ``sync_interval``, every
  two minutes by default, or ``always``). Messages are published in order, in windows
  of 1,000, each window waiting for its acknowledgements. Every message carries a
  ``Nats-Msg-Id`` unique to this log object: if the connection drops in the middle of
  an append, the unacknowledged messages are published again after the client has
  reconnected, and the stream's duplicate window (two minutes) stores each once.
  One key's messages keep their order, with one exception: if the server lost one
  message of an append in flight while storing a later message of the same key on
  the new connection, the retry stores the earlier one after the later.
- **Keys** travel in the ``Confluens-Key`` header (percent-encoded); a message goes
  to partition :func:`~confluens.connectors.streams.protocol.partition_of` of its key.
- **Reads** of a partition come from a pull consumer of its subject
  (:mod:`~confluens.connectors.streams.nats_reader`): in stream order, exactly (the
  same position gives the same messages), waiting up to ``wait_ms`` for a first one.
  ``published_us`` is the time JetStream stored the message (the server's clock).
- **Reconnection.** The client reconnects on its own (``reconnect_attempts`` tries,
  ``reconnect_wait_s`` apart; the client's subscriptions are restored and readers
  start new consumers at their positions). An operation issued while the client is
  reconnecting waits for it; when the server stays down past that budget, the client
  gives up and every operation raises :class:`~confluens.errors.StorageError`.

The client library (``nats-py``) is asyncio: the log runs one event loop in a daemon
thread of its own (:class:`~confluens.connectors.streams.loop_thread.LoopThread`) and
its synchronous methods submit coroutines to it; ``close()`` ends both.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

from confluens.connectors.streams.loop_thread import LoopThread
from confluens.connectors.streams.nats_reader import PartitionReader
from confluens.connectors.streams.nats_wire import (
    KEY_HEADER,
    describe,
    described,
    key_header,
    require_topic,
    stream_name,
    subject_of,
)
from confluens.connectors.streams.protocol import Message, partition_of
from confluens.errors import ConfluensError, InputError, MissingExtraError, StorageError

__all__ = ["NatsLog"]

T = TypeVar("T")
_WINDOW = 1000
_DUPLICATE_WINDOW_S = 120.0


def _headers_size(headers: dict[str, str]) -> int:
    """Bytes of the NATS header block: ``NATS/1.0``, one ``name: value`` line each."""
    return 12 + sum(len(k) + len(v.encode()) + 4 for k, v in headers.items())


_HEADERS_ALLOWANCE = _headers_size({"Nats-Msg-Id": "0" * 32 + "-" + "9" * 12,
                                    KEY_HEADER: "k" * 100})


class NatsLog:
    """Topic ``topic`` of the JetStream-enabled NATS server at ``url``.

    ``timeout_s`` bounds one request to the server; ``reconnect_attempts`` and
    ``reconnect_wait_s`` the client's reconnection after the connection drops."""

    def __init__(self, url: str, topic: str, *,
                 partitions: int = 1, timeout_s: float = 5.0, reconnect_attempts: int = 20,
                 reconnect_wait_s: float = 0.5) -> None:
        if partitions < 1:
            raise InputError(f"NATS log '{topic}'", "partitions must be at least 1",
                             got=partitions, fix="pass partitions=1 or more")
        if reconnect_attempts < 1:
            # nats-py reads 0 or less as "retry forever"; a log must give up at some point
            raise InputError(f"NATS log '{topic}'", "reconnect_attempts must be at least 1",
                             got=reconnect_attempts, fix="pass reconnect_attempts=1 or more")
        self.topic = require_topic(topic)
        try:
            import nats  # noqa: F401 - only to name the extra when it is missing
        except ModuleNotFoundError:
            raise MissingExtraError("the NATS JetStream log", "nats", "nats") from None
        self.partitions = partitions
        self.stream = stream_name(topic)
        self.url = url
        self.timeout_s = timeout_s
        self.reconnect_attempts = reconnect_attempts
        self.reconnect_wait_s = reconnect_wait_s
        parts = urlsplit(url if "://" in url else f"nats://{url}")
        self._where = f"nats://{parts.hostname}:{parts.port or 4222}"
        self._thing = f"NATS log '{topic}' at {self._where}"
        self._writer = uuid.uuid4().hex
        self._ids = itertools.count(1)
        self._readers: dict[int, PartitionReader] = {}
        self._epoch = 0
        self._nc: Any = None
        self._js: Any = None
        self._last_error: str | None = None
        self._loop = LoopThread(f"nats-{self.stream}")
        try:
            self._run(self._open())
        except BaseException:
            self.close()
            raise

    @property
    def location(self) -> str:
        return f"{self._where}/{self.topic}"

    @property
    def max_payload(self) -> int:
        """The largest payload the server takes from this log: its ``max_payload``
        (1 MiB unless configured; ``max_payload: 8MB`` in a config file raises it), less
        the headers of a message whose key is up to 100 bytes."""
        return int(self._nc.max_payload) - _HEADERS_ALLOWANCE

    # -- connection and stream ---------------------------------------------------------

    async def _open(self) -> None:
        import nats

        async def on_error(exc: Exception) -> None:
            self._last_error = f"{type(exc).__name__}: {exc}".rstrip(": ")

        async def on_reconnect() -> None:
            self._epoch += 1

        try:
            self._nc = await nats.connect(
                servers=[self.url], connect_timeout=max(1, round(self.timeout_s)),
                allow_reconnect=True, max_reconnect_attempts=self.reconnect_attempts,
                reconnect_time_wait=self.reconnect_wait_s,
                error_cb=on_error, reconnected_cb=on_reconnect)
        except (OSError, TimeoutError, nats.errors.Error) as exc:
            raise StorageError(self._thing, "cannot connect to the server",
                               got=f"{type(exc).__name__}: {exc}".rstrip(": "),
                               fix="start it with JetStream enabled (nats-server -js), or "
                               "correct the URL") from None
        # one JetStream context: its acknowledgement inbox is subscribed once
        self._js = self._nc.jetstream(timeout=self.timeout_s)
        await self._ensure_stream()

    async def _ensure_stream(self) -> None:
        import nats
        from nats.js import api, errors

        jsm = self._nc.jsm(timeout=self.timeout_s)
        try:
            info = await jsm.stream_info(self.stream)
        except errors.NotFoundError:
            config = api.StreamConfig(
                name=self.stream, description=describe(self.topic, self.partitions),
                subjects=[subject_of(self.topic, p) for p in range(self.partitions)],
                storage=api.StorageType.FILE, retention=api.RetentionPolicy.LIMITS,
                discard=api.DiscardPolicy.OLD, num_replicas=1,
                duplicate_window=_DUPLICATE_WINDOW_S)
            try:
                info = await jsm.add_stream(config)
            except errors.BadRequestError as refused:
                try:  # another client created it meanwhile?
                    info = await jsm.stream_info(self.stream)
                except errors.NotFoundError:
                    raise InputError(self._thing, "the server must accept its stream "
                                     f"'{self.stream}' with the subjects {self.topic}.<p>",
                                     got=refused.description, fix="choose another topic "
                                     "(another stream holds these subjects)") from None
        except (errors.ServiceUnavailableError, nats.errors.NoRespondersError):
            raise StorageError(self._thing, "the server must have JetStream enabled",
                               got="no JetStream API", fix="start nats-server with -js "
                               "(and a store directory, -sd)") from None
        recorded = described(info.config.description)
        if recorded is None or recorded[0] != self.topic:
            raise InputError(f"{self._thing}, stream '{self.stream}'", "the stream must be "
                             "one a confluens log created for this topic",
                             got=info.config.description, fix="choose another topic, or "
                             "delete or rename the existing stream")
        if recorded[1] != self.partitions:
            raise InputError(self._thing, "a log keeps the number of partitions it was "
                             "created with", got=self.partitions,
                             fix=f"use partitions={recorded[1]}, or replay into a new log")

    async def _connected(self, deadline: float) -> None:
        """Return once the client is connected; raise when it gave up or ``deadline``
        (event-loop time) passes first."""
        loop = asyncio.get_running_loop()
        while not self._nc.is_connected:
            if self._nc.is_closed:
                raise StorageError(self._thing, "the server stayed unreachable past the "
                                   f"retry budget ({self.reconnect_attempts} reconnection "
                                   f"attempts, {self.reconnect_wait_s:g}s apart)",
                                   got=self._last_error, fix="start the NATS server and "
                                   "open the log again (acknowledged messages are kept)")
            if loop.time() >= deadline:
                raise StorageError(self._thing, "the client must reconnect within "
                                   f"{self._budget_s():g}s", got=self._last_error,
                                   fix="check the NATS server, then retry")
            await asyncio.sleep(0.05)

    def _budget_s(self) -> float:
        return self.timeout_s + self.reconnect_attempts * (self.reconnect_wait_s + 0.1)

    def _deadline(self) -> float:
        return asyncio.get_running_loop().time() + self._budget_s()

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run on the log's loop; the client's failures become ``StorageError``."""
        import nats

        try:
            return self._loop.run(coroutine)
        except ConfluensError:
            raise
        except (OSError, TimeoutError, nats.errors.Error) as exc:
            raise StorageError(self._thing, "the server did not complete the request",
                               got=f"{type(exc).__name__}: {exc}".rstrip(": "),
                               fix="check the NATS server and its logs, then retry") from None

    # -- the StreamLog operations ------------------------------------------------------

    def append(self, messages: Sequence[tuple[str | None, bytes]]) -> int:
        if not messages:
            return 0
        batch = []
        for key, payload in messages:
            headers = {"Nats-Msg-Id": f"{self._writer}-{next(self._ids)}"}
            if key is not None:
                headers[KEY_HEADER] = key_header(key)
            # the server counts headers in max_payload and drops a client that exceeds it
            size = len(payload) + _headers_size(headers)
            if size > self._nc.max_payload:
                raise InputError(self._thing, "a message with its headers must fit the "
                                 f"server's max_payload ({self._nc.max_payload} bytes)",
                                 got=f"{size} bytes", fix="send smaller messages, or raise "
                                 "max_payload in the server's configuration")
            batch.append((subject_of(self.topic, partition_of(key, self.partitions)),
                          bytes(payload), headers))
        self._run(self._append(batch))
        return len(messages)

    async def _append(self, batch: list[tuple[str, bytes, dict[str, str]]]) -> None:
        import nats

        deadline = self._deadline()
        pending = list(range(len(batch)))
        while pending:
            await self._connected(deadline)
            retry: list[int] = []
            for start in range(0, len(pending), _WINDOW):
                window = pending[start:start + _WINDOW]
                if retry:  # a window failed: keep the order, publish the rest later
                    retry += window
                    continue
                futures = []
                try:
                    for i in window:
                        subject, payload, headers = batch[i]
                        futures.append(await self._js.publish_async(
                            subject, payload, headers=dict(headers)))
                except nats.errors.Error as exc:  # disconnected: the rest is retried
                    self._last_error = f"{type(exc).__name__}: {exc}"
                if futures:
                    await asyncio.wait(futures, timeout=self.timeout_s)
                for i, future in itertools.zip_longest(window, futures):
                    if future is None or not future.done():
                        retry.append(i)
                        if future is not None:
                            future.cancel()
                    elif (failure := future.exception()) is not None:
                        self._refuse_or_retry(failure, batch[i])
                        retry.append(i)
            pending = retry
            if pending and asyncio.get_running_loop().time() >= deadline:
                raise StorageError(self._thing, "the server must acknowledge every "
                                   f"appended message within {self._budget_s():g}s",
                                   got=f"{len(pending)} of {len(batch)} unacknowledged",
                                   fix="check the NATS server; appending again may store "
                                   "the acknowledged ones twice")

    def _refuse_or_retry(self, exc: BaseException, message: tuple[str, bytes, Any]) -> None:
        """An error the server answered with is final (the stream is gone, the message
        too large...); a missing responder (JetStream still starting) is retried."""
        from nats.js import errors

        self._last_error = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, errors.APIError) and not isinstance(
                exc, errors.ServiceUnavailableError):
            raise StorageError(self._thing, "the server refused a message",
                               got=f"{exc} (subject {message[0]}, {len(message[1])} bytes)",
                               fix="check the stream exists and the message is within the "
                               "server's max_payload") from None

    def read(self, partition: int, after: str | None, limit: int, *,
             wait_ms: int = 0) -> list[Message]:
        self._check_partition(partition)
        start = 0 if after is None else self._sequence(after)
        if limit < 1:
            return []
        return self._run(self._read(partition, start, limit, wait_ms / 1000))

    async def _read(self, partition: int, after: int, limit: int, wait_s: float,
                    ) -> list[Message]:
        await self._connected(self._deadline())
        reader = self._readers.get(partition)
        if reader is None:
            reader = self._readers[partition] = PartitionReader(
                self._nc, self.stream, subject_of(self.topic, partition), partition,
                timeout_s=self.timeout_s)
        return await reader.read(after, limit, wait_s, self._epoch)

    def last(self, partition: int) -> str | None:
        self._check_partition(partition)
        return self._run(self._last(partition))

    async def _last(self, partition: int) -> str | None:
        from nats.js import errors

        await self._connected(self._deadline())
        try:
            found = await self._nc.jsm(timeout=self.timeout_s).get_last_msg(
                self.stream, subject_of(self.topic, partition))
        except errors.NotFoundError as exc:
            if exc.err_code == 10037:  # no message on the subject
                return None
            raise StorageError(self._thing, "its stream must exist", got=self.stream,
                               fix="open the log again to create it") from None
        return str(found.seq)

    def delete(self) -> None:
        """Delete the stream and every message in it (tests, tear-down)."""
        from nats.js import errors

        async def delete() -> None:
            await self._connected(self._deadline())
            for reader in self._readers.values():
                await reader.close()
            self._readers.clear()
            with contextlib.suppress(errors.NotFoundError):
                await self._nc.jsm(timeout=self.timeout_s).delete_stream(self.stream)

        self._run(delete())

    def close(self) -> None:
        if self._loop.closed:
            return

        async def close() -> None:
            for reader in self._readers.values():
                await reader.close()
            if self._nc is not None and not self._nc.is_closed:
                await self._nc.close()

        try:
            with contextlib.suppress(Exception):  # a broken connection still ends the loop
                self._loop.run(close())
        finally:
            self._loop.close()

    # -- arguments ---------------------------------------------------------------------

    def _check_partition(self, partition: int) -> None:
        if not 0 <= partition < self.partitions:
            raise InputError(self._thing, "partition out of range", got=partition,
                             fix=f"use 0 to {self.partitions - 1}")

    def _sequence(self, position: str) -> int:
        try:
            return int(position)
        except ValueError:
            raise StorageError(self._thing, "positions are stream sequence numbers",
                               got=position, fix="pass a position this log gave") from None
