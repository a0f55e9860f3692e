"""``/v2``: the Open Inference Protocol (KServe v2) over the same scoring path.

A request's tensors are named after the model's entity key columns and request-time
fields, one value per row (shape ``[N]`` or ``[N, 1]``). The response has
``score`` (FP64), ``prediction_id`` and ``missing`` (BYTES: the comma-separated
columns that got their default), and with the parameter ``include_features`` one FP64
tensor per input column.

The GET endpoints are FastAPI routes; ``POST /v2/models/{name}/infer`` is served by
the lean scoring layer (scoring_routes.py), which validates the body and calls
``infer`` here.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from confluens import __version__
from confluens.errors import InputError, UnknownNameError
from confluens.interfaces.api.responses import error, finite, json_response
from confluens.interfaces.api.schemas import InferRequest, ModelMetadata
from confluens.lifecycle.serve import ModelService, Scored, ScoreRequest, Served

__all__ = ["INFER_DESCRIPTION", "infer", "oip_router"]

INFER_DESCRIPTION = """One tensor per entity key column and request-time field, one value per
row; see `GET /v2/models/{name}` for the names."""

_STRINGS = {"BYTES"}
_NUMBERS = {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
            "FP16", "FP32", "FP64"}


def _flat(data: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in data:
        out.extend(_flat(item) if isinstance(item, list) else [item])
    return out


def _rows(body: InferRequest, served: Served) -> list[ScoreRequest]:
    """The request's tensors as one ScoreRequest per row (InputError for a mistake)."""
    if not body.inputs:
        raise InputError("inputs", "needs one tensor per entity key column",
                         got=[], fix=f"send tensors named {list(served.scorer.keys)}")
    params = body.parameters or {}
    at = params.get("at")
    if at is not None:
        try:
            at = datetime.fromisoformat(str(at))
        except ValueError:
            raise InputError("parameters.at", "is an ISO 8601 time with a zone", got=at,
                             fix="write e.g. 2024-01-31T12:00:00Z") from None
    columns: dict[str, list[Any]] = {}
    n = None
    for i, tensor in enumerate(body.inputs):
        where = f"inputs[{i}] ({tensor.name})"
        if tensor.datatype not in _STRINGS | _NUMBERS:
            raise InputError(f"{where}.datatype", "is an Open Inference Protocol type",
                             got=tensor.datatype, fix="use BYTES, INT64, FP64, BOOL...")
        data = _flat(tensor.data)
        if not tensor.shape or math.prod(tensor.shape) != len(data) or (
                len(tensor.shape) == 2 and tensor.shape[1] != 1) or len(tensor.shape) > 2:
            raise InputError(f"{where}.shape", "is [N] or [N, 1], with as many values as "
                             "it says", got={"shape": tensor.shape, "values": len(data)},
                             fix=f"send shape [{len(data)}]")
        if n is not None and len(data) != n:
            raise InputError(f"{where}.shape", "every tensor has one value per row",
                             got=len(data), fix=f"send {n} values, as the first tensor does")
        if tensor.name in columns:
            raise InputError(f"{where}.name", "names each column once", got=tensor.name,
                             fix="merge the two tensors")
        n = len(data)
        columns[tensor.name] = data
    keys = [k for k in served.scorer.keys if k in columns]
    fields = [c for c in columns if c not in served.scorer.keys]
    return [ScoreRequest({k: columns[k][r] for k in keys}, {f: columns[f][r] for f in fields},
                         at, origin="oip") for r in range(n or 0)]


def _metadata(name: str, served: Served) -> dict[str, Any]:
    inputs = [{"name": k, "datatype": "INT64" if t == "int64" else "BYTES", "shape": [-1]}
              for k, t in served.scorer.keys.items()]
    inputs += [{"name": f, "datatype": "FP64", "shape": [-1]}
               for f in served.scorer.inputs.required]
    return {"name": name, "versions": [str(served.model.version)], "platform": "confluens",
            "inputs": inputs, "outputs": [
                {"name": "score", "datatype": "FP64", "shape": [-1]},
                {"name": "prediction_id", "datatype": "BYTES", "shape": [-1]},
                {"name": "missing", "datatype": "BYTES", "shape": [-1]}]}


async def infer(service: ModelService, name: str, body: InferRequest) -> Response:
    """Score ``body``'s rows with model ``name`` (a 404 if it is not served); an
    InputError for a mistake in a row (the caller makes it a 422), raised before any
    row is scored."""
    try:
        served = service.get(name)
    except UnknownNameError as exc:
        return error(404, exc)
    rows = _rows(body, served)
    for i, row in enumerate(rows):  # every row checked before any is scored
        try:
            served.scorer.check(row)
        except InputError as exc:
            raise InputError(f"row {i}: {exc.thing}", exc.rule, got=exc.got,
                             fix=exc.fix) from None
    results = await served.batcher.submit_many(rows)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    scored = [r for r in results if isinstance(r, Scored)]
    outputs = [
        {"name": "score", "datatype": "FP64", "shape": [len(scored)],
         "data": [finite(s.score) for s in scored]},
        {"name": "prediction_id", "datatype": "BYTES", "shape": [len(scored)],
         "data": [s.id for s in scored]},
        {"name": "missing", "datatype": "BYTES", "shape": [len(scored)],
         "data": [",".join(s.missing) for s in scored]}]
    if (body.parameters or {}).get("include_features"):
        outputs += [{"name": c, "datatype": "FP64", "shape": [len(scored)],
                     "data": [finite(s.inputs[c]) for s in scored]}
                    for c in served.model.columns]
    return json_response({"model_name": name, "model_version": str(served.model.version),
                          **({"id": body.id} if body.id is not None else {}),
                          "outputs": outputs})


def oip_router(service: ModelService) -> APIRouter:
    router = APIRouter(prefix="/v2", tags=["Open Inference Protocol v2"])

    @router.get("", summary="Server metadata")
    async def server() -> Response:
        return json_response({"name": "confluens", "version": __version__,
                              "extensions": []})

    @router.get("/health/live", summary="The server is up")
    async def live() -> Response:
        return json_response({"live": True})

    @router.get("/health/ready", summary="Every model is loaded and ready")
    async def ready() -> Response:
        ok = service.ready
        return json_response({"ready": ok, **({} if ok else {"failed": service.failed})},
                             200 if ok else 503)

    @router.get("/models/{name}", response_model=ModelMetadata, summary="Model metadata")
    async def metadata(name: str) -> Response:
        try:
            served = service.get(name)
        except UnknownNameError as exc:
            return error(404, exc)
        return json_response(_metadata(name, served))

    @router.get("/models/{name}/ready", summary="The model is ready")
    async def model_ready(name: str) -> Response:
        if name in service.failed:
            return json_response({"name": name, "ready": False,
                                  "error": service.failed[name]}, 503)
        try:
            service.get(name)
        except UnknownNameError as exc:
            return error(404, exc)
        return json_response({"name": name, "ready": True})

    return router
