"""Arrow columns as the Python expression evaluator holds them (evaluate_python.py).

Every value is one of a few Arrow types: int64, float64, bool, string, UTC
microsecond timestamps or dates (:func:`normalise`). A :class:`Frame` is the columns
over some rows, so a CASE branch reads only the rows that reach it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "BOOL",
    "DATE",
    "FLOAT",
    "HELD",
    "INT",
    "STRING",
    "TIME",
    "Frame",
    "arrow_type",
    "as_type",
    "from_numpy",
    "normalise",
    "numpy_values",
    "valid_rows",
]

INT, FLOAT, BOOL, STRING = pa.int64(), pa.float64(), pa.bool_(), pa.string()
TIME, DATE = pa.timestamp("us", tz="UTC"), pa.date32()
US_PER_DAY = 86_400_000_000
INT_MIN = -(2**63)


def normalise(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column as the evaluator holds it: int64, float64, bool, string, UTC
    microsecond timestamps or dates, in one chunk."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    t = array.type
    if pa.types.is_integer(t):
        return array.cast(INT)
    if pa.types.is_floating(t):
        return array.cast(FLOAT)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return array.cast(STRING)
    if pa.types.is_timestamp(t):
        return array.cast(pa.timestamp("us", tz=t.tz or "UTC")).cast(TIME)
    if pa.types.is_date(t):
        return array.cast(DATE)
    return array


def arrow_type(dtype: str) -> pa.DataType:
    return {"int64": INT, "float64": FLOAT, "bool": BOOL, "string": STRING,
            "timestamp": TIME, "date": DATE}.get(dtype, pa.null())


class Frame:
    """Columns over some rows: a CASE branch reads only the rows that reach it."""

    def __init__(self, columns: dict[str, Any], n: int,
                 parent: Frame | None = None, rows: pa.Array | None = None) -> None:
        self.columns, self.n, self.parent, self.rows = columns, n, parent, rows

    def column(self, name: str) -> pa.Array:
        found = self.columns.get(name)
        if isinstance(found, pa.Array) and found.type in HELD:
            return found
        if self.parent is None:  # the batch's own column, normalised once
            found = normalise(found if isinstance(found, pa.Array | pa.ChunkedArray)
                              else pa.array(found))
        else:
            assert self.rows is not None
            found = self.parent.column(name).take(self.rows)
        self.columns[name] = found
        return found

    def take(self, rows: pa.Array) -> Frame:
        return Frame({}, len(rows), self, rows)


HELD = (INT, FLOAT, BOOL, STRING, TIME, DATE, pa.null())


def numpy_values(array: pa.Array, fill: Any) -> np.ndarray:
    return np.asarray(pc.fill_null(array, fill).to_numpy(zero_copy_only=False))


def valid_rows(*arrays: pa.Array) -> np.ndarray:
    ok = np.ones(len(arrays[0]), dtype=bool)
    for a in arrays:
        ok &= np.asarray(a.is_valid().to_numpy(zero_copy_only=False))
    return ok


def as_type(array: pa.Array, type_: pa.DataType) -> pa.Array:
    """``array`` as ``type_``; an integer beyond 2**53 becomes the nearest double."""
    return array if array.type == type_ else pc.cast(array, type_, safe=False)


def from_numpy(values: np.ndarray, valid: np.ndarray, type_: pa.DataType) -> pa.Array:
    return pa.array(values, type=type_, mask=~valid)


