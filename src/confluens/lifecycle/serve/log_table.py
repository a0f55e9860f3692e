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
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

__all__ = ["FIXED", "log_table"]

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
_JSON = json.JSONEncoder(default=str, separators=(",", ":"), allow_nan=False)


def _finite_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with NaN and infinities as None (JSON has no such numbers)."""
    isfinite = math.isfinite
    return {k: None if isinstance(v, float) and not isfinite(v) else v
            for k, v in values.items()}


def log_table(rows: Sequence[Mapping[str, Any]], key_types: Mapping[str, str]) -> pa.Table:
    """Rows as ``Scorer`` logs them (``scored``, ``keys``, ``request``) as one table;
    ``key_types`` maps the model's key columns to ``int64`` or ``string``."""
    keys = [k for k in key_types if k not in FIXED.names and k not in _TAIL.names]
    encode = _JSON.encode
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
    schema = pa.schema([*FIXED, *[(k, pa.int64() if key_types[k] == "int64" else pa.string())
                                  for k in keys], *_TAIL])
    return pa.Table.from_pydict(columns, schema=schema)
