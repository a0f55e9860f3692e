"""The audited history of model aliases (``@champion``, ``@challenger``).

MLflow's registry moves an alias and forgets where it pointed before (mlflow#2169),
so every move is also written here, in the project's metadata database: what
(model, alias, from version, to version, action), when, who and why.

Two tables, created on first use like the other metadata tables:

- ``confluens_model_alias_history``: one row per move, in order (``seq``);
- ``confluens_model_alias_locks``: one row per (model, alias), updated first in
  every move's transaction, so that two moves of the same alias, from any process
  or host, run one after the other (a row lock on PostgreSQL, the write lock on
  SQLite).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

__all__ = ["AliasChange", "AliasHistory", "AliasMove"]

_meta = sa.MetaData()
_WAIT_MS = 120_000  # how long a move waits for another move of the same alias (SQLite)

history = sa.Table(
    "confluens_model_alias_history", _meta,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(255), nullable=False, index=True),
    sa.Column("alias", sa.String(64), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),  # promote | rollback
    sa.Column("from_version", sa.Integer),  # null: the alias was not set
    sa.Column("to_version", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

locks = sa.Table(
    "confluens_model_alias_locks", _meta,
    sa.Column("model", sa.String(255), primary_key=True),
    sa.Column("alias", sa.String(64), primary_key=True),
    sa.Column("acquired", sa.Integer, nullable=False),  # times the lock was taken
)


@dataclass(frozen=True, slots=True)
class AliasChange:
    """One move of an alias, as recorded."""

    model: str
    alias: str
    action: str  # "promote" | "rollback"
    from_version: int | None
    to_version: int
    at: datetime
    actor: str
    reason: str
    seq: int = 0  # its order in the history; 0 before it is written


class AliasHistory:
    """The alias history in a SQLAlchemy database (the project's metadata store)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        _meta.create_all(engine)

    def changes(self, model: str, alias: str | None = None) -> list[AliasChange]:
        """Every recorded move of ``model``'s aliases (or of one alias), oldest first."""
        query = sa.select(history).where(history.c.model == model).order_by(history.c.seq)
        if alias is not None:
            query = query.where(history.c.alias == alias)
        with self.engine.connect() as conn:
            return [_change(row) for row in conn.execute(query)]

    @contextmanager
    def moving(self, model: str, alias: str) -> Iterator[AliasMove]:
        """Hold ``model@alias`` exclusively while a move is decided and made.

        Everything done inside (reading the history and where the alias points,
        moving it in MLflow) happens while no other move of the same alias can; the
        recorded row is committed on leaving, and nothing is if the block raises.
        """
        with self.engine.connect() as conn:  # the lock row, once (ignore a race)
            self._patient(conn)
            try:
                conn.execute(locks.insert().values(model=model, alias=alias, acquired=0))
                conn.commit()
            except IntegrityError:
                conn.rollback()
        with self.engine.begin() as conn:
            self._patient(conn)
            conn.execute(locks.update().where(locks.c.model == model, locks.c.alias == alias)
                         .values(acquired=locks.c.acquired + 1))
            yield AliasMove(conn, model, alias)

    def _patient(self, conn: sa.Connection) -> None:
        """On SQLite, wait for the holder of the write lock, as PostgreSQL waits for a row
        lock (SQLite's default gives up after 5 s)."""
        if self.engine.dialect.name == "sqlite":
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {_WAIT_MS}")


class AliasMove:
    """The history of one alias, read and written inside its lock (``moving``)."""

    def __init__(self, conn: sa.Connection, model: str, alias: str) -> None:
        self.conn, self.model, self.alias = conn, model, alias

    def changes(self) -> list[AliasChange]:
        query = (sa.select(history).where(history.c.model == self.model,
                                          history.c.alias == self.alias)
                 .order_by(history.c.seq))
        return [_change(row) for row in self.conn.execute(query)]

    def write(self, change: AliasChange) -> AliasChange:
        values = {k: getattr(change, k) for k in (
            "model", "alias", "action", "from_version", "to_version", "at", "actor",
            "reason")}
        key = self.conn.execute(history.insert().values(**values)).inserted_primary_key
        return AliasChange(**values, seq=int(key[0]) if key else 0)


def _change(row: sa.Row[tuple[object, ...]]) -> AliasChange:
    at = row.at if row.at.tzinfo is not None else row.at.replace(tzinfo=UTC)
    return AliasChange(model=row.model, alias=row.alias, action=row.action,
                       from_version=row.from_version, to_version=row.to_version, at=at,
                       actor=row.actor, reason=row.reason, seq=row.seq)
