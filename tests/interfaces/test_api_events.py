"""Scoring an event as it happens (`POST /v1/models/{name}/events`), for real: the
event counts in its own features exactly as in a training-set row at its time, which
an online read (`predict`) cannot give for an event not stored yet."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import httpx
import pandas as pd
import pyarrow as pa
import pytest

from confluens.interfaces.api import BackgroundServer, create_app
from confluens.project.event_scoring import EventScoring
from confluens.project.serving import model_service, read_predictions
from tests.lifecycle.serving_project import COLUMNS, END, FEATURES, fit_lightgbm, write_project

# one new payment per (customer, merchant) pair, so no event is in another's windows
EVENTS = [{"payment_id": 50_000 + i, "ts": (END + timedelta(minutes=7 * i + 1)).isoformat(),
           "customer_id": str(i), "merchant_id": i + 1, "amount": 20.0 + 31.5 * i,
           "fraud": 0} for i in range(5)]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    project = write_project(tmp_path_factory.mktemp("events") / "shop")
    model = fit_lightgbm(project)
    service = model_service(project, ["fraud"], {"fraud": model}.__getitem__)
    scoring = EventScoring(project.definitions, project.online, service)
    server = BackgroundServer(create_app(service, events=scoring))
    url = server.start()
    with httpx.Client(base_url=url, timeout=30) as client:
        yield client, project, model
    server.stop()
    project.close()


def _training_rows(project, events) -> pd.DataFrame:
    spine = pa.table({"customer_id": [e["customer_id"] for e in events],
                      "merchant_id": [e["merchant_id"] for e in events],
                      "ts": [datetime.fromisoformat(e["ts"]) for e in events]})
    return project.training_set(spine, list(FEATURES[:4]), at="ts").to_pandas()


def test_an_event_is_scored_with_itself_in_its_windows_as_training_sees_it(served, tmp_path):
    client, project, model = served
    bodies, online = [], []
    for event in EVENTS:
        response = client.post("/v1/models/fraud/events?include_features=true",
                               json={"event": event})
        assert response.status_code == 200, response.text
        bodies.append(response.json())
        online.append(client.post("/v1/models/fraud/predict?include_features=true", json={
            "keys": {"customer_id": event["customer_id"], "merchant_id": event["merchant_id"]},
            "fields": {"amount": event["amount"]}, "at": event["ts"]}).json()["features"])
    for body, read, event in zip(bodies, online, EVENTS, strict=True):
        assert (body["model"], body["version"], body["source"]) == ("fraud", 3, "payments")
        assert pd.Timestamp(body["at"]) == pd.Timestamp(event["ts"])
        # the online read does not hold the event: one payment fewer in each window
        assert body["features"]["n_7d"] == read["n_7d"] + 1
        assert body["features"]["m_30d"] == read["m_30d"] + 1
        frame = pd.DataFrame([[body["features"][c] for c in COLUMNS]], columns=list(COLUMNS),
                             dtype=float)
        assert body["score"] == pytest.approx(float(model.predict(frame)[0]))

    # once stored, a training-set row at each event's time has exactly those features
    pd.DataFrame(EVENTS).to_csv(tmp_path / "new.csv", index=False)
    assert project.ingest("payments", str(tmp_path / "new.csv")).accepted == len(EVENTS)
    rows = _training_rows(project, EVENTS)
    for body, (_, row) in zip(bodies, rows.iterrows(), strict=True):
        assert {c: body["features"][c] for c in COLUMNS[:4]} == pytest.approx(
            {c: row[c] for c in COLUMNS[:4]})

    # an event the online state already holds counts once
    project.materialize()
    again = client.post("/v1/models/fraud/events?include_features=true",
                        json={"event": EVENTS[0]}).json()
    assert again["features"] == bodies[0]["features"]
    assert again["id"] != bodies[0]["id"]  # a prediction of its own


def test_an_event_its_source_would_quarantine_gets_the_rule(served):
    client, _, _ = served
    bad = {**EVENTS[0], "payment_id": 60_000, "amount": "a lot"}
    response = client.post("/v1/models/fraud/events", json={"event": bad})
    assert response.status_code == 422
    body = response.json()
    assert body["thing"] == "event 0 of source 'payments'"
    assert body["rule"] == "fails type:amount: 'a lot' is not a valid float64"
    assert body["fix"] == "correct the record as `confluens ingest` would require"

    response = client.post("/v1/models/fraud/events", json={"event": {"payment_id": 1}})
    assert response.status_code == 422
    assert "ts" in response.json()["error"]


@pytest.mark.parametrize(("path", "body", "status", "text"), [
    ("/v1/models/nope/events", {"event": EVENTS[0]}, 404, "'fraud'"),
    ("/v1/models/fraud/events", {"event": EVENTS[0], "source": "nope"}, 422,
     "no source has this name"),
    ("/v1/models/fraud/events", {"record": EVENTS[0]}, 422, "event"),
])
def test_request_mistakes_are_named(served, path, body, status, text):
    client, _, _ = served
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    assert text in response.json()["error"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize(("content", "rule"), [
    # json's decoder recurses per level: FastAPI answered a bare 400 for this one
    (b"[" * 100_000 + b"]" * 100_000, "nests too deeply to decode"),
    (b'{"event": ', "JSON decode error"),
])
def test_a_body_that_cannot_be_read_is_a_422_naming_it(served, content, rule):
    client, _, _ = served
    response = client.post("/v1/models/fraud/events", content=content,
                           headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert (response.json()["thing"], response.json()["rule"]) == ("body", rule)
    assert response.json()["fix"]


def test_a_body_over_the_limit_is_a_413(served, monkeypatch):
    from confluens.interfaces.api import limits

    client, _, _ = served
    monkeypatch.setattr(limits, "MAX_BODY", 100)
    response = client.post("/v1/models/fraud/events", json={"event": EVENTS[0]})
    assert response.status_code == 413, response.text
    assert response.json()["thing"] == "request body"


def test_the_event_route_documents_its_body(served):
    client, _, _ = served
    operation = client.get("/openapi.json").json()["paths"]["/v1/models/{name}/events"]
    schema = operation["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["event"]
    assert set(schema["properties"]) == {"event", "source"}


def test_event_predictions_are_logged_with_their_record(served):
    client, project, _ = served
    event = {**EVENTS[1], "payment_id": 70_000}
    body = client.post("/v1/models/fraud/events", json={"event": event}).json()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        logged = read_predictions(project.config.store_root, "fraud").to_pylist()
        mine = [r for r in logged if r["prediction_id"] == body["id"]]
        if mine:
            break
        time.sleep(0.2)  # the log writes in the background
    assert len(mine) == 1
    assert mine[0]["origin"] == "event"
    assert mine[0]["score"] == pytest.approx(body["score"])
