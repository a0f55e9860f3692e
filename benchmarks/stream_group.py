"""Consumer groups: what group membership costs one worker. The same records (the fraud
data of the `stream` suite, replayed into the embedded log beforehand, untimed) are
processed by `Project.stream(until_idle=True)` alone and as the one member of a
consumer group (`group=GroupOptions(...)`: a membership lease, partition leases renewed
by a heartbeat thread, and each batch's writes confirmed by a lease renewal first),
interleaved, 3 rounds (each goes first in turn: the first run of a round was the
slower one).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import confluens
from benchmarks.harness import Figure, interleaved
from benchmarks.streaming import EVENTS, _data, _project, _replayed
from confluens.project.stream.group import GroupOptions

__all__ = ["run"]


def run(shared: Path | None) -> tuple[str, list[Figure]]:
    work = Path(tempfile.mkdtemp(prefix="confluens-bench-group-"))
    try:
        data, label = _data(work, shared)
        embedded = _project(work, data, "embedded", "log", redis=False)
        with confluens.open(embedded) as p:
            p.replay("transactions", "data/transactions/transactions.parquet")
            p.replay("fraud_labels", "data/labels/labels.parquet")
        events = EVENTS // 2 * 2
        rounds: dict[str, Path] = {}

        def alone() -> None:
            with confluens.open(rounds.pop("alone")) as p:
                p.stream(until_idle=True)

        def grouped() -> None:
            with confluens.open(rounds.pop("group")) as p:
                p.stream(until_idle=True, group=GroupOptions("bench"))

        times: dict[str, list[float]] = {"alone": [], "group": []}
        for i in range(3):
            rounds["alone"] = _replayed(embedded, work, fresh_topic=False)
            rounds["group"] = _replayed(embedded, work, fresh_topic=False)
            pair = [("alone", alone), ("group", grouped)]  # each goes first in turn
            for k, v in interleaved(dict(pair[::-1] if i % 2 else pair), repeat=1).items():
                times[k] += v
        med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
        each = {k: ", ".join(f"{t:.2f}" for t in v) for k, v in times.items()}
        alone_name = "confluens stream, embedded log, one worker"
        figures = [
            Figure("stream-group", alone_name, med["alone"], events,
                   note=f"no group; median of 3 interleaved rounds, each first in turn "
                   f"({each['alone']} s)"),
            Figure("stream-group", "confluens stream --group, embedded log, one member",
                   med["group"], events, alone_name,
                   note="leases in the embedded online store, renewed per batch and "
                   f"every lease_ttl/3 (10 s TTL); rounds {each['group']} s"),
        ]
        return label, figures
    finally:
        shutil.rmtree(work, ignore_errors=True)
