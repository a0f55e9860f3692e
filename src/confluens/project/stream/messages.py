"""A batch of stream messages as ingest input: a chunk of JSON records, and the
messages that cannot even be read (too large, not UTF-8) as quarantine rows.

Each record's ``position`` in quarantine is its broker position where that is a whole
number (the embedded log, NATS JetStream); otherwise (Redis Streams entry IDs) it is
the message's place in the batch, and the batch's label names the positions it spans.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter

import pyarrow as pa
import pyarrow.compute as pc

from confluens.connectors import RawChunk, records_chunk
from confluens.connectors.streams import Message
from confluens.core import Source
from confluens.stores.quarantine import QUARANTINE_SCHEMA

__all__ = ["MessageBatch", "batch_label", "split_messages"]


@dataclass(frozen=True, slots=True)
class MessageBatch:
    chunk: RawChunk  # the readable messages, as JSON lines
    unreadable: pa.Table  # QUARANTINE_SCHEMA rows: oversized or not UTF-8
    rules: dict[str, int]  # rule -> unreadable messages


def batch_label(location: str, messages: Sequence[Message]) -> str:
    first, last = messages[0], messages[-1]
    return (f"stream {location} partition {first.partition} positions "
            f"{first.position}..{last.position}")


def _positions(messages: Sequence[Message]) -> list[int]:
    try:
        return [int(m.position) for m in messages]
    except ValueError:
        return list(range(len(messages)))


def _position_array(messages: Sequence[Message]) -> pa.Array:
    """``_positions`` as an int64 array: Arrow reads plain whole numbers at once (what it
    reads, ``int`` reads alike); anything else takes the path of ``_positions``."""
    try:
        return pa.array(list(map(attrgetter("position"), messages)), pa.string()).cast(
            pa.int64())
    except pa.ArrowInvalid:
        return pa.array(_positions(messages), pa.int64())


def _all_readable(messages: Sequence[Message], limit: int) -> pa.Array | None:
    """The payloads as text when none is over ``limit`` bytes and all are UTF-8 (Arrow
    validates the whole batch at once, as strictly as Python's decoder); else None."""
    payloads = pa.array(list(map(attrgetter("payload"), messages)), pa.binary())
    if len(messages) and pc.max(pc.binary_length(payloads)).as_py() > limit:
        return None
    try:
        return payloads.cast(pa.string())
    except pa.ArrowInvalid:
        return None


def split_messages(source: Source, location: str, run_id: str,
                   messages: Sequence[Message]) -> MessageBatch:
    """The batch's readable messages as a chunk, the rest as quarantine rows."""
    assert source.stream is not None
    limit = source.stream.max_message_bytes
    label = batch_label(location, messages)
    lines = _all_readable(messages, limit)
    if lines is not None:  # the usual batch: every message read at once
        table = pa.table({"position": _position_array(messages), "line": lines})
        return MessageBatch(records_chunk(label, table, [f.input_name for f in source.schema]),
                            QUARANTINE_SCHEMA.empty_table(), {})
    keep_pos: list[int] = []
    keep_line: list[str] = []
    bad: list[dict[str, object]] = []
    rules: dict[str, int] = {}
    now = datetime.now(UTC)
    for pos, message in zip(_positions(messages), messages, strict=True):
        payload = message.payload
        rule = reason = None
        if len(payload) > limit:
            rule, reason = "oversized", (f"oversized: {len(payload)} bytes, more than the "
                                         f"binding's max_message_bytes {limit}")
        else:
            try:
                keep_line.append(payload.decode("utf-8"))
                keep_pos.append(pos)
                continue
            except UnicodeDecodeError as exc:
                rule, reason = "encoding", (f"encoding: not UTF-8 text (byte "
                                            f"{payload[exc.start]:#04x} at offset {exc.start})")
        text = payload.decode("utf-8", errors="backslashreplace")
        bad.append({"source": source.name, "run_id": run_id, "input": label,
                    "position": pos, "rule": rule, "rules": [rule], "reason": reason,
                    "record": text, "record_hash": hashlib.md5(payload).hexdigest(),
                    "quarantined_at": now})
        rules[rule] = rules.get(rule, 0) + 1
    lines = pa.table({"position": pa.array(keep_pos, pa.int64()),
                      "line": pa.array(keep_line, pa.string())})
    chunk = records_chunk(label, lines, [f.input_name for f in source.schema])
    return MessageBatch(chunk, pa.Table.from_pylist(bad, schema=QUARANTINE_SCHEMA), rules)
