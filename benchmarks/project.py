"""The benchmark project: a confluens project folder under ``.bench/``, built once.

``fraud_project(shared)`` inits a project whose definitions module is
``benchmarks/fraud_definitions.py``, applies it and ingests the shared fraud
transactions into its offline store, as a user would. A fingerprint of the inputs
(the data file's path, size and mtime, the definitions' text, the confluens
version, and the size and mtime of the code that writes the store) is kept beside
it; while it matches, later runs reuse the folder as is.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

import confluens

__all__ = ["BENCH", "DATA", "MissingData", "fraud_project", "one_file", "store_files"]

BENCH = Path(__file__).resolve().parents[1] / ".bench"
DATA = Path("fraud") / "transactions_2018-04_to_08.parquet"
DEFINITIONS = Path(__file__).with_name("fraud_definitions.py")


class MissingData(Exception):
    """The shared fraud data is not there: the suites that need it are skipped."""


def _fingerprint(data: Path) -> str:
    stat = data.stat()
    package = Path(confluens.__file__).parent
    writers = sorted(p for d in ("ingest", "stores", "connectors") for p in
                     (package / d).rglob("*.py"))  # the code that writes the store
    parts = [str(data.resolve()), str(stat.st_size), str(stat.st_mtime_ns),
             DEFINITIONS.read_text(), getattr(confluens, "__version__", "?"),
             *(f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in writers)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def fraud_project(shared: Path | None) -> tuple[Path, str]:
    """The project folder (built or reused) and a label for the tables."""
    data = shared / DATA if shared else None
    if data is None or not data.exists():
        raise MissingData(f"skipped: needs the shared fraud data, {DATA} under --shared or "
                          f"$CONFLUENS_SHARED_DATA (got {shared})")
    folder = BENCH / "fraud"
    stamp = folder / "bench-fingerprint.json"
    want = _fingerprint(data)
    if stamp.exists() and json.loads(stamp.read_text()).get("fingerprint") == want:
        return folder, json.loads(stamp.read_text())["label"]
    shutil.rmtree(folder, ignore_errors=True)
    start = time.perf_counter()
    confluens.init(folder)
    (folder / "definitions.py").write_text(DEFINITIONS.read_text())
    with confluens.open(folder) as project:
        project.apply()
        run = project.ingest("transactions", str(data))
        files = len(project.offline.files("transactions"))
    if run.status != "succeeded" or run.quarantined:
        raise SystemExit(f"benchmark ingest did not take every record: {run}")
    label = f"shared fraud data, {run.accepted:,} rows in {files} stored files"

    print(f"built {folder} in {time.perf_counter() - start:.0f} s ({label})")
    stamp.write_text(json.dumps({"fingerprint": want, "label": label}))
    return folder, label


def one_file(folder: Path) -> Path:
    """The project's stored transactions as one Parquet file (built once, beside it)."""
    path = folder.parent / "fraud-one-file.parquet"
    stamp = (folder / "bench-fingerprint.json").read_text()
    mark = path.with_suffix(".fingerprint")
    if path.exists() and mark.exists() and mark.read_text() == stamp:
        return path
    import duckdb
    import pyarrow.parquet as pq

    con = duckdb.connect()
    pq.write_table(con.read_parquet(store_files(folder), union_by_name=True).to_arrow_table(),
                   path)
    con.close()
    mark.write_text(stamp)
    return path


def store_files(folder: Path) -> list[str]:
    """The stored Parquet files of the project's transactions."""
    with confluens.open(folder) as project:
        return list(project.offline.files("transactions"))
