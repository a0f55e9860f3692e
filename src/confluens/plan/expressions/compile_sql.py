"""A typed expression compiled to SQL for an engine, from its parsed tree.

The tree is normalised once for every SQL engine, so that each gives the types the
checker gave (``typecheck.py``): an integer literal is a BIGINT (DuckDB and Spark
would make it a 32-bit INTEGER, which overflows sooner), a literal with a fraction
or an exponent is a DOUBLE (DuckDB would make ``1.5`` a DECIMAL), and ``INTEGER``
(or ``INT``) in a cast means BIGINT, the one integer type of schemas (int64). Then
sqlglot writes the tree in the engine's dialect; for Spark a small table rewrites what
Spark spells or counts differently (``dayofweek``, ``isodow``, ``isinf``).

>>> from confluens.plan.expressions.typed import typed_expression
>>> e = typed_expression("CAST(n > 1.5 AS INTEGER) + 2 // 3", {"n": "int64"}, "derive 'x'")
>>> sql(e, "duckdb")
'CAST(n > CAST(1.5 AS DOUBLE) AS BIGINT) + CAST(2 AS BIGINT) // CAST(3 AS BIGINT)'
>>> sql(e, "spark")
'CAST(n > CAST(1.5 AS DOUBLE) AS BIGINT) + CAST(2 AS BIGINT) DIV CAST(3 AS BIGINT)'
"""

from __future__ import annotations

from collections.abc import Callable

import sqlglot.expressions as exp

from confluens.plan.expressions.typed import TypedExpression

__all__ = ["DIALECTS", "sql", "tree_for"]

#: The SQL dialects expressions compile to.
DIALECTS = ("duckdb", "spark")

_INTEGER_TYPES = (exp.DataType.Type.INT, exp.DataType.Type.BIGINT)


def _normalise(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Literal) and not node.is_string and not isinstance(
            node.parent, exp.Interval):
        kind = "BIGINT" if str(node.this).isdigit() else "DOUBLE"
        return exp.cast(exp.Literal.number(node.this), kind)
    if isinstance(node, exp.DataType) and node.this in _INTEGER_TYPES:
        return exp.DataType.build("BIGINT")
    return node


def tree_for(expression: TypedExpression) -> exp.Expr:
    """A fresh copy of the expression's tree, normalised for SQL engines; the caller
    may place it in a larger query (and the typed value's own tree stays untouched)."""
    return expression.tree.copy().transform(_normalise, copy=False)


def _spark_day(node: exp.Expr, spark: str, shift: type[exp.Add | exp.Sub]) -> exp.Expr:
    return exp.Paren(this=shift(this=exp.Anonymous(this=spark, expressions=[
        node.this.copy()]), expression=exp.Literal.number(1)))


# Spark spells some functions differently, or counts from another day: each entry
# gives DuckDB's result in Spark's terms.
_SPARK: dict[type[exp.Expr], Callable[[exp.Expr], exp.Expr]] = {
    # DuckDB dayofweek: Sunday 0 .. Saturday 6; Spark DAYOFWEEK: Sunday 1 .. Saturday 7
    exp.DayOfWeek: lambda n: _spark_day(n, "DAYOFWEEK", exp.Sub),
    # DuckDB isodow: Monday 1 .. Sunday 7; Spark WEEKDAY: Monday 0 .. Sunday 6
    exp.DayOfWeekIso: lambda n: _spark_day(n, "WEEKDAY", exp.Add),
    exp.IsInf: lambda n: exp.EQ(this=exp.Abs(this=n.this.copy()), expression=exp.cast(
        exp.Literal.string("Infinity"), "DOUBLE")),
}


def _for_spark(node: exp.Expr) -> exp.Expr:
    rewrite = _SPARK.get(type(node))
    return rewrite(node) if rewrite is not None else node


def sql(expression: TypedExpression, dialect: str) -> str:
    """The expression as SQL text in ``dialect`` (one of :data:`DIALECTS`)."""
    if dialect not in DIALECTS:
        raise ValueError(f"no SQL dialect {dialect!r}; expressions compile to {DIALECTS}")
    tree = tree_for(expression)
    if dialect == "spark":
        tree = tree.transform(_for_spark, copy=False)
    return tree.sql(dialect=dialect)
