"""Request-validation errors (a body that is not JSON, a missing or mistyped field) as
422s that name the field, the rule, the value received and the fix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import Response

from confluens.errors import InputError
from confluens.interfaces.api.responses import error

__all__ = ["describe", "invalid", "validation_error"]

_FIXES = {
    "missing": "add it",
    "extra_forbidden": "remove it; request-time values go under \"fields\"",
    "json_invalid": "send a JSON object, with the header Content-Type: application/json",
    "json_too_deep": "send the request's JSON object; its values nest a few levels at most",
    "model_attributes_type": "send a JSON object, with the header Content-Type: "
                             "application/json",
    "dict_type": "send a JSON object",
    "list_type": "send a JSON array",
    "bool_parsing": "write true or false",
    "datetime_from_date_parsing": "write an ISO 8601 time with a zone, e.g. "
                                  "2024-01-31T12:00:00Z",
    "datetime_parsing": "write an ISO 8601 time with a zone, e.g. 2024-01-31T12:00:00Z",
}


def _field(loc: Sequence[Any]) -> str:
    """``("body", "fields", "amount")`` as ``fields.amount``, ``("body", "inputs", 0,
    "data")`` as ``inputs[0].data``, the body itself as body, a query parameter as
    ``?name``."""
    head, *rest = loc or ("body",)
    if head in ("query", "path") and rest:
        return ("?" if head == "query" else "path ") + ".".join(map(str, rest))
    if not rest or isinstance(rest[0], int):
        return "body"
    out = str(rest[0])
    for part in rest[1:]:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def describe(problem: dict[str, Any], hint: str) -> InputError:
    """One pydantic error as an InputError."""
    kind = str(problem.get("type", ""))
    field = _field(problem.get("loc", ()))
    if kind == "missing":
        return InputError(field, "is required", fix=f"add it ({hint})")
    got = "text that is not JSON" if kind == "json_invalid" else problem.get("input")
    return InputError(field, str(problem.get("msg", "is invalid")), got=got,
                      fix=_FIXES.get(kind, hint))


def invalid(problems: Sequence[dict[str, Any]], base_url: str) -> Response:
    """The 422 for pydantic's ``problems`` (the first one named in full, all listed
    under ``errors``); ``base_url`` points the fix at the API docs."""
    hint = f"see the request schema at {base_url}docs"
    first = describe(problems[0], hint) if problems else InputError(
        "body", "is invalid", fix=hint)
    return error(422, first, errors=[str(describe(p, hint)) for p in problems])


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return invalid(list(exc.errors()), str(request.base_url))
