"""Stream processing: the fraud handbook's 15 features (customer_spending over the
transactions, terminal_risk over the labels) computed by `confluens stream`, with
durable exactly-once checkpoints, against what a user would otherwise write, in the
same run, interleaved.

- confluens (embedded log): `Project.stream(until_idle=True)` over records replayed
  into the embedded log beforehand (untimed): validation, quarantine, dedup, offline
  appends, window state and the online commit, in batches of up to 100,000 (the
  default).
- confluens (Redis Streams): the same on Redis Streams with the Redis online store.
- baseline deque loop: a hand-written per-event Python loop with one deque and running
  sums per (customer, window): the 6 customer count/mean features only, in memory, no
  durability; its fastest plain-Python form.
- baseline River: River's `Agg` with `TimeRolling` (`learn_one` per event, then
  `transform_one`), the same 6 features, in memory.

Also: lag p50/p99 with records published at half the measured embedded rate while the
processor runs, and the window state's memory per 1M entities (tracemalloc over
`ViewState` holding one event for each of 200,000 customers, scaled).
"""

from __future__ import annotations

import collections
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

import confluens
from benchmarks.harness import Figure, interleaved
from confluens.datagen import FraudSimulation, write_fraud_dataset
from confluens.streaming.entity_state import LIVE_BYTES

__all__ = ["run"]

EVENTS = int(os.environ.get("CONFLUENS_BENCH_STREAM_EVENTS", "200000"))
REDIS_URL = os.environ.get("CONFLUENS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
DAYS = (1, 7, 30)


def _project(work: Path, data: Path, name: str, kind: str, redis: bool) -> Path:
    root = work / name
    confluens.init(root, template="fraud")
    shutil.rmtree(root / "data", ignore_errors=True)
    shutil.copytree(data, root / "data")
    text = (root / "definitions.py").read_text()
    topic = f"bench{uuid.uuid4().hex[:8]}"
    for name, stream in (("transactions", f"{topic}-tx"), ("fraud_labels", f"{topic}-labels")):
        text = text.replace(f'stream=StreamBinding("log", "{name}"),',
                            f'stream=StreamBinding("{kind}", "{stream}"),')
    (root / "definitions.py").write_text(text)
    if redis:
        config = root / "confluens.toml"
        config.write_text(config.read_text().replace(
            'name = "fraud"', f'name = "{topic}"').replace(
            'store = "embedded"', f'store = "redis"\nredis_url = "{REDIS_URL}"'))
    with confluens.open(root) as p:
        p.apply()
    return root


def _replayed(template: Path, work: Path, *, fresh_topic: bool) -> Path:
    """A copy of ``template`` (its log filled for the embedded kind), ready to stream."""
    root = work / f"round-{uuid.uuid4().hex[:6]}"
    shutil.copytree(template, root)
    if fresh_topic:  # Redis: a new stream and namespace per round
        text = (root / "definitions.py").read_text()
        old = text.split('StreamBinding("redis", "')[1].split("-")[0]
        new = f"bench{uuid.uuid4().hex[:8]}"
        (root / "definitions.py").write_text(text.replace(old, new))
        config = root / "confluens.toml"
        config.write_text(config.read_text().replace(old, new))
        with confluens.open(root) as p:
            p.apply()
            p.replay("transactions", "data/transactions/transactions.parquet")
            p.replay("fraud_labels", "data/labels/labels.parquet")
    return root


def _data(work: Path, shared: Path | None) -> tuple[Path, str]:
    """Transactions and labels, the first EVENTS/2 of each in time order."""
    out = work / "data"
    write_fraud_dataset(work / "gen", FraudSimulation(n_days=90))
    for part, name in (("transactions", "transactions"), ("labels", "labels")):
        table = pq.read_table(work / "gen" / part / f"{name}.parquet")
        table = table.sort_by("tx_datetime").slice(0, EVENTS // 2)
        (out / part).mkdir(parents=True, exist_ok=True)
        pq.write_table(table, out / part / f"{name}.parquet")
    return out, f"generated fraud data, {EVENTS:,} events (transactions + labels)"


def _deque_loop(rows: list[tuple[int, str, float]]) -> int:
    """6 customer features per event: count and mean amount over 1, 7 and 30 days."""
    spans = [d * 86_400_000_000 for d in DAYS]
    state: dict[str, list[tuple[collections.deque[tuple[int, float]], list[float]]]] = {}
    out = 0
    for t, customer, amount in rows:
        windows = state.get(customer)
        if windows is None:
            windows = state[customer] = [(collections.deque(), [0.0]) for _ in spans]
        for (events, total), span in zip(windows, spans, strict=True):
            events.append((t, amount))
            total[0] += amount
            while events[0][0] <= t - span:
                total[0] -= events.popleft()[1]
            n = len(events)
            out += n
            _ = total[0] / n
    return out


def _river(rows: list[tuple[int, str, float]]) -> int:
    from river import feature_extraction, stats, utils

    aggs = []
    for d in DAYS:  # a count is a rolling sum of ones (River's Count cannot revert)
        for on, stat in (("one", stats.Sum()), ("amount", stats.Mean())):
            aggs.append(feature_extraction.Agg(
                on=on, by="customer",
                how=utils.TimeRolling(stat, period=dt.timedelta(days=d))))
    out = 0
    for t, customer, amount in rows:
        x = {"customer": customer, "amount": amount, "one": 1.0}
        when = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=t)  # River: naive
        for agg in aggs:
            agg.learn_one(x, t=when)
            out += len(agg.transform_one(x))
    return out


def _lag_at(template: Path, work: Path, rate: float, seconds: float) -> tuple[float, float]:
    """Lag p50/p99 (ms) while a second process publishes transactions at ``rate`` per
    second (benchmarks/stream_publisher.py) and this one runs `stream` as a user does
    (default batch size: what is waiting)."""
    root = work / f"lag-{uuid.uuid4().hex[:6]}"
    shutil.copytree(template, root)
    shutil.rmtree(root / ".confluens" / "streams", ignore_errors=True)
    stop = threading.Event()
    with confluens.open(root) as project:
        worker = threading.Thread(target=project.stream, args=(["transactions"],),
                                  kwargs={"stop": stop, "poll_ms": 5})
        worker.start()
        subprocess.run([sys.executable, "-m", "benchmarks.stream_publisher", str(root),
                        str(rate), str(seconds)], check=True,
                       cwd=Path(__file__).resolve().parent.parent)
        time.sleep(1.0)
        stop.set()
        worker.join()
        (status,) = project.stream_status(["transactions"])
    p50, p99 = status.stats.lag_quantile(0.5), status.stats.lag_quantile(0.99)
    return (p50 or 0) / 1000, (p99 or 0) / 1000



def _scoring_model() -> Any:
    """A LightGBM model over the template's 15 inputs, fitted on random rows (the
    benchmark measures scoring, not accuracy)."""
    import lightgbm
    import numpy as np
    import pandas as pd

    from confluens.lifecycle.serve import EstimatorModel

    customer = ["amount", "tx_during_weekend", "tx_during_night",
                *[f"customer_{k}_{n}d" for n in DAYS for k in ("nb_tx", "avg_amount")]]
    terminal = [f"terminal_{k}_{n}d" for n in DAYS for k in ("nb_tx", "risk")]
    features = ([f"customer_spending:{f}" for f in customer]
                + [f"terminal_risk:{f}" for f in terminal])
    columns = customer + terminal
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.uniform(0, 10, (2000, len(columns))), columns=columns)
    y = (x.iloc[:, 0] + rng.normal(0, 1, 2000) > 5).astype(int)
    fitted = lightgbm.LGBMClassifier(n_estimators=100, num_leaves=15, verbose=-1,
                                     n_jobs=1).fit(x, y)
    return EstimatorModel("fraud_model", fitted, features=features, columns=columns)


def _memory_per_million() -> float:
    """MiB of window state per 1M customers holding one event each (tracemalloc)."""
    from confluens.plan import plan_view
    from confluens.project.loader import load_definitions
    from confluens.streaming.entity_state import ViewState

    work = Path(tempfile.mkdtemp(prefix="confluens-mem-"))
    try:
        confluens.init(work / "p", template="fraud")
        view = load_definitions(work / "p" / "definitions.py").feature_view(
            "customer_spending")
        n = 200_000
        batch = pa.table({
            "transaction_id": pa.array(range(n), pa.int64()),
            "tx_datetime": pa.array([dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
                                     + dt.timedelta(seconds=i) for i in range(n)],
                                    pa.timestamp("us", tz="UTC")),
            "customer_id": pa.array([str(i) for i in range(n)]),
            "terminal_id": pa.array(["1"] * n), "tx_amount": pa.array([1.0] * n)})
        state = ViewState(plan_view(view), live_bytes=0)  # its fixed budget: noted
        for key in state.missing(state.keys_of(batch)):
            state.load(key, None)
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        touched = state.add(batch)
        state.blobs(touched, n * 1_000_000 + 1_704_067_200_000_000)  # the steady state
        used = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        return used / n * 1_000_000 / 2**20
    finally:
        shutil.rmtree(work, ignore_errors=True)


_LAST_RATE = [0.0]


def run_lag(shared: Path | None) -> tuple[str, list[Figure]]:
    """Lag at half the sustained embedded rate (measured by ``run`` in this process, or
    50,000/s), and the window state's memory per 1M entities."""
    work = Path(tempfile.mkdtemp(prefix="confluens-bench-lag-"))
    try:
        data, _ = _data(work, shared)
        embedded = _project(work, data, "embedded", "log", redis=False)
        rate = (_LAST_RATE[0] or 100_000) / 2
        p50, p99 = _lag_at(embedded, work, rate, seconds=10)
        mem = _memory_per_million()
        return "lag and state memory", [
            Figure("stream-lag", f"lag p50 at {rate:,.0f} events/s (ms)", p50, 1,
                   note="published -> committed online; a second process publishes "
                   "10 s of transactions"),
            Figure("stream-lag", f"lag p99 at {rate:,.0f} events/s (ms)", p99, 1,
                   note="target < 1,000 ms at half the sustained rate"),
            Figure("stream-lag", "window state per 1M customers (ms)", mem, 1,
                   note="MiB, not ms: tracemalloc over ViewState.add and blobs (what a "
                   "processor keeps between batches), one event each for 200,000 "
                   "customers, scaled; plus, whatever the number of entities, up to "
                   f"{LIVE_BYTES // 2**20} MiB per view of recently written entities "
                   "kept unpacked (ViewState's live_bytes)"),
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(shared: Path | None) -> tuple[str, list[Figure]]:
    work = Path(tempfile.mkdtemp(prefix="confluens-bench-stream-"))
    try:
        data, label = _data(work, shared)
        embedded = _project(work, data, "embedded", "log", redis=False)
        with confluens.open(embedded) as p:
            p.replay("transactions", "data/transactions/transactions.parquet")
            p.replay("fraud_labels", "data/labels/labels.parquet")
        redis = _project(work, data, "redis", "redis", redis=True)
        tx = pq.read_table(data / "transactions" / "transactions.parquet")
        rows = list(zip([int(v.timestamp() * 1e6) for v in tx["tx_datetime"].to_pylist()],
                        tx["customer_id"].to_pylist(), tx["tx_amount"].to_pylist(),
                        strict=True))
        events = EVENTS // 2 * 2
        rounds: dict[str, Path] = {}

        def ours(key: str) -> None:
            with confluens.open(rounds.pop(key)) as p:
                p.stream(until_idle=True)

        model = _scoring_model()

        def scored() -> None:
            from confluens.project.stream.service import ScoringSpec

            with confluens.open(rounds.pop("scored")) as p:
                p.stream(until_idle=True, scoring=[ScoringSpec("fraud_model")],
                         models=lambda name, alias: model)

        def prepare() -> None:
            rounds["log"] = _replayed(embedded, work, fresh_topic=False)
            rounds["redis"] = _replayed(redis, work, fresh_topic=True)
            rounds["scored"] = _replayed(embedded, work, fresh_topic=False)

        times: dict[str, list[float]] = {"log": [], "redis": [], "scored": [], "deque": [],
                                         "river": []}
        for _ in range(3):
            prepare()
            got = interleaved({
                "log": lambda: ours("log"),
                "redis": lambda: ours("redis"),
                "scored": scored,
                "deque": lambda: _deque_loop(rows),
                "river": lambda: _river(rows),
            }, repeat=1)
            for k, v in got.items():
                times[k] += v
        med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
        rate = events / med["log"]
        _LAST_RATE[0] = rate
        tx_n = len(rows)
        figures = [
            Figure("stream", "confluens stream, embedded log (15 features)", med["log"],
                   events, ("baseline deque loop (6 features)", "baseline River (6 features)"),
                   note="durable exactly-once checkpoints; median of 3 interleaved rounds"),
            Figure("stream", "confluens stream, Redis Streams + Redis online (15 features)",
                   med["redis"], events, ("baseline deque loop (6 features)",
                                          "baseline River (6 features)"),
                   note="the same on the loopback Redis"),
            Figure("stream", "confluens stream --score (15 features, LightGBM, logged)",
                   med["scored"], events, "confluens stream, embedded log (15 features)",
                   note="the embedded run, each transaction also scored (its features "
                   "as of its time), predictions logged; target >= 50,000 events/s"),
            # the baselines read the transactions only: their times are scaled to as many
            # events as ours processed, so that the ratios compare time per event
            Figure("stream", "baseline deque loop (6 features)", med["deque"] * events / tx_n,
                   events, note=f"hand-written per-event loop, in memory; {tx_n:,} "
                   "transactions, time scaled to the same number of events"),
            Figure("stream", "baseline River (6 features)", med["river"] * events / tx_n,
                   events, note="river.feature_extraction.Agg + utils.TimeRolling, "
                   "learn_one; time scaled likewise"),
        ]
        return label, figures
    finally:
        shutil.rmtree(work, ignore_errors=True)
