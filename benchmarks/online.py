"""Online reads: one transaction's full vector (customer + terminal features), windows
evaluated at read time, from the embedded store and from Redis.

Baselines in the same run: raw SQLite primary-key reads and raw Redis GETs (and one
MGET) of the same stored bytes, with no decoding and no evaluation (each store's floor).

Core placement is stated, not left to chance: the benchmark process is pinned to one
CPU (os.sched_setaffinity), and Redis is measured twice where redis-server's affinity
can be set: on the client's CPU ("same core") and on another one ("other core"). Its
original affinity is restored afterwards. Where it cannot be set, the output says so.
The CPU each process last ran on (/proc/PID/stat) is reported after each variant.
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import confluens
from benchmarks.harness import Figure
from confluens.datagen import FraudSimulation, write_fraud_dataset
from confluens.project.online_state import entity_key, read_online_views

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


def _last_cpu(pid: int) -> int | None:
    """The CPU ``pid`` last ran on (field 39 of /proc/PID/stat), if readable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[36])


@contextmanager
def _pinned(pid: int, cpu: int) -> Iterator[None]:
    """Pin ``pid`` to ``cpu`` for the block, then restore its affinity."""
    before = os.sched_getaffinity(pid)
    os.sched_setaffinity(pid, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(pid, before)


def _redis_pid(client: Any) -> int | None:
    try:
        pid = int(client.info("server")["process_id"])
    except Exception:
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


def run(shared: Path | None) -> tuple[str, list[Figure]]:
    cpus = sorted(os.sched_getaffinity(0))
    client_cpu = cpus[0]
    other_cpu = next((c for c in cpus if c != client_cpu), None)
    notes = [f"client pinned to CPU {client_cpu}"]
    with tempfile.TemporaryDirectory() as tmp:
        root = confluens.init(Path(tmp) / "fraud")
        write_fraud_dataset(root / "data", FraudSimulation(n_days=60))
        project = confluens.open(root)
        project.apply()
        project.ingest("transactions")
        project.ingest("fraud_labels")
        project.materialize()
        stored = project.table("transactions", format="pandas")
        tx = stored.sample(READS + 200, random_state=0)
        # at the latest materialized event: online reads answer from there on
        at = max(stored["tx_datetime"].max(), project.table(
            "fraud_labels", format="pandas")["tx_datetime"].max()).to_pydatetime()
        pairs = list(zip(tx["customer_id"], tx["terminal_id"], strict=True))
        customer = project.definitions.feature_view("customer_spending")
        terminal = project.definitions.feature_view("terminal_risk")

        def vector(store: Any) -> Callable[[int], object]:
            def call(i: int) -> object:
                c, t = pairs[i]
                return read_online_views([(customer, [[c]]), (terminal, [[t]])], store, at)
            return call

        con = sqlite3.connect(project.config.store_root / "online.db")

        def raw_sqlite(i: int) -> object:
            c, t = pairs[i]
            for view, key in (("customer_spending", c), ("terminal_risk", t)):
                con.execute("SELECT value FROM online WHERE view = ? AND key = ?",
                            (view, entity_key([key]))).fetchone()
            return None

        with _pinned(0, client_cpu):
            embedded = _latencies(vector(project.online))
            floor_sqlite = _latencies(raw_sqlite)
        figures = [*_figures("embedded: full vector", embedded, "embedded: raw SQLite get"),
                   *_figures("embedded: raw SQLite get", floor_sqlite, None)]
        try:
            from confluens.stores.online.redis_store import RedisOnlineStore

            redis_store = RedisOnlineStore(namespace=f"bench-{random.randrange(10**9)}")
        except confluens.errors.ConfluensError:
            redis_store = None
            notes.append("Redis not reachable: not measured")
        if redis_store is not None:
            for view in ("customer_spending", "terminal_risk"):
                keys = [k for (k,) in con.execute("SELECT key FROM online WHERE view = ?",
                                                  (view,))]
                redis_store.write(view, dict(zip(keys, project.online.read(view, keys),
                                                 strict=True)))
            client = redis_store._redis
            ns = redis_store.namespace

            def raw_redis(i: int) -> object:
                c, t = pairs[i]
                client.get(f"{ns}:customer_spending:{entity_key([c])}")
                client.get(f"{ns}:terminal_risk:{entity_key([t])}")
                return None

            def raw_mget(i: int) -> object:
                c, t = pairs[i]
                client.mget([f"{ns}:customer_spending:{entity_key([c])}",
                             f"{ns}:terminal_risk:{entity_key([t])}"])
                return None

            pid = _redis_pid(client)
            variants: list[tuple[str, int | None]] = [("same core", client_cpu)]
            if other_cpu is not None:
                variants.append(("other core", other_cpu))
            if pid is None:
                variants = [("redis-server unpinned", None)]
                notes.append("redis-server's pid is unknown (remote?): its CPU is not set")
            for label, server_cpu in variants:
                try:
                    server = (_pinned(pid, server_cpu) if pid is not None
                              and server_cpu is not None else _nothing())
                    with _pinned(0, client_cpu), server:
                        full = _latencies(vector(redis_store))
                        gets = _latencies(raw_redis)
                        mget = _latencies(raw_mget)
                        ran = _last_cpu(pid) if pid is not None else None
                        here = _last_cpu(os.getpid())
                except PermissionError as exc:
                    notes.append(f"cannot set redis-server's affinity ({exc}): "
                                 "measured unpinned")
                    label = "redis-server unpinned"
                    with _pinned(0, client_cpu):
                        full = _latencies(vector(redis_store))
                        gets = _latencies(raw_redis)
                        mget = _latencies(raw_mget)
                        ran = _last_cpu(pid) if pid is not None else None
                        here = _last_cpu(os.getpid())
                notes.append(f"{label}: redis-server (pid {pid}) last ran on CPU {ran}, "
                             f"client on CPU {here}")
                figures += [
                    *_figures(f"redis ({label}): full vector", full,
                              f"redis ({label}): raw GET x2"),
                    *_figures(f"redis ({label}): raw GET x2", gets, None),
                    *_figures(f"redis ({label}): raw MGET of both", mget, None)]
                if label == "redis-server unpinned":
                    break
            for view in ("customer_spending", "terminal_risk"):
                redis_store.clear(view)
            redis_store.close()
        con.close()
        project.close()
    return (f"{READS:,} reads of 2 views, 15 features, 60 days of data; "
            + "; ".join(notes)), figures


@contextmanager
def _nothing() -> Iterator[None]:
    yield
