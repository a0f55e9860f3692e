"""A stream processor whose broker goes away: it pauses, reconnects, resumes from its
checkpoint, and ends with the values of an uninterrupted run (Redis Streams on a
redis-server of the test's own, so the shared one stays up)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import confluens
from confluens.errors import StorageError
from tests.connectors.test_redis_restart import RedisServer, _free_port

from .streamed_project import (
    AFTER,
    batch_values,
    compare,
    entities,
    online_values,
    streamed_project,
)


@pytest.fixture
def broker(redis_server_binary: str, tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(redis_server_binary, _free_port(), tmp_path / "redis")
    (tmp_path / "redis").mkdir()
    try:
        server.start()
        yield server
    finally:
        server.kill()


def test_the_processor_rides_out_a_broker_outage(tmp_path: Path,
                                                 broker: RedisServer) -> None:
    root = streamed_project(tmp_path / "outage", kind="redis",
                            toml=f'[streams]\nredis_url = "{broker.url}"\n')
    outages: list[tuple[str, float]] = []
    stop = threading.Event()
    with confluens.open(root) as project:
        project.replay("transactions", "data/transactions/transactions.parquet", limit=300)

        def on_outage(source: str, error: StorageError, pause: float) -> None:
            outages.append((source, pause))

        worker = threading.Thread(target=project.stream, args=(["transactions"],), kwargs={
            "stop": stop, "batch_size": 50, "poll_ms": 20, "on_outage": on_outage})
        worker.start()
        try:
            _wait(lambda: _consumed(project) == 300)
            broker.kill()  # the broker dies: no clean shutdown
            _wait(lambda: len(outages) >= 2, timeout=120)
            broker.start()
            project.replay("transactions", "data/transactions/transactions.parquet")
            total = _rows(project)  # the first 300 come again: duplicates
            _wait(lambda: _consumed(project) == 300 + total, timeout=120)
        finally:
            stop.set()
            worker.join(timeout=60)
        assert not worker.is_alive()
        assert [s for s, _ in outages] == ["transactions"] * len(outages)
        assert [p for _, p in outages][:2] == [1.0, 2.0], "pauses grow"
        (status,) = project.stream_status(["transactions"])
        assert (status.stats.accepted, status.stats.duplicates) == (total, 300)
        assert project.count("transactions") == total
        keys = entities(project, "customer_spending")
        assert compare(keys, online_values(project, "customer_spending", keys, AFTER),
                       batch_values(project, "customer_spending", keys, AFTER)) == []


def _rows(project: confluens.Project) -> int:
    import pyarrow.parquet as pq

    return pq.read_table(project.path("data/transactions/transactions.parquet")).num_rows


def _consumed(project: confluens.Project) -> int:
    try:
        (status,) = project.stream_status(["transactions"])
    except StorageError:
        return -1
    return status.stats.rows_in


def _wait(condition: object, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def test_an_until_idle_run_ends_with_the_outage(tmp_path: Path, broker: RedisServer) -> None:
    from tests.interfaces.cli_helpers import invoke

    root = streamed_project(tmp_path / "down", kind="redis",
                            toml=f'[streams]\nredis_url = "{broker.url}"\n')
    broker.kill()
    code, out = invoke("stream", "transactions", "--until-idle", folder=root)
    assert code == 2, out
    assert "Redis" in out
    assert "Traceback" not in out


def test_a_group_worker_rides_out_an_outage_of_the_store_holding_its_leases(
        tmp_path: Path, broker: RedisServer) -> None:
    """Streams, online state and leases all on the Redis that dies: the worker pauses
    (renewals and commits fail), its leases lapse, and once Redis is back it takes
    them again, rebuilds from the checkpoint and ends with the values of a calm run."""
    from confluens.project.stream.group import GroupOptions

    from .streamed_project import on_redis

    root = streamed_project(tmp_path / "outage", kind="redis",
                            toml=f'[streams]\nredis_url = "{broker.url}"\n')
    on_redis(root, broker.url)
    outages: list[str] = []
    stop = threading.Event()
    with confluens.open(root) as project:
        assert project.config.online_store == "redis"
        project.replay("transactions", "data/transactions/transactions.parquet", limit=300)
        worker = threading.Thread(target=project.stream, args=(["transactions"],), kwargs={
            "stop": stop, "batch_size": 50, "poll_ms": 20, "group": GroupOptions("g", 1.0),
            "on_outage": lambda source, error, pause: outages.append(source)})
        worker.start()
        try:
            _wait(lambda: _consumed(project) == 300)
            broker.kill()
            _wait(lambda: len(outages) >= 2, timeout=120)  # pauses of 1 s and more:
            broker.start()  # its 1 s leases have most likely lapsed (either way, it goes on)
            project.replay("transactions", "data/transactions/transactions.parquet")
            total = _rows(project)
            _wait(lambda: _consumed(project) == 300 + total, timeout=120)
        finally:
            stop.set()
            worker.join(timeout=60)
        assert not worker.is_alive(), "the worker ended when asked, without a crash"
        assert set(outages) == {"transactions"}
        (status,) = project.stream_status(["transactions"])
        assert (status.stats.accepted, status.stats.duplicates) == (total, 300)
        assert status.lease is None, "it released its lease when it stopped"
        assert project.count("transactions") == total
        keys = entities(project, "customer_spending")
        assert compare(keys, online_values(project, "customer_spending", keys, AFTER),
                       batch_values(project, "customer_spending", keys, AFTER)) == []
