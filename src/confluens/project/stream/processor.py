"""The stream processor of one source: messages in, exactly-once effects out.

For each batch of one partition's messages (those after the partition's checkpointed
position) it:

1. reads them with the same checks as batch ingest (``ingest/judge.py``): typed,
   checked, deduplicated by id; unreadable, invalid and late records go to quarantine
   with their reason and position, and nothing stops the stream;
2. writes the quarantined records (quarantine file and index) and appends the accepted
   ones to the offline store, both under the batch's id (``batch_ids.py``);
3. merges the accepted events into each feature view's window state
   (``streaming.ViewState``) and commits the touched entities' states together with
   the partition's new checkpoint (position, counts, watermark, lags) in one atomic
   commit of the online store (``CheckpointStore.commit``).

After a crash anywhere, the restarted processor finds the partition's checkpoint; if
the batch after it had written its appends (step 2) but not committed, it reads the
very same messages again, skips the appends already made, and commits. The offline
store, the quarantine and the online state therefore end as after an uninterrupted
run: nothing lost, nothing counted twice.

Each partition is processed on its own (its own checkpoint, watermark and lateness),
so the result does not depend on how many processes share the partitions. A stream
with several partitions needs every view of the source to be keyed by the partition
key, so that each entity's events meet in one partition.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from confluens.connectors.streams import Message, StreamLog
from confluens.core import FeatureView, Source
from confluens.duckdb_session import connect
from confluens.errors import NotSupportedError, StorageError
from confluens.ingest import ChunkCounts
from confluens.ingest.judge import Judged, Lateness, judge_chunk
from confluens.ingest.stage import Stage
from confluens.plan import plan_view
from confluens.project.stream.batch_ids import BatchId, consumer_of
from confluens.project.stream.collection import collection_paused
from confluens.project.stream.messages import split_messages
from confluens.project.stream.scoring import ScoredBatch, StreamScorer
from confluens.project.stream.stats import StreamStats
from confluens.stores.metadata import MetadataStore, QuarantineBatch
from confluens.stores.offline import OfflineStore
from confluens.stores.online.checkpoint import Checkpoint, CheckpointStore, StateWrite
from confluens.stores.quarantine import QUARANTINE_SCHEMA, QuarantineFiles
from confluens.streaming import ViewState

__all__ = ["BatchResult", "SourceProcessor", "StreamStores"]


@dataclass(frozen=True)
class StreamStores:
    offline: OfflineStore
    quarantine: QuarantineFiles
    metadata: MetadataStore
    online: CheckpointStore
    ttl_seconds: float | None = None


@dataclass(frozen=True)
class BatchResult:
    partition: int
    position: str
    counts: ChunkCounts
    stats: StreamStats
    scored: ScoredBatch = field(default_factory=lambda: ScoredBatch(0, 0, 0))  # scorers


def _now_us() -> int:
    return time.time_ns() // 1000


class SourceProcessor:
    """Processes the ``partitions`` of ``source``'s stream ``log`` into the stores."""

    def __init__(self, source: Source, views: Sequence[FeatureView], log: StreamLog,
                 stores: StreamStores, *, partitions: Sequence[int] | None = None,
                 scorers: Sequence[StreamScorer] = ()) -> None:
        assert source.stream is not None
        self.source = source
        self.binding = source.stream
        self.views = list(views)
        self.log = log
        self.stores = stores
        self.partitions = list(range(log.partitions) if partitions is None else partitions)
        _check_copartitioned(source, self.views, log.partitions)
        self.states = {v.name: ViewState(plan_view(v)) for v in self.views}
        self.scorers = list(scorers)
        self._scored: list[ScoredBatch] = []
        self.checkpoints: dict[int, Checkpoint] = {}
        self.stats: dict[int, StreamStats] = {}
        self._redo: dict[int, BatchId] = {}
        self._written: set[str] = set()  # what the uncommitted batches did write
        self._next = 0
        for p in self.partitions:
            consumer = consumer_of(source.name, p)
            cp = stores.online.checkpoint(consumer) or Checkpoint(consumer, 0)
            self.checkpoints[p] = cp
            self.stats[p] = StreamStats.from_state(cp.state)
        self._find_uncommitted()
        self.stage = self._open_stage()

    # -- start-up ------------------------------------------------------------------

    def _find_uncommitted(self) -> None:
        """Batches whose appends were written but whose commit was not (a crash)."""
        written = [*self.stores.offline.runs(self.source.name),
                   *(b.batch_id for b in self.stores.metadata.quarantine(self.source.name,
                                                                         None))]
        for text in written:
            bid = BatchId.parse(text)
            if (bid is not None and bid.source == self.source.name
                    and bid.partition in self.checkpoints
                    and bid.seq == self.checkpoints[bid.partition].seq + 1):
                self._redo[bid.partition] = bid
                self._written.add(text)

    def _open_stage(self) -> Stage:
        """The dedup state of committed records (an uncommitted batch's are left out,
        so that reading its messages again judges them as the first time)."""
        redo = {str(b) for b in self._redo.values()}
        runs = self.stores.offline.runs(self.source.name)
        files = self.stores.offline.files(self.source.name, runs=(
            None if not redo else {r for r in runs if r not in redo}))
        pending = [b.path for b in self.stores.metadata.quarantine(self.source.name)
                   if b.batch_id.removesuffix("-q") not in redo]
        stage = Stage(connect(), self.source, "stream", datetime.now(UTC))
        stage.load_state(files, self.stores.quarantine.read(pending))
        return stage

    def close(self) -> None:
        self.stage.close()

    # -- one batch -----------------------------------------------------------------

    def step(self, *, batch_size: int = 100_000, wait_ms: int = 0) -> BatchResult | None:
        """Process the next batch of the next partition that has messages (round
        robin); None when no owned partition has any (after waiting ``wait_ms``)."""
        for _ in range(len(self.partitions)):
            p = self.partitions[self._next]
            self._next = (self._next + 1) % len(self.partitions)
            result = self._batch(p, batch_size, wait_ms=0)
            if result is not None:
                return result
        if wait_ms > 0 and self.partitions:
            return self._batch(self.partitions[self._next], batch_size, wait_ms=wait_ms)
        return None

    def _batch(self, p: int, batch_size: int, *, wait_ms: int) -> BatchResult | None:
        with collection_paused():  # a batch makes many objects that live on
            return self._batch_unpaused(p, batch_size, wait_ms=wait_ms)

    def _batch_unpaused(self, p: int, batch_size: int, *, wait_ms: int) -> BatchResult | None:
        cp = self.checkpoints[p]
        after = cp.positions.get(p)
        redo = self._redo.pop(p, None)
        limit = batch_size if redo is None else redo.count
        messages = self.log.read(p, after, limit, wait_ms=wait_ms)
        if redo is not None and len(messages) != redo.count:
            raise StorageError(f"stream {self.log.location} partition {p}",
                               f"batch {redo} must be read again whole after a crash",
                               got=f"{len(messages)} of {redo.count} messages",
                               fix="restore the log's messages, or clear the consumer's "
                               "checkpoint and rebuild with `confluens materialize`")
        if not messages:
            return None
        started = _now_us()
        bid = BatchId(self.source.name, p, cp.seq + 1, len(messages))
        counts, accepted = self._store_records(bid, messages, self.stats[p])
        stats = self.stats[p]
        stats.add_counts(counts)
        if accepted.num_rows:
            latest = _max_us(accepted[self.source.event_time])
            stats.watermark_us = latest if stats.watermark_us is None else max(
                stats.watermark_us, latest)
        self._scored = []
        writes = self._state_writes(accepted, stats.watermark_us)
        now = _now_us()
        stats.add_lags([now - m.published_us for m in messages])
        stats.committed_us = now
        stats.commits += 1
        stats.busy_us += now - started
        new = cp.following({p: messages[-1].position}, stats.to_state())
        self.stores.online.commit(new, writes, ttl_seconds=self.stores.ttl_seconds)
        self.checkpoints[p] = new
        scored = ScoredBatch(sum(b.scored for b in self._scored),
                             sum(b.unscorable for b in self._scored),
                             sum(b.alerts for b in self._scored))
        return BatchResult(p, messages[-1].position, counts, stats, scored)

    def _store_records(self, bid: BatchId, messages: Sequence[Message],
                       stats: StreamStats) -> tuple[ChunkCounts, pa.Table]:
        """Judge the messages and write quarantine and offline appends (once)."""
        run_id = str(bid)
        self.stage.run_id, self.stage.started = run_id, datetime.now(UTC)
        batch = split_messages(self.source, self.log.location, run_id, messages)
        lateness = None
        if self.binding.allowed_lateness is not None and stats.watermark_us is not None:
            allowed = self.binding.allowed_lateness
            lateness = Lateness(stats.watermark_us - allowed.microseconds, str(allowed))
        judged: Judged = judge_chunk(self.stage, self.source, batch.chunk, lateness=lateness)
        counts = judged.counts
        unreadable = batch.unreadable.num_rows
        counts.add(ChunkCounts(rows_in=unreadable, quarantined=unreadable,
                               rules=Counter(batch.rules)))
        quarantined = pa.concat_tables([batch.unreadable,
                                        judged.quarantined.cast(QUARANTINE_SCHEMA)])
        if quarantined.num_rows:
            self._quarantine(bid, quarantined, counts)
        if judged.accepted.num_rows and run_id not in self._written:
            self.stores.offline.append(self.source.name, judged.accepted, run_id=run_id,
                                       partition_by=self.source.event_time)
        self.stage.remember(quarantined)
        assert counts.reconciles, counts
        return counts, judged.accepted

    def _quarantine(self, bid: BatchId, rows: pa.Table, counts: ChunkCounts) -> None:
        metadata = self.stores.metadata
        if bid.quarantine_id in self._written:
            return  # written before a crash, with the same rows
        path = self.stores.quarantine.write(self.source.name, bid.quarantine_id, rows)
        metadata.add_quarantine(QuarantineBatch(
            bid.quarantine_id, str(bid), self.source.name, path, rows.num_rows,
            dict(counts.rules), "pending", datetime.now(UTC)))

    def _state_writes(self, accepted: pa.Table, horizon_us: int | None) -> list[StateWrite]:
        """Merge the accepted events into each view's state, score them (with the
        batch's own events merged, before pruning), then prune and encode."""
        if not accepted.num_rows or horizon_us is None:
            return []
        touched: dict[str, set[str]] = {}
        for view in self.views:
            state = self.states[view.name]
            missing = state.missing(state.keys_of(accepted))
            if missing:
                (blobs,) = self.stores.online.read_many([(view.name, missing)])
                for key, blob in zip(missing, blobs, strict=True):
                    state.load(key, blob)
            touched[view.name] = state.add(accepted)
        for scorer in self.scorers:
            self._scored.append(scorer.score(accepted, self.states, self.stores.online))
        return [(view.name, self.states[view.name].blobs(touched[view.name], horizon_us))
                for view in self.views]


def _max_us(column: pa.ChunkedArray) -> int:
    value = pc.max(column.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()))
    return int(value.as_py())


def _check_copartitioned(source: Source, views: Sequence[FeatureView], partitions: int) -> None:
    key = source.stream.key if source.stream is not None else None
    if partitions <= 1:
        return
    for view in views:
        if key not in view.entity.keys:
            raise NotSupportedError(
                f"feature view '{view.name}'", f"a stream with {partitions} partitions keeps "
                "each entity's events together only if every view of the source is keyed "
                f"by the partition key '{key}'", got=list(view.entity.keys),
                fix=f"give source '{source.name}' one partition, or key the view by '{key}'")
