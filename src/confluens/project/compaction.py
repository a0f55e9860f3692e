"""Compacting a project's offline tables: ``confluens compact``.

Stream processors append one small file per batch (and the prediction log one per
flush), so a source streamed for a day holds thousands of files: reads slow down, and
each append rewrites a manifest listing them all. Compaction merges them per event-date
partition (``stores/offline/compaction.py``) while the processors run.

What it leaves alone: the latest batch of each stream partition (after a crash between
a batch's append and its checkpoint commit, the processor tells that batch's rows apart
by their file when it reads the batch again) and the runs of ingests still running.
Each run's row count stays as it was, so a materialize after a compaction has nothing
to redo.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from confluens.errors import ProjectError
from confluens.project.registration import Registration
from confluens.project.serving import prediction_store
from confluens.project.store_factory import ProjectStores
from confluens.project.stream.batch_ids import BatchId
from confluens.stores.capabilities import StoreCapability
from confluens.stores.offline import Compacted, CompactingStore

__all__ = ["Compaction", "TableCompacted", "compactable_runs"]

@dataclass(frozen=True)
class TableCompacted:
    """One table's compaction: ``source`` or ``predictions``, its name, what was done."""

    kind: str
    table: str
    result: Compacted


def compactable_runs(runs: Sequence[str], running: Collection[str] = ()) -> set[str]:
    """The runs whose files may be merged: all but each stream partition's latest
    batch and the ``running`` ingest runs.

    >>> sorted(compactable_runs(["s-tx-p0-000000001-n5", "s-tx-p0-000000002-n5",
    ...                          "s-tx-p1-000000007-n2", "20240101T000000-ab12cd34"]))
    ['20240101T000000-ab12cd34', 's-tx-p0-000000001-n5']
    """
    latest: dict[tuple[str, int], BatchId] = {}
    for run in runs:
        bid = BatchId.parse(run)
        if bid is not None:
            key = (bid.source, bid.partition)
            if key not in latest or bid.seq > latest[key].seq:
                latest[key] = bid
    keep = {str(b) for b in latest.values()} | set(running)
    return {r for r in runs if r not in keep}


class Compaction:
    """The project's compaction (see the module docstring)."""

    def __init__(self, registration: Registration, stores: ProjectStores) -> None:
        self.registration = registration
        self.stores = stores

    def run(self, sources: Sequence[str] = (), *, predictions: bool = True,
            max_rows: int = 2_000_000,
            progress: Callable[[str], None] | None = None) -> list[TableCompacted]:
        """Compact ``sources`` (default: every source) and, with ``predictions``, every
        model's prediction log; what each table's compaction did."""
        offline = self.stores.offline
        if StoreCapability.COMPACT not in offline.capabilities:
            raise ProjectError(f"offline store of {self.stores.config.store_root}",
                               "cannot compact its tables", got=sorted(offline.capabilities),
                               fix="use the default Parquet offline store")
        store: CompactingStore = offline  # type: ignore[assignment]
        definitions = self.registration.definitions
        names = [definitions.source(n).name for n in sources] if sources else [
            s.name for s in definitions.sources]
        run_id = _run_id()
        out = []
        for name in names:
            if progress is not None:
                progress(f"source {name}")
            running = {r.run_id for r in self.stores.metadata.runs(name)
                       if r.status == "running"}
            runs = compactable_runs(list(store.runs(name)), running)
            out.append(TableCompacted("source", name, store.compact(
                name, runs, run_id=run_id, max_rows=max_rows)))
        if predictions:
            log = prediction_store(self.stores.config.store_root)
            for model in _tables(log.root):
                if progress is not None:
                    progress(f"prediction log of {model}")
                out.append(TableCompacted("predictions", model, log.compact(
                    model, set(log.runs(model)), run_id=run_id, max_rows=max_rows)))
        return out


def _tables(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "_manifest.json").exists())


def _run_id() -> str:
    return f"c{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}"
