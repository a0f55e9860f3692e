"""Exactly-once effect: a processor killed anywhere and restarted ends as if it had
never stopped: the same stored records, quarantine, counts and online values."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import confluens
from confluens.core.system_columns import INGESTED_AT
from confluens.project.stream.logs import open_log
from confluens.stores.online import EmbeddedOnlineStore

from .streamed_project import entities, online_values, streamed_project

AT = datetime(2024, 1, 11, 6, tzinfo=UTC)
KILLS = 20


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


def _outcome(root: Path) -> dict[str, Any]:
    """Everything the processor's effects are judged by."""
    with confluens.open(root) as project:
        stored = {}
        for source in ("transactions", "fraud_labels"):
            table = project.table(source)  # the records, without the system columns
            assert INGESTED_AT not in table.column_names
            stored[source] = sorted(json.dumps(r, default=str, sort_keys=True)
                                    for r in table.to_pylist())
        quarantine = sorted((r["position"], r["rule"], r["record"])
                            for r in project.quarantine("transactions").to_pylist())
        counts = {(s.source, s.partition): (s.stats.rows_in, s.stats.accepted,
                                            s.stats.quarantined, s.stats.duplicates,
                                            _number(s.position), s.stats.watermark_us)
                  for s in project.stream_status()}
        online = {view: online_values(project, view, entities(project, view), AT)
                  for view in ("customer_spending", "terminal_risk")}
    return {"stored": stored, "quarantine": quarantine, "counts": counts, "online": online}


def _number(position: str | None) -> int | str | None:
    """A position to compare across logs: the embedded log's as it is; a Redis entry
    ID only by being there (two streams number their entries by their own clocks)."""
    if position is None or position.isdigit():
        return position
    return "some entry"


def _stream_command(root: Path) -> list[str]:
    return [sys.executable, "-c", "from confluens.interfaces.cli.main import main; main()",
            "stream", "--until-idle", "--batch-size", "60", "--project", str(root)]


def test_killed_twenty_times_the_stream_ends_as_an_uninterrupted_one(tmp_path: Path) -> None:
    calm = streamed_project(tmp_path / "calm", customers=50, terminals=80, days=14, seed=3)
    killed = streamed_project(tmp_path / "killed", customers=50, terminals=80, days=14, seed=3)
    for root in (calm, killed):
        _with_poison(root)
    done = subprocess.run(_stream_command(calm), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    rng = random.Random(7)
    kills = 0
    log = tmp_path / "stderr.txt"
    while True:
        with log.open("wb") as stderr:
            proc = subprocess.Popen(_stream_command(killed), stdout=subprocess.DEVNULL,
                                    stderr=stderr)
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
    assert _outcome(killed) == _outcome(calm)


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


def _on_redis(root: Path, redis_url: str) -> None:
    config = root / "confluens.toml"
    config.write_text(config.read_text().replace(
        'name = "fraud"', f'name = "{uuid.uuid4().hex[:8]}"').replace(
        'store = "embedded"', f'store = "redis"\nredis_url = "{redis_url}"'))


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
    assert _outcome(broken) == _outcome(calm)


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
        _on_redis(root, redis_url)
    with confluens.open(broken) as project:
        namespace = project.config.name
    _crash_thrice_then_finish(calm, broken,
                              lambda: RedisOnlineStore(redis_url, namespace=namespace))
