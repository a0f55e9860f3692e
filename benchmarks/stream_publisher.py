"""The load generator of the lag benchmark, run as its own process:

    python -m benchmarks.stream_publisher PROJECT RATE SECONDS

appends the project's transactions (as JSON, serialised before the clock starts) to
the transactions stream at RATE records per second for SECONDS, in ticks of 20 ms.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

import confluens
from confluens.project.stream.logs import open_log


def main(root: str, rate: float, seconds: float) -> None:
    with confluens.open(Path(root)) as project:
        table = pq.read_table(project.path("data/transactions/transactions.parquet"))
        n = min(table.num_rows, int(rate * seconds))
        payloads = [(None, json.dumps(r, default=str).encode())
                    for r in table.slice(0, n).to_pylist()]
        log = open_log(project.config, project.definitions.source("transactions"))
        step = max(1, int(rate / 50))
        started = time.monotonic()
        for i in range(0, n, step):
            time.sleep(max(0.0, started + i / rate - time.monotonic()))
            log.append(payloads[i:i + step])
        log.close()


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3]))
