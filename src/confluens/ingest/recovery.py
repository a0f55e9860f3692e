"""Runs that died: telling them, and settling their counts on what they committed.

A run records its counts as each chunk commits. A process killed between a chunk's
commit and that record leaves the run row one chunk behind, and a killed process
leaves it ``running`` for ever. The stores themselves know what was committed: the
offline store's manifest lists the rows of each run, and the quarantine index the
batches of each run. So a dead run is settled on them and marked ``interrupted``:

- ``accepted``: the rows the manifest lists for the run;
- ``quarantined`` and ``rules``: the run's batches in the quarantine index;
- ``duplicates``: as last recorded (a chunk committed but not recorded has unknown
  duplicates), and ``rows_in = accepted + quarantined + duplicates``.

Hence, at all times, the sum of ``accepted`` over a source's runs equals its stored
row count, and every run reconciles.
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

from confluens.stores.metadata import IngestRun, MetadataStore
from confluens.stores.offline import OfflineStore

__all__ = ["is_dead", "recover_runs", "settle", "this_process"]


def this_process() -> tuple[int, str]:
    """(pid, host) of the running process, as recorded in a run."""
    return os.getpid(), socket.gethostname()


def is_dead(run: IngestRun) -> bool:
    """Whether a ``running`` run's process has certainly ended. A run of another host,
    or one recorded without a pid, is not known to be dead."""
    if run.pid is None or run.host != socket.gethostname():
        return False
    if run.pid == os.getpid():
        return False
    try:
        os.kill(run.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # a process of another user holds that pid
    return _zombie(run.pid)


def _zombie(pid: int) -> bool:
    """A process that has exited but was not reaped yet still answers to kill(pid, 0)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return False
    return stat.rpartition(b")")[2].split()[:1] == [b"Z"]


def settle(run: IngestRun, offline: OfflineStore, metadata: MetadataStore) -> IngestRun:
    """``run`` with its counts taken from what the stores hold for it (in place)."""
    batches = [b for b in metadata.quarantine(run.source, status=None)
               if b.run_id == run.run_id]
    run.accepted = offline.runs(run.source).get(run.run_id, 0)
    run.quarantined = sum(b.rows for b in batches)
    rules: Counter[str] = Counter()
    for batch in batches:
        rules.update(batch.rules)
    run.rules = dict(rules)
    run.rows_in = run.accepted + run.quarantined + run.duplicates
    return run


def recover_runs(runs: Iterable[IngestRun], offline: OfflineStore, metadata: MetadataStore,
                 *, all_dead: bool = False) -> list[IngestRun]:
    """Mark the dead ``running`` runs among ``runs`` interrupted, settled on what they
    committed, and record them. With ``all_dead`` (the caller holds the source's write
    lock, so no run of it on this host can be alive) every running run of this host is
    dead, even if its pid was reused since. Returns those runs."""
    recovered = []
    host = socket.gethostname()
    for run in runs:
        if run.status != "running":
            continue
        if not (is_dead(run) or (all_dead and run.host in (None, host))):
            continue
        settle(run, offline, metadata)
        run.status = "interrupted"
        run.finished_at = datetime.now(UTC)
        run.error = (f"interrupted: process {run.pid} on {run.host} ended before the run "
                     "finished; its counts are what it committed")
        metadata.update_run(run)
        recovered.append(run)
    return recovered
