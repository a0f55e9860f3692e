"""Many values as JSON text at once: what the prediction log's encoder writes, byte
for byte, without one encoder call per value.

The log writes a row's model inputs and request as compact JSON objects (``JSON``:
no spaces, ASCII only, NaN and infinities as ``null``, other values through
``str``). A stream scores a whole batch at once, so it encodes a column of values at
a time: a column of plain floats, integers, strings, booleans or nulls takes one
C-level conversion per value (``float.__repr__``, ``int.__repr__``, the encoder's own
string escaping), any other value the encoder itself; ``json_objects`` then puts each
row's encoded values between its keys.

>>> json_texts([1.5, None, float("nan"), 3])
['1.5', 'null', 'null', '3']
>>> json_objects(["a", "b"], [["1", "2"], ['"x"', "null"]], 2)
['{"a":1,"b":"x"}', '{"a":2,"b":null}']
>>> iso_utc([0, 1_500_000_000_123_456])
['1970-01-01T00:00:00+00:00', '2017-07-14T02:40:00.123456+00:00']
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from json.encoder import encode_basestring_ascii
from typing import Any

import numpy as np

__all__ = ["JSON", "finite", "iso_utc", "json_objects", "json_pattern", "json_rows",
           "json_texts"]

JSON = json.JSONEncoder(default=str, separators=(",", ":"), allow_nan=False)
_NOT_FINITE = frozenset({"nan", "inf", "-inf"})  # float.__repr__ of what JSON lacks


def finite(value: Any) -> Any:
    """``value``, or None for a NaN or infinite float (JSON has no such numbers)."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _float(value: float) -> str:
    text = float.__repr__(value)
    return "null" if text in _NOT_FINITE else text


_PLAIN: dict[type, Any] = {
    float: _float,
    int: int.__repr__,
    str: encode_basestring_ascii,
    bool: lambda v: "true" if v else "false",
    type(None): lambda _: "null",
}


def json_texts(values: Sequence[Any]) -> list[str]:
    """``[JSON.encode(finite(v)) for v in values]``, a column at a time."""
    kinds = set(map(type, values))
    if len(kinds) == 1:
        (kind,) = kinds
        if kind is float:
            texts = list(map(float.__repr__, values))
            if not _NOT_FINITE.isdisjoint(texts):
                texts = ["null" if t in _NOT_FINITE else t for t in texts]
            return texts
        if kind is int or kind is str:
            return list(map(_PLAIN[kind], values))
    if kinds <= _PLAIN.keys():
        plain = _PLAIN
        return [plain[type(v)](v) for v in values]
    encode = JSON.encode
    return [encode(finite(v)) for v in values]


def json_pattern(names: Sequence[str]) -> str:
    """A JSON object's text with a ``%s`` for the value of each of ``names`` (in order),
    for ``%`` formatting; patterns nest (a pattern's text in place of a value).

    >>> json_pattern(["a", "100%"]) % ("1", "null")
    '{"a":1,"100%":null}'
    """
    return "{" + ",".join(encode_basestring_ascii(name).replace("%", "%%") + ":%s"
                          for name in names) + "}"


def json_objects(names: Sequence[str], columns: Sequence[Sequence[str]], n: int) -> list[str]:
    """``n`` JSON objects, row ``i`` holding ``names[j]: columns[j][i]`` in order (each
    ``columns[j][i]`` a value's JSON text, from ``json_texts``)."""
    return json_rows(json_pattern(names), columns, n)


def json_rows(pattern: str, columns: Sequence[Sequence[str]], n: int) -> list[str]:
    """``n`` texts, row ``i`` being ``pattern`` (from ``json_pattern``, perhaps nested)
    with the ``i``-th text of each of ``columns`` in its ``%s`` places, in order."""
    if not columns:
        return [pattern % ()] * n
    return [pattern % row for row in zip(*columns, strict=True)]


def iso_utc(micros: Sequence[int] | np.ndarray, *, zone: str = "+00:00") -> list[str]:
    """``(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)).isoformat()``
    of each of ``micros`` (microseconds since the epoch, within years 1 to 9999): the
    fraction left out when it is zero, as ``isoformat`` does; ``zone`` is the suffix
    (``""``: none, for a caller that appends its own)."""
    us = np.asarray(micros, dtype=np.int64)
    stamps = us.astype("datetime64[us]")
    texts = np.datetime_as_string(stamps, unit="s")
    fraction = us % 1_000_000 != 0
    if fraction.any():
        texts = np.where(fraction, np.datetime_as_string(stamps, unit="us"), texts)
    if not zone:
        return texts.tolist()  # type: ignore[no-any-return]
    return [t + zone for t in texts.tolist()]
