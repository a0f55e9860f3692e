"""A project handle: its definitions, its stores, and what a user does with them.

>>> import confluens, tempfile
>>> folder = tempfile.mkdtemp()
>>> _ = confluens.init(folder, template="fraud")
>>> project = confluens.open(folder)
>>> [s.name for s in project.definitions.sources]
['transactions', 'fraud_labels']
>>> project.apply().added  # doctest: +NORMALIZE_WHITESPACE
['entity:customer', 'entity:terminal', 'feature_view:customer_spending',
 'feature_view:terminal_risk', 'source:fraud_labels', 'source:transactions']
>>> project.table("transactions").num_rows
0
>>> project.close()
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

from confluens.connectors import (
    RawChunk,
    file_chunks,
    is_database_uri,
    query_chunks,
    records_chunk,
    resolve_paths,
)
from confluens.core import (
    Definitions,
    DefinitionsDiff,
    DType,
    FeatureView,
    Source,
    diff_specs,
)
from confluens.errors import InputError, NotAppliedError, ProjectError, StorageError
from confluens.ingest import ChunkCounts, Ingestion, recover_runs, settle
from confluens.plan import event_features, plan_view
from confluens.project.config import CONFIG_FILE, ProjectConfig
from confluens.project.loader import load_definitions
from confluens.project.materialize import Materialized, SourceData, materialize_view
from confluens.project.online_state import (
    FeatureRows,
    FeatureVector,
    read_online,
    read_online_views,
)
from confluens.project.reading import count_rows, read_table
from confluens.project.spine import build_spine
from confluens.project.training import resolve_features, training_set
from confluens.stores.metadata import IngestRun, SqlMetadataStore
from confluens.stores.offline import ParquetOfflineStore, table_lock
from confluens.stores.online import EmbeddedOnlineStore, OnlineStore
from confluens.stores.quarantine import QuarantineFiles

if TYPE_CHECKING:
    from confluens.lifecycle.trained import TrainedModel

__all__ = ["Project", "find_project"]

Progress = Callable[[RawChunk, ChunkCounts], None]


def find_project(path: str | Path = ".") -> Path:
    """The folder holding confluens.toml: ``path`` or its nearest parent."""
    start = Path(path).resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).exists():
            return folder
    raise ProjectError("project", f"no {CONFIG_FILE} in this folder or its parents",
                       got=str(start), fix="run `confluens init <dir>` or pass --project DIR")


class Project:
    """One project folder. Cheap to open; stores connect on first use."""

    def __init__(self, path: str | Path = ".") -> None:
        self.root = find_project(path)
        self.config = ProjectConfig.load(self.root)

    def __repr__(self) -> str:
        return f"Project({str(self.root)!r})"

    def path(self, path: str | Path) -> Path:
        """A path as every command reads it: a relative one starts at the project root
        (as in confluens.toml), wherever the command runs from."""
        given = Path(path).expanduser()
        return given if given.is_absolute() else self.root / given

    @cached_property
    def definitions(self) -> Definitions:
        return load_definitions(self.config.definitions)

    @cached_property
    def metadata(self) -> SqlMetadataStore:
        self.config.store_root.mkdir(parents=True, exist_ok=True)
        return SqlMetadataStore(self.config.metadata_url)

    @cached_property
    def offline(self) -> ParquetOfflineStore:
        return ParquetOfflineStore(self.config.store_root / "offline")

    @cached_property
    def quarantine_files(self) -> QuarantineFiles:
        return QuarantineFiles(self.config.store_root / "quarantine")

    def close(self) -> None:
        if "metadata" in self.__dict__:
            self.metadata.close()
        if "online" in self.__dict__:
            self.online.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- definitions -----------------------------------------------------------------

    def plan(self) -> DefinitionsDiff:
        """What `apply` would change."""
        applied = {k: v.spec for k, v in self.metadata.applied().items()}
        return diff_specs(_jsonable(applied), _jsonable(self.definitions.specs()))

    def apply(self) -> DefinitionsDiff:
        """Register the current definitions; return what changed since the last apply."""
        diff = self.plan()
        if not diff.empty:
            self.metadata.apply(self.definitions.specs(), datetime.now(UTC))
        return diff

    def _applied_version(self, source: Source) -> int:
        applied = self.metadata.applied().get(f"source:{source.name}")
        if applied is None or _jsonable(applied.spec) != _jsonable(source.spec()):
            raise NotAppliedError(
                f"source '{source.name}'",
                "differs from the version registered by the last apply" if applied else
                "has not been registered yet", fix="run `confluens apply` to register it")
        return applied.version

    # -- ingestion -------------------------------------------------------------------

    def ingest(self, source: str, input: str | None = None, *,
               query: str | None = None, progress: Progress | None = None) -> IngestRun:
        """Ingest a path, glob or database URI (with ``query``) into ``source``.

        Without ``input``, the source's ``batch`` location is read.
        """
        src = self.definitions.source(source)
        version = self._applied_version(src)
        target = self._target(src, input)
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

    @staticmethod
    def _target(src: Source, input: str | None) -> str:
        target = input or src.batch
        if target is None:
            raise InputError(f"source '{src.name}'", "has no batch location and no input was "
                             "given", fix="pass a path, glob or database URI")
        return target

    def chunk_count(self, source: str, input: str | None = None) -> int | None:
        """How many chunks `ingest` will read (files of a glob), if known beforehand."""
        target = self._target(self.definitions.source(source), input)
        return None if is_database_uri(target) else len(resolve_paths(target, self.root))

    def retry_quarantine(self, source: str, *, progress: Progress | None = None) -> IngestRun:
        """Ingest a source's pending quarantined records again, e.g. after fixing a check."""
        with self._exclusive(source):
            self._recover(source)
            return self._retry(source, progress)

    def _retry(self, source: str, progress: Progress | None) -> IngestRun:
        src = self.definitions.source(source)
        version = self._applied_version(src)
        batches = self.metadata.quarantine(source)
        chunks = []
        for batch in batches:
            records = self.quarantine_files.read([batch.path])
            lines = pa.table({"position": records["position"], "line": records["record"]})
            chunks.append(records_chunk(f"quarantine {batch.batch_id}", lines,
                                        [f.input_name for f in src.schema]))
        return self._ingestion().run(src, chunks, input_label="quarantine",
                                     definition_version=version, progress=progress,
                                     retrying=batches)

    def _recover(self, source: str) -> None:
        """Holding the source's write lock: its runs still `running` are dead."""
        recover_runs(self.metadata.runs(source), self.offline, self.metadata, all_dead=True)

    def _ingestion(self) -> Ingestion:
        return Ingestion(self.offline, self.quarantine_files, self.metadata)

    def _exclusive(self, source: str) -> Any:
        """One ingest run per source at a time: a second one fails at once, clearly."""
        return table_lock(self.config.store_root / "locks" / source, wait=False,
                          what=f"source '{source}'")

    # -- features --------------------------------------------------------------------

    def event_features(self, view: str) -> pa.Table:
        """Every feature of ``view`` at every stored event of its source (computed now).

        Rows: the entity keys, the event time, ``__tie`` (the id, or the content hash
        where the source has none) and one column per feature.
        """
        definition = self.definitions.feature_view(view)
        source = definition.source
        self._applied_version(source)
        files = self.offline.files(source.name)
        if not files:
            raise InputError(f"feature view '{view}'", f"source '{source.name}' holds no "
                             "records yet", fix=f"run `confluens ingest {source.name}` first")
        return event_features(plan_view(definition), files)

    def training_set(self, spine: Any, features: Sequence[str], *, at: str | None = None,
                     timezone: str | None = None, as_of: datetime | None = None,
                     full_names: bool = False) -> pa.Table:
        """``spine`` with every requested feature as of each row's timestamp.

        ``features`` are ``"view:feature"`` names, or ``"view"`` for all of a view's.
        ``at`` names the spine's timestamp column (needed if it has several);
        ``timezone`` reads a spine without zones; ``as_of`` ignores every record
        ingested after that instant. ``view[col]:feature`` reads the view's key from
        spine column ``col`` (features named ``col__feature``); ``full_names`` names
        every feature ``view__feature``. See project/training.py.
        """
        refs = resolve_features(self.definitions, features, full_names=full_names)
        for ref in refs:
            self._applied_version(ref.view.source)
        if isinstance(spine, str | Path):
            spine = self.path(spine)
        return training_set(refs, self.offline.files, spine, at=at, timezone=timezone,
                            as_of=as_of)

    def spine(self, source: str, *, last: str | None = None, start: datetime | None = None,
              end: datetime | None = None, where: str | None = None,
              columns: Sequence[str] | None = None) -> pa.Table:
        """Stored records of ``source`` as a spine for ``training_set``: the ``last``
        span of the data (e.g. ``"7d"``, ending at the latest event) or event times in
        ``[start, end)``, filtered by ``where``. See project/spine.py."""
        src = self.definitions.source(source)
        return build_spine(src, self.offline.files(source), last=last, start=start, end=end,
                           where=where, columns=columns)

    @cached_property
    def online(self) -> OnlineStore:
        if self.config.online_store == "redis":
            from confluens.stores.online.redis_store import RedisOnlineStore

            return RedisOnlineStore(self.config.redis_url, namespace=self.config.name)
        return EmbeddedOnlineStore(self.config.store_root / "online.db")

    @cached_property
    def feature_tables(self) -> ParquetOfflineStore:
        return ParquetOfflineStore(self.config.store_root / "features")

    def materialize(self, views: Sequence[str] = (), *,
                    start: datetime | None = None, end: datetime | None = None,
                    progress: Callable[[Materialized], None] | None = None,
                    stage: Callable[[str, str], None] | None = None,
                    ) -> list[Materialized]:
        """Bring each view's per-event feature table and online state up to date.

        Without ``views``, every view. A view whose definition and source data have not
        changed since its last materialize is skipped; after new ingests only the rows
        and entities they can change are recomputed. With ``start``/``end`` (UTC-aware),
        the feature-table rows with event times in ``[start, end)`` are rebuilt.
        ``progress`` gets each view's result; ``stage(view, stage)`` each stage begun.
        """
        chosen = ([self.definitions.feature_view(v) for v in views] if views
                  else list(self.definitions.feature_views))
        done = []
        for view in chosen:
            self._applied_version(view.source)
            result = materialize_view(
                view, SourceData(self.offline, view.source.name), self.feature_tables,
                self.online, ttl_seconds=self.config.online_ttl_seconds,
                marker_dir=self.config.store_root / "materialized",
                run_id=datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f"), start=start, end=end,
                progress=None if stage is None else functools.partial(stage, view.name))
            done.append(result)
            if progress is not None:
                progress(result)
        return done

    def online_features(self, view: str, keys: Sequence[Any], *,
                        at: datetime | None = None) -> FeatureRows:
        """Feature values for entity ``keys``, with windows evaluated at ``at`` (now).

        A key is a value (entities with one key column) or a mapping of key columns.
        The result is a list of dicts, one per key; its ``missing`` lists the keys that
        have no online state (see online_state.FeatureRows).
        """
        definition = self.definitions.feature_view(view)
        when = at or datetime.now(UTC)
        if when.tzinfo is None:
            raise InputError("at", "must carry a time zone", got=when.isoformat(),
                             fix="pass e.g. datetime.now(timezone.utc)")
        rows = read_online(definition, self.online,
                           [_key_values(definition, k) for k in keys], when)
        return FeatureRows(rows, rows.found, keys)

    def online_vector(self, keys: Mapping[str, Any], *,
                      at: datetime | None = None, full_names: bool = False) -> FeatureVector:
        """One feature vector across views, in one store round trip: ``keys`` maps each
        view to its entity's key, e.g. ``{"customer_spending": "C1", "terminal_risk":
        "T7"}``. Feature names must not repeat across the views. The result's
        ``missing`` lists the views (as requested) whose entity has no online state.

        As in training sets, ``"view[label]"`` reads one view under another name (its
        features named ``label__feature``), e.g. ``{"location[origin_id]": 5,
        "location[destination_id]": 9}``; ``full_names`` names them ``view__feature``.
        """
        if any("[" in request for request in keys) or full_names:
            return self._mapped_vector(keys, at=at, full_names=full_names)
        when = at or datetime.now(UTC)
        if when.tzinfo is None:
            raise InputError("at", "must carry a time zone", got=when.isoformat(),
                             fix="pass e.g. datetime.now(timezone.utc)")
        views = [self.definitions.feature_view(name) for name in keys]
        found = read_online_views([(v, [_key_values(v, keys[v.name])]) for v in views],
                                  self.online, when)
        vector: dict[str, Any] = {}
        given_by: dict[str, str] = {}
        for view, (values,) in zip(views, found, strict=True):
            for name, value in values.items():
                if name in vector:
                    raise InputError("online_vector", f"two views give a feature named "
                                     f"'{name}'", got=[given_by[name], view.name],
                                     fix="read them with online_features, or rename one")
                vector[name], given_by[name] = value, view.name
        return FeatureVector(vector, [v.name for v, rows in zip(views, found, strict=True)
                                      if rows.missing])

    def _mapped_vector(self, keys: Mapping[str, Any], *, at: datetime | None,
                       full_names: bool) -> FeatureVector:
        """``online_vector`` with key mapping or full names (project/training.py names)."""
        when = at or datetime.now(UTC)
        if when.tzinfo is None:
            raise InputError("at", "must carry a time zone", got=when.isoformat(),
                             fix="pass e.g. datetime.now(timezone.utc)")
        refs = resolve_features(self.definitions, list(keys), full_names=full_names)
        if len(refs) != len(keys):
            raise InputError("online_vector", "each request must name a view once",
                             got=list(keys), fix="drop the repeated request")
        found = read_online_views([(ref.view, [_key_values(ref.view, value)])
                                   for ref, value in zip(refs, keys.values(), strict=True)],
                                  self.online, when)
        vector = {ref.output(name): value for ref, (values,) in zip(refs, found, strict=True)
                  for name, value in values.items() if name in ref.names}
        return FeatureVector(vector, [request for request, rows in zip(keys, found, strict=True)
                                      if rows.missing])

    def train(self, model: str, *, start: date | None = None, **hooks: Any) -> TrainedModel:
        """Train ``model`` on its point-in-time training set (project/model_training.py)."""
        from confluens.project.model_training import train

        return train(self, model, start=start, **hooks)

    # -- reading back ----------------------------------------------------------------

    def runs(self, source: str | None = None) -> list[IngestRun]:
        """Ingest runs, oldest first. A run whose process has died is marked
        `interrupted` first; a live one shows what it has committed so far."""
        runs = self.metadata.runs(source)
        with suppress(StorageError):  # a read-only metadata store: list them all the same
            recover_runs(runs, self.offline, self.metadata)
        for run in runs:
            if run.status == "running":
                settle(run, self.offline, self.metadata)
        return runs

    def quarantine(self, source: str, *, include_retried: bool = False) -> pa.Table:
        """The quarantined records of ``source`` (pending ones unless ``include_retried``)."""
        self.definitions.source(source)
        batches = self.metadata.quarantine(source, None if include_retried else "pending")
        return self.quarantine_files.read([b.path for b in batches])

    def table(self, source: str, *, columns: Sequence[str] | None = None,
              where: str | None = None, limit: int | None = None,
              format: Literal["arrow", "pandas"] = "arrow",
              system_columns: bool = False) -> Any:
        """The stored records of ``source`` as an Arrow table (or pandas with format=)."""
        src = self.definitions.source(source)
        table = read_table(src, self.offline.files(source), columns=columns, where=where,
                           limit=limit, system_columns=system_columns)
        return table.to_pandas() if format == "pandas" else table

    def count(self, source: str, *, where: str | None = None) -> int:
        """How many records of ``source`` are stored (that match ``where``)."""
        src = self.definitions.source(source)
        return count_rows(src, self.offline.files(source), where=where)


def _jsonable(value: Any) -> Any:
    """Specs as they come back from JSON (tuples become lists), for comparison."""
    import json

    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _key_values(view: FeatureView, key: Any) -> list[Any]:
    """A user's entity key as the stored values, in the entity's key order."""
    names = view.entity.keys
    if not names:  # a view without an entity: one state, whatever key is passed
        return []
    if isinstance(key, Mapping):
        if set(key) != set(names):
            unknown = [n for n in key if n not in names]
            raise InputError(f"key for entity '{view.entity.name}'",
                             f"must give exactly its key columns {list(names)}",
                             got=dict(key) if key else "no key",
                             fix="write " + ",".join(f"{n}=VALUE" for n in names) + (
                                 f" ({', '.join(map(repr, unknown))}: not a key column)"
                                 if unknown else ""))
        values = [key[n] for n in names]
    elif len(names) == 1:
        values = [key]
    else:
        raise InputError(f"key for entity '{view.entity.name}'", "needs one value per key "
                         "column", got=key, fix=f"pass a mapping of {list(names)}")
    out = []
    for name, value in zip(names, values, strict=True):
        dtype = view.source.schema[name].dtype
        try:
            out.append(int(value) if dtype is DType.INT64 else str(value))
        except (TypeError, ValueError):
            raise InputError(f"key column '{name}'", f"must be a {dtype.value}", got=value,
                             fix=f"pass a {dtype.value} value") from None
    return out
