"""A request's JSON body as a pydantic model, read as FastAPI reads a JSON body
parameter, with two differences: a body nested too deeply to decode is a 422 (FastAPI
answers a bare 400), and the problems come back to the caller, which answers them with
``validation.invalid`` (a 422 naming the field, the rule, the value received and the
fix).

Used by the routes that read their body themselves: the scoring routes
(``scoring_routes.py``, which answer before FastAPI's routing) and ``events.py``.

>>> from pydantic import BaseModel
>>> class Body(BaseModel):
...     n: int
>>> scope = {"headers": [(b"content-type", b"application/json")]}
>>> problems = []
>>> validated(Body, scope, b'{"n": 3}', problems)
Body(n=3)
>>> deep = b'[' * 100_000 + b']' * 100_000
>>> validated(Body, scope, deep, problems) is None, problems[0]["type"]
(True, 'json_too_deep')
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.types import Scope

__all__ = ["Problems", "is_json", "located", "validated"]

Problems = list[dict[str, Any]]
M = TypeVar("M", bound=BaseModel)


def is_json(scope: Scope) -> bool:
    """The body is declared JSON (application/json or application/...+json)."""
    for key, value in scope["headers"]:
        if key == b"content-type":
            kind = bytes(value).decode("latin-1").split(";", 1)[0].strip().lower()
            main, _, sub = kind.partition("/")
            return bool(main == "application" and (sub == "json" or sub.endswith("+json")))
    return False


def validated(model: type[M], scope: Scope, raw: bytes, problems: Problems) -> M | None:
    """The body as ``model``: a body that is not declared JSON is validated as bytes
    (and refused); None, with the problems appended (located under ``body``), when it
    does not validate."""
    value: Any = raw
    if raw and is_json(scope):
        try:
            value = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            problems.clear()  # as FastAPI: a body that is not JSON is the only problem
            problems.append({"type": "json_invalid", "loc": ("body", getattr(exc, "pos", 0)),
                             "msg": "JSON decode error", "input": {},
                             "ctx": {"error": str(exc)}})
            return None
        except RecursionError:  # json's decoder recurses once per level of nesting
            problems.clear()
            problems.append({"type": "json_too_deep", "loc": ("body",),
                             "msg": "nests too deeply to decode",
                             "input": "JSON nested deeper than the decoder's limit"})
            return None
    if not raw or value is None:
        problems.append({"type": "missing", "loc": ("body",), "msg": "Field required",
                         "input": None})
        return None
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems += located(exc, ("body",))
        return None


def located(exc: ValidationError, where: Sequence[Any]) -> Problems:
    """``exc``'s problems, each located under ``where``."""
    return [{**problem, "loc": (*where, *problem["loc"])} for problem in exc.errors()]
