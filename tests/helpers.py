"""Small helpers shared by tests."""

from __future__ import annotations

import csv
from pathlib import Path

HEADER = ["id", "ts", "customer", "amount", "country", "card"]


def write_csv(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
    return path
