"""User expressions (feature filters and derived columns), as the user wrote them.

An expression is SQL text in the DuckDB dialect, over the source's columns. The core
keeps it as text, a frozen value: it checks only that it is non-empty text. Parsing
and type-checking against the schema belong to the plan layer
(``plan/expressions/``), which runs them when definitions load, so a wrong
expression is still a ``DefinitionError`` at ``confluens apply``.

>>> check_expression("hour(tx_datetime) <= 6", where="derive 'is_night'")
'hour(tx_datetime) <= 6'
>>> check_expression("  ", where="where")
Traceback (most recent call last):
...
confluens.errors.DefinitionError: where: must be a non-empty SQL expression; got '  '...
>>> quote_column('my "odd" col')
'"my ""odd"" col"'
"""

from __future__ import annotations

from confluens.errors import DefinitionError

__all__ = ["check_expression", "quote_column"]


def check_expression(text: object, where: str) -> str:
    """``text`` if it is non-empty text, else DefinitionError naming ``where``."""
    if not isinstance(text, str) or not text.strip():
        raise DefinitionError(where, "must be a non-empty SQL expression", got=text,
                              fix="write one SQL expression, e.g. \"tx_amount > 100\" or "
                              "\"hour(tx_datetime) <= 6\"")
    return text


def quote_column(name: str) -> str:
    """A column name as a quoted SQL identifier, for an expression the core writes
    itself (a snapshot's not-null filter): in double quotes, inner quotes doubled."""
    return '"' + name.replace('"', '""') + '"'
