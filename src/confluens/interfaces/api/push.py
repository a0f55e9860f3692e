"""``POST /v1/sources/{source}/records``: records pushed into a source's stream.

The body is a JSON array of records (``application/json``) or one JSON record per line
(``application/x-ndjson``). Each record becomes one message of the source's log, which
the stream processor reads (project/stream/publish.py); the answer (202) comes once
they are durably appended. The records are checked by the processor, not here: a bad
one goes to quarantine with its reason, so nothing pushed is lost. Only a body that is
not JSON at all, or not an array, is refused (422), with nothing appended; one over
``limits.MAX_BODY`` (64 MiB) is refused (413) before it is read further.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from confluens.errors import InputError
from confluens.interfaces.api.limits import read_body, too_large
from confluens.interfaces.api.responses import json_response
from confluens.project.stream.publish import Publisher

__all__ = ["push_router"]

_NDJSON = ("application/x-ndjson", "application/jsonl", "application/jsonlines")

_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"description": "The body is not a JSON array (or JSON lines), or the source "
                         "takes no pushed records; `error` says what to do."},
}


def _parse_array(body: bytes) -> list[Any]:
    import json

    try:
        records = json.loads(body)
    except ValueError as exc:
        raise InputError("request body", "must be a JSON array of records",
                         got=f"{exc} ({body[:60]!r})",
                         fix="send [{...}, {...}], or one JSON record per line with "
                         "Content-Type: application/x-ndjson") from None
    if not isinstance(records, list):
        raise InputError("request body", "must be a JSON array of records",
                         got=type(records).__name__, fix="wrap the record(s) in [ ]")
    return records


def push_router(publisher: Publisher) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["streams"])

    @router.get("/sources", summary="The sources that take pushed records")
    async def sources() -> Response:
        return json_response({"sources": publisher.sources})

    @router.post("/sources/{source}/records", status_code=202, responses=_ERRORS,
                 summary="Append records to a source's stream")
    async def push(source: str, request: Request) -> Response:
        body = await read_body(request)  # read no further than the limit
        if body is None:
            return too_large("send the records in several requests")
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind in _NDJSON:
            lines = [line for line in body.splitlines() if line.strip()]
            appended = await run_in_threadpool(publisher.publish_lines, source, lines)
        else:
            records = _parse_array(body)
            appended = await run_in_threadpool(publisher.publish, source, records)
        return json_response({"source": source, "appended": appended}, 202)

    return router
