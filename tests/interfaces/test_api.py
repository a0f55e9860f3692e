"""The HTTP API for real: uvicorn on a free loopback port, an httpx client, the
project's embedded online store, a fitted LightGBM model and the prediction log."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from confluens.interfaces.api import BackgroundServer, create_app
from confluens.lifecycle.serve import PredictionLog
from confluens.project.serving import model_service, prediction_store, read_predictions
from tests.lifecycle.serving_project import COLUMNS, END, fit_lightgbm, write_project


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):
    """(url, project, model, service): the server runs for the module's tests."""
    project = write_project(tmp_path_factory.mktemp("api") / "shop")
    model = fit_lightgbm(project)
    service = model_service(project, ["fraud"], {"fraud": model}.__getitem__)
    server = BackgroundServer(create_app(service))
    url = server.start()
    yield url, project, model, service
    server.stop()
    project.close()


@pytest.fixture
def client(api):
    with httpx.Client(base_url=api[0], timeout=10) as c:
        yield c


GOOD = {"keys": {"customer_id": "3", "merchant_id": 4}, "fields": {"amount": 42.0}}


def test_predict_scores_with_online_features(api, client):
    _, project, model, _ = api
    response = client.post("/v1/models/fraud/predict?include_features=true", json=GOOD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["model"], body["version"], body["missing"]) == ("fraud", 3, [])
    assert list(body["features"]) == list(COLUMNS)
    vector = project.online_vector({"spend": "3", "risk": 4})
    assert {c: body["features"][c] for c in COLUMNS[:4]} == pytest.approx(
        {c: vector[c] for c in COLUMNS[:4]})
    import pandas as pd

    frame = pd.DataFrame([[body["features"][c] for c in COLUMNS]], columns=list(COLUMNS),
                         dtype=float)
    assert body["score"] == pytest.approx(float(model.estimator.predict_proba(frame)[0, 1]))
    assert "features" not in client.post("/v1/models/fraud/predict", json=GOOD).json()


def test_an_unknown_entity_gets_defaults_and_the_missing_list(client):
    body = client.post("/v1/models/fraud/predict?include_features=true", json={
        "keys": {"customer_id": "never-seen", "merchant_id": 424242},
        "fields": {"amount": 10}}).json()
    assert body["missing"] == ["n_7d", "avg_7d", "m_30d", "m_fraud_30d"]
    assert body["features"] == {"n_7d": 0, "avg_7d": None, "m_30d": 0, "m_fraud_30d": None,
                                "amount": 10}
    assert 0 <= body["score"] <= 1


def test_an_unknown_model_is_a_404_naming_the_served_ones(client):
    for response in (client.post("/v1/models/nope/predict", json=GOOD),
                     client.get("/v2/models/nope"), client.get("/v2/models/nope/ready"),
                     client.post("/v2/models/nope/infer", json={"inputs": []})):
        assert response.status_code == 404
        assert "'fraud'" in response.json()["error"]
        assert "nope" in response.json()["error"]


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"fields": {"amount": 1}}, "keys", "is required"),
    ({"keys": {"customer_id": "3"}, "fields": {"amount": 1}}, "keys.merchant_id",
     "keyed by it"),
    ({"keys": {"customer_id": "3", "merchant_id": "four"}, "fields": {"amount": 1}},
     "keys.merchant_id", "int64"),
    ({"keys": {"customer_id": "3", "merchant_id": 4}}, "fields.amount", "request-time"),
    ({"keys": {"customer_id": "3", "merchant_id": 4}, "fields": {"amount": "x"}},
     "fields.amount", "number"),
    ({**GOOD, "amount": 1}, "amount", "Extra inputs"),
    ({**GOOD, "at": "yesterday"}, "at", "ISO 8601"),
    # a number would be a guess between seconds and milliseconds since the epoch
    ({**GOOD, "at": 1_709_251_200}, "at", "ISO 8601"),
    ({**GOOD, "at": "1709251200"}, "at", "ISO 8601"),
    # JSON has no NaN or Infinity (Python's json reads them): refused, as ingest does
    ({**GOOD, "fields": {"amount": float("nan")}}, "fields.amount", "finite number"),
    ({**GOOD, "fields": {"amount": float("-inf")}}, "fields.amount", "finite number"),
    ({**GOOD, "at": "2024-03-01T00:00:00"}, "at", "time zone"),
    ({"keys": ["3", 4]}, "keys", "dictionary"),
])
def test_a_mistake_is_a_422_that_names_the_field(client, body, field, words):
    response = client.post("/v1/models/fraud/predict", content=json.dumps(body),  # NaN too
                           headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["thing"] == field
    assert words in error["error"]
    assert error["fix"]
    assert "Traceback" not in response.text


def test_a_body_that_is_not_json_is_a_422(client):
    response = client.post("/v1/models/fraud/predict", content=b"{keys: 3",
                           headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["thing"] == "body"
    assert "JSON" in response.json()["error"]
    response = client.post("/v1/models/fraud/predict?include_features=maybe", json=GOOD)
    assert response.status_code == 422
    assert response.json()["thing"] == "?include_features"


@pytest.mark.parametrize("path", ["/v1/models/fraud/predict", "/v2/models/fraud/infer"])
def test_a_body_nested_too_deeply_is_a_422_not_a_500(client, path):
    """json's decoder recurses per level: 100,000 brackets raised RecursionError (a 500)."""
    depth = 100_000
    response = client.post(path, content=b"[" * depth + b"]" * depth,
                           headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["thing"] == "body"
    assert body["rule"] == "nests too deeply to decode"
    assert "Fix:" in body["error"]


@pytest.mark.parametrize("path", ["/v1/models/fraud/predict", "/v2/models/fraud/infer"])
def test_a_body_over_the_limit_is_a_413_read_no_further(client, path, monkeypatch):
    from confluens.interfaces.api import scoring_routes

    monkeypatch.setattr(scoring_routes, "MAX_BODY", 100)
    body = json.dumps({**GOOD, "fields": {"amount": 42.0, "note": "x" * 200}}).encode()
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413, response.text
    assert response.json()["thing"] == "request body"
    assert "several requests" in response.json()["fix"]
    monkeypatch.undo()
    assert client.post("/v1/models/fraud/predict", json=GOOD).status_code == 200


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/models/{name}/predict", "/v2/models/{name}/infer", "/v2/health/ready",
            "/v2/health/live", "/v2/models/{name}", "/v2/models/{name}/ready"} <= set(paths)


def test_models_are_listed_with_their_inputs(client):
    [model] = client.get("/v1/models").json()["models"]
    assert model["keys"] == {"customer_id": "string", "merchant_id": "int64"}
    assert model["fields"] == ["amount"]
    assert model["version"] == 3


def test_oip_health_and_metadata(client):
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json() == {"ready": True}
    assert client.get("/v2/models/fraud/ready").json() == {"name": "fraud", "ready": True}
    meta = client.get("/v2/models/fraud").json()
    assert meta["versions"] == ["3"]
    assert [(t["name"], t["datatype"]) for t in meta["inputs"]] == [
        ("customer_id", "BYTES"), ("merchant_id", "INT64"), ("amount", "FP64")]
    assert client.get("/v2").json()["name"] == "confluens"


def test_oip_infer_scores_every_row_as_v1_does(client):
    rows = [("3", 4, 42.0), ("17", 9, 300.0), ("never-seen", 424242, 5.0)]
    response = client.post("/v2/models/fraud/infer", json={"id": "r1", "inputs": [
        {"name": "customer_id", "shape": [3], "datatype": "BYTES", "data": [r[0] for r in rows]},
        {"name": "merchant_id", "shape": [3, 1], "datatype": "INT64",
         "data": [[r[1]] for r in rows]},
        {"name": "amount", "shape": [3], "datatype": "FP64", "data": [r[2] for r in rows]}],
        "parameters": {"include_features": True}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["model_name"], body["model_version"], body["id"]) == ("fraud", "3", "r1")
    out = {t["name"]: t["data"] for t in body["outputs"]}
    assert out["missing"] == ["", "", "n_7d,avg_7d,m_30d,m_fraud_30d"]
    assert len(set(out["prediction_id"])) == 3
    for (c, m, a), score in zip(rows, out["score"], strict=True):
        v1 = client.post("/v1/models/fraud/predict", json={
            "keys": {"customer_id": c, "merchant_id": m}, "fields": {"amount": a}}).json()
        assert score == pytest.approx(v1["score"])
    assert out["n_7d"][2] == 0
    assert out["avg_7d"][2] is None


@pytest.mark.parametrize(("inputs", "field", "words"), [
    ([{"name": "customer_id", "shape": [2], "datatype": "BYTES", "data": ["3"]}],
     "inputs[0] (customer_id).shape", "as many values"),
    ([{"name": "customer_id", "shape": [1], "datatype": "BYTES", "data": ["3"]},
      {"name": "merchant_id", "shape": [2], "datatype": "INT64", "data": [4, 5]}],
     "inputs[1] (merchant_id).shape", "one value per row"),
    ([{"name": "customer_id", "shape": [1], "datatype": "STRING", "data": ["3"]}],
     "inputs[0] (customer_id).datatype", "Open Inference Protocol type"),
    ([{"name": "customer_id", "shape": [1], "datatype": "BYTES", "data": ["3"]},
      {"name": "amount", "shape": [1], "datatype": "FP64", "data": [1.0]}],
     "row 0: keys.merchant_id", "keyed by it"),
    ([{"name": "customer_id", "shape": [1], "datatype": "BYTES"}], "inputs[0].data",
     "is required"),
    ([{"name": "customer_id", "shape": [1], "datatype": "BYTES", "data": ["3"]},
      {"name": "merchant_id", "shape": [1], "datatype": "INT64", "data": [4]},
      {"name": "amount", "shape": [1], "datatype": "FP64", "data": [float("inf")]}],
     "row 0: fields.amount", "finite number"),
])
def test_oip_mistakes_are_422s(client, inputs, field, words):
    response = client.post("/v2/models/fraud/infer", content=json.dumps({"inputs": inputs}),
                           headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["thing"] == field
    assert words in response.json()["error"]


def test_concurrent_requests_are_all_answered(api):
    url, _, _, service = api

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=10) as c:
            return await asyncio.gather(*(c.post("/v1/models/fraud/predict", json={
                "keys": {"customer_id": str(i % 40), "merchant_id": 1 + i % 15},
                "fields": {"amount": float(i)}}) for i in range(64)))

    batcher = service.served["fraud"].batcher
    before = batcher.items
    responses = asyncio.run(burst())
    assert [r.status_code for r in responses] == [200] * 64
    assert batcher.items - before == 64


def test_predictions_are_logged_when_the_server_stops(tmp_path, api):
    """A second server on the same project: its predictions are all in the log once it
    has stopped, with the request and the features."""
    _, project, model, _ = api
    service = model_service(project, ["fraud"], {"fraud": model}.__getitem__,
                            log=PredictionLog(prediction_store(tmp_path)))  # its own log
    ids = []
    with BackgroundServer(create_app(service)) as url, httpx.Client(base_url=url) as c:
        for i in range(25):
            ids.append(c.post("/v1/models/fraud/predict", json={
                "keys": {"customer_id": str(i), "merchant_id": 4},
                "fields": {"amount": 1.0, "payment_id": i}}).json()["id"])
        ids.append(c.post("/v2/models/fraud/infer", json={"inputs": [
            {"name": "customer_id", "shape": [1], "datatype": "BYTES", "data": ["1"]},
            {"name": "merchant_id", "shape": [1], "datatype": "INT64", "data": [4]},
            {"name": "amount", "shape": [1], "datatype": "FP64", "data": [2.0]}]}).json()[
            "outputs"][1]["data"][0])
    logged = read_predictions(tmp_path, "fraud").to_pylist()
    assert [r["prediction_id"] for r in logged] == ids
    assert [r["origin"] for r in logged] == ["http"] * 25 + ["oip"]
    assert json.loads(logged[3]["request"])["fields"] == {"amount": 1.0, "payment_id": 3}


@pytest.mark.service("redis")
def test_a_redis_backed_server_answers_as_the_embedded_one(api, redis_url, tmp_path):
    _, _, model, _ = api
    toml = f'[online]\nstore = "redis"\nredis_url = "{redis_url}"\n'
    on_redis = write_project(tmp_path / "shop", toml=toml)
    service = model_service(on_redis, ["fraud"], {"fraud": model}.__getitem__)
    bodies = [{"keys": {"customer_id": c, "merchant_id": m}, "fields": {"amount": 9.5},
               "at": END.isoformat()} for c, m in (("3", 4), ("17", 9), ("never-seen", 1))]
    try:
        with BackgroundServer(create_app(service)) as url, httpx.Client(base_url=url) as c:
            answers = [c.post("/v1/models/fraud/predict?include_features=true",
                              json=b).json() for b in bodies]
        with httpx.Client(base_url=api[0]) as c:
            embedded = [c.post("/v1/models/fraud/predict?include_features=true",
                               json=b).json() for b in bodies]
        assert answers[0]["features"]["n_7d"] > 0  # read at the data's end: real values
        for a, b in zip(answers, embedded, strict=True):
            assert (a["features"], a["missing"]) == (b["features"], b["missing"])
            assert a["score"] == pytest.approx(b["score"])
        assert on_redis.predictions("fraud").num_rows == 3
    finally:
        on_redis.online.clear("spend")
        on_redis.online.clear("risk")
        on_redis.close()
