"""The two scoring routes, ``POST /v1/models/{name}/predict`` and ``POST
/v2/models/{name}/infer``, answered by a lean ASGI layer in front of FastAPI's routing.

Per request, FastAPI's routing and dependency machinery cost the server more CPU
than reading the features and predicting (see benchmarks/serving.py). This layer
matches the two paths itself, reads the body, validates it with the same pydantic
models FastAPI would (so a mistake is the same 422, naming the field, the rule, the
value received and the fix), and calls ``v1.predict`` or ``oip.infer``. Every other
request goes on to FastAPI. It sits outside FastAPI's middleware stack (app.py), so
it maps errors itself, as the app's handlers do (responses.py: ``confluens_error``,
``internal_error``).

FastAPI does not know these routes, so ``with_scoring_paths`` adds them to its
OpenAPI document, with their parameters and request and response schemas: they are
listed at ``/docs`` like the others.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from pydantic import TypeAdapter, ValidationError
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from confluens.errors import ConfluensError
from confluens.interfaces.api.json_body import Problems, located, validated
from confluens.interfaces.api.limits import MAX_BODY, too_large
from confluens.interfaces.api.oip import INFER_DESCRIPTION, infer
from confluens.interfaces.api.responses import confluens_error, internal_error, json_response
from confluens.interfaces.api.schemas import (
    InferRequest,
    InferResponse,
    PredictRequest,
    PredictResponse,
)
from confluens.interfaces.api.v1 import PREDICT_DESCRIPTION, predict
from confluens.interfaces.api.validation import invalid
from confluens.lifecycle.serve import ModelService

__all__ = ["ScoringRoutes", "with_scoring_paths"]

PREDICT = ("/v1/models/", "/predict")
INFER = ("/v2/models/", "/infer")
_BOOL = TypeAdapter(bool)


class ScoringRoutes:
    """``app`` (FastAPI's middleware stack), with ``service``'s scoring routes
    answered first."""

    def __init__(self, app: ASGIApp, service: ModelService) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = _route(scope) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            response = json_response({"detail": "Method Not Allowed"}, 405)
            response.headers["allow"] = "POST"
            await response(scope, receive, send)
            return
        try:
            raw = await _body(receive)
        except _BodyTooLarge:
            await too_large()(scope, receive, send)
            return
        if raw is None:  # the client went away
            return
        kind, name = route
        try:
            if kind is PREDICT:
                response = await self._predict(scope, name, raw)
            else:
                response = await self._infer(scope, name, raw)
        except ConfluensError as exc:
            response = confluens_error(exc)
        except Exception as exc:  # a bug: the same 500 as FastAPI's routes give
            response = internal_error(scope["method"], scope["path"], exc)
        await response(scope, receive, send)

    async def _predict(self, scope: Scope, name: str, raw: bytes) -> Response:
        problems: Problems = []
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                               keep_blank_values=True))
        include = False
        if "include_features" in query:
            try:
                include = _BOOL.validate_python(query["include_features"])
            except ValidationError as exc:
                problems += located(exc, ("query", "include_features"))
        body = validated(PredictRequest, scope, raw, problems)
        if body is None or problems:
            return invalid(problems, str(Request(scope).base_url))
        return await predict(self.service, name, body, include)

    async def _infer(self, scope: Scope, name: str, raw: bytes) -> Response:
        problems: Problems = []
        body = validated(InferRequest, scope, raw, problems)
        if body is None:
            return invalid(problems, str(Request(scope).base_url))
        return await infer(self.service, name, body)


def _route(scope: Scope) -> tuple[tuple[str, str], str] | None:
    """(PREDICT or INFER, the model's name) for a scoring path, else None."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root):len(root) + 1] == "/":
        path = path[len(root):]
    for route in (PREDICT, INFER):
        prefix, suffix = route
        if path.startswith(prefix) and path.endswith(suffix):
            name = path[len(prefix):len(path) - len(suffix)]
            if name and "/" not in name:
                return route, name
    return None


class _BodyTooLarge(Exception):
    """The body exceeds ``MAX_BODY``: it is read no further."""


async def _body(receive: Receive) -> bytes | None:
    """The request's body; None if the client disconnected first (``_BodyTooLarge``
    once it exceeds ``MAX_BODY``)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > MAX_BODY:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


_ERRORS = {
    "404": {"description": "No model of that name is served; the error lists those that "
                           "are."},
    "422": {"description": "A mistake in the request: `error` names the field, the rule, "
                           "the value received and the fix."},
}


def _operation(tag: str, summary: str, description: str, operation_id: str,
               request: str, response: str, query: list[dict[str, Any]]) -> dict[str, Any]:
    def ref(name: str) -> dict[str, Any]:
        return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}

    return {"post": {
        "tags": [tag], "summary": summary, "description": description,
        "operationId": operation_id,
        "parameters": [{"name": "name", "in": "path", "required": True,
                        "schema": {"type": "string", "title": "Name"}}, *query],
        "requestBody": {"required": True, "content": ref(request)},
        "responses": {"200": {"description": "Successful Response", "content": ref(response)},
                      **_ERRORS}}}


def with_scoring_paths(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's OpenAPI document ``schema`` with the two scoring routes added."""
    _, defs = models_json_schema(
        [(PredictRequest, "validation"), (PredictResponse, "serialization"),
         (InferRequest, "validation"), (InferResponse, "serialization")],
        ref_template="#/components/schemas/{model}")
    schema.setdefault("components", {}).setdefault("schemas", {}).update(defs["$defs"])
    include = "Also return the model's input values."
    paths = schema.setdefault("paths", {})
    paths["/v1/models/{name}/predict"] = _operation(
        "v1", "Score one row with fresh online features", PREDICT_DESCRIPTION,
        "predict_v1_models__name__predict_post", "PredictRequest", "PredictResponse",
        [{"name": "include_features", "in": "query", "required": False,
          "description": include, "schema": {"type": "boolean", "default": False,
                                             "title": "Include Features",
                                             "description": include}}])
    paths["/v2/models/{name}/infer"] = _operation(
        "Open Inference Protocol v2", "Score rows given as named tensors",
        INFER_DESCRIPTION, "infer_v2_models__name__infer_post", "InferRequest",
        "InferResponse", [])
    return schema
