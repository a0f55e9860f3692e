"""Ingestion in a project: a path, glob or query into a source, quarantined records
again, and the runs and quarantine it leaves (see ingest/ for one run itself)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, suppress

import pyarrow as pa

from confluens.connectors import (
    RawChunk,
    file_chunks,
    is_database_uri,
    query_chunks,
    records_chunk,
    resolve_paths,
)
from confluens.core import Source
from confluens.errors import InputError, StorageError
from confluens.ingest import ChunkCounts, Ingestion, recover_runs, settle
from confluens.project.registration import Registration
from confluens.project.store_factory import ProjectStores
from confluens.stores.metadata import IngestRun
from confluens.stores.offline import table_lock

__all__ = ["IngestionService", "Progress"]

Progress = Callable[[RawChunk, ChunkCounts], None]


class IngestionService:
    """Runs ingests against a project's stores, one at a time per source."""

    def __init__(self, registration: Registration, stores: ProjectStores) -> None:
        self.registration = registration
        self.stores = stores
        self.root = stores.config.root

    def ingest(self, source: str, input: str | None = None, *,
               query: str | None = None, progress: Progress | None = None) -> IngestRun:
        """Ingest a path, glob or database URI (with ``query``) into ``source``.

        Without ``input``, the source's ``batch`` location is read.
        """
        src = self.registration.definitions.source(source)
        version = self.registration.applied_version(src)
        target = _target(src, input)
        chunks: Iterable[RawChunk]
        if is_database_uri(target):
            if not query:
                raise InputError("database input", "needs a query", got=target,
                                 fix="pass --query 'SELECT ...'")
            chunks = query_chunks(target, query)
        else:
            if query:
                raise InputError("file input", "takes no query", got=query,
                                 fix="drop --query, or give a database URI")
            paths = resolve_paths(target, self.root)
            chunks = file_chunks(paths, [f.input_name for f in src.schema], self.root,
                                 encoding=src.encoding, source=src.name)
        with self._exclusive(source):
            self._recover(source)
            return self._ingestion().run(src, chunks, input_label=target,
                                         definition_version=version, progress=progress)

    def chunk_count(self, source: str, input: str | None = None) -> int | None:
        """How many chunks `ingest` will read (files of a glob), if known beforehand."""
        target = _target(self.registration.definitions.source(source), input)
        return None if is_database_uri(target) else len(resolve_paths(target, self.root))

    def retry_quarantine(self, source: str, *, progress: Progress | None = None) -> IngestRun:
        """Ingest a source's pending quarantined records again, e.g. after fixing a check."""
        with self._exclusive(source):
            self._recover(source)
            return self._retry(source, progress)

    def runs(self, source: str | None = None) -> list[IngestRun]:
        """Ingest runs, oldest first. A run whose process has died is marked
        `interrupted` first; a live one shows what it has committed so far."""
        metadata, offline = self.stores.metadata, self.stores.offline
        runs = metadata.runs(source)
        with suppress(StorageError):  # a read-only metadata store: list them all the same
            recover_runs(runs, offline, metadata)
        for run in runs:
            if run.status == "running":
                settle(run, offline, metadata)
        return runs

    def quarantine(self, source: str, *, include_retried: bool = False) -> pa.Table:
        """The quarantined records of ``source`` (pending ones unless ``include_retried``)."""
        self.registration.definitions.source(source)
        batches = self.stores.metadata.quarantine(
            source, None if include_retried else "pending")
        return self.stores.quarantine.read([b.path for b in batches])

    def _retry(self, source: str, progress: Progress | None) -> IngestRun:
        src = self.registration.definitions.source(source)
        version = self.registration.applied_version(src)
        batches = self.stores.metadata.quarantine(source)
        chunks = []
        for batch in batches:
            records = self.stores.quarantine.read([batch.path])
            lines = pa.table({"position": records["position"], "line": records["record"]})
            chunks.append(records_chunk(f"quarantine {batch.batch_id}", lines,
                                        [f.input_name for f in src.schema]))
        return self._ingestion().run(src, chunks, input_label="quarantine",
                                     definition_version=version, progress=progress,
                                     retrying=batches)

    def _recover(self, source: str) -> None:
        """Holding the source's write lock: its runs still `running` are dead."""
        recover_runs(self.stores.metadata.runs(source), self.stores.offline,
                     self.stores.metadata, all_dead=True)

    def _ingestion(self) -> Ingestion:
        return Ingestion(self.stores.offline, self.stores.quarantine, self.stores.metadata)

    def _exclusive(self, source: str) -> AbstractContextManager[None]:
        """One ingest run per source at a time, and none while a stream processor runs
        on it (it holds the same lock shared): a second writer fails at once, clearly."""
        return table_lock(self.stores.config.store_root / "locks" / source, wait=False,
                          what=f"source '{source}'", rule="another process is writing it "
                          "(an ingest run, or `confluens stream` processing its stream)",
                          fix="wait for the other ingest to finish, or stop the stream "
                          "processor; a streamed source takes a file through its stream "
                          "with `confluens replay SOURCE FILE`")


def _target(src: Source, input: str | None) -> str:
    target = input or src.batch
    if target is None:
        raise InputError(f"source '{src.name}'", "has no batch location and no input was "
                         "given", fix="pass a path, glob or database URI")
    return target
