"""Database URLs as users write them, made explicit for SQLAlchemy.

>>> database_url("postgresql://me@db/x")
'postgresql+psycopg://me@db/x'
>>> database_url("sqlite:///m.db")
'sqlite:///m.db'
>>> url_dialect("postgresql+psycopg://me@db/x"), url_dialect("mysql://me@db/x")
('postgresql', 'mysql')
>>> sqlite_url_under("sqlite:///.confluens/metadata.db", "/p")
'sqlite:////p/.confluens/metadata.db'
>>> sqlite_url_under("sqlite:////abs/m.db", "/p"), sqlite_url_under("postgresql://h/db", "/p")
('sqlite:////abs/m.db', 'postgresql://h/db')
"""

from __future__ import annotations

import os

__all__ = ["database_url", "sqlite_url_under", "url_dialect"]

_SQLITE = "sqlite:///"


def database_url(url: str) -> str:
    """Use psycopg (the ``postgres`` extra) for PostgreSQL URLs that name no driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def url_dialect(url: str) -> str:
    """The database a URL names, without its driver: ``postgres`` counts as PostgreSQL."""
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower()
    return "postgresql" if scheme == "postgres" else scheme


def sqlite_url_under(url: str, base: str | os.PathLike[str]) -> str:
    """A SQLite URL whose file path is relative, made absolute under ``base``.

    Other URLs, absolute paths and in-memory databases are returned unchanged.
    """
    if not url.startswith(_SQLITE):
        return url
    path = url[len(_SQLITE):]
    if not path or path.startswith(("/", ":memory:")):
        return url
    return _SQLITE + os.path.join(os.fspath(base), path)
