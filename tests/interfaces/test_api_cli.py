"""`confluens serve` as a user runs it: a real process, a real port, Ctrl-C to stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from confluens.interfaces.api import free_port
from confluens.project.serving import read_predictions
from tests.lifecycle.serving_project import write_project

CONFLUENS = str(Path(sys.executable).with_name("confluens"))

USER_MODULE = '''
import lightgbm
from confluens.lifecycle.serve import EstimatorModel

FEATURES = ["spend:n_7d", "spend:avg_7d", "request:amount"]
COLUMNS = ["n_7d", "avg_7d", "amount"]


def models(project):
    spine = project.table("payments", columns=["customer_id", "ts", "amount", "fraud"])
    table = project.training_set(spine, FEATURES[:2], at="ts").to_pandas()
    fitted = lightgbm.LGBMClassifier(n_estimators=10, verbose=-1).fit(
        table[COLUMNS].astype(float), table["fraud"])
    served = {"fraud": EstimatorModel("fraud", fitted, features=FEATURES, columns=COLUMNS,
                                      version=7)}
    return served.__getitem__
'''


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli") / "shop"
    write_project(root).close()
    (root / "serving.py").write_text(USER_MODULE)
    return root


def test_serve_help_imports_no_http_library() -> None:
    code = ("import sys; from confluens.interfaces.cli.main import main\n"
            "sys.argv = ['confluens', 'serve', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "loaded = {'fastapi', 'uvicorn', 'starlette', 'pandas'} & set(sys.modules)\n"
            "assert not loaded, loaded")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "--model NAME" in done.stdout
    assert "--port" in done.stdout


def test_serve_runs_until_interrupted_and_logs_every_prediction(shop: Path) -> None:
    port = free_port()
    server = subprocess.Popen([CONFLUENS, "serve", "-p", str(shop), "--port", str(port),
                               "--model", "fraud", "--models", "serving:models"],
                              stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                if httpx.get(f"{url}/v2/health/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        response = httpx.post(f"{url}/v1/models/fraud/predict", json={
            "keys": {"customer_id": "5"}, "fields": {"amount": 70.0}})
        assert response.status_code == 200, response.text
        assert response.json()["version"] == 7
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=60)
    assert server.returncode == 0, stderr
    assert f"API docs: http://127.0.0.1:{port}/docs" in stderr
    [logged] = read_predictions(shop / ".confluens", "fraud").to_pylist()
    assert logged["prediction_id"] == response.json()["id"]


@pytest.mark.parametrize(("args", "words"), [
    ([], "registry"),
    (["--models", "serving"], "MODULE:FUNCTION"),
    (["--models", "serving:nothing"], "has no function 'nothing'"),
])
def test_serve_explains_what_it_cannot_load(shop: Path, args: list[str], words: str) -> None:
    done = subprocess.run([CONFLUENS, "serve", "-p", str(shop), "--model", "fraud", *args],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 2, done.stderr
    assert words in done.stderr
    assert "Traceback" not in done.stderr


def test_a_model_that_fails_to_load_is_named(shop: Path) -> None:
    done = subprocess.run([CONFLUENS, "serve", "-p", str(shop), "--model", "other",
                           "--models", "serving:models"], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 2, done.stderr
    assert "not served:" in done.stderr
    assert "other" in done.stderr
