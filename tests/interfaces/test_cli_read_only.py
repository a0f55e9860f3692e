"""A project folder the user may only read: every read command works, and a write
command fails with one clear message, never a traceback.

As root, file permissions do not bind, so the command runs in a child process that
imports confluens as root and then becomes the unprivileged user `nobody`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.interfaces.cli_helpers import invoke, make_fraud_project

AS_READER = """
import importlib, os, pkgutil, pwd, sys
import confluens
for info in pkgutil.walk_packages(confluens.__path__, "confluens."):
    if ".templates" not in info.name and "redis" not in info.name:
        importlib.import_module(info.name)
import sqlalchemy.dialects.sqlite, sqlite3, zoneinfo, json, urllib.parse
import encodings.utf_8_sig, encodings.latin_1, encodings.ascii
import pyarrow.compute, pyarrow.parquet, pyarrow.csv, duckdb
from confluens.interfaces.cli import cli
from confluens.interfaces.cli.main import COMMANDS
for name in COMMANDS:
    cli.get_command(None, name)
if os.geteuid() == 0:
    nobody = pwd.getpwnam("nobody")
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)
cli(sys.argv[1:], prog_name="confluens")
"""


@pytest.fixture(scope="module")
def read_only() -> Iterator[Path]:
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("nobody")
        except KeyError:
            pytest.skip("running as root without a 'nobody' user to drop to")
    base = Path(tempfile.mkdtemp(prefix="confluens-read-only-", dir="/tmp"))
    base.chmod(0o755)  # reachable by `nobody` (pytest's own tmp folders are not)
    folder = make_fraud_project(base / "fraud")
    for args in (("ingest", "transactions", "data/late_batch.csv"),
                 ("ingest", "fraud_labels"), ("materialize",)):
        code, text = invoke(*args, folder=folder)
        assert code == 0, text
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755)
    shutil.rmtree(base)


def as_reader(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("CONFLUENS_METADATA_URL", None)
    return subprocess.run([sys.executable, "-c", AS_READER, *args, "--project", str(folder)],
                          capture_output=True, text=True, cwd="/", env=env, timeout=120)


@pytest.mark.parametrize(("args", "expected"), [
    (("features", "get", "customer_spending", "1", "--at", "2018-04-06T00:00:00+00:00"),
     "customer_nb_tx_7d"),
    (("show", "transactions", "-n", "2"), "transactions: 2 of"),
    (("runs",), "late_batch.csv"),
    (("quarantine", "list", "transactions"), "quarantined records for transactions"),
    (("apply", "--dry-run"), "no changes"),
])
def test_reads_need_no_write_access(read_only: Path, args: tuple[str, ...],
                                    expected: str) -> None:
    done = as_reader(read_only, *args)
    assert done.returncode == 0, done.stderr + done.stdout
    assert expected in done.stdout
    assert not list(read_only.rglob("*-wal")), "a read left a journal behind"


@pytest.mark.parametrize("args", [("ingest", "transactions", "data/late_batch.csv"),
                                  ("spine", "transactions", "--out", "s.parquet")])
def test_writes_fail_clearly(read_only: Path, args: tuple[str, ...]) -> None:
    done = as_reader(read_only, *args)
    assert done.returncode == 2, done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    assert "Fix:" in done.stderr
