"""A source is written by batch ingest or by its stream processors, never both at once:
each reads what is stored once, for deduplication, and would miss the other's records."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import confluens
from confluens.errors import ConcurrentWriteError
from confluens.interfaces.cli import cli
from confluens.stores.offline.lock import table_lock

from .streamed_project import replay_all, streamed_project


def _wait_for_stream(project: confluens.Project, deadline: float = 60.0) -> None:
    """Until the running processor has committed a first batch."""
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        if any(s.stats.rows_in for s in project.stream_status(["transactions"])):
            return
        time.sleep(0.2)
    raise AssertionError("the stream processor committed nothing within a minute")


def test_batch_ingest_is_refused_while_a_stream_processor_runs(tmp_path: Path) -> None:
    root = streamed_project(tmp_path / "excl", customers=20, terminals=30, days=4)
    with confluens.open(root) as project:
        replay_all(project)
    worker = subprocess.Popen(
        [sys.executable, "-c", "from confluens.interfaces.cli.main import main; main()",
         "stream", "transactions", "--project", str(root), "--batch-size", "50"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        with confluens.open(root) as project:
            _wait_for_stream(project)
            with pytest.raises(ConcurrentWriteError, match="stop the stream processor"):
                project.ingest("transactions", "data/transactions/transactions.parquet")
        result = CliRunner().invoke(cli, ["ingest", "transactions",
                                          "data/transactions/transactions.parquet",
                                          "--project", str(root)])
        assert result.exit_code == 2
        assert "another process is writing it" in result.output
        assert "confluens replay SOURCE FILE" in " ".join(result.output.split())
        assert "Traceback" not in result.output
        # the other source is not streamed by this worker: its batch ingest runs
        with confluens.open(root) as project:
            run = project.ingest("fraud_labels", "data/labels/labels.parquet")
            assert run.accepted > 0
    finally:
        worker.terminate()
        _, stderr = worker.communicate(timeout=60)
    assert worker.returncode == 0, stderr
    with confluens.open(root) as project:  # stopped: batch ingest may run again
        assert project.ingest("transactions", "data/transactions/transactions.parquet"
                              ).accepted == 0


def test_a_stream_does_not_start_during_a_batch_ingest_but_workers_share(
        tmp_path: Path) -> None:
    root = streamed_project(tmp_path / "excl2", customers=10, terminals=20, days=3)
    with confluens.open(root) as project:
        replay_all(project)
        locks = project.config.store_root / "locks" / "transactions"
        with table_lock(locks, wait=False):  # what a running batch ingest holds
            with pytest.raises(ConcurrentWriteError) as caught:
                project.stream(["transactions"], until_idle=True)
            assert str(caught.value) == (
                "source 'transactions': a batch ingest run is writing it. Fix: wait for "
                "`confluens ingest` to finish, then start the stream.")
        with table_lock(locks, wait=False, shared=True):  # another worker of the source
            totals = project.stream(["transactions"], until_idle=True)
        assert totals["transactions"].rows_in > 0
