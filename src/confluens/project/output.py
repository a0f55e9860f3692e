"""Writing a result table to a file the user named: a spine or a training set.

The format follows the extension (``.csv`` is CSV, ``.parquet`` or ``.pq`` Parquet; any
other name is refused rather than given content it does not announce); missing
parent folders are created; the file appears whole or not at all (it is written
next to its final place, then renamed).
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa

from confluens.errors import InputError

__all__ = ["write_table"]


def write_table(table: pa.Table, path: Path) -> Path:
    """Write ``table`` to ``path`` (CSV or Parquet by extension); return the path."""
    if path.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise InputError("output", "must end in .parquet or .csv (the format follows the "
                         "extension)", got=str(path), fix=f"write e.g. {path.stem}.parquet")
    if path.is_dir():
        raise InputError("output", "is a folder, not a file", got=str(path),
                         fix="name a file, e.g. train.parquet")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError("output", "its folder cannot be created", got=str(path.parent),
                         fix=f"pick a writable place ({exc.strerror})") from None
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if path.suffix.lower() == ".csv":
            import pyarrow.csv as pcsv

            pcsv.write_csv(table, tmp)
        else:
            import pyarrow.parquet as pq

            pq.write_table(table, tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError("output", "cannot be written", got=str(path),
                         fix=f"pick a writable place ({exc.strerror or exc})") from None
    finally:
        tmp.unlink(missing_ok=True)
    return path
