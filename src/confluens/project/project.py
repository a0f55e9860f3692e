"""A project: its folder, its definitions, its stores, and what a user does with them.

``Project`` is a thin facade. Each kind of work is a small service, reachable as an
attribute and built over the same definitions and stores:

- ``registration``: the definitions and their ``plan``/``apply`` (registration.py);
- ``ingestion``: ``ingest``, ``retry_quarantine``, ``runs``, ``quarantine`` (ingestion.py);
- ``records``: the stored records, ``table`` and ``count`` (records.py);
- ``features``: ``event_features`` (features.py);
- ``training_sets``: ``training_set`` and ``spine`` (training_sets.py);
- ``materialization``: ``materialize`` (materialization.py);
- ``online_reads``: ``online_features`` and ``online_vector`` (online_reads.py);
- ``streams``: ``stream``, ``replay`` and ``stream_status`` (stream/service.py);
- ``stores``: the stores, built from confluens.toml on first use (store_factory.py).

>>> import confluens, tempfile
>>> folder = tempfile.mkdtemp()
>>> _ = confluens.init(folder, template="fraud")
>>> project = confluens.open(folder)
>>> [s.name for s in project.definitions.sources]
['transactions', 'fraud_labels']
>>> project.apply().added  # doctest: +NORMALIZE_WHITESPACE
['entity:customer', 'entity:terminal', 'feature_view:customer_spending',
 'feature_view:terminal_risk', 'model:fraud_model', 'source:fraud_labels',
 'source:transactions']
>>> project.table("transactions").num_rows
0
>>> project.records.count("transactions")
0
>>> project.close()
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

from confluens.core import Definitions, DefinitionsDiff
from confluens.errors import ProjectError
from confluens.project.compaction import Compaction, TableCompacted
from confluens.project.config import CONFIG_FILE, ProjectConfig
from confluens.project.features import FeatureService
from confluens.project.ingestion import IngestionService, Progress
from confluens.project.materialization import MaterializeService
from confluens.project.materialize import Materialized
from confluens.project.online_reads import OnlineReads
from confluens.project.online_state import FeatureRows, FeatureVector
from confluens.project.records import RecordsService
from confluens.project.registration import Registration
from confluens.project.store_factory import ProjectStores
from confluens.project.stream import PartitionStatus, ProcessedTotals, StreamService
from confluens.project.training_sets import TrainingSetService
from confluens.stores.metadata import IngestRun, MetadataStore
from confluens.stores.offline import FeatureTableStore, OfflineStore
from confluens.stores.online import OnlineStore
from confluens.stores.quarantine import QuarantineFiles

if TYPE_CHECKING:
    from confluens.lifecycle.registry import ModelRegistry
    from confluens.lifecycle.trained import TrainedModel

__all__ = ["Project", "find_project"]


def find_project(path: str | Path = ".") -> Path:
    """The folder holding confluens.toml: ``path`` or its nearest parent."""
    start = Path(path).resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).exists():
            return folder
    raise ProjectError("project", f"no {CONFIG_FILE} in this folder or its parents",
                       got=str(start), fix="run `confluens init <dir>` or pass --project DIR")


class Project:
    """One project folder. Cheap to open; stores connect on first use.

    ``metadata`` and ``online`` replace the stores confluens.toml names (a plug-in's
    store, or an in-memory one in a test); see store_factory.py.
    """

    def __init__(self, path: str | Path = ".", *, metadata: MetadataStore | None = None,
                 online: OnlineStore | None = None) -> None:
        self.root = find_project(path)
        self.config = ProjectConfig.load(self.root)
        self.stores = ProjectStores(self.config, metadata=metadata, online=online)
        self.registration = Registration(self.config.definitions, self.stores)
        self.ingestion = IngestionService(self.registration, self.stores)
        self.records = RecordsService(self.registration, self.stores)
        self.features = FeatureService(self.registration, self.stores)
        self.training_sets = TrainingSetService(self.registration, self.stores)
        self.materialization = MaterializeService(self.registration, self.stores)
        self.online_reads = OnlineReads(self.registration, self.stores)
        self.streams = StreamService(self.registration, self.stores)
        self.compaction = Compaction(self.registration, self.stores)

    def __repr__(self) -> str:
        return f"Project({str(self.root)!r})"

    def path(self, path: str | Path) -> Path:
        """A path as every command reads it: a relative one starts at the project root
        (as in confluens.toml), wherever the command runs from."""
        return self.config.path(path)

    @property
    def definitions(self) -> Definitions:
        return self.registration.definitions

    def train(self, model: str, *, start: date | None = None, **hooks: Any) -> TrainedModel:
        """Train ``model`` on its point-in-time training set (project/model_training.py)."""
        from confluens.project.model_training import train

        return train(self, model, start=start, **hooks)

    # -- the stores (built from confluens.toml on first use) ---------------------------

    @property
    def metadata(self) -> MetadataStore:
        return self.stores.metadata

    @property
    def offline(self) -> OfflineStore:
        return self.stores.offline

    @property
    def feature_tables(self) -> FeatureTableStore:
        return self.stores.feature_tables

    @property
    def quarantine_files(self) -> QuarantineFiles:
        return self.stores.quarantine

    @property
    def online(self) -> OnlineStore:
        return self.stores.online

    @cached_property
    def registry(self) -> ModelRegistry:
        """The model registry (MLflow, imported on first use; see model_registry.py)."""
        from confluens.project.model_registry import model_registry

        return model_registry(self.config, self.metadata)

    def close(self) -> None:
        self.stores.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- delegations: the services' methods, as users and the CLI call them ------------

    def plan(self) -> DefinitionsDiff:
        """What `apply` would change."""
        return self.registration.plan()

    def apply(self) -> DefinitionsDiff:
        """Register the current definitions; return what changed since the last apply."""
        return self.registration.apply()

    def ingest(self, source: str, input: str | None = None, *,
               query: str | None = None, progress: Progress | None = None) -> IngestRun:
        """Ingest a path, glob or database URI (with ``query``) into ``source``.

        Without ``input``, the source's ``batch`` location is read.
        """
        return self.ingestion.ingest(source, input, query=query, progress=progress)

    def chunk_count(self, source: str, input: str | None = None) -> int | None:
        """How many chunks `ingest` will read (files of a glob), if known beforehand."""
        return self.ingestion.chunk_count(source, input)

    def retry_quarantine(self, source: str, *, progress: Progress | None = None) -> IngestRun:
        """Ingest a source's pending quarantined records again, e.g. after fixing a check."""
        return self.ingestion.retry_quarantine(source, progress=progress)

    def runs(self, source: str | None = None) -> list[IngestRun]:
        """Ingest runs, oldest first (see IngestionService.runs)."""
        return self.ingestion.runs(source)

    def quarantine(self, source: str, *, include_retried: bool = False) -> pa.Table:
        """The quarantined records of ``source`` (pending ones unless ``include_retried``)."""
        return self.ingestion.quarantine(source, include_retried=include_retried)

    def table(self, source: str, *, columns: Sequence[str] | None = None,
              where: str | None = None, limit: int | None = None,
              format: Literal["arrow", "pandas"] = "arrow",
              system_columns: bool = False) -> Any:
        """The stored records of ``source`` as an Arrow table (or pandas with format=)."""
        return self.records.table(source, columns=columns, where=where, limit=limit,
                                  format=format, system_columns=system_columns)

    def predictions(self, model: str) -> pa.Table:
        """``model``'s prediction log, oldest first (schema: docs/serving.md)."""
        from confluens.project.serving import read_predictions

        return read_predictions(self.config.store_root, model)

    def count(self, source: str, *, where: str | None = None) -> int:
        """How many records of ``source`` are stored (that match ``where``)."""
        return self.records.count(source, where=where)

    def event_features(self, view: str) -> pa.Table:
        """Every feature of ``view`` at every stored event of its source (computed now);
        see FeatureService.event_features."""
        return self.features.event_features(view)

    def training_set(self, spine: Any, features: Sequence[str], *, at: str | None = None,
                     timezone: str | None = None, as_of: datetime | None = None,
                     full_names: bool = False) -> pa.Table:
        """``spine`` with every requested feature as of each row's timestamp; see
        TrainingSetService.training_set."""
        return self.training_sets.training_set(spine, features, at=at, timezone=timezone,
                                               as_of=as_of, full_names=full_names)

    def spine(self, source: str, *, last: str | None = None, start: datetime | None = None,
              end: datetime | None = None, where: str | None = None,
              columns: Sequence[str] | None = None) -> pa.Table:
        """Stored records of ``source`` as a spine for ``training_set``; see
        TrainingSetService.spine."""
        return self.training_sets.spine(source, last=last, start=start, end=end, where=where,
                                        columns=columns)

    def materialize(self, views: Sequence[str] = (), *,
                    start: datetime | None = None, end: datetime | None = None,
                    progress: Callable[[Materialized], None] | None = None,
                    stage: Callable[[str, str], None] | None = None,
                    ) -> list[Materialized]:
        """Bring each view's per-event feature table and online state up to date; see
        MaterializeService.materialize."""
        return self.materialization.materialize(views, start=start, end=end,
                                                progress=progress, stage=stage)

    def online_features(self, view: str, keys: Sequence[Any], *,
                        at: datetime | None = None) -> FeatureRows:
        """Feature values for entity ``keys``, with windows evaluated at ``at`` (now);
        see OnlineReads.online_features."""
        return self.online_reads.online_features(view, keys, at=at)

    def online_vector(self, keys: Mapping[str, Any], *,
                      at: datetime | None = None, full_names: bool = False) -> FeatureVector:
        """One feature vector across views, in one store round trip; see
        OnlineReads.online_vector."""
        return self.online_reads.online_vector(keys, at=at, full_names=full_names)

    def stream(self, sources: Sequence[str] = (), **options: Any,
               ) -> dict[str, ProcessedTotals]:
        """Run the stream processors of ``sources`` (default: every source bound to a
        stream); see StreamService.run for the options (worker, group, until_idle, scoring
        with models from the project's registry, ...)."""
        if options.get("scoring") and "models" not in options:
            options["models"] = lambda name, alias: self.registry.load(name, alias)
        return self.streams.run(sources, **options)

    def replay(self, source: str, path: str | Path, *, speed: str | None = None,
               limit: int | None = None,
               progress: Callable[[int, int], None] | None = None) -> int:
        """Publish the records of a file into ``source``'s stream in event-time order
        (``speed``: e.g. "100x"; default as fast as possible); returns how many."""
        return self.streams.replay(source, path, speed=speed, limit=limit, progress=progress)

    def compact(self, sources: Sequence[str] = (), *, predictions: bool = True,
                max_rows: int = 2_000_000,
                progress: Callable[[str], None] | None = None) -> list[TableCompacted]:
        """Merge the small files of ``sources``' tables (default: all) and of the
        prediction logs, which stream batches and log flushes leave (compaction.py)."""
        return self.compaction.run(sources, predictions=predictions, max_rows=max_rows,
                                   progress=progress)

    def stream_status(self, sources: Sequence[str] = ()) -> list[PartitionStatus]:
        """Each partition of each bound source: position, counts, lag and throughput."""
        return self.streams.status(sources)
