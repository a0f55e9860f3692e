"""The stream log a source's records arrive on, opened from its binding and the config.

A source's ``StreamBinding.kind`` names where its live records arrive:

==========  ==============================================================
``log``     the embedded log, ``<store root>/streams/<topic>.log`` (no server)
``redis``   Redis Streams at ``[streams] redis_url`` (the ``redis`` extra)
``nats``    NATS JetStream at ``[streams] nats_url`` (the ``nats`` extra)
``mqtt``    devices publish to MQTT; a bridge lands their messages in the embedded
            log, which the processor reads (the ``mqtt`` extra)
``http``    records pushed to the HTTP API land in the embedded log
==========  ==============================================================
"""

from __future__ import annotations

import re
from pathlib import Path

from confluens.connectors.streams import EmbeddedLog, StreamLog
from confluens.core import Source, StreamBinding
from confluens.errors import InputError
from confluens.project.config import ProjectConfig

__all__ = ["KINDS", "embedded_log_path", "open_log", "require_binding"]

KINDS = ("log", "redis", "nats", "mqtt", "http")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def require_binding(source: Source) -> StreamBinding:
    """The source's stream binding; a source without one is refused, with the fix."""
    if source.stream is None:
        raise InputError(f"source '{source.name}'", "has no stream binding", got=None,
                         fix=f"declare Source('{source.name}', ..., stream=StreamBinding("
                         f"'log', '{source.name}')) and run `confluens apply`")
    if source.stream.kind not in KINDS:
        raise InputError(f"source '{source.name}' stream", "kind must be one of "
                         + ", ".join(KINDS), got=source.stream.kind,
                         fix="use one of those connector kinds")
    return source.stream


def embedded_log_path(config: ProjectConfig, topic: str) -> Path:
    """Where the embedded log of ``topic`` lives (a topic pattern's wildcards and
    slashes become safe file-name characters)."""
    return config.store_root / "streams" / f"{_UNSAFE.sub('_', topic).strip('_') or 'log'}.log"


def open_log(config: ProjectConfig, source: Source) -> StreamLog:
    """The log the processor reads ``source``'s records from (see the table above)."""
    binding = require_binding(source)
    if binding.kind == "redis":
        from confluens.connectors.streams.redis_streams import (
            RedisStreamLog,
        )

        redis_log: StreamLog = RedisStreamLog(config.streams_redis_url, binding.topic,
                                              partitions=binding.partitions)
        return redis_log
    if binding.kind == "nats":
        from confluens.connectors.streams.nats_jetstream import NatsLog

        nats_log: StreamLog = NatsLog(config.nats_url, binding.topic,
                                      partitions=binding.partitions)
        return nats_log
    return EmbeddedLog(embedded_log_path(config, binding.topic), binding.topic,
                       partitions=binding.partitions)
