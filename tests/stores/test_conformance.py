"""Every store passes the shipped conformance checks, against the real backends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from confluens.stores.conformance import (
    check_metadata_store,
    check_offline_store,
    check_online_store,
)
from confluens.stores.metadata import SqlMetadataStore
from confluens.stores.offline import ParquetOfflineStore


@pytest.fixture
def fresh_postgres(postgres_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    name = f"confluens_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        yield str(sa.make_url(postgres_url).set(database=name))
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def test_sqlite_metadata_store(tmp_path: Path) -> None:
    store = SqlMetadataStore(f"sqlite:///{tmp_path / 'm.db'}")
    check_metadata_store(store)
    store.close()


@pytest.mark.service("postgres")
def test_postgres_metadata_store(fresh_postgres: str) -> None:
    store = SqlMetadataStore(fresh_postgres)
    check_metadata_store(store)
    store.close()


def test_parquet_offline_store(tmp_path: Path) -> None:
    check_offline_store(ParquetOfflineStore(tmp_path))


@pytest.mark.service("postgres")
def test_a_project_keeps_its_metadata_in_postgres(make_project, fresh_postgres: str,
                                                  tmp_path: Path) -> None:
    project = make_project('''
        from confluens import Source
        tx = Source("tx", {"id": "int64", "ts": "timestamp"}, "ts", id="id")
    ''', toml=f'[storage]\nmetadata_url = "{fresh_postgres}"\n')
    assert project.apply().added == ["source:tx"]
    (tmp_path / "tx.csv").write_text("id,ts\n1,2024-01-01\n1,2024-01-01\n")
    run = project.ingest("tx", str(tmp_path / "tx.csv"))
    assert (run.accepted, run.duplicates) == (1, 1)
    engine = sa.create_engine(fresh_postgres)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT source, rows_in, accepted, duplicates "
                                    "FROM confluens_ingest_runs")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("tx", 2, 1, 1)]


def test_unreachable_metadata_database_is_a_clear_error() -> None:
    from confluens.errors import StorageError

    with pytest.raises(StorageError, match="cannot connect"):
        SqlMetadataStore("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_embedded_online_store(tmp_path: Path) -> None:
    from confluens.stores.online import EmbeddedOnlineStore

    store = EmbeddedOnlineStore(tmp_path / "online.db")
    check_online_store(store)
    store.close()
    reopened = EmbeddedOnlineStore(tmp_path / "online.db")
    assert reopened.read("w", ["k7"]) == [b"7"], "state survives a restart"
    reopened.close()


@pytest.mark.service("redis")
def test_redis_online_store(redis_url: str) -> None:
    from confluens.stores.online.redis_store import RedisOnlineStore

    store = RedisOnlineStore(redis_url, namespace=f"test-{uuid.uuid4().hex[:8]}")
    try:
        check_online_store(store)
    finally:
        store.clear("w")
        store.close()
