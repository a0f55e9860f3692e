"""Online reads: one transaction's full vector (customer + terminal features), windows
evaluated at read time, from the embedded store and from Redis.

Baselines in the same run: a raw SQLite primary-key read and a raw Redis GET of the
same stored bytes, with no decoding and no evaluation (the floor of each store).
Processes are not pinned to cores: client and Redis share this machine's 2 vCPUs.
"""

from __future__ import annotations

import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import confluens
from benchmarks.harness import Figure
from confluens.datagen import FraudSimulation, write_fraud_dataset
from confluens.project.online_state import entity_key, read_online

__all__ = ["run"]

READS = 3000


def _latencies(call: Callable[[int], object], n: int = READS) -> list[float]:
    for i in range(200):  # warm up
        call(i)
    out = []
    for i in range(n):
        start = time.perf_counter_ns()
        call(i)
        out.append((time.perf_counter_ns() - start) / 1000)
    return out


def _figures(name: str, lat: list[float], baseline: str | None) -> list[Figure]:
    q = statistics.quantiles(lat, n=100)
    # seconds hold microseconds here: the table prints them with the unit in the name
    return [Figure("online", f"{name} p50 (µs)", q[49], 1, baseline and f"{baseline} p50 (µs)"),
            Figure("online", f"{name} p99 (µs)", q[98], 1, baseline and f"{baseline} p99 (µs)")]


def run(shared: Path | None) -> tuple[str, list[Figure]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = confluens.init(Path(tmp) / "fraud")
        write_fraud_dataset(root / "data", FraudSimulation(n_days=60))
        project = confluens.open(root)
        project.apply()
        project.ingest("transactions")
        project.ingest("fraud_labels")
        project.materialize()
        tx = project.table("transactions", format="pandas").sample(READS + 200, random_state=0)
        at = tx["tx_datetime"].max().to_pydatetime()
        pairs = list(zip(tx["customer_id"], tx["terminal_id"], strict=True))
        customer = project.definitions.feature_view("customer_spending")
        terminal = project.definitions.feature_view("terminal_risk")

        def vector(store: object) -> Callable[[int], object]:
            def call(i: int) -> object:
                c, t = pairs[i]
                return (read_online(customer, store, [[c]], at)[0],  # type: ignore[arg-type]
                        read_online(terminal, store, [[t]], at)[0])  # type: ignore[arg-type]
            return call

        embedded = _latencies(vector(project.online))
        con = sqlite3.connect(project.config.store_root / "online.db")

        def raw_sqlite(i: int) -> object:
            c, t = pairs[i]
            for view, key in (("customer_spending", c), ("terminal_risk", t)):
                con.execute("SELECT value FROM online WHERE view = ? AND key = ?",
                            (view, entity_key([key]))).fetchone()
            return None

        floor_sqlite = _latencies(raw_sqlite)
        figures = [*_figures("embedded: full vector", embedded, "embedded: raw SQLite get"),
                   *_figures("embedded: raw SQLite get", floor_sqlite, None)]
        try:
            from confluens.stores.online.redis_store import RedisOnlineStore

            redis_store = RedisOnlineStore(namespace=f"bench-{random.randrange(10**9)}")
        except confluens.errors.ConfluensError:
            redis_store = None
        if redis_store is not None:
            for view in ("customer_spending", "terminal_risk"):
                keys = [k for (k,) in con.execute("SELECT key FROM online WHERE view = ?",
                                                  (view,))]
                redis_store.write(view, dict(zip(keys, project.online.read(view, keys),
                                                 strict=True)))  # type: ignore[arg-type]
            client = redis_store._redis

            def raw_redis(i: int) -> object:
                c, t = pairs[i]
                client.get(f"{redis_store.namespace}:customer_spending:{entity_key([c])}")
                client.get(f"{redis_store.namespace}:terminal_risk:{entity_key([t])}")
                return None

            figures += [*_figures("redis: full vector", _latencies(vector(redis_store)),
                                  "redis: raw GET"),
                        *_figures("redis: raw GET", _latencies(raw_redis), None)]
            for view in ("customer_spending", "terminal_risk"):
                redis_store.clear(view)
            redis_store.close()
        con.close()
        project.close()
    return f"{READS:,} reads of 2 views, 15 features, 60 days of data", figures
