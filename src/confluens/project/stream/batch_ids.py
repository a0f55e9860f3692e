"""The identity of one stream batch, which ties its offline append and its quarantine
file to the checkpoint that commits it.

A batch is the ``count`` messages of one partition that follow the partition's
checkpointed position, committed as checkpoint ``seq``. Its offline-store run id (and
quarantine batch id, with ``-q``) says all of that, so a processor restarting after a
crash between its appends and its commit finds them, reads exactly the same messages
again, and writes nothing twice.

>>> bid = BatchId("transactions", 3, 42, 5000)
>>> str(bid)
's-transactions-p3-000000042-n5000'
>>> BatchId.parse(str(bid)) == bid, BatchId.parse("20240101T000000-abcdef12")
(True, None)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["BatchId", "consumer_of"]

_PATTERN = re.compile(r"^s-(?P<source>.+)-p(?P<p>\d+)-(?P<seq>\d{9})-n(?P<n>\d+)$")


def consumer_of(source: str, partition: int) -> str:
    """The checkpoint consumer of one partition of a source's stream."""
    return f"{source}:{partition}"


@dataclass(frozen=True, slots=True)
class BatchId:
    source: str
    partition: int
    seq: int
    count: int

    def __str__(self) -> str:
        return f"s-{self.source}-p{self.partition}-{self.seq:09d}-n{self.count}"

    @property
    def quarantine_id(self) -> str:
        return f"{self}-q"

    @classmethod
    def parse(cls, text: str) -> BatchId | None:
        """The batch a run id names (None: not a stream batch's run)."""
        match = _PATTERN.match(text.removesuffix("-q"))
        if match is None:
            return None
        return cls(match["source"], int(match["p"]), int(match["seq"]), int(match["n"]))
