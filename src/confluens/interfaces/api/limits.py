"""The largest request body the API reads, and the 413 for one that is larger.

One limit for every route that reads a body (the scoring routes, push): a body is read
no further than it, so a client cannot make the server hold an unbounded body in
memory.

>>> too_large().status_code
413
"""

from __future__ import annotations

from starlette.responses import Response

from confluens.errors import InputError
from confluens.interfaces.api.responses import error

__all__ = ["MAX_BODY", "too_large"]

MAX_BODY = 64 << 20  # bytes


def too_large(fix: str = "send the rows in several requests") -> Response:
    """The 413 for a body over ``MAX_BODY``, naming the limit and the fix."""
    return error(413, InputError("request body", f"may be at most {MAX_BODY >> 20} MiB",
                                 got=f"more than {MAX_BODY:,} bytes", fix=fix))
