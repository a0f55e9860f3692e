"""Checkpoints: a stream processor's consumed positions, committed with its state.

An online store with the ``CHECKPOINT`` capability (``CheckpointStore``) commits a
processor's online state writes and its :class:`Checkpoint` atomically: after a crash,
the store holds either both or neither, so the processor resumes exactly where its
state stands. A commit is a compare-and-set on the consumer's sequence number: it must
carry ``seq`` one more than the stored checkpoint's (1 for the first), else the store
raises :class:`~confluens.errors.CheckpointConflictError` and writes nothing (another
processor owns the consumer, or this one is a stale copy).

>>> cp = Checkpoint("tx-processor", 3, {0: "17", 1: "12"}, {"watermark_us": 5})
>>> Checkpoint.from_json("tx-processor", cp.to_json()) == cp
True
>>> cp.following({0: "20"}, {"watermark_us": 9}).seq
4
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from confluens.stores.online.protocol import OnlineStore

__all__ = ["Checkpoint", "CheckpointStore", "StateWrite"]

StateWrite = tuple[str, Mapping[str, bytes]]
"""One view's writes in a commit: (view, {entity key: packed state})."""


@dataclass(frozen=True)
class Checkpoint:
    """Where a consumer stands: ``positions`` maps each partition to the position of
    the last message it consumed; ``state`` holds the processor's own small values
    (JSON), e.g. its watermark."""

    consumer: str
    seq: int
    positions: dict[int, str] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"seq": self.seq, "positions": {str(p): v for p, v in
                                                          sorted(self.positions.items())},
                           "state": self.state}, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, consumer: str, text: str | bytes) -> Checkpoint:
        data = json.loads(text)
        return cls(consumer, int(data["seq"]),
                   {int(p): str(v) for p, v in data["positions"].items()},
                   dict(data["state"]))

    def following(self, positions: Mapping[int, str], state: Mapping[str, Any],
                  ) -> Checkpoint:
        """The next checkpoint: ``positions`` updated, ``state`` replaced, seq + 1."""
        return Checkpoint(self.consumer, self.seq + 1, {**self.positions, **positions},
                          dict(state))


class CheckpointStore(OnlineStore, Protocol):
    """An online store that commits state writes and a checkpoint together."""

    def checkpoint(self, consumer: str) -> Checkpoint | None:
        """The consumer's last committed checkpoint (None: it never committed)."""
        ...

    def commit(self, checkpoint: Checkpoint, writes: Sequence[StateWrite], *,
               ttl_seconds: float | None = None) -> None:
        """Write ``writes`` and make ``checkpoint`` the consumer's, atomically, if the
        stored checkpoint's seq is ``checkpoint.seq - 1`` (none stored: seq must be 1);
        else raise ``CheckpointConflictError`` and write nothing."""
        ...
