"""``/v1``: confluens' own predict endpoint, and the list of served models."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from confluens.errors import UnknownNameError
from confluens.interfaces.api.responses import error, finite, json_response
from confluens.interfaces.api.schemas import PredictRequest, PredictResponse
from confluens.lifecycle.serve import ModelService, Scored, ScoreRequest

__all__ = ["v1_router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No model of that name is served; the error lists those that are."},
    422: {"description": "A mistake in the request: `error` names the field, the rule, "
                         "the value received and the fix."},
}


def scored_body(scored: Scored, include_features: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"id": scored.id, "model": scored.model, "version": scored.version,
                            "score": finite(scored.score), "missing": list(scored.missing)}
    if include_features:
        body["features"] = {c: finite(v) for c, v in scored.inputs.items()}
    return body


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
            for name, s in service.served.items()], "failed": service.failed})

    @router.post("/models/{name}/predict", response_model=PredictResponse,
                 responses=_ERRORS, summary="Score one row with fresh online features")
    async def predict(name: str, body: PredictRequest,
                      include_features: bool = Query(False, description=(
                          "Also return the model's input values."))) -> Response:
        """Reads the model's online features for `keys` (windows evaluated now, or at
        `at`), fills request-time inputs from `fields`, predicts and logs the
        prediction. An entity with no online state gets the empty window's values
        (0 for counts and sums, null otherwise; the model sees NaN), listed in
        `missing`."""
        try:
            served = service.get(name)
        except UnknownNameError as exc:
            return error(404, exc)
        scored = await served.batcher.submit(
            ScoreRequest(body.keys, body.fields, body.at, origin="http"))
        assert isinstance(scored, Scored)
        return json_response(scored_body(scored, include_features))

    return router
