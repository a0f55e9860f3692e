"""What a stream processor has done, kept in its checkpoint (so counted exactly once).

``StreamStats`` holds the running counts (they reconcile: ``rows_in == accepted +
quarantined + duplicates``), the watermark, the time and size of the last commit, and
a sample of recent event-to-online lags: for each message, the time from when the log
accepted it to when the processor committed the state that includes it. Each commit
adds up to ``SAMPLE_PER_COMMIT`` lags, evenly spaced over its messages, to a window of
the latest ``SAMPLE_SIZE``; p50 and p99 are read from that window.

>>> s = StreamStats()
>>> s.add_lags([1_000, 2_000, 3_000, 400_000])
>>> s.lag_quantile(0.5), s.lag_quantile(0.99)
(2000, 400000)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from confluens.ingest import ChunkCounts

__all__ = ["SAMPLE_PER_COMMIT", "SAMPLE_SIZE", "StreamStats"]

SAMPLE_SIZE = 2000
SAMPLE_PER_COMMIT = 200


@dataclass
class StreamStats:
    rows_in: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    rules: Counter[str] = field(default_factory=Counter)
    watermark_us: int | None = None  # the latest event time accepted
    committed_us: int | None = None  # when the last commit was made
    commits: int = 0
    busy_us: int = 0  # time spent processing batches (throughput = accepted / busy)
    lags_us: list[int] = field(default_factory=list)

    def add_counts(self, counts: ChunkCounts) -> None:
        self.rows_in += counts.rows_in
        self.accepted += counts.accepted
        self.quarantined += counts.quarantined
        self.duplicates += counts.duplicates
        self.rules.update(counts.rules)

    def add_lags(self, lags_us: list[int]) -> None:
        if len(lags_us) > SAMPLE_PER_COMMIT:
            step = len(lags_us) / SAMPLE_PER_COMMIT
            lags_us = [lags_us[int(i * step)] for i in range(SAMPLE_PER_COMMIT)]
        self.lags_us = (self.lags_us + lags_us)[-SAMPLE_SIZE:]

    def lag_quantile(self, q: float) -> int | None:
        """The q-quantile of the sampled lags (nearest rank), in µs; None: no sample."""
        if not self.lags_us:
            return None
        ordered = sorted(self.lags_us)
        return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]

    @property
    def events_per_second(self) -> float | None:
        return None if self.busy_us == 0 else self.accepted * 1e6 / self.busy_us

    def to_state(self) -> dict[str, Any]:
        return {"rows_in": self.rows_in, "accepted": self.accepted,
                "quarantined": self.quarantined, "duplicates": self.duplicates,
                "rules": dict(self.rules), "watermark_us": self.watermark_us,
                "committed_us": self.committed_us, "commits": self.commits,
                "busy_us": self.busy_us, "lags_us": self.lags_us}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> StreamStats:
        return cls(rows_in=int(state.get("rows_in", 0)), accepted=int(state.get("accepted", 0)),
                   quarantined=int(state.get("quarantined", 0)),
                   duplicates=int(state.get("duplicates", 0)),
                   rules=Counter({str(k): int(v) for k, v in state.get("rules", {}).items()}),
                   watermark_us=state.get("watermark_us"),
                   committed_us=state.get("committed_us"), commits=int(state.get("commits", 0)),
                   busy_us=int(state.get("busy_us", 0)),
                   lags_us=[int(x) for x in state.get("lags_us", [])])
