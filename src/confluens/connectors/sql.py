"""Databases: the result of a SQL query against any SQLAlchemy URL, in batches.

The query text is the user's own and is sent to their database as written.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.exc import NoSuchModuleError, SQLAlchemyError

from confluens.connectors.chunk import PARSE_ERROR, RECORD, ROW, RawChunk, loader
from confluens.errors import MissingExtraError, SourceReadError
from confluens.urls import database_url

__all__ = ["is_database_uri", "query_chunks"]

_SCHEMES = ("postgresql", "postgres", "sqlite", "mysql", "mariadb")
_EXTRA = {"postgresql": "postgres", "postgres": "postgres"}


def is_database_uri(value: str) -> bool:
    scheme = value.split("://", 1)[0].split("+", 1)[0].lower() if "://" in value else ""
    return scheme in _SCHEMES


def _engine(uri: str) -> sa.Engine:
    uri = database_url(uri)
    try:
        return sa.create_engine(uri)
    except NoSuchModuleError:
        raise SourceReadError("database URI", "names a dialect SQLAlchemy does not know",
                              got=uri, fix="use postgresql://user@host/db") from None
    except ModuleNotFoundError as exc:
        scheme = uri.split(":", 1)[0].split("+", 1)[0]
        module = exc.name or scheme
        if scheme in _EXTRA:
            raise MissingExtraError(f"reading from {scheme}", _EXTRA[scheme], module) from None
        raise SourceReadError(f"reading from {scheme}", "needs a database driver that is not "
                              "installed", got=module, fix=f"pip install {module}") from None


def query_chunks(uri: str, query: str, batch_rows: int = 100_000) -> Iterator[RawChunk]:
    """Run ``query`` once and yield its result in batches of ``batch_rows`` rows."""
    engine = _engine(uri)
    offset = 0
    try:
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True,
                                            yield_per=batch_rows).execute(sa.text(query))
            names = list(result.keys())
            empty = True
            for part in result.partitions(batch_rows):
                empty = False
                table = _to_arrow(names, part, offset)
                offset += table.num_rows
                yield RawChunk(f"{_safe(uri)} rows {offset - table.num_rows}..{offset - 1}",
                               loader(_load, table))
            if empty:
                table = _to_arrow(names, [], 0)
                yield RawChunk(f"{_safe(uri)} (no rows)", loader(_load, table))
    except SQLAlchemyError as exc:
        raise SourceReadError("SQL query", "failed against the database",
                              got=str(getattr(exc, "orig", exc)).splitlines()[0],
                              fix="check the query and the URI") from None
    finally:
        engine.dispose()


def _safe(uri: str) -> str:
    """The URI without its password."""
    return sa.make_url(uri).render_as_string(hide_password=True)


def _to_arrow(names: list[str], rows: Any, offset: int) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays: dict[str, Any] = {}
    for name, values in zip(names, columns, strict=True):
        try:
            arrays[name] = pa.array(list(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays[name] = pa.array([None if v is None else str(v) for v in values], pa.string())
    n = len(rows)
    arrays[ROW] = pa.array(range(offset, offset + n), pa.int64())
    arrays[PARSE_ERROR] = pa.nulls(n, pa.string())
    arrays[RECORD] = pa.nulls(n, pa.string())
    return pa.table(arrays)


def _load(con: Any, table: str, data: pa.Table) -> int:
    con.register(f"{table}_arrow", data)
    rel = con.table(f"{table}_arrow")
    rel.create(table)
    con.unregister(f"{table}_arrow")
    return int(data.num_rows)
