"""Every store passes the shipped conformance checks its capabilities call for: the
real backends and the in-memory stores alike, one named check at a time."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from confluens.stores.capabilities import StoreCapability
from confluens.stores.conformance import (
    METADATA_CHECKS,
    OFFLINE_CHECKS,
    ONLINE_CHECKS,
    StoreCheck,
    check_metadata_store,
    check_offline_store,
    check_online_store,
    checks_for,
)
from confluens.stores.memory import MemoryMetadataStore, MemoryOnlineStore
from confluens.stores.metadata import SqlMetadataStore
from confluens.stores.offline import ParquetOfflineStore
from confluens.stores.online import EmbeddedOnlineStore


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


def _names(checks: tuple[StoreCheck, ...]) -> list[str]:
    return [check.name for check in checks]


# -- metadata ---------------------------------------------------------------------------

@pytest.mark.parametrize("check", METADATA_CHECKS, ids=_names(METADATA_CHECKS))
def test_sqlite_metadata_store(tmp_path: Path, check: StoreCheck) -> None:
    store = SqlMetadataStore(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        check.run(store)
    finally:
        store.close()


@pytest.mark.parametrize("check", METADATA_CHECKS, ids=_names(METADATA_CHECKS))
def test_memory_metadata_store(check: StoreCheck) -> None:
    check.run(MemoryMetadataStore())


@pytest.mark.service("postgres")
def test_postgres_metadata_store(fresh_postgres: str) -> None:
    store = SqlMetadataStore(fresh_postgres)
    try:
        assert check_metadata_store(store) == _names(METADATA_CHECKS)
    finally:
        store.close()


def test_memory_metadata_records_are_copies() -> None:
    from datetime import UTC, datetime

    from confluens.stores.metadata import IngestRun

    store = MemoryMetadataStore()
    run = IngestRun("r1", "a", "in.csv", 1, datetime(2024, 1, 1, tzinfo=UTC))
    store.start_run(run)
    run.accepted = 5
    assert store.runs("a")[0].accepted == 0, "a change after start_run is not stored"
    store.runs("a")[0].accepted = 9
    assert store.runs("a")[0].accepted == 0, "a record read back is a copy"


# -- offline ----------------------------------------------------------------------------

@pytest.mark.parametrize("check", OFFLINE_CHECKS, ids=_names(OFFLINE_CHECKS))
def test_parquet_offline_store(tmp_path: Path, check: StoreCheck) -> None:
    check.run(ParquetOfflineStore(tmp_path))


def test_the_offline_checks_run_one_after_another_on_one_store(tmp_path: Path) -> None:
    assert check_offline_store(ParquetOfflineStore(tmp_path)) == _names(OFFLINE_CHECKS)


class _AppendOnly:
    """An offline store declaring no capability (it wraps the Parquet one)."""

    def __init__(self, root: Path) -> None:
        self._store = ParquetOfflineStore(root)
        self.capabilities: frozenset[StoreCapability] = frozenset()

    def __getattr__(self, name: str) -> Any:
        if name in ("replace", "replace_partitions"):
            raise AttributeError(name)
        return getattr(self._store, name)


def test_checks_are_chosen_by_the_capabilities_a_store_declares(tmp_path: Path) -> None:
    append_only = _AppendOnly(tmp_path)
    assert [c.name for c in checks_for(append_only, OFFLINE_CHECKS)] == [
        "append", "runs", "partitions"]
    assert check_offline_store(append_only) == ["append", "runs", "partitions"]
    assert [c.name for c in checks_for(object(), ONLINE_CHECKS)] == [
        "location", "read_write", "read_many", "clear", "replace"], \
        "a store that declares nothing gets the core checks"


# -- online -----------------------------------------------------------------------------

def _embedded(tmp_path: Path) -> EmbeddedOnlineStore:
    return EmbeddedOnlineStore(tmp_path / "online.db")


def _memory(tmp_path: Path) -> MemoryOnlineStore:
    return MemoryOnlineStore()


ONLINE_STORES: dict[str, Callable[[Path], Any]] = {"embedded": _embedded, "memory": _memory}


@pytest.mark.parametrize("check", ONLINE_CHECKS, ids=_names(ONLINE_CHECKS))
@pytest.mark.parametrize("kind", list(ONLINE_STORES))
def test_online_store(tmp_path: Path, kind: str, check: StoreCheck) -> None:
    store = ONLINE_STORES[kind](tmp_path)
    assert check in checks_for(store, ONLINE_CHECKS), "our stores declare every capability"
    try:
        check.run(store)
    finally:
        store.close()


def test_the_online_checks_run_one_after_another_on_one_store(tmp_path: Path) -> None:
    store = _embedded(tmp_path)
    assert check_online_store(store) == _names(ONLINE_CHECKS)
    store.close()
    reopened = _embedded(tmp_path)
    assert reopened.read("rw_many", ["k7"]) == [b"7"], "state survives a restart"
    reopened.close()


def test_leases_survive_a_restart_of_the_embedded_store(tmp_path: Path) -> None:
    now = [1_000.0]
    store = EmbeddedOnlineStore(tmp_path / "online.db", clock=lambda: now[0])
    assert store.acquire("partition/tx:0", "w1", 30) is not None
    store.close()
    reopened = EmbeddedOnlineStore(tmp_path / "online.db", clock=lambda: now[0])
    assert reopened.acquire("partition/tx:0", "w2", 30) is None, "w1 still holds it"
    assert [(x.owner, x.expires_at) for x in reopened.leases("partition/")] == [
        ("w1", 1_030.0)]
    reopened.close()


def test_expiry_is_measured_by_the_clock_the_store_is_given(tmp_path: Path) -> None:
    now = [1_000.0]
    store = EmbeddedOnlineStore(tmp_path / "online.db", clock=lambda: now[0])
    store.write("v", {"a": b"1"}, ttl_seconds=10)
    now[0] = 1_009.9
    assert store.read("v", ["a"]) == [b"1"]
    now[0] = 1_010.0
    assert store.read("v", ["a"]) == [None], "expired at written + ttl"
    store.close()


@pytest.mark.service("redis")
def test_redis_online_store(redis_url: str) -> None:
    from confluens.stores.online.redis_store import RedisOnlineStore

    namespace = f"test-{uuid.uuid4().hex[:8]}"
    store = RedisOnlineStore(redis_url, namespace=namespace)
    try:
        assert check_online_store(store) == _names(ONLINE_CHECKS)
    finally:
        for view in ("rw", "rw_many", "rm_a", "rm_b", "cl_b", "rp_a", "rp_b", "ex_a", "th",
                     "cp_v", "cp_w"):
            store.clear(view)
        _delete_checkpoints(redis_url, namespace, ["cp_a", "cp_b"])
        store.close()


def _delete_checkpoints(redis_url: str, namespace: str, consumers: list[str]) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete(*[f"{namespace}#checkpoint:{consumer}" for consumer in consumers],
                  f"{namespace}#leases")
    client.close()


# -- a project on other stores -----------------------------------------------------------

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
