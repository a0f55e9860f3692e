"""The prediction log's rows as an Arrow table: its schema, in one place.

One table per model (``<storage root>/predictions/<model>/``), partitioned by the
UTC date of ``predicted_at``:

============== ==================== ==================================================
column          type                 meaning
============== ==================== ==================================================
prediction_id   string               UUIDv7 of the prediction (time-ordered); the
                                     ``id`` the API returned
predicted_at    timestamp[us, UTC]   when the features were read (the request's
                                     ``at``, else the time of scoring)
model           string               the model's name
model_version   int64                the registered version that scored
score           float64              the score returned
origin          string               ``http`` (/v1), ``oip`` (/v2), or a caller's name
<key columns>   int64 or string      each entity key of the request, converted as the
                                     entity's key column (e.g. ``customer_id``)
missing         list<string>         input columns that got a default: their entity had
                                     no online state
features        string (JSON)        the model's input: column -> value (null where
                                     missing)
request         string (JSON)        the request as received: ``{"keys": {...},
                                     "fields": {...}, "at": ...}``
============== ==================== ==================================================

A key column named like one of the fixed columns is kept only in ``request``.

``log_table`` builds the table from the rows ``Scorer`` logs (a few per request);
``columns_table`` from a batch's columns (``LogColumns``, what a stream scorer logs:
its ids, times and scores as arrays, its inputs and requests already JSON text), with
no object per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from confluens.lifecycle.serve.json_columns import JSON, finite

__all__ = ["FIXED", "LogColumns", "columns_table", "conform", "log_schema", "log_table"]

FIXED = pa.schema([
    ("prediction_id", pa.string()),
    ("predicted_at", pa.timestamp("us", tz="UTC")),
    ("model", pa.string()),
    ("model_version", pa.int64()),
    ("score", pa.float64()),
    ("origin", pa.string()),
])
_TAIL = pa.schema([("missing", pa.list_(pa.string())), ("features", pa.string()),
                   ("request", pa.string())])


def _finite_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with NaN and infinities as None (JSON has no such numbers)."""
    return {k: finite(v) for k, v in values.items()}


def log_keys(key_types: Mapping[str, str]) -> list[str]:
    """The key columns the table has (not those named like a fixed column)."""
    return [k for k in key_types if k not in FIXED.names and k not in _TAIL.names]


def log_schema(key_types: Mapping[str, str]) -> pa.Schema:
    """The table's schema for a model with key columns ``key_types`` (``int64`` or
    ``string`` each)."""
    return pa.schema([*FIXED, *[(k, pa.int64() if key_types[k] == "int64" else pa.string())
                                for k in log_keys(key_types)], *_TAIL])


def log_table(rows: Sequence[Mapping[str, Any]], key_types: Mapping[str, str]) -> pa.Table:
    """Rows as ``Scorer`` logs them (``scored``, ``keys``, ``request``) as one table;
    ``key_types`` maps the model's key columns to ``int64`` or ``string``."""
    keys = log_keys(key_types)
    encode = JSON.encode
    scored = [row["scored"] for row in rows]
    requests = [row["request"] for row in rows]
    columns: dict[str, list[Any]] = {
        "prediction_id": [s.id for s in scored],
        "predicted_at": [s.at for s in scored],
        "model": [s.model for s in scored],
        "model_version": [s.version for s in scored],
        "score": [s.score for s in scored],
        "origin": [r.origin for r in requests],
        **{key: [row["keys"].get(key) for row in rows] for key in keys},
        "missing": [list(s.missing) for s in scored],
        "features": [encode(_finite_values(s.inputs)) for s in scored],
        "request": [encode({"keys": dict(r.keys), "fields": _finite_values(r.fields),
                            "at": None if r.at is None else r.at.isoformat()})
                     for r in requests],
    }
    return pa.Table.from_pydict(columns, schema=log_schema(key_types))


@dataclass(frozen=True)
class LogColumns:
    """A batch of predictions of one model, column by column: what ``log_table`` makes
    of as many rows, with ``features`` and ``request`` already JSON text (as
    ``log_table`` encodes them: json_columns.py) and no input missing."""

    ids: Sequence[str]
    at_us: np.ndarray  # predicted_at, µs since the epoch (int64)
    model: str
    version: int
    scores: np.ndarray  # float64
    origin: str
    keys: Mapping[str, pa.Array | pa.ChunkedArray]  # key column -> its values
    features: Sequence[str]
    requests: Sequence[str]

    def __len__(self) -> int:
        return len(self.ids)


def columns_table(batch: LogColumns, key_types: Mapping[str, str]) -> pa.Table:
    """``batch`` as the log's table (``log_schema(key_types)``): a key column the batch
    lacks is null."""
    n = len(batch)
    schema = log_schema(key_types)
    arrays: list[pa.Array | pa.ChunkedArray] = [
        pa.array(batch.ids, pa.string()),
        pa.array(np.asarray(batch.at_us, dtype=np.int64)).cast(FIXED.field(1).type),
        pa.repeat(pa.scalar(batch.model, pa.string()), n),
        pa.repeat(pa.scalar(batch.version, pa.int64()), n),
        pa.array(np.asarray(batch.scores, dtype=np.float64)),
        pa.repeat(pa.scalar(batch.origin, pa.string()), n),
    ]
    for key in log_keys(key_types):
        kind = schema.field(key).type
        given = batch.keys.get(key)
        arrays.append(pa.nulls(n, kind) if given is None else given.cast(kind))
    arrays += [pa.ListArray.from_arrays(pa.array(np.zeros(n + 1, dtype=np.int32)),
                                        pa.array([], pa.string())),
               pa.array(batch.features, pa.string()),
               pa.array(batch.requests, pa.string())]
    return pa.Table.from_arrays(arrays, schema=schema)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` (a log table) with ``schema``'s columns in order, a key column it lacks
    as nulls: log tables of one model made with fewer key columns, to concatenate."""
    if table.schema.equals(schema):
        return table
    return pa.Table.from_arrays(
        [table.column(f.name) if f.name in table.column_names
         else pa.nulls(table.num_rows, f.type) for f in schema], schema=schema)
