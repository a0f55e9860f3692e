"""Fencing: a group worker whose lease on a partition is gone (it was paused past the
lease TTL, or cut off) writes nothing of that partition, does not crash, drops it and
takes it again when it is free; the results equal an uninterrupted run's. "Another
worker" here is a second store object on the same embedded online store whose clock
runs ahead, so the first worker's leases have expired for it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import confluens
from confluens.errors import LeaseLostError
from confluens.project.stream.batch_ids import consumer_of
from confluens.project.stream.group import ConsumerGroup, GroupOptions, partition_lease
from confluens.stores.online import EmbeddedOnlineStore

from .streamed_project import outcome, replay_all, stream_command, streamed_project

TTL = 2.0


def _online_file(project: confluens.Project) -> Path:
    location = project.stores.online.location
    assert location.startswith("embedded:"), location
    return Path(location.removeprefix("embedded:"))


def test_a_worker_whose_lease_was_taken_writes_nothing_of_its_batch(tmp_path: Path) -> None:
    root = streamed_project(tmp_path / "p", partitions=2)
    with confluens.open(root) as project:
        project.replay("transactions", "data/transactions/transactions.parquet", limit=300)
        source = project.definitions.source("transactions")
        group = ConsumerGroup(project.stores.online,  # type: ignore[arg-type]
                              GroupOptions("g", TTL, member="paused"), {"transactions": 2})
        later = EmbeddedOnlineStore(_online_file(project), clock=lambda: time.time() + TTL + 1)
        try:
            assert group.owned("transactions", 2).partitions == (0, 1)
            proc = project.streams.processor(source, partitions=[0, 1], confirm=group.fence)
            try:
                for p in (0, 1):  # the worker "pauses"; another takes its partitions
                    assert later.acquire(partition_lease("transactions", p), "other", 60)
                with pytest.raises(LeaseLostError, match="no longer holds its lease"):
                    proc.step(batch_size=100)
            finally:
                proc.close()
                proc.log.close()
            assert project.stores.offline.runs("transactions") == {}, "no append"
            assert project.quarantine("transactions").num_rows == 0, "no quarantine file"
            assert later.checkpoint(consumer_of("transactions", 0)) is None, "no commit"
            assert 0 not in group.owned("transactions", 2).partitions, "it dropped p0"
            group.refresh(force=True)
            assert group.owned("transactions", 2).partitions == (), "and, renewing, p1"
        finally:
            group.close()
            later.close()


def test_a_worker_that_loses_a_lease_mid_run_takes_it_again_and_ends_as_one_run(
        tmp_path: Path) -> None:
    import subprocess

    calm = streamed_project(tmp_path / "calm", partitions=2, seed=5)
    robbed = streamed_project(tmp_path / "robbed", partitions=2, seed=5)
    for root in (calm, robbed):
        with confluens.open(root) as project:
            replay_all(project)
    done = subprocess.run(stream_command(calm, "--batch-size", "20"), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    with confluens.open(robbed) as project:
        thief = EmbeddedOnlineStore(_online_file(project),
                                    clock=lambda: time.time() + TTL + 0.1)
        stolen = threading.Event()

        def steal() -> None:
            """Once partition 0 has committed, take its lease for a second."""
            consumer = consumer_of("transactions", 0)
            while thief.checkpoint(consumer) is None:
                time.sleep(0.01)
            assert thief.acquire(partition_lease("transactions", 0), "thief", 1.0 - TTL)
            stolen.set()

        robber = threading.Thread(target=steal)
        robber.start()
        try:
            project.stream(group=GroupOptions("g", TTL), until_idle=True, batch_size=20)
        finally:
            robber.join()
            thief.close()
        assert stolen.is_set()
        status = project.stream_status()
        assert all(s.caught_up for s in status), "it took partition 0 back and finished"
        assert all(s.lease is None for s in status), "and released its leases at the end"
    assert outcome(robbed) == outcome(calm)
