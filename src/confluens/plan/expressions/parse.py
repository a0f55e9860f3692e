"""Parsing a user expression (a ``derive`` or a ``where``): SQL text to a sqlglot tree.

An expression is written in the DuckDB dialect, over the source's columns. It is
parsed once, here, and refused unless it is one expression with no subquery,
statement, table or ``*``.

>>> columns_read(parse_expression("hour(ts) <= 6 AND amount > ts_limit", where="where"))
('ts', 'amount', 'ts_limit')
>>> parse_expression("amount > (SELECT 1)", where="where")
Traceback (most recent call last):
...
confluens.errors.DefinitionError: where: must be one expression over columns, without ...
"""

from __future__ import annotations

import sqlglot
import sqlglot.expressions as exp

from confluens.errors import DefinitionError

__all__ = ["DIALECT", "columns_read", "parse_expression"]

#: The dialect users write expressions in.
DIALECT = "duckdb"

_FORBIDDEN = (exp.Select, exp.Subquery, exp.Command, exp.Create, exp.Drop, exp.Insert,
              exp.Update, exp.Delete, exp.Table, exp.Star)
_FIX = "write one SQL expression, e.g. \"tx_amount > 100\" or \"hour(tx_datetime) <= 6\""


def parse_expression(text: object, where: str) -> exp.Expr:
    """Parse one SQL expression, or raise DefinitionError naming ``where``."""
    if not isinstance(text, str) or not text.strip():
        raise DefinitionError(where, "must be a non-empty SQL expression", got=text, fix=_FIX)
    try:
        parsed = sqlglot.parse(text, dialect=DIALECT)
    except sqlglot.errors.SqlglotError as exc:
        raise DefinitionError(where, f"does not parse ({str(exc).splitlines()[0]})", got=text,
                              fix=_FIX) from None
    except RecursionError:
        raise DefinitionError(where, "is nested too deeply to parse", got=text[:80],
                              fix="write a flatter expression") from None
    if len(parsed) != 1 or parsed[0] is None or any(
            isinstance(node, _FORBIDDEN) for node in parsed[0].walk()):
        raise DefinitionError(where, "must be one expression over columns, without subqueries "
                              "or statements", got=text, fix=_FIX)
    return parsed[0]


def columns_read(tree: exp.Expr) -> tuple[str, ...]:
    """The columns a parsed expression reads, in order of first use."""
    return tuple(dict.fromkeys(column.name for column in tree.find_all(exp.Column, bfs=False)))
