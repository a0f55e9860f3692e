"""Compacting while streaming: many small batch files merged, nothing changed.

A processor with small batches leaves a file per batch; `confluens compact` runs
again and again while it streams. The result equals an uninterrupted run without
compaction: the stored records, the quarantine, counts, positions, watermark and
online values; each run's count is kept, so a materialize has nothing to redo."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from click.testing import CliRunner

import confluens
from confluens.interfaces.cli import cli
from confluens.project.compaction import compactable_runs

from .streamed_project import outcome, replay_all, stream_command, streamed_project


def _project(root: Path) -> Path:
    path = streamed_project(root, customers=100, terminals=60, days=4, seed=3)
    with confluens.open(path) as project:
        replay_all(project)
    return path


def _files(root: Path) -> int:
    with confluens.open(root) as project:
        return sum(len(project.offline.files(s)) for s in ("transactions", "fraud_labels"))


def test_compacting_while_a_processor_streams_changes_nothing_but_the_files(
        tmp_path: Path) -> None:
    plain, compacted = _project(tmp_path / "plain"), _project(tmp_path / "compacted")
    with confluens.open(plain) as project:
        project.stream(until_idle=True, batch_size=25)
    worker = subprocess.Popen(stream_command(compacted, "--batch-size", "25"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    merged = 0
    with confluens.open(compacted) as project:
        while worker.poll() is None:
            merged += sum(r.result.files_before for r in project.compact())
            time.sleep(0.05)
    _, stderr = worker.communicate(timeout=60)
    assert worker.returncode == 0, stderr
    assert merged > 0, "the processor wrote batches faster than nothing"
    before = _files(compacted)
    result = CliRunner().invoke(cli, ["compact", "--project", str(compacted)])
    assert result.exit_code == 0, result.output
    assert "transactions" in result.output
    assert _files(plain) >= 30
    assert _files(compacted) < _files(plain) / 2
    assert _files(compacted) <= before
    assert outcome(compacted) == outcome(plain)
    with confluens.open(plain) as p, confluens.open(compacted) as c:
        for source in ("transactions", "fraud_labels"):
            assert c.offline.runs(source) == p.offline.runs(source)
        # each partition's latest batch keeps its own file, for a redo after a crash
        runs = list(c.offline.runs("transactions"))
        latest = set(runs) - compactable_runs(runs)
        assert latest
        for run in latest:
            (path,) = c.offline.files("transactions", runs={run})
            assert Path(path).name.startswith(f"part-{run}-")
        c.materialize()
        again = c.materialize()
        assert {r.mode for r in again} == {"skipped"}
        files = _files(compacted)
        assert sum(r.result.files_before for r in c.compact()) == 0
        assert _files(compacted) == files


def test_compact_with_nothing_to_merge_says_so(tmp_path: Path) -> None:
    root = _project(tmp_path / "quiet")
    result = CliRunner().invoke(cli, ["compact", "--project", str(root)])
    assert result.exit_code == 0, result.output
    assert "nothing to merge" in result.output
    result = CliRunner().invoke(cli, ["compact", "nope", "--project", str(root)])
    assert result.exit_code == 2
    assert "no source has this name; got 'nope'" in " ".join(result.output.split())
