"""Interrupted runs (issue 7): counts recorded per chunk, dead runs settled on what they
committed, and an ingest that survives `kill -9` at random moments.

The invariant, after any kill and at any time: every run reconciles, and the sum of
``accepted`` over a source's runs equals its stored row count.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

import confluens
from confluens.stores.metadata import IngestRun, QuarantineBatch

DEFINITIONS = '''
from confluens import Range, Source
tx = Source("tx", {"id": "int64", "ts": "timestamp", "amount": "float64"}, "ts", id="id",
            checks=[Range("amount", min=0)])
'''


def write_glob(folder: Path, files: int, rows: int) -> tuple[set[int], set[int]]:
    """CSV files of ``rows`` records each; every 37th has a negative amount (quarantined).
    Returns (ids that must be stored, ids that must be quarantined)."""
    folder.mkdir(parents=True, exist_ok=True)
    good, bad = set(), set()
    for f in range(files):
        lines = ["id,ts,amount"]
        for r in range(rows):
            i = f * rows + r
            amount = -1.0 if i % 37 == 0 else (i % 100) + 0.5
            (bad if amount < 0 else good).add(i)
            lines.append(f"{i},2024-01-{1 + i % 28:02d} {i % 24:02d}:00:00,{amount}")
        (folder / f"part-{f:03d}.csv").write_text("\n".join(lines) + "\n")
    return good, bad


def assert_runs_agree_with_store(project: confluens.Project) -> list[IngestRun]:
    runs = project.runs("tx")
    for run in runs:
        assert run.reconciles, run
        assert run.status != "running" or not _dead(run), run
    assert sum(r.accepted for r in runs) == project.offline.row_count("tx")
    assert project.offline.row_count("tx") == project.table("tx").num_rows
    return runs


def _dead(run: IngestRun) -> bool:
    from confluens.ingest.recovery import is_dead

    return is_dead(run)


@pytest.fixture
def tx(make_project):
    project = make_project(DEFINITIONS)
    project.apply()
    return project


def test_counts_are_recorded_as_each_chunk_commits(tx, tmp_path: Path) -> None:
    write_glob(tmp_path / "in", files=4, rows=50)
    seen: list[tuple[str, int, int]] = []

    def progress(chunk, counts) -> None:
        (run,) = tx.metadata.runs("tx")  # what another process would read now
        seen.append((run.status, run.accepted, tx.offline.row_count("tx")))

    tx.ingest("tx", str(tmp_path / "in" / "*.csv"), progress=progress)
    assert [s for s, _, _ in seen] == ["running"] * 4
    assert [a for _, a, _ in seen] == [stored for _, _, stored in seen]
    assert seen[-1][1] == 200 - 6  # ids 0, 37, ..., 185 are quarantined


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_dead_run_is_settled_on_what_it_committed(tx, tmp_path: Path) -> None:
    # a run killed after its second chunk committed, before it recorded that chunk
    started = datetime(2024, 5, 1, tzinfo=UTC)
    run = IngestRun("r-dead", "tx", "in/*.csv", 1, started, pid=dead_pid(),
                    host=socket.gethostname())
    tx.metadata.start_run(run)
    run.rows_in, run.accepted, run.quarantined, run.duplicates = 12, 10, 1, 1
    run.rules = {"range:amount": 1}
    tx.metadata.update_run(run)  # as recorded after chunk 1
    data = pa.table({"id": list(range(15)), "ts": [started] * 15, "amount": [1.0] * 15,
                     "_confluens_key": [str(i) for i in range(15)],
                     "_confluens_hash": ["h"] * 15, "_confluens_ingested_at": [started] * 15,
                     "_confluens_run": ["r-dead"] * 15})
    tx.offline.append("tx", data.slice(0, 10), run_id="r-dead", partition_by="ts")
    tx.offline.append("tx", data.slice(10), run_id="r-dead", partition_by="ts")  # chunk 2
    for n, batch in enumerate((1, 2)):
        tx.metadata.add_quarantine(QuarantineBatch(
            f"r-dead-{n}", "r-dead", "tx", f"/nowhere/{n}.parquet", batch,
            {"range:amount": batch}, "pending", started))

    (got,) = tx.runs("tx")
    assert got.status == "interrupted"
    assert (got.rows_in, got.accepted, got.quarantined, got.duplicates) == (19, 15, 3, 1)
    assert got.rules == {"range:amount": 3}
    assert f"process {run.pid}" in (got.error or "")
    assert tx.metadata.runs("tx")[0].status == "interrupted", "the settlement is recorded"
    assert_runs_agree_with_store(tx)


def test_a_live_run_stays_running_until_the_next_ingest(tx, tmp_path: Path) -> None:
    # this process is alive: runs() cannot call it dead. An ingest holds the source's
    # lock, so any run of the source still `running` then is dead (its pid reused).
    run = IngestRun("r-live", "tx", "x.csv", 1, datetime(2024, 5, 1, tzinfo=UTC),
                    pid=os.getpid(), host=socket.gethostname())
    tx.metadata.start_run(run)
    assert [r.status for r in tx.runs("tx")] == ["running"]
    write_glob(tmp_path / "in", files=1, rows=5)
    tx.ingest("tx", str(tmp_path / "in" / "*.csv"))
    assert [r.status for r in tx.runs("tx")] == ["interrupted", "succeeded"]


def test_a_run_of_another_host_is_left_alone(tx) -> None:
    run = IngestRun("r-far", "tx", "x.csv", 1, datetime(2024, 5, 1, tzinfo=UTC),
                    pid=dead_pid(), host="another-host.invalid")
    tx.metadata.start_run(run)
    assert [r.status for r in tx.runs("tx")] == ["running"]


INGEST_SCRIPT = textwrap.dedent('''
    import sys
    import confluens

    project = confluens.open(sys.argv[1])
    project.ingest("tx", "in/*.csv", progress=lambda chunk, counts: print("chunk", flush=True))
    print("done", flush=True)
''')


@pytest.mark.slow
def test_ingest_survives_random_kills(tx, tmp_path: Path) -> None:
    good, bad = write_glob(tx.root / "in", files=40, rows=400)
    rng = random.Random(7)
    kills = attempts = 0
    deadline = time.monotonic() + 120
    while kills < 10 and time.monotonic() < deadline:
        attempts += 1
        child = subprocess.Popen([sys.executable, "-c", INGEST_SCRIPT, str(tx.root)],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        first = child.stdout.readline()  # the first chunk has committed
        time.sleep(rng.uniform(0, 0.6) if first == "chunk\n" else 0)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait()
        child.stdout.close()
        runs = assert_runs_agree_with_store(tx)
        assert not any(r.status == "running" for r in runs), "a killed run is told dead"
    assert kills >= 10, f"only {kills} kills landed in {attempts} attempts"

    final = tx.ingest("tx", "in/*.csv")
    assert final.status == "succeeded"
    runs = assert_runs_agree_with_store(tx)
    assert sum(r.status == "interrupted" for r in runs) >= 10
    ids = tx.table("tx").column("id").to_pylist()
    assert len(ids) == len(set(ids)), "no record is stored twice"
    assert set(ids) == good, "every valid record is stored"
    pending = tx.quarantine("tx")
    assert len(set(pending.column("record_hash").to_pylist())) == pending.num_rows
    assert {int(json.loads(r)["id"]) for r in pending.column("record").to_pylist()} == bad, \
        "every rejected record is in quarantine exactly once"
    assert sum(r.quarantined for r in runs) == len(bad)
