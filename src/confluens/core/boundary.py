"""The boundary around user code: user exceptions become UserCodeError, traceback kept.

>>> def check(df):
...     raise ValueError("boom")
>>> try:
...     with user_code("Check 'big_amount'"):
...         check(None)
... except UserCodeError as err:
...     print(type(err.__cause__).__name__, err.__cause__)
ValueError boom
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from confluens.errors import ConfluensError, UserCodeError

__all__ = ["user_code"]


@contextmanager
def user_code(thing: str) -> Iterator[None]:
    """Run user code; re-raise anything but our own errors as UserCodeError from it."""
    try:
        yield
    except ConfluensError:
        raise
    except Exception as exc:
        raise UserCodeError(thing, exc) from exc
