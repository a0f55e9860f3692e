"""Run-time failures of user SQL: which derive or where expression broke, on what.

Expressions are checked when definitions load (``plan/expressions``), but some
failures depend on the data: ``100 // d`` where ``d`` is 0, an
integer product that overflows. When an engine query fails, :func:`blame` evaluates
the view's expressions one by one over the same events, in the order the engine does
(derived columns first, in order, then filters), and names the first that fails: its
view, the features that read it and the expression. A failure no expression
reproduces is not the user's, and is left alone.
"""

from __future__ import annotations

import duckdb
import sqlglot.expressions as exp

from confluens.errors import FeatureExpressionError
from confluens.plan.expressions import bind
from confluens.plan.expressions.compile_sql import tree_for
from confluens.plan.ir import RatioOf, ViewPlan
from confluens.sqlx import func, render, table_ref

__all__ = ["blame"]


def _readers(plan: ViewPlan, column: str | None, where: str | None) -> list[str]:
    """The features that read derived ``column``, or filter by ``where``."""
    out: list[str] = []
    for feature in plan.features:
        parts = ((feature.numerator, feature.denominator) if isinstance(feature, RatioOf)
                 else (feature,))
        for part in parts:
            if column is not None:
                reads = part.column == column or (
                    part.where is not None and column in bind(plan).filter(part.where).columns)
            else:
                reads = part.where == where
            if reads and feature.output not in out:
                out.append(feature.output)
    return out


def blame(plan: ViewPlan, con: duckdb.DuckDBPyConnection, events: str,
          error: duckdb.Error) -> FeatureExpressionError | None:
    """The user expression of ``plan`` that fails over table ``events`` in ``con``, as a
    FeatureExpressionError (caused by ``error``), or None if none fails alone."""
    base: exp.Select = exp.select(exp.Star()).from_(table_ref(events))
    checks: list[tuple[str, str, str | None, exp.Select]] = []
    for name, text in plan.derive:
        tree = tree_for(bind(plan).derived(name))
        checks.append((f"derive '{name}'", text, name,
                       exp.select(func("count", tree.copy())).from_(base.subquery("d"))))
        base = exp.select(exp.Star(), exp.alias_(tree, name, quoted=True)).from_(
            base.subquery("d"))
    for agg in plan.aggregations:
        if agg.where is not None:
            tree = tree_for(bind(plan).filter(agg.where))
            checks.append(("where", agg.where, None, exp.select(func("count", exp.Paren(
                this=tree))).from_(base.subquery("d"))))
    for label, text, column, query in checks:
        try:
            con.sql(render(query)).fetchall()
        except duckdb.Error as exc:
            reason = str(exc).splitlines()[0]
            features = _readers(plan, column, None if column is not None else text)
            thing = f"feature view '{plan.name}' {label}"
            if features:
                thing += f" (read by feature{'s' if len(features) > 1 else ''} " + ", ".join(
                    repr(f) for f in features) + ")"
            found = FeatureExpressionError(
                thing, f"failed on the stored events: {reason}", got=text,
                fix="guard the expression against such values, e.g. CASE WHEN d <> 0 THEN "
                "n // d END (a branch runs only where it is taken), or TRY_CAST(... AS ...), "
                "null where a cast fails")
            found.__cause__ = error
            return found
    return None
