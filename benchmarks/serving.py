"""HTTP predict with features: p50/p99 of `confluens serve` on loopback, /v1 and the
Open Inference Protocol v2, at low load and at 500 requests/s, with a LightGBM model
and prediction logging on.

The server is `confluens serve` in its own process (pinned to one CPU); this process
is the load generator (pinned to the other, benchmarks/http_load.py). The fraud
template's 15 features (two views) come from the embedded online store, evaluated at
the data's last event; the model is a 100-tree LightGBM fitted here on a
point-in-time training set and served from LightGBM's own model file (no pickle).

Floors measured in the same run: a one-row LightGBM predict (the booster on one
thread) and the in-process Scorer (features + predict, no HTTP, no log). The issue's
comparison figures are shown as quoted, not measured: Feast's HTTP feature server,
features alone with no model, p99 1.19 ms; a LightGBM one-row predict p50 18 µs.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import confluens
from benchmarks.harness import Figure
from benchmarks.http_load import Load, closed_loop, open_loop, post
from confluens.datagen import FraudSimulation, write_fraud_dataset

__all__ = ["run"]

LOW = 3000  # requests at low load (one in flight)
RATE = 500  # requests/s of the open-loop phase
RATED = 5000  # requests sent at RATE (10 s)
BURST = 6000  # requests of the burst (32 in flight): micro-batching at work

MODULE = '''
"""Models for the serving benchmark: LightGBM's native model file, no pickle."""
import lightgbm
import numpy as np

from confluens.lifecycle.serve import EstimatorModel

FEATURES = {features!r}
COLUMNS = {columns!r}


class NativeLightGBM:
    """A LightGBM model file as a binary classifier."""

    def __init__(self, path):
        self.booster_ = lightgbm.Booster(model_file=path)

    def predict_proba(self, frame):
        p = self.booster_.predict(frame.to_numpy(float), num_threads=1)
        return np.column_stack([1 - p, p])


def models(project):
    model = EstimatorModel("fraud", NativeLightGBM(str(project.root / "model.txt")),
                           features=FEATURES, columns=COLUMNS, version=1)
    return {{"fraud": model}}.__getitem__
'''


def _quantiles(lat: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(lat, n=100)
    return q[49], q[98]


def _figures(name: str, lat: list[float], *, target: str | None = None,
             note: str = "") -> list[Figure]:
    p50, p99 = _quantiles(lat)
    floor = "LightGBM one-row predict p50 (µs)"
    return [Figure("serving", f"{name} p50 (µs)", p50, 1, floor, note=note),
            Figure("serving", f"{name} p99 (µs)", p99, 1, target,
                   targets=((target, 1.0),) if target else ())]


def _build(root: Path) -> tuple[Any, list[str], list[str], Any, list[dict[str, Any]]]:
    """The fraud project, materialized; the model file; sample requests."""
    import lightgbm

    confluens.init(root)
    write_fraud_dataset(root / "data", FraudSimulation(n_customers=2000, n_terminals=4000,
                                                       n_days=40))
    project = confluens.open(root)
    project.apply()
    project.ingest("transactions")
    project.ingest("fraud_labels")
    project.materialize()
    labels = project.table("fraud_labels", format="pandas")
    at = labels["tx_datetime"].max().to_pydatetime()
    spine = labels.sample(40_000, random_state=0)[
        ["customer_id", "terminal_id", "tx_datetime", "tx_fraud"]]
    views = ["customer_spending", "terminal_risk"]
    table = project.training_set(spine, views, at="tx_datetime").to_pandas()
    columns = [n for v in views for n in project.definitions.feature_view(v).feature_names]
    features = [f"{v}:{n}" for v in views
                for n in project.definitions.feature_view(v).feature_names]
    fitted = lightgbm.LGBMClassifier(n_estimators=100, n_jobs=1, verbose=-1,
                                     random_state=0).fit(table[columns].astype(float),
                                                         table["tx_fraud"])
    fitted.booster_.save_model(str(root / "model.txt"))
    (root / "bench_serving.py").write_text(MODULE.format(features=features, columns=columns))
    tx = project.table("transactions", format="pandas").sample(LOW + 300, random_state=1)
    rows = [{"customer_id": str(c), "terminal_id": str(t), "amount": float(a),
             "transaction_id": int(i)}
            for c, t, a, i in zip(tx["customer_id"], tx["terminal_id"], tx["tx_amount"],
                                  tx["transaction_id"], strict=True)]
    return project, features, columns, at, rows


def _v1(row: dict[str, Any], at: str) -> bytes:
    return post("/v1/models/fraud/predict", json.dumps({
        "keys": {"customer_id": row["customer_id"], "terminal_id": row["terminal_id"]},
        "fields": {"amount": row["amount"], "transaction_id": row["transaction_id"]},
        "at": at}).encode())


def _v2(row: dict[str, Any], at: str) -> bytes:
    def tensor(name: str, datatype: str) -> dict[str, Any]:
        return {"name": name, "shape": [1], "datatype": datatype, "data": [row[name]]}

    return post("/v2/models/fraud/infer", json.dumps({
        "inputs": [tensor("customer_id", "BYTES"), tensor("terminal_id", "BYTES"),
                   tensor("amount", "FP64"), tensor("transaction_id", "INT64")],
        "parameters": {"at": at}}).encode())


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def _http_stack() -> str:
    import importlib.util

    parts = [name for name in ("uvloop", "httptools") if importlib.util.find_spec(name)]
    return " and ".join(parts) if parts else "asyncio and h11 (pure Python)"


def _start(root: Path, port: int, cpu: int | None) -> subprocess.Popen[str]:
    confluens_bin = str(Path(sys.executable).with_name("confluens"))
    server = subprocess.Popen([confluens_bin, "serve", "-p", str(root), "--port", str(port),
                               "--model", "fraud", "--models", "bench_serving:models"],
                              stderr=subprocess.PIPE, text=True)
    if cpu is not None:
        os.sched_setaffinity(server.pid, {cpu})
    deadline = time.monotonic() + 120
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"confluens serve exited: {server.stderr and server.stderr.read()}")
        try:
            if _get(f"http://127.0.0.1:{port}/v2/health/ready")["ready"]:
                return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.kill()
            raise RuntimeError("confluens serve did not become ready")
        time.sleep(0.2)


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _latency(fn: Any, n: int = 3000) -> list[float]:
    for _ in range(200):
        fn()
    out = []
    for _ in range(n):
        start = time.perf_counter_ns()
        fn()
        out.append((time.perf_counter_ns() - start) / 1000)
    return out


def _checked(load: Load, what: str) -> Load:
    if load.errors:
        raise RuntimeError(f"{what}: {load.errors} failed requests, e.g. {load.first_error}")
    return load


def run(shared: Path | None) -> tuple[str, list[Figure]]:
    from confluens.interfaces.api import free_port
    from confluens.lifecycle.serve import Scorer, ScoreRequest
    from confluens.project.serving import OnlineFeatureReader, read_predictions

    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, client_cpu = (cpus[0], cpus[1]) if len(cpus) > 1 else (None, None)
    load = os.getloadavg()[0]
    pinned = (f"server pinned to CPU {server_cpu}, load generator to CPU {client_cpu}"
              if server_cpu is not None else "one CPU: nothing pinned")
    notes = [f"load average {load:.1f} at the start (other work on the machine inflates "
             "every latency)", pinned]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "fraud"
        project, _features, columns, at, rows = _build(root)
        stamp = at.isoformat()
        before = os.sched_getaffinity(0)
        if client_cpu is not None:
            os.sched_setaffinity(0, {client_cpu})
        try:
            import lightgbm
            import numpy as np

            booster = lightgbm.Booster(model_file=str(root / "model.txt"))
            one = np.random.default_rng(0).random((1, len(columns)))
            floor = _latency(lambda: booster.predict(one, num_threads=1))
            sys.path.insert(0, str(root))
            import bench_serving  # type: ignore[import-not-found]

            scorer = Scorer(bench_serving.models(project)("fraud"),
                            lambda refs: OnlineFeatureReader(project.definitions,
                                                             project.online, refs))
            requests = [ScoreRequest({"customer_id": r["customer_id"],
                                      "terminal_id": r["terminal_id"]},
                                     {"amount": r["amount"]}, at=at) for r in rows]
            count = iter(range(10**9))
            in_process = _latency(lambda: scorer.score(requests[next(count) % len(requests)]))
            port = free_port()
            server = _start(root, port, server_cpu)
            try:
                v1 = [_v1(r, stamp) for r in rows]
                v2 = [_v2(r, stamp) for r in rows]
                asyncio.run(closed_loop(port, v1[:300] + v2[:300]))  # warm up
                cpu = _cpu(server.pid)
                low1 = _checked(asyncio.run(closed_loop(port, v1[300:], pause=0.002)), "v1")
                cpu1, cpu = _cpu(server.pid) - cpu, _cpu(server.pid)
                low2 = _checked(asyncio.run(closed_loop(port, v2[300:], pause=0.002)), "v2")
                cpu2 = _cpu(server.pid) - cpu
                rated = [v1[300 + i % LOW] for i in range(RATED)]
                rate1 = _checked(asyncio.run(open_loop(port, rated, rate=RATE)), "v1 500/s")
                rated = [v2[300 + i % LOW] for i in range(RATED)]
                rate2 = _checked(asyncio.run(open_loop(port, rated, rate=RATE)), "v2 500/s")
                stats = _get(f"http://127.0.0.1:{port}/v1/models")["models"][0]["batching"]
                burst_requests = [v1[300 + i % LOW] for i in range(BURST)]
                burst = _checked(asyncio.run(closed_loop(port, burst_requests,
                                                         concurrency=32)), "burst")
                after = _get(f"http://127.0.0.1:{port}/v1/models")["models"][0]["batching"]
            finally:
                server.send_signal(signal.SIGINT)
                _, stderr = server.communicate(timeout=120)
            if server.returncode != 0:
                notes.append(f"the server exited with {server.returncode}: {stderr[-300:]}")
            sent = 600 + 2 * LOW + 2 * RATED + BURST
            logged = read_predictions(root / ".confluens", "fraud").num_rows
            notes.append(f"prediction log: {logged:,} of {sent:,} predictions written "
                         f"({'none lost' if logged == sent else 'MISSING ' + str(sent - logged)})")
            batches = after["batches"] - stats["batches"]
            mean_batch = (after["requests"] - stats["requests"]) / max(batches, 1)
            notes.append(f"500/s: achieved {RATED / rate1.seconds:.0f}/s (v1), "
                         f"{RATED / rate2.seconds:.0f}/s (v2); largest send lag "
                         f"{max(rate1.max_lag_ms, rate2.max_lag_ms):.1f} ms")
            notes.append(f"HTTP: uvicorn with {_http_stack()}")
            notes.append(f"burst, 32 in flight: {BURST / burst.seconds:,.0f} requests/s, "
                         f"{mean_batch:.1f} requests per batch on average (largest "
                         f"{after['largest']})")
        finally:
            os.sched_setaffinity(0, before)
            project.close()
    figures = [
        Figure("serving", "target: p99 at low load (µs)", 2000, 1),
        Figure("serving", "target: p99 at 500 requests/s (µs)", 5000, 1),
        Figure("serving", "quoted: Feast HTTP features, no model p99 (µs)", 1190, 1,
               note="from the issue, not measured here"),
        Figure("serving", "quoted: LightGBM one-row predict p50 (µs)", 18, 1,
               note="from the issue, not measured here"),
        *_figures("LightGBM one-row predict", floor),
        *_figures("in-process Scorer: features + predict", in_process,
                  note="no HTTP, no log"),
        Figure("serving", "server CPU per /v1 predict (µs)", cpu1 / LOW * 1e6, 1,
               note="user + system time of the server process, per request, low load"),
        Figure("serving", "server CPU per OIP v2 infer (µs)", cpu2 / LOW * 1e6, 1),
        *_figures("/v1 predict, low load", low1.latencies,
                  target="target: p99 at low load (µs)", note="one request in flight"),
        *_figures("OIP v2 infer, low load", low2.latencies,
                  target="target: p99 at low load (µs)", note="one request in flight"),
        *_figures("/v1 predict, 500/s", rate1.latencies,
                  target="target: p99 at 500 requests/s (µs)", note="open loop, 10 s"),
        *_figures("OIP v2 infer, 500/s", rate2.latencies,
                  target="target: p99 at 500 requests/s (µs)", note="open loop, 10 s"),
        *_figures("/v1 predict, burst of 32 in flight", burst.latencies,
                  note="closed loop: micro-batching"),
    ]
    return ("confluens serve on loopback, 15 features from the embedded store, a 100-tree "
            "LightGBM, prediction log on; " + "; ".join(notes)), figures
