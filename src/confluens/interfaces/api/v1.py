"""``/v1``: confluens' own predict endpoint, and the list of served models.

``GET /v1/models`` is a FastAPI route; ``POST /v1/models/{name}/predict`` is served by
the lean scoring layer (scoring_routes.py), which validates the body and calls
``predict`` here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from confluens.errors import UnknownNameError
from confluens.interfaces.api.responses import error, finite, json_response
from confluens.interfaces.api.schemas import PredictRequest
from confluens.lifecycle.serve import ModelService, Scored, ScoreRequest

__all__ = ["PREDICT_DESCRIPTION", "predict", "scored_body", "v1_router"]

PREDICT_DESCRIPTION = """Reads the model's online features for `keys` (windows evaluated
now, or at `at`), fills request-time inputs from `fields`, predicts and logs the
prediction. An entity with no online state gets the empty window's values (0 for
counts and sums, null otherwise; the model sees NaN), listed in `missing`."""


def scored_body(scored: Scored, include_features: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"id": scored.id, "model": scored.model, "version": scored.version,
                            "score": finite(scored.score), "missing": list(scored.missing)}
    if include_features:
        body["features"] = {c: finite(v) for c, v in scored.inputs.items()}
    return body


async def predict(service: ModelService, name: str, body: PredictRequest,
                  include_features: bool) -> Response:
    """Score ``body`` with model ``name`` (a 404 if it is not served); an InputError
    for a mistake the scorer finds (the caller makes it a 422)."""
    try:
        served = service.get(name)
    except UnknownNameError as exc:
        return error(404, exc)
    scored = await served.batcher.submit(
        ScoreRequest(body.keys, body.fields, body.at, origin="http"))
    assert isinstance(scored, Scored)
    return json_response(scored_body(scored, include_features))


def v1_router(service: ModelService) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["v1"])

    @router.get("/models", summary="The models served, with their inputs")
    async def models() -> Response:
        return json_response({"models": [
            {"name": name, "version": s.model.version, "task": s.model.task,
             "keys": s.scorer.keys, "fields": list(s.scorer.inputs.required),
             "columns": list(s.model.columns), "features": list(s.model.features),
             "batching": {"batches": s.batcher.batches, "requests": s.batcher.items,
                          "largest": s.batcher.largest}}
            for name, s in service.served.items()], "failed": service.failed,
            "reload_failed": service.reload_failed})

    return router
