"""Scale-out: two processor processes sharing a partitioned stream end exactly as one
does, on the embedded log and on Redis Streams with the Redis online store."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import confluens
from confluens.core.system_columns import INGESTED_AT, RUN

from .streamed_project import (
    batch_values,
    compare,
    entities,
    online_values,
    replay_all,
    streamed_project,
)

AT = datetime(2024, 1, 11, 6, tzinfo=UTC)


def _command(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", "from confluens.interfaces.cli.main import main; main()",
            "stream", "--until-idle", "--batch-size", "150", "--project", str(root), *args]


def _outcome(root: Path) -> dict[str, Any]:
    with confluens.open(root) as project:
        stored = {}
        for source in ("transactions", "fraud_labels"):
            table = project.table(source)
            assert INGESTED_AT not in table.column_names
            assert RUN not in table.column_names
            stored[source] = sorted(json.dumps(r, default=str, sort_keys=True)
                                    for r in table.to_pylist())
        counts = sorted((s.source, s.partition, s.stats.rows_in, s.stats.accepted,
                         s.position is not None) for s in project.stream_status())
        online = {view: online_values(project, view, entities(project, view), AT)
                  for view in ("customer_spending", "terminal_risk")}
    return {"stored": stored, "counts": counts, "online": online}


def _projects(tmp_path: Path, *, kind: str,
              redis_url: str | None = None) -> tuple[Path, Path]:
    """Two copies of one project; with ``redis_url``, on Redis Streams and the Redis
    online store, each under a namespace (project name) of its own."""
    topic = f"w{uuid.uuid4().hex[:8]}"
    one = streamed_project(tmp_path / "one", kind=kind, partitions=4, topic=f"{topic}a",
                           seed=4)
    two = streamed_project(tmp_path / "two", kind=kind, partitions=4, topic=f"{topic}b",
                           seed=4)
    for root in (one, two):
        if redis_url is not None:
            config = root / "confluens.toml"
            config.write_text(config.read_text().replace(
                'name = "fraud"', f'name = "{uuid.uuid4().hex[:8]}"').replace(
                'store = "embedded"', f'store = "redis"\nredis_url = "{redis_url}"'))
        with confluens.open(root) as project:
            replay_all(project)
    return one, two


def _run_one_then_two(one: Path, two: Path) -> None:
    done = subprocess.run(_command(one), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    workers = [subprocess.Popen(_command(two, "--worker", f"{i}/2"), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for i in range(2)]
    for worker in workers:
        out, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err
        assert "accepted" in out


def test_two_workers_on_the_embedded_log_equal_one(tmp_path: Path) -> None:
    one, two = _projects(tmp_path, kind="log")
    _run_one_then_two(one, two)
    assert _outcome(two) == _outcome(one)
    with confluens.open(two) as project:
        keys = entities(project, "customer_spending")
        assert compare(keys, online_values(project, "customer_spending", keys, AT),
                       batch_values(project, "customer_spending", keys, AT)) == []


@pytest.mark.service("redis")
def test_two_workers_on_redis_streams_equal_one_and_the_batch_values(
        tmp_path: Path, redis_url: str) -> None:
    one, two = _projects(tmp_path, kind="redis", redis_url=redis_url)
    _run_one_then_two(one, two)
    assert _outcome(two) == _outcome(one)
    with confluens.open(two) as project:
        assert project.config.online_store == "redis"
        for view in ("customer_spending", "terminal_risk"):
            keys = entities(project, view)
            assert compare(keys, online_values(project, view, keys, AT),
                           batch_values(project, view, keys, AT)) == []


def test_a_view_not_keyed_by_the_partition_key_is_refused(tmp_path: Path) -> None:
    root = streamed_project(tmp_path / "mixed", binding="key='terminal_id', partitions=2")
    with confluens.open(root) as project, pytest.raises(
            confluens.errors.NotSupportedError, match="keyed by the partition key"):
        project.stream(["transactions"], until_idle=True)
