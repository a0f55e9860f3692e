"""The MQTT bridge (``pip install 'confluens[mqtt]'``): devices' messages landed in a log.

MQTT keeps no replayable log: a broker hands a subscriber each message once and
forgets it when the subscriber acknowledges it. So a processor does not read MQTT
directly. :class:`MqttBridge` subscribes to a topic pattern and lands every message,
its payload unchanged, in a :class:`~confluens.connectors.streams.protocol.StreamLog`
(normally the embedded log), which the processor then reads, checkpoints and replays
like any other log.

**Delivery: at least once into the log.** The bridge connects with MQTT 5, a fixed
client id, ``clean_start`` off and a session that outlives the connection
(``session_expiry_s``), and subscribes with QoS 1. Acknowledgements are manual: a
message is acknowledged (PUBACK) only after the batch holding it was appended to the
log. If the bridge stops, crashes or loses its connection first, the broker delivers
the unacknowledged messages again on the next connection of that client id, and
queues what is published meanwhile; nothing acknowledged is lost, but a message
appended whose acknowledgement never reached the broker is appended a second time.
A source fed by MQTT should therefore declare an ``id``: the processor drops the
second copy. (What the broker queues is bounded: see **Flow**.)

**Order.** Messages are appended in the order the broker delivered them, which
keeps each publisher's order on a topic; :func:`message_key` of the payload chooses
the log partition, so one key's messages stay in order in one partition (redelivered
copies after a reconnection come again later).

**Keys.** The key is the value of ``key_field`` in the JSON payload, as text (a
string as it is, other JSON values as compact JSON: ``7``, ``true``). A payload that
is not a JSON object, or lacks the field, gets the key ``None`` (partition 0): the
bridge never drops a message; the processor quarantines the ones it cannot read.

**Flow.** The broker may have ``max_in_flight`` unacknowledged messages out to the
bridge (the MQTT 5 receive maximum: 65,535 by default, the most MQTT allows, held in
the bridge's memory until appended); the bridge appends whatever has arrived, up to
``batch_size`` messages per append, as soon as it arrives. Beyond that window the
broker queues messages for the bridge, connected or not, up to its own limit, and
drops QoS-1 messages past it: Mosquitto's ``max_queued_messages`` (1,000 by default)
must cover the largest burst the bridge can fall behind by, and the longest outage.
The bridge reconnects on its own, with a delay doubling from ``reconnect_min_s`` up to
``reconnect_max_s``.

>>> message_key(b'{"device": "d-7", "t": 21.5}', "device")
'd-7'
>>> message_key(b'{"device": 7}', "device"), message_key(b"not json", "device")
('7', None)
"""

from __future__ import annotations

import json
import queue
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from confluens.connectors.streams.protocol import StreamLog
from confluens.errors import InputError, MissingExtraError, StorageError

__all__ = ["MqttBridge", "message_key", "require_topic_pattern"]

_MAX_RECEIVE = 65535
# CONNACK reasons no retry can cure: protocol version, client id, credentials, access
_FATAL_CONNACK = frozenset({0x84, 0x85, 0x86, 0x87, 0x8C})


def message_key(payload: bytes, key_field: str | None) -> str | None:
    """The partitioning key of a payload: its JSON ``key_field`` as text, else None."""
    if key_field is None:
        return None
    try:
        document = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    value = document.get(key_field) if isinstance(document, dict) else None
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def require_topic_pattern(pattern: str) -> str:
    """``pattern`` if it is an MQTT topic filter (``+`` a whole level, ``#`` only as
    the last level), else an ``InputError``."""
    levels = pattern.split("/") if isinstance(pattern, str) else [""]
    wrong = (not pattern or "\0" in pattern
             or any(("+" in level and level != "+") or ("#" in level and level != "#")
                    for level in levels)
             or "#" in levels[:-1])
    if wrong:
        raise InputError("MQTT topic pattern", "'+' must be a whole level and '#' the "
                         "whole last level", got=pattern,
                         fix="write it like 'devices/+/telemetry' or 'devices/#'")
    return pattern


@dataclass(frozen=True, slots=True)
class _Received:
    mid: int
    qos: int
    payload: bytes
    connection: int  # which connection delivered it (1, 2, ...)


class MqttBridge:
    """Lands the messages of ``topic_pattern`` on the broker at ``url``
    (``mqtt://[user:password@]host[:port]``) in ``log``."""

    def __init__(self, url: str, topic_pattern: str, log: StreamLog, *,
                 key_field: str | None, client_id: str, batch_size: int = 1000,
                 max_in_flight: int = 65_535, session_expiry_s: int = 7 * 24 * 3600,
                 keepalive_s: int = 30, reconnect_min_s: int = 1,
                 reconnect_max_s: int = 30) -> None:
        where = f"MQTT bridge '{client_id}'"
        if not client_id:
            raise InputError(where, "needs a fixed client id: the broker keeps its "
                             "session (subscription, unacknowledged messages) under it",
                             got=client_id, fix="pass client_id='<site>-<source>-bridge'")
        if batch_size < 1 or not 1 <= max_in_flight <= _MAX_RECEIVE:
            raise InputError(where, f"batch_size must be at least 1 and max_in_flight "
                             f"1 to {_MAX_RECEIVE}", got=(batch_size, max_in_flight),
                             fix="pass batch_size=1000, max_in_flight=65535")
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
            raise InputError(where, "url must be mqtt://host[:port]", got=url,
                             fix="write it like mqtt://127.0.0.1:1883")
        try:
            import paho.mqtt.client  # noqa: F401 - only to name the extra when missing
        except ModuleNotFoundError:
            raise MissingExtraError("the MQTT bridge", "mqtt", "paho.mqtt") from None
        self.url = url
        self.topic_pattern = require_topic_pattern(topic_pattern)
        self.log = log
        self.key_field = key_field
        self.client_id = client_id
        self.batch_size = batch_size
        self.max_in_flight = max_in_flight
        self.session_expiry_s = session_expiry_s
        self.keepalive_s = keepalive_s
        self.reconnect_min_s = reconnect_min_s
        self.reconnect_max_s = reconnect_max_s
        self._where = where
        self._host, self._port = parts.hostname, parts.port or 1883
        self._auth = (parts.username, parts.password)
        self._received: queue.Queue[_Received] = queue.Queue()
        self._state = threading.Condition()
        self._connection = 0
        self._session_present = False
        self._subscribed = False
        self._refused: str | None = None
        self._landed = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._error: BaseException | None = None

    # -- what it did ---------------------------------------------------------------

    @property
    def landed(self) -> int:
        """How many messages this bridge appended to the log (copies included)."""
        with self._state:
            return self._landed

    def wait_landed(self, count: int, timeout_s: float) -> bool:
        """Wait until ``landed`` reaches ``count``; False if ``timeout_s`` passed first."""
        with self._state:
            return self._state.wait_for(lambda: self._landed >= count, timeout_s)

    def wait_subscribed(self, timeout_s: float) -> bool:
        """Wait until the broker confirmed the subscription on the current connection."""
        with self._state:
            return self._state.wait_for(lambda: self._subscribed, timeout_s)

    # -- running -----------------------------------------------------------------------

    def start(self) -> None:
        """Run the bridge in a daemon thread until :meth:`stop`."""
        if self._thread is not None and self._thread.is_alive():
            raise InputError(self._where, "is already running", got="running",
                             fix="call stop() first")
        self._stop = threading.Event()
        self._error = None
        self._thread = threading.Thread(target=self._run_in_thread, daemon=True,
                                        name=f"confluens-mqtt-{self.client_id}")
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Land and acknowledge what has arrived, disconnect, and join the thread;
        re-raise the error that ended it, if one did."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                raise StorageError(self._where, "must stop within the timeout",
                                   got=f"{timeout_s:g}s", fix="check the log it appends "
                                   "to; the thread keeps running")
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run_in_thread(self) -> None:
        try:
            self.run(self._stop)
        except BaseException as exc:  # reported by stop()
            self._error = exc

    def run(self, stop: threading.Event) -> None:
        """Land messages until ``stop`` is set, in this thread (the client's network
        loop runs in a thread of its own). An append that fails ends the run with its
        error; the messages of that batch stay unacknowledged, so the broker delivers
        them again to the next run."""
        with self._state:
            self._refused = None
        client = self._client()
        client.connect_async(self._host, self._port, keepalive=self.keepalive_s,
                             clean_start=False, properties=self._connect_properties())
        client.loop_start()
        try:
            while not stop.is_set():
                self._raise_if_refused()
                if batch := self._next_batch(timeout_s=0.1):
                    self._land(client, batch)
            # what arrived before the stop is landed and acknowledged; what arrives
            # later stays unacknowledged, for the next run
            arrived = self._received.qsize()
            while arrived > 0 and (batch := self._next_batch(timeout_s=0)):
                self._land(client, batch)
                arrived -= len(batch)
        finally:
            client.disconnect()
            client.loop_stop()
            with self._state:
                self._subscribed = False

    def _next_batch(self, timeout_s: float) -> list[_Received]:
        try:
            batch = [self._received.get(timeout=timeout_s) if timeout_s > 0
                     else self._received.get_nowait()]
        except queue.Empty:
            return []
        while len(batch) < self.batch_size:
            try:
                batch.append(self._received.get_nowait())
            except queue.Empty:
                break
        return batch

    def _land(self, client: Any, batch: list[_Received]) -> None:
        with self._state:
            current, resumed = self._connection, self._session_present
        # a message from an earlier connection is delivered again by a resumed
        # session: land it then; without a session it would be lost, so land it now
        keep = [r for r in batch if r.connection == current or not resumed]
        if not keep:
            return
        self.log.append([(message_key(r.payload, self.key_field), r.payload) for r in keep])
        for r in keep:
            if r.connection == current:
                client.ack(r.mid, r.qos)
        with self._state:
            self._landed += len(keep)
            self._state.notify_all()

    def _raise_if_refused(self) -> None:
        with self._state:
            refused = self._refused
        if refused is not None:
            raise StorageError(self._where, "the broker must accept the connection and "
                               f"the subscription to '{self.topic_pattern}'", got=refused,
                               fix="check the broker's access rules and the credentials")

    # -- the paho client ---------------------------------------------------------------

    def _connect_properties(self) -> Any:
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = self.session_expiry_s
        properties.ReceiveMaximum = self.max_in_flight
        return properties

    def _client(self) -> Any:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id,
                             protocol=MQTTProtocolVersion.MQTTv5, manual_ack=True)
        if self._auth[0] is not None:
            client.username_pw_set(self._auth[0], self._auth[1])
        client.reconnect_delay_set(self.reconnect_min_s, self.reconnect_max_s)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if reason.is_failure:
            if reason.value in _FATAL_CONNACK:
                with self._state:
                    self._refused = f"connection refused: {reason}"
            return  # others (server busy, unavailable...): paho tries again
        with self._state:
            self._connection += 1
            self._session_present = bool(flags.session_present)
            self._subscribed = False
        client.subscribe(self.topic_pattern, qos=1)

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reasons: Any,
                      properties: Any) -> None:
        with self._state:
            if any(r.is_failure for r in reasons):
                self._refused = f"subscription refused: {', '.join(map(str, reasons))}"
            else:
                self._subscribed = True
            self._state.notify_all()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any,
                       properties: Any) -> None:
        with self._state:
            self._subscribed = False

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        self._received.put(_Received(message.mid, message.qos, bytes(message.payload),
                                     self._connection))
