"""Shared fixtures.

Service-backed and shared-data tests skip on a developer machine that lacks the
service or the data, with a message saying what was skipped. When ``CI=true``
they fail instead: in CI nothing that needs a real backend may silently skip.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(what: str) -> None:
    """Skip (developer machine) or fail (CI) because ``what`` is missing."""
    if IN_CI:
        pytest.fail(f"{what} is required in CI but unavailable", pytrace=False)
    pytest.skip(f"skipped: {what} is unavailable")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or $CONFLUENS_SHARED_DATA): the real reference datasets."""
    path = Path(os.environ.get("CONFLUENS_SHARED_DATA", REPO.parent / "shared" / "data"))
    if not (path / "README.md").exists():
        unavailable(f"the shared datasets at {path} (set CONFLUENS_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis URL on loopback (or $CONFLUENS_TEST_REDIS_URL); database 15 for tests."""
    if not port_open("127.0.0.1", 6379):
        unavailable("Redis on 127.0.0.1:6379")
    return os.environ.get("CONFLUENS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def redis_server_binary() -> str:
    """The ``redis-server`` program, for tests that run a Redis of their own (restarts)."""
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server on PATH")
    return str(binary)


@pytest.fixture(scope="session")
def nats_url() -> str:
    """A NATS server with JetStream on loopback (or $CONFLUENS_TEST_NATS_URL)."""
    if not port_open("127.0.0.1", 4222):
        unavailable("NATS JetStream on 127.0.0.1:4222")
    return os.environ.get("CONFLUENS_TEST_NATS_URL", "nats://127.0.0.1:4222")


@pytest.fixture(scope="session")
def mqtt_url() -> str:
    """An MQTT broker (Mosquitto) on loopback (or $CONFLUENS_TEST_MQTT_URL)."""
    if not port_open("127.0.0.1", 1883):
        unavailable("Mosquitto (MQTT) on 127.0.0.1:1883")
    return os.environ.get("CONFLUENS_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A SQLAlchemy URL of the loopback PostgreSQL (or $CONFLUENS_TEST_POSTGRES_URL)."""
    url = os.environ.get("CONFLUENS_TEST_POSTGRES_URL",
                         "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    if not port_open("127.0.0.1", 5432):
        unavailable("PostgreSQL on 127.0.0.1:5432")
    return url


@pytest.fixture
def make_project(tmp_path: Path):
    """Write a project folder with ``definitions`` (Python source) and open it."""
    import textwrap

    import confluens

    opened: list[confluens.Project] = []

    def make(definitions: str, *, toml: str = "", name: str = "proj") -> confluens.Project:
        root = tmp_path / name
        root.mkdir(exist_ok=True)
        (root / "confluens.toml").write_text(textwrap.dedent(toml))
        (root / "definitions.py").write_text(textwrap.dedent(definitions))
        project = confluens.open(root)
        opened.append(project)
        return project

    yield make
    for project in opened:
        project.close()


TX_DEFINITIONS = '''
from confluens import Source, NotNull, Range, OneOf, Regex, Unique, Custom

def small_amount(df):
    """amount is below 1000"""
    return (df["amount"].fillna(0) < 1000).to_numpy()

tx = Source(
    "tx",
    schema={"id": "int64", "ts": "timestamp", "customer": "string", "amount": "float64",
            "country": "string", "card": "string"},
    event_time="ts",
    id="id",
    checks=[
        NotNull("customer"),
        Range("amount", min=0),
        OneOf("country", ["FR", "DE"]),
        Regex("card", pattern=r"[0-9]{4}"),
        Unique("card", on_fail="quarantine"),
        Custom("amount", fn=small_amount, name="small_amount"),
    ],
)
'''


@pytest.fixture
def tx_project(make_project):
    """A project with one source ``tx`` carrying one check of every kind, applied."""
    project = make_project(TX_DEFINITIONS)
    project.apply()
    return project
