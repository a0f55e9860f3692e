"""Appends are atomic: a writer killed midway leaves the previous state readable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pytest

from confluens.stores.offline import ParquetOfflineStore

# The child appends rows 1000.. to table "t" and dies by SIGKILL at the point named.
CHILD = textwrap.dedent('''
    import os, signal, sys
    import pyarrow as pa
    from confluens.stores.offline import ParquetOfflineStore
    from confluens.stores.offline import manifest, parquet

    root, point = sys.argv[1], sys.argv[2]

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "before_manifest":           # data files in place, manifest not replaced
        manifest.Manifest.commit = die
    elif point == "during_manifest":         # new manifest written to a temp file only
        manifest.os.replace = die
    elif point == "during_files":            # some data files moved, others not
        moved = []
        original = parquet.Path.rename
        def rename(self, target):
            moved.append(target)
            if len(moved) == 3:
                die()
            return original(self, target)
        parquet.Path.rename = rename
    n = int(sys.argv[3])
    data = pa.table({"id": pa.array(range(1000, 1000 + n), pa.int64()),
                     "ts": pa.array([86_400_000_000 * (i % 20) for i in range(n)],
                                    pa.timestamp("us", tz="UTC"))})
    ParquetOfflineStore(root).append("t", data, run_id="child", partition_by="ts")
''')


def base_table(n: int = 10) -> pa.Table:
    return pa.table({"id": pa.array(range(n), pa.int64()),
                     "ts": pa.array([86_400_000_000 * i for i in range(n)],
                                    pa.timestamp("us", tz="UTC"))})


def read_ids(store: ParquetOfflineStore) -> list[int]:
    import duckdb

    files = store.files("t")
    if not files:
        return []
    return sorted(r[0] for r in duckdb.read_parquet(files).select("id").fetchall())


def run_child(root: Path, point: str, n: int = 100) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", CHILD, str(root), point, str(n)])


@pytest.mark.parametrize("point", ["during_files", "before_manifest", "during_manifest"])
def test_writer_killed_midway_leaves_previous_state(tmp_path: Path, point: str) -> None:
    store = ParquetOfflineStore(tmp_path)
    store.append("t", base_table(), run_id="base", partition_by="ts")
    before = read_ids(store)

    child = run_child(tmp_path, point)
    assert child.wait(timeout=60) == -signal.SIGKILL
    assert read_ids(store) == before
    assert store.row_count("t") == 10
    # debris is on disk but invisible; the next writer (a store's first write to the
    # table sweeps it; then at most once a minute) removes it and commits normally
    assert any(p.name.startswith("part-child") for p in tmp_path.rglob("*.parquet")) or \
        any(tmp_path.glob("t/_staging-*")) or any(tmp_path.glob("t/.manifest-*"))
    store = ParquetOfflineStore(tmp_path)
    store.append("t", base_table(12).slice(10), run_id="next", partition_by="ts")
    assert read_ids(store) == [*before, 10, 11]
    assert not any(p.name.startswith("part-child") for p in tmp_path.rglob("*.parquet"))


def test_kills_at_random_moments_never_expose_half_an_append(tmp_path: Path) -> None:
    store = ParquetOfflineStore(tmp_path)
    store.append("t", base_table(), run_id="base", partition_by="ts")
    before = read_ids(store)
    after = sorted([*before, *range(1000, 1000 + 200_000)])
    for delay in (0.3, 0.6, 0.9, 1.2, 1.5):
        child = run_child(tmp_path, "none", 200_000)
        time.sleep(delay)
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
        ids = read_ids(store)
        assert ids in (before, after)
        if ids == after:
            break


def test_atomic_writes_get_the_usual_file_mode(tmp_path: Path) -> None:
    """Files replaced atomically are as readable as any other file the user makes (a
    temporary file alone would be 0600, hiding a shared project's manifest from others)."""
    import os

    from confluens.stores.offline.manifest import write_atomically

    previous = os.umask(0o022)
    try:
        write_atomically(tmp_path / "m.json", "{}")
        plain = tmp_path / "plain.json"
        plain.write_text("{}")
    finally:
        os.umask(previous)
    assert (tmp_path / "m.json").stat().st_mode & 0o777 == plain.stat().st_mode & 0o777 == 0o644
