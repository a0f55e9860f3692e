"""How each schema type (``DType``) is stored: its DuckDB SQL type and its Arrow type,
in one table that ingest, reading and training sets all use.

>>> SQL_TYPES[DType.TIMESTAMP], str(ARROW_TYPES[DType.TIMESTAMP])
('TIMESTAMPTZ', 'timestamp[us, tz=UTC]')
"""

from __future__ import annotations

import pyarrow as pa

from confluens.core import DType

__all__ = ["ARROW_TYPES", "SQL_TYPES"]

_TYPES: dict[DType, tuple[str, pa.DataType]] = {
    DType.INT64: ("BIGINT", pa.int64()),
    DType.FLOAT64: ("DOUBLE", pa.float64()),
    DType.STRING: ("VARCHAR", pa.string()),
    DType.BOOL: ("BOOLEAN", pa.bool_()),
    DType.TIMESTAMP: ("TIMESTAMPTZ", pa.timestamp("us", tz="UTC")),  # stored in UTC
    DType.DATE: ("DATE", pa.date32()),
}

SQL_TYPES: dict[DType, str] = {dtype: sql for dtype, (sql, _) in _TYPES.items()}
ARROW_TYPES: dict[DType, pa.DataType] = {dtype: arrow for dtype, (_, arrow) in _TYPES.items()}
