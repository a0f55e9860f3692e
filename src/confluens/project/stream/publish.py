"""Publishing records into sources' streams from outside: the HTTP push endpoint.

A source bound to ``StreamBinding("http", topic)`` takes records pushed over HTTP
(``POST /v1/sources/{source}/records``, see interfaces/api/push.py): each record is
appended as one message to the source's log, keyed by the binding's key column, and
the stream processor reads them from there like any other stream. The log append is
durable before the request is answered, so an acknowledged record is never lost; a
record that breaks the source's schema or checks still goes in, and the processor
sends it to quarantine with its reason.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

from confluens.connectors.streams import StreamLog
from confluens.core import Definitions, Source
from confluens.errors import InputError
from confluens.project.config import ProjectConfig
from confluens.project.stream.logs import open_log

__all__ = ["Publisher"]


def _key_text(value: Any) -> str | None:
    return None if value is None else str(value)


class Publisher:
    """Appends records to the logs of the sources bound to ``http`` streams."""

    def __init__(self, config: ProjectConfig, definitions: Definitions) -> None:
        self.config = config
        self.bound = {s.name: s for s in definitions.sources
                      if s.stream is not None and s.stream.kind == "http"}
        self._logs: dict[str, StreamLog] = {}
        self._lock = threading.Lock()

    @property
    def sources(self) -> list[str]:
        return sorted(self.bound)

    def _source(self, name: str) -> Source:
        source = self.bound.get(name)
        if source is None:
            raise InputError(f"source '{name}'", "takes pushed records only when bound to "
                             "an http stream", got=name,
                             fix=f"push to one of {self.sources}, or declare "
                             f"stream=StreamBinding('http', '{name}') and apply"
                             if self.sources else f"declare stream=StreamBinding('http', "
                             f"'{name}') on the source and run `confluens apply`")
        return source

    def _log(self, source: Source) -> StreamLog:
        with self._lock:
            log = self._logs.get(source.name)
            if log is None:
                log = self._logs[source.name] = open_log(self.config, source)
            return log

    def _key_of(self, source: Source, record: Any) -> str | None:
        assert source.stream is not None
        key = source.stream.key
        if key is None or not isinstance(record, dict):
            return None
        return _key_text(record.get(source.schema[key].input_name))

    def publish(self, source: str, records: Sequence[Any]) -> int:
        """Append decoded JSON values (one message each, normally objects)."""
        src = self._source(source)
        messages = [(self._key_of(src, r), json.dumps(r, separators=(",", ":")).encode())
                    for r in records]
        return self._log(src).append(messages)

    def publish_lines(self, source: str, lines: Sequence[bytes]) -> int:
        """Append raw JSON lines as they came (a line that is not JSON goes in too)."""
        src = self._source(source)
        messages = []
        for line in lines:
            try:
                key = self._key_of(src, json.loads(line))
            except ValueError:
                key = None
            messages.append((key, bytes(line)))
        return self._log(src).append(messages)

    def close(self) -> None:
        with self._lock:
            for log in self._logs.values():
                log.close()
            self._logs.clear()
