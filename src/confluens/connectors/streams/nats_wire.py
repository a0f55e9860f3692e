"""What a NATS JetStream log writes and reads on the wire, as plain functions.

- A topic is a NATS subject without wildcards (``tx``, ``cards.tx``); partition ``p``
  of the topic is the subject ``<topic>.<p>``, and the stream holding them is named
  after the topic (:func:`stream_name`: characters other than letters, digits, ``_``
  and ``-`` become ``_``). The stream's description records the topic and the number
  of partitions (:func:`describe`, :func:`described`), so a log reopened with another
  number is refused and two topics mapped to one name are told apart.
- A message's key travels in the ``Confluens-Key`` header, percent-encoded
  (:func:`key_header`, :func:`key_of`: any text survives, spaces and line breaks
  included); a message without the header has the key ``None``.
- A message delivered by a consumer carries its stream sequence and the time the
  server stored it in its reply subject (:func:`delivery_of`).

>>> stream_name("cards.tx")
'cards_tx'
>>> subject_of("cards.tx", 3)
'cards.tx.3'
>>> described(describe("cards.tx", 4))
('cards.tx', 4)
>>> key_of({KEY_HEADER: key_header(" a b\\n")})
' a b\\n'
>>> delivery_of("$JS.ACK.tx.c1.1.42.7.1700000000123456789.0")
Delivery(consumer='c1', stream_seq=42, consumer_seq=7, published_us=1700000000123456)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

from confluens.errors import InputError, StorageError

__all__ = ["KEY_HEADER", "Delivery", "delivery_of", "describe", "described", "key_header",
           "key_of", "require_topic", "stream_name", "subject_of"]

KEY_HEADER = "Confluens-Key"
_DESCRIPTION = "confluens stream log "
_TOKEN = re.compile(r"[^\s.*>]+")
_NOT_NAME = re.compile(r"[^A-Za-z0-9_-]")


def require_topic(topic: str) -> str:
    """``topic`` if it is a NATS subject without wildcards, else an ``InputError``."""
    if not isinstance(topic, str) or not all(_TOKEN.fullmatch(t) for t in topic.split(".")):
        raise InputError("NATS log topic", "must be a NATS subject: tokens separated by "
                         "'.', without spaces or the wildcards '*' and '>'", got=topic,
                         fix="name the topic like 'tx' or 'cards.tx'")
    return topic


def stream_name(topic: str) -> str:
    """The JetStream stream that holds ``topic``'s partitions."""
    return _NOT_NAME.sub("_", topic)


def subject_of(topic: str, partition: int) -> str:
    return f"{topic}.{partition}"


def describe(topic: str, partitions: int) -> str:
    """The stream description recording what the stream holds."""
    return _DESCRIPTION + json.dumps({"topic": topic, "partitions": partitions})


def described(description: str | None) -> tuple[str, int] | None:
    """(topic, partitions) from a stream description; None when the stream was not
    created by a confluens log."""
    if not description or not description.startswith(_DESCRIPTION):
        return None
    try:
        fields = json.loads(description[len(_DESCRIPTION):])
        return str(fields["topic"]), int(fields["partitions"])
    except (ValueError, KeyError, TypeError):
        return None


def key_header(key: str) -> str:
    return quote(key, safe="")


def key_of(headers: Mapping[str, str] | None) -> str | None:
    if not headers or KEY_HEADER not in headers:
        return None
    return unquote(headers[KEY_HEADER])


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where a delivered message sits: the consumer that delivered it, its stream
    sequence, its consumer sequence (1, 2, 3, ... per consumer: a gap means a delivery
    was lost) and when the server stored it."""

    consumer: str
    stream_seq: int
    consumer_seq: int
    published_us: int


def delivery_of(reply: str) -> Delivery:
    """Parse a JetStream ack subject: ``$JS.ACK.<stream>.<consumer>.<delivered>.<stream
    seq>.<consumer seq>.<nanoseconds>.<pending>``, or the form with a domain and an
    account hash after ``$JS.ACK`` (12 tokens or more)."""
    tokens = reply.split(".")
    start = 2 if len(tokens) == 9 else 4
    try:
        if tokens[:2] != ["$JS", "ACK"] or (len(tokens) != 9 and len(tokens) < 11):
            raise ValueError(reply)
        stream_seq, consumer_seq, nanos = (int(t) for t in tokens[start + 3:start + 6])
    except ValueError:
        raise StorageError("NATS JetStream delivery", "a consumer's message must carry its "
                           "JetStream ack subject", got=reply,
                           fix="read the stream through JetStream (this is a server or "
                           "client version the log does not know)") from None
    return Delivery(tokens[start + 1], stream_seq, consumer_seq, nanos // 1000)
