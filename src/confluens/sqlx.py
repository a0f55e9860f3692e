"""Small sqlglot helpers so ingest builds SQL as trees, never by pasting strings.

>>> render(func("md5", col("a b")))
'MD5("a b")'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlglot
import sqlglot.expressions as exp

__all__ = ["DIALECT", "aliased", "col", "func", "ident", "lit", "render", "same_keys",
           "table_ref", "template", "typed"]

DIALECT = "duckdb"


def ident(name: str) -> exp.Identifier:
    """A quoted identifier: every column, table and alias name enters SQL this way.

    >>> render(ident('a "b'))
    '"a ""b"'
    """
    return exp.to_identifier(name, quoted=True)


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(ident(name), table=ident(table) if table else None)


def table_ref(name: str) -> exp.Table:
    """A quoted table reference (``exp.to_table`` returns identifiers unchanged)."""
    return exp.Table(this=ident(name))


def aliased(name: str, alias: str) -> exp.Table:
    """``"name" AS "alias"``."""
    return exp.Table(this=ident(name), alias=exp.TableAlias(this=ident(alias)))


def same_keys(keys: Sequence[str], left: str, right: str) -> list[exp.Expr]:
    """One null-safe equality per key column between two aliased tables: keys match as
    ``PARTITION BY`` groups them, so a null key is one entity.

    >>> render(exp.and_(*same_keys(["k"], "a", "b")))
    '"a"."k" IS NOT DISTINCT FROM "b"."k"'
    """
    if not keys:  # views without an entity: every row is the one entity
        return [exp.true()]
    return [exp.NullSafeEQ(this=col(k, left), expression=col(k, right)) for k in keys]


def lit(value: Any) -> exp.Expr:
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    return exp.convert(value)


def func(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=list(args))


def typed(sql_type: str) -> exp.DataType:
    return exp.DataType.build(sql_type, dialect=DIALECT)


def render(expression: exp.Expr) -> str:
    return expression.sql(dialect=DIALECT)


def template(sql: str, **subs: exp.Expr) -> exp.Expr:
    """Parse a fixed query shape and put expressions in place of the named columns/tables.

    The shape is a constant written by us; only the substituted parts vary, and they
    are expression trees, so nothing the user wrote is ever pasted into SQL text.

    >>> render(template("SELECT n + 1 FROM t", n=lit(41), t=exp.to_table("data")))
    'SELECT 41 + 1 FROM data'
    """
    tree = sqlglot.parse_one(sql, dialect=DIALECT)

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name in subs:
            return subs[node.name].copy()
        if isinstance(node, exp.Table) and node.name in subs:
            table = subs[node.name].copy()
            if node.args.get("alias") is not None:
                table.set("alias", node.args["alias"].copy())
            return table
        return node

    return tree.transform(swap)
