"""The largest request body the API reads, and the 413 for one that is larger.

One limit for every route that reads a body (the scoring routes, push, events): a body
is read no further than it, so a client cannot make the server hold an unbounded body
in memory. ``read_body`` reads a FastAPI route's body so; the scoring routes, which
answer before FastAPI, read theirs from the ASGI messages the same way.

>>> too_large().status_code
413
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from confluens.errors import InputError
from confluens.interfaces.api.responses import error

__all__ = ["MAX_BODY", "read_body", "too_large"]

MAX_BODY = 64 << 20  # bytes


def too_large(fix: str = "send the rows in several requests") -> Response:
    """The 413 for a body over ``MAX_BODY``, naming the limit and the fix."""
    return error(413, InputError("request body", f"may be at most {MAX_BODY >> 20} MiB",
                                 got=f"more than {MAX_BODY:,} bytes", fix=fix))


async def read_body(request: Request) -> bytes | None:
    """``request``'s body; None once it exceeds ``MAX_BODY`` (it is read no further)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
