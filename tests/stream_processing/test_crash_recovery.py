"""Exactly-once effect: a processor killed anywhere and restarted ends as if it had
never stopped: the same stored records, quarantine, counts and online values."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import confluens
from confluens.project.stream.logs import open_log
from confluens.stores.online import EmbeddedOnlineStore

from .streamed_project import on_redis, outcome, stream_command, streamed_project

KILLS = 20
SMALL = ("--batch-size", "60")  # many batches: many places for a kill to land


def _with_poison(root: Path) -> None:
    """Replay both files, plus a few bad messages in the middle of the transactions."""
    with confluens.open(root) as project:
        project.replay("transactions", "data/transactions/transactions.parquet", limit=700)
        src = project.definitions.source("transactions")
        assert src.stream is not None
        log = open_log(project.config, src)
        log.append([(None, b"{oops"), ("1", json.dumps({"transaction_id": 10**9}).encode()),
                    (None, b"\xff")])
        log.close()
        project.replay("transactions", "data/transactions/transactions.parquet")
        project.replay("fraud_labels", "data/labels/labels.parquet")


def test_killed_twenty_times_the_stream_ends_as_an_uninterrupted_one(tmp_path: Path) -> None:
    calm = streamed_project(tmp_path / "calm", customers=50, terminals=80, days=14, seed=3)
    killed = streamed_project(tmp_path / "killed", customers=50, terminals=80, days=14, seed=3)
    for root in (calm, killed):
        _with_poison(root)
    done = subprocess.run(stream_command(calm, *SMALL), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    rng = random.Random(7)
    kills = 0
    log = tmp_path / "stderr.txt"
    while True:
        with log.open("wb") as stderr:
            proc = subprocess.Popen(stream_command(killed, *SMALL),
                                    stdout=subprocess.DEVNULL, stderr=stderr)
            if kills < KILLS:
                try:
                    proc.wait(timeout=rng.uniform(0.3, 2.5))
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    kills += 1
                    continue
            proc.wait(timeout=600)
        assert proc.returncode == 0, log.read_text()
        if kills >= KILLS:
            break
        kills = KILLS  # consumed before the last kills: restarts that find nothing to do
    assert kills == KILLS
    assert outcome(killed) == outcome(calm)


class _FailingCommit:
    """An embedded online store whose n-th commit dies before it writes anything."""

    def __init__(self, store: EmbeddedOnlineStore, fail_at: Sequence[int]) -> None:
        self.store = store
        self.fail_at = set(fail_at)
        self.calls = 0
        self.capabilities = store.capabilities

    def commit(self, *args: Any, **kwargs: Any) -> None:
        self.calls += 1
        if self.calls in self.fail_at:
            raise SystemExit("crash between the appends and the commit")
        self.store.commit(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def _crash_thrice_then_finish(calm: Path, broken: Path, make_online: Any) -> None:
    for root in (calm, broken):
        _with_poison(root)
    with confluens.open(calm) as project:
        project.stream(until_idle=True, batch_size=100)
    for fail_at in ([2], [1, 4], [3]):
        failing = _FailingCommit(make_online(), fail_at)
        with confluens.Project(broken, online=failing) as project, \
                pytest.raises(SystemExit):  # type: ignore[arg-type]
            project.stream(until_idle=True, batch_size=100)
    with confluens.open(broken) as project:
        project.stream(until_idle=True, batch_size=100)
    assert outcome(broken) == outcome(calm)


def test_a_crash_between_the_appends_and_the_commit_writes_nothing_twice(
        tmp_path: Path) -> None:
    calm = streamed_project(tmp_path / "calm", seed=5)
    broken = streamed_project(tmp_path / "broken", seed=5)
    _crash_thrice_then_finish(
        calm, broken, lambda: EmbeddedOnlineStore(broken / ".confluens" / "online.db"))


@pytest.mark.service("redis")
def test_the_same_on_redis_streams_and_the_redis_online_store(tmp_path: Path,
                                                             redis_url: str) -> None:
    from confluens.stores.online.redis_store import RedisOnlineStore

    topic = f"c{uuid.uuid4().hex[:8]}"
    calm = streamed_project(tmp_path / "calm", seed=5, kind="redis", topic=f"{topic}a")
    broken = streamed_project(tmp_path / "broken", seed=5, kind="redis", topic=f"{topic}b")
    for root in (calm, broken):
        on_redis(root, redis_url)
    with confluens.open(broken) as project:
        namespace = project.config.name
    _crash_thrice_then_finish(calm, broken,
                              lambda: RedisOnlineStore(redis_url, namespace=namespace))
