"""Records pushed over HTTP into a source bound to an ``http`` stream, then processed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import confluens
from confluens.project.stream.publish import Publisher

from .streamed_project import streamed_project

httpx = pytest.importorskip("httpx", reason="the serve extra is not installed")


def _record(i: int, **changes: object) -> dict[str, object]:
    return {"transaction_id": i, "tx_datetime": "2024-01-05 10:00:00", "customer_id": "7",
            "terminal_id": "3", "tx_amount": 10.0 + i, **changes}


@pytest.fixture
def pushed(tmp_path: Path) -> tuple[confluens.Project, str]:
    from confluens.interfaces.api import BackgroundServer, create_app

    root = streamed_project(tmp_path / "push", kind="http", binding="key='customer_id'")
    project = confluens.open(root)
    server = BackgroundServer(create_app(publisher=Publisher(project.config,
                                                             project.definitions)))
    url = server.start()
    yield project, url
    server.stop()
    project.close()


def test_pushed_records_are_processed_and_bad_ones_quarantined(
        pushed: tuple[confluens.Project, str]) -> None:
    project, url = pushed
    with httpx.Client(base_url=url) as client:
        assert client.get("/v1/sources").json() == {"sources": ["fraud_labels",
                                                                 "transactions"]}
        answer = client.post("/v1/sources/transactions/records",
                             json=[_record(1), _record(2, tx_amount=-5.0)])
        assert answer.status_code == 202
        assert answer.json() == {"source": "transactions", "appended": 2}
        lines = b"\n".join([json.dumps(_record(3)).encode(), b"{not json",
                            json.dumps(_record(4)).encode()])
        answer = client.post("/v1/sources/transactions/records", content=lines,
                             headers={"content-type": "application/x-ndjson"})
        assert answer.json()["appended"] == 3
    totals = project.stream(["transactions"], until_idle=True)["transactions"]
    assert (totals.rows_in, totals.accepted, totals.quarantined) == (5, 3, 2)
    assert sorted(project.table("transactions")["transaction_id"].to_pylist()) == [1, 3, 4]
    rules = sorted(r["rule"] for r in project.quarantine("transactions").to_pylist())
    assert rules == ["parse", "range:tx_amount"]


@pytest.mark.parametrize(("path", "body", "status", "words"), [
    ("/v1/sources/transactions/records", b"{\"not\": \"a list\"}", 422, "JSON array"),
    ("/v1/sources/transactions/records", b"[1, 2", 422, "JSON array"),
    ("/v1/sources/nowhere/records", b"[]", 422, "http stream"),
])
def test_a_body_or_source_that_cannot_take_records_is_refused_with_the_fix(
        pushed: tuple[confluens.Project, str], path: str, body: bytes, status: int,
        words: str) -> None:
    project, url = pushed
    with httpx.Client(base_url=url) as client:
        answer = client.post(path, content=body,
                             headers={"content-type": "application/json"})
    assert answer.status_code == status
    assert words in answer.json()["error"]
    assert answer.json()["fix"]
    assert project.stream(["transactions"], until_idle=True)["transactions"].rows_in == 0


def test_a_body_over_the_limit_is_a_413_and_appends_nothing(
        pushed: tuple[confluens.Project, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from confluens.interfaces.api import limits

    monkeypatch.setattr(limits, "MAX_BODY", 1000)
    project, url = pushed
    body = json.dumps([_record(i) for i in range(50)]).encode()
    assert len(body) > 1000
    with httpx.Client(base_url=url) as client:
        answer = client.post("/v1/sources/transactions/records", content=body,
                             headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert answer.json()["thing"] == "request body"
    assert f"{limits.MAX_BODY >> 20} MiB" in answer.json()["rule"]
    assert "several requests" in answer.json()["fix"]
    assert project.stream(["transactions"], until_idle=True)["transactions"].rows_in == 0
