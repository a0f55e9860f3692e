"""The HTTP app: ``create_app(service)`` serves a ``ModelService`` with FastAPI.

Errors map to status codes here and only here: a mistake in the request (any
``InputError``) is a 422 whose body names the field, the rule, the value received and
the fix; an unknown model a 404 listing the served ones; a project not ready to serve
(say, online state to rebuild) a 503 that says what to run (responses.py:
``confluens_error``); anything else a 500 with no traceback (it goes to the server's
log).

The scoring routes (``POST /v1/models/{name}/predict``, ``POST
/v2/models/{name}/infer``) are answered by a lean layer in front of FastAPI's routing
(scoring_routes.py), which the OpenAPI document lists like the others.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from confluens import __version__
from confluens.errors import ConfluensError, InputError, MissingExtraError
from confluens.lifecycle.serve import ModelService
from confluens.project.event_scoring import EventScoring
from confluens.project.stream.publish import Publisher

try:
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import ASGIApp
except ImportError:  # pragma: no cover - the serve extra is missing
    raise MissingExtraError("serving over HTTP", "serve", "fastapi") from None

from confluens.interfaces.api.events import events_router
from confluens.interfaces.api.oip import oip_router
from confluens.interfaces.api.push import push_router
from confluens.interfaces.api.responses import confluens_error, internal_error
from confluens.interfaces.api.scoring_routes import ScoringRoutes, with_scoring_paths
from confluens.interfaces.api.v1 import v1_router
from confluens.interfaces.api.validation import validation_error

__all__ = ["create_app"]

DESCRIPTION = """Predictions with fresh features from the online store.

`POST /v1/models/{name}/predict` takes entity keys and request-time fields; the Open
Inference Protocol v2 endpoints live under `/v2`. `POST /v1/sources/{source}/records`
appends records to a source's stream (sources bound to an `http` stream). Every
prediction is logged to the project's prediction log. Errors come as `{"error":
message, "thing", "rule", "got", "fix"}`.
"""


def create_app(service: ModelService | None = None, *,
               publisher: Publisher | None = None,
               events: EventScoring | None = None) -> FastAPI:
    """The app serving ``service``'s models (it starts and stops the service, batchers
    and prediction log, with the server), with ``events`` scoring events as they happen
    (events.py) and, with a ``publisher``, taking records pushed into sources' streams
    (push.py)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if service is not None:
            await service.start()
        _freeze_startup_objects()
        try:
            yield
        finally:
            gc.unfreeze()
            if service is not None:
                await service.stop()
            if publisher is not None:
                publisher.close()
            if events is not None:
                events.close()

    app = _App(title="confluens", version=__version__, description=DESCRIPTION,
               lifespan=lifespan)
    app.state.service = service
    if service is not None:
        app.include_router(v1_router(service))
        app.include_router(oip_router(service))
        app.scoring = service

        def openapi() -> dict[str, Any]:
            if app.openapi_schema is None:
                app.openapi_schema = with_scoring_paths(FastAPI.openapi(app))
            return app.openapi_schema

        app.openapi = openapi  # type: ignore[method-assign]
    if events is not None:
        app.include_router(events_router(events))
    if publisher is not None:
        app.include_router(push_router(publisher))
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(ConfluensError, _not_ready)
    app.add_exception_handler(Exception, _internal)
    return app


def _freeze_startup_objects() -> None:
    """Move what exists once the server has started (libraries, definitions, models:
    some 200,000 objects) out of the garbage collector's way. A full collection walks
    every tracked object, about 0.4 s here with them: a pause of every request in
    flight. Frozen, a collection walks only what requests have made since."""
    gc.collect()
    gc.freeze()


class _App(FastAPI):
    """FastAPI, with ``scoring``'s scoring routes answered before its middleware stack
    and routing (scoring_routes.py)."""

    scoring: ModelService | None = None

    def build_middleware_stack(self) -> ASGIApp:
        app = super().build_middleware_stack()
        return app if self.scoring is None else ScoringRoutes(app, self.scoring)


async def _input_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, InputError)
    return confluens_error(exc)


async def _not_ready(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConfluensError)
    return confluens_error(exc)


async def _internal(request: Request, exc: Exception) -> Response:
    return internal_error(request.method, request.url.path, exc)
