"""Streams in a project: ``stream`` (run the processors), ``replay`` and ``status``.

``run`` starts one :class:`~confluens.project.stream.processor.SourceProcessor` per
source bound to a stream (or per source named), over the partitions this worker owns
(assignment.py: ``worker=(i, n)``, partitions p with p % n == i; or ``group=``, a
consumer group's leases, group.py), and processes batches round robin until stopped,
or, with ``until_idle``, until no owned partition has messages left (in a group: until
every partition of the sources is consumed, whoever owns it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from threading import Event

from confluens.core import Source
from confluens.errors import CheckpointConflictError, InputError, ProjectError, StorageError
from confluens.project.registration import Registration
from confluens.project.store_factory import ProjectStores
from confluens.project.stream.assignment import Assignment, Owned, StaticAssignment
from confluens.project.stream.batch_ids import consumer_of
from confluens.project.stream.bridges import mqtt_bridges
from confluens.project.stream.fencing import FencedOffline, FencedQuarantine
from confluens.project.stream.freshness import ViewFreshness, view_freshness
from confluens.project.stream.group import ConsumerGroup, GroupOptions, partition_lease
from confluens.project.stream.logs import open_log, require_binding
from confluens.project.stream.processor import BatchResult, SourceProcessor, StreamStores
from confluens.project.stream.replay import ReplaySpeed, replay_file
from confluens.project.stream.scoring import StreamScorer
from confluens.project.stream.scoring_setup import ModelLoader, ScoringSpec, stream_scorers
from confluens.project.stream.source_locks import source_locks
from confluens.project.stream.stats import StreamStats
from confluens.stores.capabilities import StoreCapability
from confluens.stores.online.checkpoint import CheckpointStore
from confluens.stores.online.lease import Lease, LeaseStore

__all__ = ["GroupOptions", "PartitionStatus", "ProcessedTotals", "ScoringSpec",
           "StreamService"]

OnBatch = Callable[[str, BatchResult], None]
OnOutage = Callable[[str, StorageError, float], None]  # source, error, pause (s)


@dataclass(frozen=True)
class PartitionStatus:
    """Where one partition of a source's stream stands."""

    source: str
    partition: int
    position: str | None  # the last message consumed (None: none yet)
    last: str | None  # the last message in the log
    stats: StreamStats
    lease: Lease | None = None  # its consumer-group lease (owner, expiry), if any

    @property
    def caught_up(self) -> bool:
        return self.position == self.last


class StreamService:
    def __init__(self, registration: Registration, stores: ProjectStores) -> None:
        self.registration = registration
        self.stores = stores

    def _sources(self, names: Sequence[str]) -> list[Source]:
        definitions = self.registration.definitions
        if names:
            chosen = [definitions.source(n) for n in names]
            for source in chosen:
                require_binding(source)
            return chosen
        bound = [s for s in definitions.sources if s.stream is not None]
        if not bound:
            raise InputError("stream", "no source is bound to a stream", got=[],
                             fix="declare stream=StreamBinding('log', '<topic>') on a source "
                             "and run `confluens apply`")
        return bound

    def _online(self) -> CheckpointStore:
        online = self.stores.online
        if StoreCapability.CHECKPOINT not in online.capabilities:
            raise ProjectError(f"online store {online.location}", "a stream processor "
                               "commits its state with its checkpoint, which this store "
                               "cannot do", got=sorted(online.capabilities),
                               fix="use [online] store = 'embedded' or 'redis'")
        return online  # type: ignore[return-value]

    def _leases(self) -> LeaseStore:
        online = self._online()
        if StoreCapability.LEASES not in online.capabilities:
            raise ProjectError(f"online store {online.location}", "a consumer group keeps "
                               "its partition leases in the online store, which this store "
                               "cannot do", got=sorted(online.capabilities),
                               fix="use [online] store = 'embedded' or 'redis'")
        return online  # type: ignore[return-value]

    def processor(self, source: Source, *, worker: tuple[int, int] = (0, 1),
                  partitions: Sequence[int] | None = None,
                  scorers: Sequence[StreamScorer] = (),
                  confirm: Callable[[str], None] | None = None) -> SourceProcessor:
        """The processor of ``source``'s ``partitions`` (default: worker ``(i, n)``'s);
        with ``confirm``, each batch's quarantine and offline writes call it first
        (fencing.py)."""
        self.registration.applied_version(source)
        views = [v for v in self.registration.definitions.feature_views
                 if v.source.name == source.name]
        log = open_log(self.stores.config, source)
        if partitions is None:
            partitions = StaticAssignment(worker).owned(source.name, log.partitions).partitions
        stores = StreamStores(self.stores.offline, self.stores.quarantine,
                              self.stores.metadata, self._online(),
                              self.stores.config.online_ttl_seconds)
        if confirm is not None:
            stores = StreamStores(FencedOffline(stores.offline, confirm),
                                  FencedQuarantine(stores.quarantine, confirm),
                                  stores.metadata, stores.online, stores.ttl_seconds)
        try:
            return SourceProcessor(source, views, log, stores, partitions=partitions,
                                   scorers=scorers)
        except BaseException:
            log.close()
            raise

    def run(self, sources: Sequence[str] = (), *, worker: tuple[int, int] | None = None,
            group: GroupOptions | None = None, batch_size: int = 100_000,
            poll_ms: int = 100, until_idle: bool = False,
            max_seconds: float | None = None, stop: Event | None = None,
            on_batch: OnBatch | None = None, on_outage: OnOutage | None = None,
            scoring: Sequence[ScoringSpec] = (), models: ModelLoader | None = None,
            ) -> dict[str, ProcessedTotals]:
        """Process the sources' streams (see the module docstring); the totals.

        A broker or store that cannot be reached (``StorageError``, after the log's own
        reconnect attempts) does not end a run that goes on until stopped (with
        ``until_idle``, it does, with the error): the source's processor is dropped,
        and rebuilt from its checkpoint after a growing pause (1 s up to 30 s), so the
        batch in hand is read and judged again and nothing is lost or counted twice.
        ``on_outage(source, error, pause)`` hears of each such pause.

        ``scoring`` scores events as they arrive (scoring.py), with models loaded by
        ``models(name, alias)``; predictions go to the prediction log.

        ``worker=(i, n)`` processes the partitions p with p % n == i; ``group`` joins
        a consumer group instead (group.py): the partitions this worker holds leases
        on, which change as workers join and leave. A partition lost to another worker
        (``CheckpointConflictError``, ``LeaseLostError``) is dropped, with nothing of
        its batch written, and the assignment is read again. Neither given: every
        partition.
        """
        if worker is not None and group is not None:
            raise InputError("--worker", "a worker has fixed partitions (--worker) or is "
                             "a member of a consumer group (--group), not both",
                             got=f"{worker[0]}/{worker[1]}",
                             fix="leave out --worker: the group divides the partitions")
        stop = stop or Event()
        chosen = self._sources(sources)
        config = self.stores.config
        assignment: Assignment = StaticAssignment(worker or (0, 1))
        if group is not None:
            for source in chosen:
                self.registration.applied_version(source)
            assignment = ConsumerGroup(self._leases(), group, {
                s.name: require_binding(s).partitions for s in chosen})
        try:
            with source_locks(config.store_root, chosen), stream_scorers(
                    self.registration.definitions, config, chosen, scoring,
                    models) as scorers, mqtt_bridges(config, chosen):
                return self._run(chosen, scorers, assignment=assignment,
                                 batch_size=batch_size,
                                 poll_ms=poll_ms, until_idle=until_idle,
                                 max_seconds=max_seconds, stop=stop, on_batch=on_batch,
                                 on_outage=on_outage)
        finally:
            assignment.close()

    def _run(self, chosen: Sequence[Source], scorers: Mapping[str, list[StreamScorer]], *,
             assignment: Assignment, batch_size: int, poll_ms: int, until_idle: bool,
             max_seconds: float | None, stop: Event, on_batch: OnBatch | None,
             on_outage: OnOutage | None) -> dict[str, ProcessedTotals]:
        processors: dict[str, SourceProcessor | None] = {s.name: None for s in chosen}
        built: dict[str, Owned] = {}  # what each source's processor was built for
        totals = {s.name: ProcessedTotals() for s in chosen}
        pauses = {s.name: 0.0 for s in chosen}
        retry_at = {s.name: 0.0 for s in chosen}
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        try:
            while not stop.is_set():
                busy = False
                try:
                    assignment.refresh()
                except StorageError as exc:  # the group's leases cannot be reached
                    if until_idle:
                        raise
                    pause = min(30.0, max(1.0, 2 * max(pauses.values(), default=0.0)))
                    for name in pauses:  # the leases may lapse meanwhile: writes are fenced
                        pauses[name] = pause
                        if on_outage is not None:
                            on_outage(name, exc, pause)
                    stop.wait(pause)
                    if deadline is not None and time.monotonic() >= deadline:
                        break
                    continue
                for source in chosen:
                    owned = assignment.owned(source.name, require_binding(source).partitions)
                    if built.get(source.name) != owned:  # moved: rebuild from checkpoints
                        _drop(processors, source.name)
                    if not owned.partitions:
                        continue
                    if time.monotonic() < retry_at[source.name]:
                        busy = True  # not idle: a source is waiting for its broker
                        continue
                    try:
                        proc = processors[source.name]
                        if proc is None:
                            proc = processors[source.name] = self.processor(
                                source, partitions=owned.partitions,
                                scorers=scorers.get(source.name, ()),
                                confirm=assignment.fence)
                            built[source.name] = owned
                        result = proc.step(batch_size=batch_size)
                    except StorageError as exc:
                        if isinstance(exc, CheckpointConflictError) and assignment.dynamic:
                            # another group worker has (had) one of these partitions: start
                            # again from the checkpoints with what this worker still holds
                            _drop(processors, source.name)
                            with suppress(StorageError):  # unreachable: the next round's
                                assignment.refresh(force=True)  # refresh pauses
                            busy = True
                            continue
                        if until_idle:  # a run that should end: the outage ends it
                            raise
                        _drop(processors, source.name)
                        pause = pauses[source.name] = min(30.0, max(1.0, 2 * pauses[
                            source.name]))
                        retry_at[source.name] = time.monotonic() + pause
                        if on_outage is not None:
                            on_outage(source.name, exc, pause)
                        busy = True
                        continue
                    pauses[source.name] = 0.0
                    if result is not None:
                        busy = True
                        totals[source.name].add(result)
                        if on_batch is not None:
                            on_batch(source.name, result)
                if deadline is not None and time.monotonic() >= deadline:
                    break
                if not busy:
                    if until_idle and (not assignment.dynamic or self._consumed(chosen)):
                        break
                    stop.wait(poll_ms / 1000)
                elif any(p is None for p in processors.values()):
                    stop.wait(min(poll_ms, 200) / 1000)
        finally:
            for name in list(processors):
                _drop(processors, name)
        return totals

    def _consumed(self, chosen: Sequence[Source]) -> bool:
        """Whether every partition of ``chosen`` has its last message committed."""
        return all(s.caught_up for s in self.status([s.name for s in chosen]))

    def replay(self, source: str, path: str | Path, *, speed: str | None = None,
               limit: int | None = None,
               progress: Callable[[int, int], None] | None = None) -> int:
        """Publish the records of ``path`` into ``source``'s stream (replay.py)."""
        src = self.registration.definitions.source(source)
        require_binding(src)
        pace = ReplaySpeed.parse(speed)
        log = open_log(self.stores.config, src)
        try:
            return replay_file(log, src, self.stores.config.path(path), speed=pace,
                               limit=limit, progress=progress)
        finally:
            log.close()

    def status(self, sources: Sequence[str] = ()) -> list[PartitionStatus]:
        """Every partition of every bound source: position, log end, counts, lags, and
        its consumer-group lease (owner and expiry) when a group worker holds or held
        one."""
        online = self._online()
        leases = {}
        if StoreCapability.LEASES in online.capabilities:
            leases = {lease.name: lease for lease in self._leases().leases("partition/")}
        out = []
        for source in self._sources(sources):
            log = open_log(self.stores.config, source)
            try:
                for p in range(log.partitions):
                    cp = online.checkpoint(consumer_of(source.name, p))
                    out.append(PartitionStatus(
                        source.name, p, None if cp is None else cp.positions.get(p),
                        log.last(p), StreamStats.from_state({} if cp is None else cp.state),
                        leases.get(partition_lease(source.name, p))))
            finally:
                log.close()
        return out


    def freshness(self, sources: Sequence[str] = ()) -> list[ViewFreshness]:
        """Each view of each bound source: lag, throughput and its freshness SLA."""
        partitions = self.status(sources)
        out = []
        for view in self.registration.definitions.feature_views:
            mine = [(s.stats, not s.caught_up) for s in partitions
                    if s.source == view.source.name]
            if mine:
                out.append(view_freshness(view, mine))
        return out


@dataclass
class ProcessedTotals:
    """What one ``run`` processed of one source."""

    batches: int = 0
    rows_in: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    scored: int = 0  # events scored by the run's models (scoring)
    alerts: int = 0

    def add(self, result: BatchResult) -> None:
        self.batches += 1
        self.rows_in += result.counts.rows_in
        self.accepted += result.counts.accepted
        self.quarantined += result.counts.quarantined
        self.duplicates += result.counts.duplicates
        self.scored += result.scored.scored
        self.alerts += result.scored.alerts


def _drop(processors: dict[str, SourceProcessor | None], name: str) -> None:
    """Close a source's processor and its log (a broken one: quietly) and forget it."""
    proc = processors.get(name)
    processors[name] = None
    if proc is None:
        return
    for close in (proc.close, proc.log.close):
        with suppress(Exception):  # closing what a broker outage may have broken
            close()
