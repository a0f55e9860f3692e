"""Records kept as text (JSON objects), e.g. quarantined records being retried."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa
import sqlglot.expressions as exp

from confluens.connectors.chunk import RawChunk
from confluens.connectors.files import json_lines_to_raw

__all__ = ["records_chunk"]


def records_chunk(label: str, records: pa.Table, columns: Sequence[str]) -> RawChunk:
    """A chunk from a table ``(position int64, line string)``."""

    def load(con: duckdb.DuckDBPyConnection, table: str) -> int:
        con.register(f"{table}_lines", records)
        json_lines_to_raw(con, table, f"{table}_lines", exp.column("position"), columns)
        con.unregister(f"{table}_lines")
        return int(records.num_rows)

    return RawChunk(label, load, per_record_columns=True)
