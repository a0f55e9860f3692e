"""A raw chunk: one unit of input, loaded into a DuckDB table for ingestion.

The loaded table holds the input's own columns, untyped or typed as the input
had them, plus three columns of confluens':

- ``__row``: the record's position among the input's records, in reading order,
  from 0, malformed records included (a CSV's header and blank lines are no
  records);
- ``__parse_error``: why the record could not be read at all, else NULL;
- ``__record``: the record's raw text where the input has one (a JSON line, a
  malformed CSV line), else NULL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

__all__ = ["PARSE_ERROR", "RECORD", "ROW", "Loader", "RawChunk", "loader"]

ROW = "__row"
PARSE_ERROR = "__parse_error"
RECORD = "__record"


Loader = Callable[[duckdb.DuckDBPyConnection, str], int]


def loader(load: Callable[..., int], *args: Any) -> Loader:
    """``load(con, table, *args)`` as a chunk's loader: ``args`` bound now, not when
    the chunk is read (a loop's variables have moved on by then)."""
    return lambda con, table: load(con, table, *args)


@dataclass(frozen=True)
class RawChunk:
    """``load(con, table)`` creates ``table`` and returns its row count."""

    label: str
    load: Loader
    per_record_columns: bool = False  # JSON lines: a missing key is a null, not a schema error
