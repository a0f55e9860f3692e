"""Reading a source's stored records back, with an optional user filter."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa
import sqlglot
import sqlglot.expressions as exp

from confluens.core import Source
from confluens.core.system_columns import INGESTED_AT, SYSTEM_COLUMNS
from confluens.duckdb_session import connect
from confluens.errors import ExpressionError, UnknownNameError
from confluens.plan.column_types import SQL_TYPES
from confluens.sqlx import DIALECT, col, render

__all__ = ["MAX_FILTER_DEPTH", "count_rows", "parse_filter", "read_table"]

MAX_FILTER_DEPTH = 30  # nesting levels of a filter: deeper ones are refused, clearly

_FORBIDDEN = (exp.Select, exp.Subquery, exp.Command, exp.Create, exp.Drop, exp.Insert,
              exp.Update, exp.Delete, exp.Table)


def parse_filter(where: str, columns: Sequence[str]) -> exp.Expr:
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
    too_deep = ExpressionError("--where", "nests too deeply (keep it within "
                               f"{MAX_FILTER_DEPTH} levels)", got=_shorten(where),
                               fix="write a flatter expression")
    if _paren_depth(where) > MAX_FILTER_DEPTH:
        raise too_deep
    try:
        parsed = sqlglot.parse(where, dialect=DIALECT)
    except sqlglot.errors.SqlglotError:
        raise ExpressionError("--where", "does not parse as an expression",
                              got=_shorten(where), fix=example) from None
    except RecursionError:  # the parser recurses once per nesting level
        raise too_deep from None
    if len(parsed) != 1 or parsed[0] is None or any(
            isinstance(node, _FORBIDDEN) for node in parsed[0].walk()):
        raise ExpressionError("--where", "must be one expression over the source's columns",
                              got=_shorten(where), fix=example)
    tree = parsed[0]
    for column in tree.find_all(exp.Column):
        if column.name not in columns:
            raise UnknownNameError("--where", "names a column the source does not have",
                                   got=column.name, fix="use one of "
                                   f"{[c for c in columns if not c.startswith('_confluens')]}")
    return tree


def _paren_depth(text: str) -> int:
    """The deepest nesting of parentheses outside quoted text."""
    deepest = depth = 0
    quote = ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    return deepest


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


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
    con = connect()
    try:
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
        except RecursionError:  # a very long flat expression, e.g. 5,000 ANDs
            raise ExpressionError("--where", "is too long to evaluate",
                                  got=_shorten(where or ""),
                                  fix="write a shorter expression, e.g. with IN (...)") from None
        except duckdb.Error as exc:
            raise ExpressionError("--where", "failed to evaluate", got=_shorten(where or ""),
                                  fix=f"check the expression ({str(exc).splitlines()[0]})"
                                  ) from None
    finally:
        con.close()


def count_rows(source: Source, files: list[str], *, where: str | None = None) -> int:
    """How many stored records of ``source`` there are (that match ``where``)."""
    table = read_table(source, files, columns=[source.schema.names[0]], where=where)
    return int(table.num_rows)


def _empty(source: Source) -> exp.Select:
    """A query with no rows and the columns a stored table of ``source`` has."""
    types = {**{f.name: SQL_TYPES[f.dtype] for f in source.schema},
             **{c: "VARCHAR" for c in SYSTEM_COLUMNS}, INGESTED_AT: "TIMESTAMPTZ"}
    return exp.select(*[exp.alias_(exp.cast(exp.null(), t), name, quoted=True)
                        for name, t in types.items()]).limit(0)
