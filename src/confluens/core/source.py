"""A source: a named, typed stream or table of records with an event time.

>>> from confluens.core.checks import Range
>>> tx = Source(
...     "transactions",
...     schema={"tx_id": "int64", "ts": "timestamp", "amount": "float64"},
...     event_time="ts", id="tx_id", checks=[Range("amount", min=0)],
... )
>>> tx.known_at is None, tx.timezone
(True, 'UTC')
>>> Source("bad", schema={"a": "int64"}, event_time="ts")
Traceback (most recent call last):
...
confluens.errors.DefinitionError: Source 'bad': event_time must name a column of the schema;
got 'ts'. Fix: use one of ['a'], or add 'ts' to the schema.
"""

from __future__ import annotations

import codecs
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from confluens.core.checks import Check, OneOf, Range, Regex
from confluens.core.dtypes import DType
from confluens.core.names import check_name
from confluens.core.schema import Field, Schema
from confluens.core.time_rules import (
    DEFAULT_TIME_RANGE,
    EPOCH_UNITS,
    TimeRange,
    parse_time_range,
)
from confluens.core.windows import Duration
from confluens.errors import DefinitionError

__all__ = ["Source", "StreamBinding"]

_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
_DEFAULT_MAX_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class StreamBinding:
    """Where a source's live records arrive, and how they are partitioned.

    - ``kind``: the stream connector: ``log`` (the embedded log, the default: durable,
      file-backed, no server), ``redis`` (Redis Streams), ``nats`` (NATS JetStream),
      ``mqtt`` (devices publish to an MQTT topic pattern; QoS 1) or ``http`` (records
      pushed to the HTTP API). Which kinds are installed is checked when a processor
      starts; the core keeps only the name.
    - ``topic``: the log's topic, Redis stream, NATS subject or MQTT topic pattern.
    - ``key``: the column whose value picks a message's partition (one key's records
      stay in order in one partition); None: one partition.
    - ``partitions``: how many partitions the stream has (processors share them).
    - ``allowed_lateness``: how far behind the processor's watermark (the latest event
      time it has accepted) a record's event time may be; a later one goes to
      quarantine with rule ``late``. None (the default): no record is too late.
    - ``max_message_bytes``: a longer message goes to quarantine as ``oversized``.

    >>> StreamBinding("redis", "tx", key="customer_id", partitions=4).spec()["partitions"]
    4
    """

    kind: str
    topic: str
    key: str | None = None
    partitions: int = 1
    allowed_lateness: Duration | None = None
    max_message_bytes: int = _DEFAULT_MAX_BYTES

    def __init__(self, kind: str, topic: str, *, key: str | None = None, partitions: int = 1,
                 allowed_lateness: Duration | str | None = None,
                 max_message_bytes: int = _DEFAULT_MAX_BYTES) -> None:
        set_ = object.__setattr__
        where = f"StreamBinding({kind!r}, {topic!r})"
        if not isinstance(kind, str) or not _KIND.match(kind):
            raise DefinitionError(where, "kind must be a connector name in lower case",
                                  got=kind, fix="use 'log', 'redis', 'nats', 'mqtt' or 'http'")
        if not isinstance(topic, str) or not topic:
            raise DefinitionError(where, "topic must be a non-empty string",
                                  got=topic, fix="name the topic, stream or subject")
        if key is not None and (not isinstance(key, str) or not key):
            raise DefinitionError(where, "key must name a column", got=key,
                                  fix="pass key='customer_id', or leave it out")
        if not isinstance(partitions, int) or isinstance(partitions, bool) or not (
                1 <= partitions <= 1024):
            raise DefinitionError(where, "partitions must be a whole number from 1 to 1024",
                                  got=partitions, fix="pass e.g. partitions=4")
        if partitions > 1 and key is None:
            raise DefinitionError(where, "a stream with several partitions needs a key",
                                  got=partitions, fix="pass key='<entity column>'")
        if not isinstance(max_message_bytes, int) or max_message_bytes < 64:
            raise DefinitionError(where, "max_message_bytes must be a whole number of at "
                                  "least 64", got=max_message_bytes,
                                  fix="pass e.g. max_message_bytes=1_048_576")
        set_(self, "kind", kind)
        set_(self, "topic", topic)
        set_(self, "key", key)
        set_(self, "partitions", partitions)
        set_(self, "allowed_lateness", None if allowed_lateness is None else Duration.parse(
            allowed_lateness, f"{where} allowed_lateness"))
        set_(self, "max_message_bytes", max_message_bytes)

    def spec(self) -> dict[str, Any]:
        """Kind and topic, then only the settings that differ from their defaults (so
        a binding written before they existed keeps its definition hash)."""
        out: dict[str, Any] = {"kind": self.kind, "topic": self.topic}
        if self.key is not None:
            out["key"] = self.key
        if self.partitions != 1:
            out["partitions"] = self.partitions
        if self.allowed_lateness is not None:
            out["allowed_lateness"] = str(self.allowed_lateness)
        if self.max_message_bytes != _DEFAULT_MAX_BYTES:
            out["max_message_bytes"] = self.max_message_bytes
        return out


@dataclass(frozen=True, slots=True)
class Source:
    """A typed source of records.

    - ``event_time``: when the event happened; a timestamp column, required.
    - ``id``: a column that identifies a record; re-ingested ids are duplicates.
      Without one, records are identified by a hash of their content.
    - ``known_at``: when the record became available (e.g. a label confirmed weeks
      later). Without one, a record is known at its event time.
    - ``timezone``: the zone of timestamps that arrive without one (IANA name).
    - ``batch``: a path, glob or URI to ingest when none is given on the command line.
    - ``time_range``: ``(start, end)``, the plausible span of every timestamp column;
      values outside ``[start, end)`` are quarantined (default 1970-01-01 to 2200-01-01).
    - ``epoch_unit``: the unit of numbers in timestamp columns: s, ms, us or ns.
    - ``encoding``: the text encoding of CSV and JSON-lines files (default utf-8).
    """

    name: str
    schema: Schema
    event_time: str
    id: str | None = None
    known_at: str | None = None
    version: str | None = None
    checks: tuple[Check, ...] = ()
    batch: str | None = None
    stream: StreamBinding | None = None
    timezone: str = "UTC"
    description: str = ""
    time_range: TimeRange = DEFAULT_TIME_RANGE
    epoch_unit: str = "s"
    encoding: str = "utf-8"

    def __init__(
        self,
        name: str,
        schema: Schema | Mapping[str, DType | str] | Iterable[Field],
        event_time: str,
        *,
        id: str | None = None,
        known_at: str | None = None,
        version: str | None = None,
        checks: Sequence[Check] = (),
        batch: str | None = None,
        stream: StreamBinding | None = None,
        timezone: str = "UTC",
        description: str = "",
        time_range: Sequence[object] = DEFAULT_TIME_RANGE,
        epoch_unit: str = "s",
        encoding: str = "utf-8",
    ) -> None:
        set_ = object.__setattr__
        set_(self, "name", check_name("Source", name))
        set_(self, "schema", Schema.of(schema))
        set_(self, "event_time", event_time)
        set_(self, "id", id)
        set_(self, "known_at", known_at)
        set_(self, "version", version)
        set_(self, "checks", tuple(checks))
        set_(self, "batch", batch)
        set_(self, "stream", stream)
        set_(self, "timezone", timezone)
        set_(self, "description", description)
        set_(self, "time_range", parse_time_range(time_range, self._where))
        set_(self, "epoch_unit", epoch_unit)
        set_(self, "encoding", encoding)
        self._validate()
        self._validate_reading()

    @property
    def _where(self) -> str:
        return f"Source '{self.name}'"

    def _column(self, role: str, column: str | None, *types: DType) -> None:
        if column is None:
            return
        if column not in self.schema:
            raise DefinitionError(self._where, f"{role} must name a column of the schema",
                                  got=column, fix=f"use one of {list(self.schema.names)}, or "
                                  f"add '{column}' to the schema")
        dtype = self.schema[column].dtype
        if types and dtype not in types:
            raise DefinitionError(self._where, f"{role} column '{column}' must be of type "
                                  + " or ".join(t.value for t in types), got=dtype.value,
                                  fix=f"declare '{column}' as {types[0].value} in the schema")

    def _validate(self) -> None:
        self._column("event_time", self.event_time, DType.TIMESTAMP)
        self._column("known_at", self.known_at, DType.TIMESTAMP)
        self._column("id", self.id, DType.INT64, DType.STRING)
        self._column("version", self.version, DType.TIMESTAMP, DType.INT64)
        if self.version == self.event_time:
            raise DefinitionError(self._where, "version must differ from event_time",
                                  got=self.version, fix="name the column that orders records "
                                  "with the same event time, e.g. 'created'")
        if self.known_at == self.event_time:
            raise DefinitionError(self._where, "known_at must differ from event_time",
                                  got=self.known_at, fix="drop known_at: a record is known at "
                                  "its event time by default")
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise DefinitionError(self._where, "timezone must be an IANA zone name",
                                  got=self.timezone, fix="use e.g. 'UTC' or 'Europe/Paris'"
                                  ) from None
        if self.stream is not None and not isinstance(self.stream, StreamBinding):
            raise DefinitionError(self._where, "stream must be a StreamBinding", got=self.stream,
                                  fix="pass stream=StreamBinding('mqtt', 'sensors/#')")
        if self.stream is not None and self.stream.key is not None:
            self._column("stream key", self.stream.key)
        rules: set[str] = set()
        for check in self.checks:
            if not isinstance(check, Check):
                raise DefinitionError(self._where, "checks must be Check values", got=check,
                                      fix="use NotNull, Range, OneOf, Regex, Unique or Custom")
            for column in check.columns:
                self._column(f"check '{check.rule}'", column)
            dtype = self.schema[check.column].dtype
            if isinstance(check, Range) and not (dtype.is_numeric):
                raise DefinitionError(self._where, f"check '{check.rule}' needs a numeric "
                                      "column", got=dtype.value, fix="use a numeric column, or "
                                      "a Custom check")
            if isinstance(check, OneOf):
                wrong = [v for v in check.values if not _fits(v, dtype)]
                if wrong:
                    raise DefinitionError(self._where, f"check '{check.rule}' values must be of "
                                          f"the column's type {dtype.value}", got=wrong[0],
                                          fix=f"list {dtype.value} values")
            if isinstance(check, Regex) and dtype is not DType.STRING:
                raise DefinitionError(self._where, f"check '{check.rule}' needs a string column",
                                      got=dtype.value, fix="use a string column")
            if check.rule in rules:
                raise DefinitionError(self._where, "check rules must be unique", got=check.rule,
                                      fix="give one of them name='...'")
            rules.add(check.rule)

    def _validate_reading(self) -> None:
        if self.epoch_unit not in EPOCH_UNITS:
            raise DefinitionError(self._where, f"epoch_unit must be one of {list(EPOCH_UNITS)}",
                                  got=self.epoch_unit, fix="pass e.g. epoch_unit='ms' for "
                                  "milliseconds since 1970-01-01")
        try:
            text = getattr(codecs.lookup(self.encoding), "_is_text_encoding", True)
        except (LookupError, TypeError):
            text = False
        if not text:
            raise DefinitionError(self._where, "encoding must name a text encoding",
                                  got=self.encoding, fix="use e.g. 'utf-8', 'latin-1' or "
                                  "'cp1252'")

    def _reading_spec(self) -> dict[str, Any]:
        """Reading settings that differ from the defaults (so older specs stay equal)."""
        spec: dict[str, Any] = {}
        if self.time_range != DEFAULT_TIME_RANGE:
            spec["time_range"] = [t.isoformat() for t in self.time_range]
        if self.epoch_unit != "s":
            spec["epoch_unit"] = self.epoch_unit
        if codecs.lookup(self.encoding).name != "utf-8":
            spec["encoding"] = self.encoding
        return spec

    def spec(self) -> dict[str, Any]:
        return {
            "kind": "source",
            "name": self.name,
            "schema": self.schema.spec(),
            "event_time": self.event_time,
            "id": self.id,
            "known_at": self.known_at,
            **({"version": self.version} if self.version is not None else {}),
            "checks": [c.spec() for c in self.checks],
            "batch": self.batch,
            "stream": None if self.stream is None else self.stream.spec(),
            "timezone": self.timezone,
            "description": self.description,
            **self._reading_spec(),
        }


def _fits(value: object, dtype: DType) -> bool:
    """Whether a literal can stand for a value of ``dtype`` (for OneOf)."""
    if value is None:
        return True
    if dtype is DType.STRING:
        return isinstance(value, str)
    if dtype is DType.BOOL:
        return isinstance(value, bool)
    if dtype is DType.INT64:
        return isinstance(value, int) and not isinstance(value, bool)
    if dtype is DType.FLOAT64:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str)  # dates and timestamps as ISO strings
