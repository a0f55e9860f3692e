"""User expressions (feature filters and derived columns), checked when they are defined.

An expression is SQL text in the DuckDB dialect, over the source's columns. It is
parsed here only to check it: one expression, no subqueries or statements, and only
known columns.

>>> columns_of("hour(tx_datetime) <= 6", where="derive 'is_night'")
['tx_datetime']
>>> columns_of("amount > (SELECT 1)", where="where")
Traceback (most recent call last):
...
confluens.errors.DefinitionError: where: must be one expression over columns, without ...
"""

from __future__ import annotations

import sqlglot
import sqlglot.expressions as exp

from confluens.errors import DefinitionError

__all__ = ["columns_of", "parse_expression"]

DIALECT = "duckdb"
_FORBIDDEN = (exp.Select, exp.Subquery, exp.Command, exp.Create, exp.Drop, exp.Insert,
              exp.Update, exp.Delete, exp.Table, exp.Star)


def parse_expression(text: object, where: str) -> exp.Expr:
    """Parse one SQL expression, or raise DefinitionError naming ``where``."""
    fix = "write one SQL expression, e.g. \"tx_amount > 100\" or \"hour(tx_datetime) <= 6\""
    if not isinstance(text, str) or not text.strip():
        raise DefinitionError(where, "must be a non-empty SQL expression", got=text, fix=fix)
    try:
        parsed = sqlglot.parse(text, dialect=DIALECT)
    except sqlglot.errors.SqlglotError as exc:
        raise DefinitionError(where, f"does not parse ({str(exc).splitlines()[0]})", got=text,
                              fix=fix) from None
    if len(parsed) != 1 or parsed[0] is None or any(
            isinstance(node, _FORBIDDEN) for node in parsed[0].walk()):
        raise DefinitionError(where, "must be one expression over columns, without subqueries "
                              "or statements", got=text, fix=fix)
    return parsed[0]


def columns_of(text: object, where: str) -> list[str]:
    """The columns an expression reads, in order of first use."""
    names: list[str] = []
    for column in parse_expression(text, where).find_all(exp.Column):
        if column.name not in names:
            names.append(column.name)
    return names
