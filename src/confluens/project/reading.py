"""Reading a source's stored records back, with an optional user filter."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa
import sqlglot
import sqlglot.expressions as exp

from confluens.core import Source
from confluens.core.system_columns import INGESTED_AT, SYSTEM_COLUMNS
from confluens.errors import ExpressionError, UnknownNameError
from confluens.ingest.coerce import SQL_TYPES
from confluens.sqlx import DIALECT, col, render

__all__ = ["parse_filter", "read_table"]

_FORBIDDEN = (exp.Select, exp.Subquery, exp.Command, exp.Create, exp.Drop, exp.Insert,
              exp.Update, exp.Delete, exp.Table)


def parse_filter(where: str, columns: Sequence[str]) -> exp.Expression:
    """Parse a user filter such as ``"amount > 100 AND country = 'FR'"``.

    Only expressions over the named columns are allowed: no subqueries, tables or
    statements.

    >>> render(parse_filter("amount > 100", ["amount"]))
    'amount > 100'
    >>> parse_filter("1=1; DROP TABLE x", ["amount"])
    Traceback (most recent call last):
    ...
    confluens.errors.ExpressionError: --where: must be one expression over the source's columns;
    got '1=1; DROP TABLE x'. Fix: ...
    """
    example = "write e.g. \"amount > 100 AND country = 'FR'\""
    try:
        parsed = sqlglot.parse(where, dialect=DIALECT)
    except sqlglot.errors.SqlglotError:
        raise ExpressionError("--where", "does not parse as an expression", got=where,
                              fix=example) from None
    if len(parsed) != 1 or parsed[0] is None or any(
            isinstance(node, _FORBIDDEN) for node in parsed[0].walk()):
        raise ExpressionError("--where", "must be one expression over the source's columns",
                              got=where, fix=example)
    tree = parsed[0]
    for column in tree.find_all(exp.Column):
        if column.name not in columns:
            raise UnknownNameError("--where", "names a column the source does not have",
                                   got=column.name, fix=f"use one of {list(columns)}")
    return tree


def read_table(source: Source, files: list[str], *, columns: Sequence[str] | None = None,
               where: str | None = None, limit: int | None = None,
               system_columns: bool = False) -> pa.Table:
    available = [*source.schema.names, *SYSTEM_COLUMNS]
    wanted = list(columns) if columns else (available if system_columns
                                            else list(source.schema.names))
    for name in wanted:
        if name not in available:
            raise UnknownNameError(f"source '{source.name}'", "has no such column", got=name,
                                   fix=f"use one of {list(source.schema.names)}")
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        if files:
            con.register("stored", con.read_parquet(files, union_by_name=True))
        else:
            con.register("stored", con.sql(render(_empty(source))))
        query = exp.select(*[col(c) for c in wanted]).from_("stored")
        if where:
            query = query.where(parse_filter(where, available))
        if limit is not None:
            if limit < 0:
                raise ExpressionError("--limit", "must be zero or more", got=limit,
                                      fix="pass a non-negative number")
            query = query.limit(limit)
        try:
            return con.sql(render(query)).to_arrow_table()
        except duckdb.Error as exc:
            raise ExpressionError("--where", "failed to evaluate", got=where,
                                  fix=f"check the expression ({str(exc).splitlines()[0]})"
                                  ) from None
    finally:
        con.close()


def _empty(source: Source) -> exp.Select:
    """A query with no rows and the columns a stored table of ``source`` has."""
    types = {**{f.name: SQL_TYPES[f.dtype] for f in source.schema},
             **{c: "VARCHAR" for c in SYSTEM_COLUMNS}, INGESTED_AT: "TIMESTAMPTZ"}
    return exp.select(*[exp.alias_(exp.cast(exp.null(), t), name, quoted=True)
                        for name, t in types.items()]).limit(0)
