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


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def log_table(rows: Sequence[Mapping[str, Any]], key_types: Mapping[str, str]) -> pa.Table:
    """Rows as ``Scorer`` logs them (``scored``, ``keys``, ``request``) as one table;
    ``key_types`` maps the model's key columns to ``int64`` or ``string``."""
    keys = [k for k in key_types if k not in FIXED.names and k not in _TAIL.names]
    columns: dict[str, list[Any]] = {name: [] for name in (*FIXED.names, *keys, *_TAIL.names)}
    for row in rows:
        scored, request = row["scored"], row["request"]
        columns["prediction_id"].append(scored.id)
        columns["predicted_at"].append(scored.at)
        columns["model"].append(scored.model)
        columns["model_version"].append(scored.version)
        columns["score"].append(scored.score)
        columns["origin"].append(request.origin)
        for key in keys:
            columns[key].append(row["keys"].get(key))
        columns["missing"].append(list(scored.missing))
        columns["features"].append(_JSON.encode({c: _finite(v)
                                                 for c, v in scored.inputs.items()}))
        columns["request"].append(_JSON.encode({
            "keys": dict(request.keys), "fields": {k: _finite(v)
                                                   for k, v in request.fields.items()},
            "at": None if request.at is None else request.at.isoformat()}))
    schema = pa.schema([*FIXED, *[(k, pa.int64() if key_types[k] == "int64" else pa.string())
                                  for k in keys], *_TAIL])
    return pa.Table.from_pydict(columns, schema=schema)
