"""Scale-out: two processor processes sharing a partitioned stream end exactly as one
does, on the embedded log and on Redis Streams with the Redis online store."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import confluens

from .streamed_project import (
    AFTER,
    batch_values,
    compare,
    entities,
    online_values,
    outcome,
    stream_command,
    streamed_project,
    twin_projects,
)

BATCH = ("--batch-size", "150")


def _run_one_then_two(one: Path, two: Path) -> None:
    done = subprocess.run(stream_command(one, *BATCH), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    workers = [subprocess.Popen(stream_command(two, *BATCH, "--worker", f"{i}/2"),
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "CONFLUENS_DEBUG": "1"}) for i in range(2)]
    outputs = [worker.communicate(timeout=600) for worker in workers]  # both end first
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
        assert "accepted" in out


def test_two_workers_on_the_embedded_log_equal_one(tmp_path: Path) -> None:
    one, two = twin_projects(tmp_path, kind="log")
    _run_one_then_two(one, two)
    assert outcome(two) == outcome(one)
    with confluens.open(two) as project:
        keys = entities(project, "customer_spending")
        assert compare(keys, online_values(project, "customer_spending", keys, AFTER),
                       batch_values(project, "customer_spending", keys, AFTER)) == []


@pytest.mark.service("redis")
def test_two_workers_on_redis_streams_equal_one_and_the_batch_values(
        tmp_path: Path, redis_url: str) -> None:
    one, two = twin_projects(tmp_path, kind="redis", redis_url=redis_url)
    _run_one_then_two(one, two)
    assert outcome(two) == outcome(one)
    with confluens.open(two) as project:
        assert project.config.online_store == "redis"
        for view in ("customer_spending", "terminal_risk"):
            keys = entities(project, view)
            assert compare(keys, online_values(project, view, keys, AFTER),
                           batch_values(project, view, keys, AFTER)) == []


def test_a_view_not_keyed_by_the_partition_key_is_refused(tmp_path: Path) -> None:
    root = streamed_project(tmp_path / "mixed", binding="key='terminal_id', partitions=2")
    with confluens.open(root) as project, pytest.raises(
            confluens.errors.NotSupportedError, match="keyed by the partition key"):
        project.stream(["transactions"], until_idle=True)
