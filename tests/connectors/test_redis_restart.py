"""A Redis restart under a live stream log: the log reconnects with backoff and reads
and appends on, entries and checkpoints survive (append-only file), and a server that
stays away longer than the log's reconnect budget is a StorageError, never a redis-py
exception. Each test runs its own ``redis-server`` on a free loopback port."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from confluens.connectors.streams.reconnect import Reconnect
from confluens.connectors.streams.redis_streams import RedisStreamLog
from confluens.errors import StorageError
from confluens.stores.online.checkpoint import Checkpoint

READY = "Ready to accept connections"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class RedisServer:
    """A ``redis-server`` of our own: AOF on (entries survive a restart), no RDB."""

    def __init__(self, binary: str, port: int, folder: Path, *extra: str) -> None:
        self.command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "yes", "--dir", str(folder), "--logfile", "",
                        *extra]
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[str] | None = None
        self._ready = threading.Event()
        self._watcher: threading.Thread | None = None

    def launch(self) -> None:
        """Start the server; ``wait_ready`` waits for it to accept connections."""
        assert self.process is None, "already running"
        self._ready = threading.Event()
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self._watcher = threading.Thread(target=self._watch_log,
                                         args=(self.process, self._ready), daemon=True)
        self._watcher.start()

    @staticmethod
    def _watch_log(process: subprocess.Popen[str], ready: threading.Event) -> None:
        assert process.stdout is not None
        for line in process.stdout:  # read to the end: the pipe never fills
            if READY in line:
                ready.set()

    def wait_ready(self) -> None:
        assert self._ready.wait(timeout=30), f"redis-server did not log {READY!r}"

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def stop(self) -> None:
        """SIGTERM: Redis flushes its append-only file and exits."""
        if self.process is not None:
            self.process.terminate()
            self._reap()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self._reap()

    def _reap(self) -> None:
        assert self.process is not None
        assert self._watcher is not None
        self.process.wait(timeout=30)
        self._watcher.join(timeout=30)  # it reads the log to its end, then returns
        assert self.process.stdout is not None
        self.process.stdout.close()
        self.process = None


@pytest.fixture
def server(redis_server_binary: str, tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(redis_server_binary, _free_port(), tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.kill()


def test_a_log_reconnects_across_a_restart_and_reads_and_appends_on(
        server: RedisServer) -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the third backoff brings the server back
        waits.append(seconds)
        if len(waits) == 3:
            server.launch()
        time.sleep(seconds)

    log = RedisStreamLog(server.url, "tx", partitions=2, sleep=sleep,
                         reconnect=Reconnect(attempts=40, first_delay_s=0.02,
                                             max_delay_s=0.5))
    log.append([(f"card-{i}", f"before {i}".encode()) for i in range(20)])
    before = [log.read(p, None, 100) for p in range(2)]

    server.stop()
    after_restart = [log.read(p, None, 100) for p in range(2)]
    assert after_restart == before, "entries survive the restart, read by the same object"
    assert waits[:3] == [0.02, 0.04, 0.08], "the log waited, with exponential backoff"
    assert waits == sorted(waits)

    server.stop()  # a restart between two calls: the pooled connection is stale
    server.start()
    log.append([("card-1", b"after")])
    tail = [m for p in range(2) for m in log.read(p, before[p][-1].position, 10)]
    assert [m.payload for m in tail] == [b"after"], "appends go on after the old entries"
    log.close()


def test_a_checkpoint_commit_works_across_a_restart(server: RedisServer) -> None:
    from confluens.stores.online.redis_store import RedisOnlineStore

    store = RedisOnlineStore(server.url, namespace="t")
    first = Checkpoint("proc", 1, {0: "1-0"})
    store.commit(first, [("v", {"a": b"1"})])
    server.stop()
    server.start()  # the script cache is empty now: the commit loads the script again
    store.commit(first.following({0: "2-0"}, {}), [("v", {"a": b"2"})])
    assert store.checkpoint("proc") == Checkpoint("proc", 2, {0: "2-0"})
    assert store.read("v", ["a"]) == [b"2"]
    store.close()


def test_a_server_away_longer_than_the_budget_is_a_storage_error(
        server: RedisServer) -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    policy = Reconnect(attempts=4, first_delay_s=0.01, max_delay_s=0.02)
    log = RedisStreamLog(server.url, "tx", reconnect=policy, sleep=sleep)
    log.append([(None, b"x")])
    server.stop()
    for call in (lambda: log.read(0, None, 10), lambda: log.append([(None, b"y")]),
                 lambda: log.last(0), lambda: log.read(0, None, 10, wait_ms=100)):
        waits.clear()
        with pytest.raises(StorageError, match="the connection is lost") as raised:
            call()
        assert waits == list(policy.delays()), "it retried as the policy says, then gave up"
        assert raised.value.__cause__ is None, "no redis-py traceback reaches the user"
        assert raised.value.__suppress_context__, "no redis-py traceback reaches the user"
        assert "Reconnect(attempts=" in str(raised.value), "the fix says how to wait longer"
    with pytest.raises(StorageError, match="open: the connection is lost"):
        RedisStreamLog(server.url, "tx", reconnect=policy, sleep=sleep)
    log.close()


def test_a_refused_password_is_not_retried(redis_server_binary: str, tmp_path: Path) -> None:
    server = RedisServer(redis_server_binary, _free_port(), tmp_path, "--requirepass", "s3")
    waits: list[float] = []
    try:
        server.start()
        with pytest.raises(StorageError, match="Redis refused the command") as raised:
            RedisStreamLog(server.url.replace("redis://", "redis://:wrong@"), "tx",
                           sleep=waits.append)
        assert waits == [], "a wrong password is not a lost connection"
        assert "wrong" not in str(raised.value), "the message never shows a password"
        log = RedisStreamLog(server.url.replace("redis://", "redis://:s3@"), "tx")
        assert "s3" not in log.location
        log.close()
    finally:
        server.kill()
