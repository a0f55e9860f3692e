"""The one way the plan engines open DuckDB: in memory, with times in UTC."""

from __future__ import annotations

import duckdb

__all__ = ["connect"]


def connect() -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB connection whose session time zone is UTC, so that
    timestamps with a time zone convert to and from dates and text alike everywhere."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con
