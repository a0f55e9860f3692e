"""Ingestion: read chunks, type and check every record, deduplicate, store, count.

One run ingests one input (a file, a glob, a query, or quarantined records) into
one source. Each chunk writes its quarantine file and indexes it in metadata, then
commits its accepted records to the offline store atomically, then records the run's
counts so far. A run that dies midway leaves whole chunks, and running it again adds
only what is missing: stored records and records already in quarantine are recognised
as duplicates. A killed run is settled and marked interrupted later (recovery.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from confluens.connectors.chunk import RawChunk
from confluens.core import Source
from confluens.duckdb_session import connect
from confluens.ingest.judge import judge_chunk
from confluens.ingest.recovery import settle, this_process
from confluens.ingest.result import ChunkCounts
from confluens.ingest.stage import Stage
from confluens.stores.metadata import IngestRun, MetadataStore, QuarantineBatch
from confluens.stores.offline import OfflineStore
from confluens.stores.quarantine import QuarantineFiles

__all__ = ["Ingestion", "new_run_id"]

Progress = Callable[[RawChunk, ChunkCounts], None]


def new_run_id(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


@dataclass
class Ingestion:
    """Everything an ingest run writes to."""

    offline: OfflineStore
    quarantine: QuarantineFiles
    metadata: MetadataStore

    def run(self, source: Source, chunks: Iterable[RawChunk], *, input_label: str,
            definition_version: int, progress: Progress | None = None,
            retrying: Iterable[QuarantineBatch] = ()) -> IngestRun:
        """Ingest every chunk; the run and its counts are recorded in metadata."""
        started = datetime.now(UTC)
        pid, host = this_process()
        run = IngestRun(new_run_id(started), source.name, input_label, definition_version,
                        started, pid=pid, host=host)
        self.metadata.start_run(run)
        total = ChunkCounts()
        stage: Stage | None = None
        retried = {b.batch_id for b in retrying}
        try:
            stage = Stage(connect(), source, run.run_id, started)
            stage.load_state(self.offline.files(source.name), self.quarantine.read(
                [b.path for b in self.metadata.quarantine(source.name)
                 if b.batch_id not in retried]))
            for chunk in chunks:
                counts = self._chunk(stage, source, chunk, run)
                total.add(counts)
                _record(run, total)
                self.metadata.update_run(run)  # as each chunk commits
                if progress is not None:
                    progress(chunk, counts)
            self.metadata.set_quarantine_status(sorted(retried), "retried")
            run.status = "succeeded"
        except BaseException as exc:
            run.status = "failed"
            run.error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            run.finished_at = datetime.now(UTC)
            _record(run, total)
            try:
                if run.status == "failed":  # a chunk may have committed but not counted
                    settle(run, self.offline, self.metadata)
                self.metadata.finish_run(run)
            finally:
                if stage is not None:
                    stage.close()
        return run

    def _chunk(self, stage: Stage, source: Source, chunk: RawChunk,
               run: IngestRun) -> ChunkCounts:
        judged = judge_chunk(stage, source, chunk)
        counts, quarantined = judged.counts, judged.quarantined
        if quarantined.num_rows:
            batch_id = f"{run.run_id}-{uuid.uuid4().hex[:6]}"
            path = self.quarantine.write(source.name, batch_id, quarantined)
            self.metadata.add_quarantine(QuarantineBatch(
                batch_id, run.run_id, source.name, path, quarantined.num_rows,
                dict(counts.rules), "pending", datetime.now(UTC)))
        self.offline.append(source.name, judged.accepted, run_id=run.run_id,
                            partition_by=source.event_time)
        stage.remember(quarantined)
        assert counts.reconciles, counts
        return counts


def _record(run: IngestRun, total: ChunkCounts) -> None:
    run.rows_in, run.accepted = total.rows_in, total.accepted
    run.quarantined, run.duplicates = total.quarantined, total.duplicates
    run.warnings = dict(total.warnings)
    run.rules = dict(total.rules)
