"""Database URLs as users write them, made explicit for SQLAlchemy.

>>> database_url("postgresql://me@db/x")
'postgresql+psycopg://me@db/x'
>>> database_url("sqlite:///m.db")
'sqlite:///m.db'
"""

from __future__ import annotations

__all__ = ["database_url"]


def database_url(url: str) -> str:
    """Use psycopg (the ``postgres`` extra) for PostgreSQL URLs that name no driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
