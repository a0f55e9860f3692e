"""The fraud loop as a user runs it: train and register, promote, serve the champion.

Real parts throughout: the fraud template on generated data, MLflow's SQLite store
under the project, `confluens serve` in its own process on a free port.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import confluens
from tests.interfaces.cli_helpers import invoke
from tests.lifecycle.fraud_project import fraud_project

pytest.importorskip("lightgbm")
pytest.importorskip("mlflow")
httpx = pytest.importorskip("httpx")

CONFLUENS = str(Path(sys.executable).with_name("confluens"))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fraud_project(tmp_path_factory.mktemp("loop"), customers=120, terminals=200,
                         days=50, seed=11, materialize=True)


def test_train_registers_promote_serves_the_champion(project: Path) -> None:
    code, out = invoke("train", "fraud_model", folder=project)
    assert code == 0, out
    assert "registered fraud_model version 1" in out
    code, out = invoke("train", "fraud_model", "--no-register", folder=project)
    assert code == 0, out
    assert "registered" not in out

    # no champion yet: serve says which model it could not load, and why
    done = subprocess.run([CONFLUENS, "serve", "-p", str(project), "--model", "fraud_model"],
                          capture_output=True, text=True, timeout=180,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 2, done.stderr
    assert "not served: fraud_model" in done.stderr
    assert "champion" in done.stderr
    assert "Traceback" not in done.stderr

    code, out = invoke("models", "promote", "fraud_model", "1", "--reason", "first model",
                       folder=project)
    assert code == 0, out

    with confluens.open(project) as p:
        model = p.registry.load("fraud_model", "champion")
        customer, terminal = "3", "7"
        vector = p.online_vector({"customer_spending": customer, "terminal_risk": terminal})
        expected = float(model.predict(_frame(model.columns, dict(vector)))[0])

    port = _free_port()
    server = subprocess.Popen([CONFLUENS, "serve", "-p", str(project), "--port", str(port),
                               "--model", "fraud_model"], stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "COLUMNS": "200"})
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(server, url)
        answer = httpx.post(f"{url}/v1/models/fraud_model/predict",
                            json={"keys": {"customer_id": customer, "terminal_id": terminal}},
                            timeout=30)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["version"] == 1
        assert math.isclose(body["score"], expected, rel_tol=1e-9, abs_tol=1e-12)
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=60)
    assert server.returncode == 0, stderr
    with confluens.open(project) as p:
        [logged] = p.predictions("fraud_model").to_pylist()
    assert logged["prediction_id"] == body["id"]
    assert logged["model_version"] == 1


def test_a_running_server_serves_the_version_promoted_or_rolled_back(project: Path) -> None:
    """`confluens serve` notices `models promote` and `models rollback` (the alias
    history, polled every --reload-seconds) and serves the new version: predict,
    /v1/models and the OIP metadata say so."""
    code, out = invoke("train", "fraud_model", folder=project)
    assert code == 0, out
    with confluens.open(project) as p:
        newest = max(v.version for v in p.registry.versions("fraud_model"))
        if newest == 1:  # run alone: train a second version
            code, out = invoke("train", "fraud_model", folder=project)
            assert code == 0, out
            newest = 2
        champion = p.registry.version("fraud_model", "champion").version \
            if p.registry.history("fraud_model", "champion") else None
    if champion is None or champion == newest:
        code, out = invoke("models", "promote", "fraud_model", str(newest - 1), "--reason",
                           "the starting champion", folder=project)
        assert code == 0, out
        champion = newest - 1

    port = _free_port()
    server = subprocess.Popen([CONFLUENS, "serve", "-p", str(project), "--port", str(port),
                               "--model", "fraud_model", "--reload-seconds", "0.2"],
                              stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "COLUMNS": "200"})
    url = f"http://127.0.0.1:{port}"
    body = {"keys": {"customer_id": "3", "terminal_id": "7"}}
    try:
        _wait_ready(server, url)
        assert _served_version(url) == champion
        code, out = invoke("models", "promote", "fraud_model", str(newest), "--reason",
                           "better", folder=project)
        assert code == 0, out
        _wait_for_version(url, newest)
        answer = httpx.post(f"{url}/v1/models/fraud_model/predict", json=body, timeout=30)
        assert answer.json()["version"] == newest
        assert httpx.get(f"{url}/v2/models/fraud_model", timeout=10).json()["versions"] == [
            str(newest)]
        code, out = invoke("models", "rollback", "fraud_model", "--reason", "worse live",
                           folder=project)
        assert code == 0, out
        _wait_for_version(url, champion)
        answer = httpx.post(f"{url}/v1/models/fraud_model/predict", json=body, timeout=30)
        assert answer.json()["version"] == champion
        assert httpx.get(f"{url}/v1/models", timeout=10).json()["reload_failed"] == {}
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=60)
    assert server.returncode == 0, stderr
    assert f"now serving version {newest}" in stderr


def _served_version(url: str) -> int:
    [model] = httpx.get(f"{url}/v1/models", timeout=10).json()["models"]
    return int(model["version"])


def _wait_for_version(url: str, version: int) -> None:
    deadline = time.monotonic() + 60
    while _served_version(url) != version:
        assert time.monotonic() < deadline, f"version {version} was not served"
        time.sleep(0.1)


def _frame(columns: tuple[str, ...], values: dict[str, object]) -> object:
    import pandas as pd

    row = {c: [float("nan") if values[c] is None else float(values[c])]  # type: ignore[arg-type]
           for c in columns}
    return pd.DataFrame(row, columns=list(columns))


def _free_port() -> int:
    from confluens.interfaces.api import free_port

    return free_port()


def _wait_ready(server: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        assert server.poll() is None, server.stderr.read() if server.stderr else ""
        try:
            if httpx.get(f"{url}/v2/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.2)
