"""The registry against a real `mlflow server` (its own process, on a free loopback port),
configured the way a user would: `[models] tracking_uri` in confluens.toml."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import confluens
from confluens.lifecycle.registry.flavors import reference_scores
from tests.lifecycle.registry_helpers import fit, trained_model

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`mlflow server` on a free loopback port (its background job runner off: the
    registry needs none of it, and it takes a minute to start on a busy machine)."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    mlflow = Path(sys.executable).with_name("mlflow")
    log = folder / "server.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [str(mlflow), "server", "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1", "--backend-store-uri", f"sqlite:///{folder / 'server.db'}",
             "--artifacts-destination", str(folder / "artifacts")],
            stdout=subprocess.DEVNULL, stderr=stderr,
            env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not start:\n{log.read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_project_records_to_and_loads_from_a_tracking_server(server, tmp_path):
    root = tmp_path / "proj"
    confluens.init(root, template="fraud")
    (root / "confluens.toml").write_text(f'[models]\ntracking_uri = "{server}"\n')
    with confluens.open(root) as project:
        registry = project.registry
        assert registry.settings.tracking_uri == server
        trained = trained_model("lightgbm", name="served")
        version = registry.record(trained)
        registry.promote("served", version.version, reason="first on the server")
        loaded = registry.load("served", "champion")
        _, x = fit("lightgbm")
        np.testing.assert_allclose(loaded.predict(x), reference_scores(
            trained.estimator, "lightgbm", x, "binary"), rtol=1e-12)
        assert [m.name for m in registry.models()] == ["served"]
        assert registry.settings.ui_command().startswith(f"open {server}")
    assert not (root / ".confluens" / "mlflow.db").exists()  # nothing tracked locally
    assert not (root / ".confluens" / "mlartifacts").exists()
