"""The metadata store on SQLAlchemy Core: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import NoSuchModuleError, OperationalError

from confluens.errors import ConfigError, MissingExtraError, StorageError
from confluens.stores.metadata.protocol import AppliedDefinition, IngestRun, QuarantineBatch
from confluens.urls import database_url

__all__ = ["SqlMetadataStore"]

_meta = sa.MetaData()

definitions = sa.Table(
    "confluens_definitions", _meta,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("spec_hash", sa.String(64), nullable=False),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("removed", sa.Boolean, nullable=False, default=False),
)

runs = sa.Table(
    "confluens_ingest_runs", _meta,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("source", sa.String(200), nullable=False, index=True),
    sa.Column("input", sa.Text, nullable=False),
    sa.Column("definition_version", sa.Integer, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("rows_in", sa.BigInteger, nullable=False),
    sa.Column("accepted", sa.BigInteger, nullable=False),
    sa.Column("quarantined", sa.BigInteger, nullable=False),
    sa.Column("duplicates", sa.BigInteger, nullable=False),
    sa.Column("warnings", sa.Text, nullable=False),
    sa.Column("rules", sa.Text, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("pid", sa.Integer),
    sa.Column("host", sa.String(255)),
)

quarantine = sa.Table(
    "confluens_quarantine", _meta,
    sa.Column("batch_id", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("source", sa.String(200), nullable=False, index=True),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("rules", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


def spec_hash(spec: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def _add_missing_columns(engine: sa.Engine, table: sa.Table) -> None:
    """Add columns a newer release declares to a table an older one created (nullable
    columns only, so existing rows stay valid)."""
    present = {c["name"] for c in sa.inspect(engine).get_columns(table.name)}
    missing = [c for c in table.columns if c.name not in present]
    if not missing:
        return
    name = engine.dialect.identifier_preparer.format_table(table)
    with engine.begin() as conn:
        for column in missing:
            assert column.nullable, column
            spec = sa.schema.CreateColumn(column).compile(dialect=engine.dialect)
            conn.execute(sa.text(f"ALTER TABLE {name} ADD COLUMN {spec}"))


def _utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; every time confluens stores is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class SqlMetadataStore:
    """Metadata in any SQLAlchemy database; tables are created on first use."""

    def __init__(self, url: str) -> None:
        self.url = url
        sqlite = url.startswith("sqlite")
        try:
            # SQLite: wait up to 30 s for another process's write (stream workers and
            # ingests share one file), not the driver's 5 s
            self.engine = sa.create_engine(database_url(url), **(
                {"connect_args": {"timeout": 30}} if sqlite else {}))
        except NoSuchModuleError:
            raise ConfigError("metadata url", "names a database dialect SQLAlchemy does not "
                              "know", got=url, fix="use sqlite:///path or "
                              "postgresql+psycopg://user@host/db") from None
        except ModuleNotFoundError as exc:
            raise MissingExtraError(f"metadata store {url.split(':', 1)[0]}", "postgres",
                                    exc.name or "psycopg") from None
        try:
            _meta.create_all(self.engine)
            _add_missing_columns(self.engine, runs)
        except OperationalError as exc:
            raise StorageError("metadata store", "cannot connect or create its tables",
                               got=url, fix=f"check the database is running and the URL "
                               f"({exc.orig})") from None

    def close(self) -> None:
        self.engine.dispose()

    # -- definitions -----------------------------------------------------------------

    def applied(self) -> dict[str, AppliedDefinition]:
        latest = (sa.select(definitions.c.key, sa.func.max(definitions.c.version).label("v"))
                  .group_by(definitions.c.key).subquery())
        query = sa.select(definitions).join(
            latest, sa.and_(definitions.c.key == latest.c.key,
                            definitions.c.version == latest.c.v)
        ).where(definitions.c.removed.is_(False))
        with self.engine.connect() as conn:
            return {r.key: self._definition(r) for r in conn.execute(query)}

    def history(self, key: str) -> list[AppliedDefinition]:
        query = sa.select(definitions).where(definitions.c.key == key).order_by(
            definitions.c.version)
        with self.engine.connect() as conn:
            return [self._definition(r) for r in conn.execute(query)]

    @staticmethod
    def _definition(row: Any) -> AppliedDefinition:
        return AppliedDefinition(row.key, row.version, row.spec_hash, json.loads(row.spec),
                                 _utc(row.applied_at) or row.applied_at)

    def apply(self, specs: dict[str, dict[str, Any]], at: datetime) -> dict[str, int]:
        versions: dict[str, int] = {}
        with self.engine.begin() as conn:
            last = {r.key: r for r in conn.execute(
                sa.select(definitions.c.key, definitions.c.version, definitions.c.spec_hash,
                          definitions.c.removed)
                .order_by(definitions.c.key, definitions.c.version))}
            for key, spec in specs.items():
                digest = spec_hash(spec)
                prev = last.get(key)
                if prev is not None and prev.spec_hash == digest and not prev.removed:
                    versions[key] = prev.version
                    continue
                versions[key] = (prev.version if prev else 0) + 1
                conn.execute(definitions.insert().values(
                    key=key, version=versions[key], spec_hash=digest,
                    spec=json.dumps(spec, sort_keys=True, default=str), applied_at=at,
                    removed=False))
            for key, prev in last.items():
                if key not in specs and not prev.removed:
                    conn.execute(definitions.insert().values(
                        key=key, version=prev.version + 1, spec_hash=prev.spec_hash,
                        spec="{}", applied_at=at, removed=True))
        return versions

    # -- ingest runs -----------------------------------------------------------------

    def start_run(self, run: IngestRun) -> None:
        with self.engine.begin() as conn:
            conn.execute(runs.insert().values(**self._run_values(run)))

    def finish_run(self, run: IngestRun) -> None:
        self.update_run(run)

    def update_run(self, run: IngestRun) -> None:
        values = self._run_values(run)
        del values["run_id"]
        try:
            with self.engine.begin() as conn:
                conn.execute(runs.update().where(runs.c.run_id == run.run_id)
                             .values(**values))
        except OperationalError as exc:
            raise StorageError("metadata store", "cannot record the ingest run",
                               got=run.run_id, fix=f"check the database is writable "
                               f"({exc.orig})") from None

    @staticmethod
    def _run_values(run: IngestRun) -> dict[str, Any]:
        return {"run_id": run.run_id, "source": run.source, "input": run.input,
                "definition_version": run.definition_version, "started_at": run.started_at,
                "finished_at": run.finished_at, "status": run.status, "rows_in": run.rows_in,
                "accepted": run.accepted, "quarantined": run.quarantined,
                "duplicates": run.duplicates, "warnings": json.dumps(run.warnings),
                "rules": json.dumps(run.rules),
                "error": run.error, "pid": run.pid, "host": run.host}

    def runs(self, source: str | None = None) -> list[IngestRun]:
        query = sa.select(runs).order_by(runs.c.started_at, runs.c.run_id)
        if source is not None:
            query = query.where(runs.c.source == source)
        with self.engine.connect() as conn:
            return [IngestRun(
                run_id=r.run_id, source=r.source, input=r.input,
                definition_version=r.definition_version,
                started_at=_utc(r.started_at) or r.started_at, status=r.status,
                finished_at=_utc(r.finished_at), rows_in=r.rows_in, accepted=r.accepted,
                quarantined=r.quarantined, duplicates=r.duplicates,
                warnings=json.loads(r.warnings), rules=json.loads(r.rules), error=r.error,
                pid=r.pid, host=r.host,
            ) for r in conn.execute(query)]

    # -- quarantine index ------------------------------------------------------------

    def add_quarantine(self, batch: QuarantineBatch) -> None:
        with self.engine.begin() as conn:
            conn.execute(quarantine.insert().values(
                batch_id=batch.batch_id, run_id=batch.run_id, source=batch.source,
                path=batch.path, rows=batch.rows, rules=json.dumps(batch.rules),
                status=batch.status, created_at=batch.created_at))

    def quarantine(self, source: str, status: str | None = "pending") -> list[QuarantineBatch]:
        query = (sa.select(quarantine).where(quarantine.c.source == source)
                 .order_by(quarantine.c.created_at, quarantine.c.batch_id))
        if status is not None:
            query = query.where(quarantine.c.status == status)
        with self.engine.connect() as conn:
            return [QuarantineBatch(r.batch_id, r.run_id, r.source, r.path, r.rows,
                                    json.loads(r.rules), r.status,
                                    _utc(r.created_at) or r.created_at)
                    for r in conn.execute(query)]

    def set_quarantine_status(self, batch_ids: list[str], status: str) -> None:
        if not batch_ids:
            return
        with self.engine.begin() as conn:
            conn.execute(quarantine.update().where(quarantine.c.batch_id.in_(batch_ids))
                         .values(status=status))
