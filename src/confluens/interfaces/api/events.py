"""``POST /v1/models/{name}/events``: score an event as it happens, the event counting
in its own features, as in training (project/event_scoring.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from confluens.errors import InputError, UnknownNameError
from confluens.interfaces.api.json_body import Problems, validated
from confluens.interfaces.api.limits import read_body, too_large
from confluens.interfaces.api.responses import error, finite, json_response
from confluens.interfaces.api.validation import invalid
from confluens.project.event_scoring import EventScoring

__all__ = ["EventRequest", "EventResponse", "events_router"]


class EventRequest(BaseModel):
    """One event of a source, as a record the source's schema reads."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"event": {"transaction_id": 981, "tx_datetime": "2024-01-31T12:00:00Z",
                   "customer_id": 17, "terminal_id": 42, "tx_amount": 57.3}}]})

    event: dict[str, Any] = Field(description="The record, with the source's columns "
                                  "(its event time, entity keys, id...).")
    source: str | None = Field(default=None, description=(
        "The event's source; default: the one source of the model's features other "
        "than its labels source."))


class EventResponse(BaseModel):
    id: str = Field(description="The prediction's id (UUIDv7), as in the prediction log.")
    model: str
    version: int = Field(description="The model version that scored.")
    score: float
    source: str
    at: str = Field(description="The event's time: when its windows were evaluated.")
    features: dict[str, Any] | None = Field(default=None, description=(
        "The model's input, column -> value; with ?include_features=true."))


_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No model of that name is served."},
    422: {"description": "The event fails its source's schema or checks (the error names "
                         "the rule), or cannot be scored exactly at its time."},
}


def events_router(scoring: EventScoring) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["v1"])

    @router.post("/models/{name}/events", response_model=EventResponse, responses=_ERRORS,
                 openapi_extra={"requestBody": {"required": True, "content": {
                     "application/json": {"schema": EventRequest.model_json_schema()}}}},
                 summary="Score an event as it happens, counting it in its own features")
    async def score_event(name: str, request: Request,
                          include_features: bool = Query(False, description=(
                              "Also return the model's input values."))) -> Response:
        """Judges the event as ingest would, folds it into a private copy of its
        entities' online window state and scores it at its own time: the features a
        training-set row at the event's time has (the event included). `predict`
        reads the online state as stored, which does not hold an event not yet
        ingested. Nothing is stored but the prediction log."""
        raw = await read_body(request)
        if raw is None:
            return too_large("send one event per request")
        problems: Problems = []
        body = validated(EventRequest, request.scope, raw, problems)
        if body is None:
            return invalid(problems, str(request.base_url))
        try:
            scoring.service.get(name)
        except UnknownNameError as exc:
            return error(404, exc)
        try:
            scorer = scoring.scorer(name, body.source)
        except InputError as exc:  # a source that does not exist or cannot be scored
            return error(422, exc)
        (result,) = scorer.score([body.event])
        if isinstance(result, InputError):
            return error(422, result)
        out: dict[str, Any] = {"id": result.id, "model": result.model,
                               "version": result.version, "score": finite(result.score),
                               "source": scorer.source.name, "at": result.at.isoformat()}
        if include_features:
            out["features"] = {c: finite(v) for c, v in result.inputs.items()}
        return json_response(out)

    return router
