"""JSON responses, compact and never with NaN: a non-finite number is null."""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.responses import Response

from confluens.errors import ConfluensError

__all__ = ["error", "finite", "json_response"]

_encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=str)


def _dumps(value: Any) -> bytes:
    return _encoder.encode(value).encode()


def finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def json_response(body: Any, status: int = 200) -> Response:
    return Response(_dumps(body), status_code=status, media_type="application/json")


def error(status: int, exc: ConfluensError | None = None, *, message: str = "",
          **extra: Any) -> Response:
    """An error body: ``error`` (the whole message, as the Open Inference Protocol
    wants it) and, for a confluens error, its parts: thing, rule, got, fix."""
    body: dict[str, Any] = {"error": str(exc) if exc is not None else message}
    if exc is not None:
        body.update(thing=exc.thing, rule=exc.rule, got=_plain(exc.got), fix=exc.fix)
    body.update(extra)
    return json_response(body, status)


def _plain(value: Any) -> Any:
    """A value as JSON can carry it (the rest as its text)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return str(value)
    return value
