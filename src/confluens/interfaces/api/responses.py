"""JSON responses, compact and never with NaN: a non-finite number is null.

Bodies are encoded with orjson (part of the serve extra), several times faster than
the standard library for a prediction's body; a value orjson refuses (an integer
beyond 64 bits) falls back to the standard encoder. Values JSON has no type for are
written as their text, as before: a datetime as ``str(value)``, a numpy integer as
its digits; a float subclass (numpy's float64) as a number.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from starlette.responses import Response

from confluens.errors import ConfluensError, InputError, MissingExtraError

try:
    import orjson
except ImportError:  # pragma: no cover - the serve extra is missing
    raise MissingExtraError("serving over HTTP", "serve", "orjson") from None

__all__ = ["confluens_error", "dumps", "error", "finite", "internal_error", "json_response"]

_log = logging.getLogger("confluens.serve")
_encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=str)
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME  # datetimes through _other: str(), as before


def _other(value: Any) -> Any:
    return float(value) if isinstance(value, float) else str(value)


def dumps(value: Any) -> bytes:
    """``value`` as compact JSON bytes (NaN and infinities as null)."""
    try:
        return orjson.dumps(value, default=_other, option=_OPTIONS)
    except TypeError:  # e.g. an integer beyond 64 bits, which orjson refuses
        return _encoder.encode(value).encode()


def finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def json_response(body: Any, status: int = 200) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json")


def error(status: int, exc: ConfluensError | None = None, *, message: str = "",
          **extra: Any) -> Response:
    """An error body: ``error`` (the whole message, as the Open Inference Protocol
    wants it) and, for a confluens error, its parts: thing, rule, got, fix."""
    body: dict[str, Any] = {"error": str(exc) if exc is not None else message}
    if exc is not None:
        body.update(thing=exc.thing, rule=exc.rule, got=_plain(exc.got), fix=exc.fix)
    body.update(extra)
    return json_response(body, status)


def confluens_error(exc: ConfluensError) -> Response:
    """A mistake in the request (an InputError) as a 422; any other confluens error
    means the project is not ready to serve (say, online state to rebuild): a 503,
    also written to the server's log."""
    if isinstance(exc, InputError):
        return error(422, exc)
    _log.error("cannot serve: %s", exc)
    return error(503, exc)


def internal_error(method: str, path: str, exc: BaseException) -> Response:
    """A bug: a 500 with no traceback (it goes to the server's log)."""
    _log.error("internal error on %s %s", method, path, exc_info=exc)
    return error(500, message="internal error: the server's log has the details")


def _plain(value: Any) -> Any:
    """A value as JSON can carry it (the rest as its text)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return str(value)
    return value
