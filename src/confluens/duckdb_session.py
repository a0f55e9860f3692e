"""The one way confluens opens DuckDB: in memory, with times in UTC.

Every package opens its connections here (ingest's stage, the offline store's writer,
the plan engines, the project's readers), so the session settings are stated once.
"""

from __future__ import annotations

import duckdb

__all__ = ["connect"]


def connect() -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB connection whose session time zone is UTC, so that
    timestamps with a time zone convert to and from dates and text alike everywhere.

    >>> con = connect()
    >>> con.execute("SELECT current_setting('TimeZone')").fetchall()
    [('UTC',)]
    >>> con.close()
    """
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con
