"""Shared fixtures.

Service-backed and shared-data tests skip on a developer machine that lacks the
service or the data, with a message saying what was skipped. When ``CI=true``
they fail instead: in CI nothing that needs a real backend may silently skip.
"""

from __future__ import annotations

import os
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
def postgres_url() -> str:
    """A SQLAlchemy URL of the loopback PostgreSQL (or $CONFLUENS_TEST_POSTGRES_URL)."""
    url = os.environ.get("CONFLUENS_TEST_POSTGRES_URL",
                         "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    if not port_open("127.0.0.1", 5432):
        unavailable("PostgreSQL on 127.0.0.1:5432")
    return url
