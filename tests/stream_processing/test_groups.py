"""Consumer groups on real stores and processes: group workers end exactly as one
worker does (stored records, quarantine, counts, positions, online values); a
SIGKILLed worker's partitions are taken over once its leases expire; a worker joining
makes the others give partitions up. Each test project has 2 sources x 4 partitions.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import confluens
from confluens.project.stream import PartitionStatus

from .streamed_project import (
    AFTER,
    batch_values,
    compare,
    entities,
    online_values,
    outcome,
    stream_command,
    twin_projects,
)

TTL = "1.5"  # seconds: a dead worker's partitions move within about that


def _worker(root: Path, *args: str, until_idle: bool = True,
            batch_size: int = 150) -> subprocess.Popen[str]:
    command = [*stream_command(root, "--batch-size", str(batch_size), "--group", "g",
                               "--lease-ttl", TTL, *args)]
    if not until_idle:
        command.remove("--until-idle")
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _single_run(root: Path) -> None:
    done = subprocess.run(stream_command(root, "--batch-size", "150"), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr


def _finish(*workers: subprocess.Popen[str]) -> list[str]:
    outputs = []
    for worker in workers:
        out, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err
        outputs.append(out)
    return outputs


@contextmanager
def _killed_on_failure(*workers: subprocess.Popen[str]) -> Iterator[None]:
    """Workers a failed test leaves behind are killed and reaped (no stray process)."""
    try:
        yield
    except BaseException:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
            worker.wait()
            for pipe in (worker.stdout, worker.stderr):
                if pipe is not None:
                    pipe.close()
        raise


def _pid_of(owner: str) -> int:
    """The process id inside a member id (``<host>-<pid>-<random>``)."""
    return int(owner.rsplit("-", 2)[1])


def _owners(project: confluens.Project) -> Counter[int]:
    """How many partitions each live worker (by pid) holds a lease on."""
    now = time.time()
    return Counter(_pid_of(s.lease.owner) for s in project.stream_status()
                   if s.lease is not None and s.lease.live(now))


def _wait(what: str, done: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"waited {timeout}s for {what}"
        time.sleep(0.05)


def test_two_group_workers_on_the_embedded_log_equal_one(tmp_path: Path) -> None:
    one, two = twin_projects(tmp_path, kind="log")
    _single_run(one)
    outputs = _finish(_worker(two), _worker(two))
    assert all("accepted" in out for out in outputs)
    assert outcome(two) == outcome(one)
    with confluens.open(two) as project:
        assert all(s.lease is None for s in project.stream_status()), \
            "workers that end release their leases"
        keys = entities(project, "customer_spending")
        assert compare(keys, online_values(project, "customer_spending", keys, AFTER),
                       batch_values(project, "customer_spending", keys, AFTER)) == []


@pytest.mark.service("redis")
def test_two_group_workers_on_redis_streams_equal_one(tmp_path: Path,
                                                      redis_url: str) -> None:
    one, two = twin_projects(tmp_path, kind="redis", redis_url=redis_url)
    _single_run(one)
    _finish(_worker(two), _worker(two))
    assert outcome(two) == outcome(one)
    with confluens.open(two) as project:
        assert project.config.online_store == "redis"
        for view in ("customer_spending", "terminal_risk"):
            keys = entities(project, view)
            assert compare(keys, online_values(project, view, keys, AFTER),
                           batch_values(project, view, keys, AFTER)) == []


@pytest.mark.parametrize("kind", ["log", pytest.param("redis", marks=pytest.mark.service(
    "redis"))])
def test_a_sigkilled_worker_s_partitions_are_taken_over_after_the_lease_ttl(
        tmp_path: Path, kind: str, request: pytest.FixtureRequest) -> None:
    redis_url = request.getfixturevalue("redis_url") if kind == "redis" else None
    one, two = twin_projects(tmp_path, kind=kind, redis_url=redis_url)
    _single_run(one)
    doomed, survivor = _worker(two, batch_size=40), _worker(two, batch_size=40)
    with _killed_on_failure(doomed, survivor), confluens.open(two) as project:

        def doomed_partitions() -> list[PartitionStatus]:
            return [s for s in project.stream_status() if s.lease is not None
                    and _pid_of(s.lease.owner) == doomed.pid]

        def doomed_is_midway() -> bool:
            mine = doomed_partitions()
            return (any(s.position is not None for s in mine)
                    and not all(s.caught_up for s in mine))

        _wait("the doomed worker to commit some of its partitions", doomed_is_midway)
        left = [s.partition for s in doomed_partitions() if not s.caught_up]
        doomed.send_signal(signal.SIGKILL)
        doomed.communicate()
        killed_at = time.monotonic()
        assert left, "killed midway: some of its partitions are left for the survivor"
        _finish(survivor)
        took = time.monotonic() - killed_at
        assert all(s.caught_up for s in project.stream_status())
    assert took >= float(TTL) / 2, "the survivor waited for the dead worker's leases"
    assert outcome(two) == outcome(one), "as if nothing had been killed"


@pytest.mark.parametrize("kind", ["log", pytest.param("redis", marks=pytest.mark.service(
    "redis"))])
def test_a_third_worker_joining_makes_the_others_give_partitions_up(
        tmp_path: Path, kind: str, request: pytest.FixtureRequest) -> None:
    redis_url = request.getfixturevalue("redis_url") if kind == "redis" else None
    one, two = twin_projects(tmp_path, kind=kind, redis_url=redis_url)
    _single_run(one)
    workers = [_worker(two, until_idle=False), _worker(two, until_idle=False)]
    try:
        with confluens.open(two) as project:
            _wait("two workers with 4 partitions each",
                  lambda: sorted(_owners(project).values()) == [4, 4])
            workers.append(_worker(two, until_idle=False))
            _wait("the partitions divided 3, 3, 2",
                  lambda: sorted(_owners(project).values()) == [2, 3, 3])
            owners = _owners(project)
            assert owners[workers[2].pid] >= 2, "the newcomer took what the others gave up"
            assert owners[workers[0].pid] < 4, "the first gave partitions up"
            assert owners[workers[1].pid] < 4, "the second too"
            _wait("every partition consumed",
                  lambda: all(s.caught_up for s in project.stream_status()))
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        outputs = [worker.communicate(timeout=600) for worker in workers]
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    assert outcome(two) == outcome(one)
