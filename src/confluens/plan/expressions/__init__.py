"""User expressions (``derive`` and ``where``) parsed once and compiled for every engine.

- ``parse.py``: SQL text (DuckDB dialect) to one sqlglot tree, refusing statements;
- ``functions.py``: the allowed functions, casts and units;
- ``typecheck.py``: the tree's result type over the columns' types;
- ``typed.py``: :class:`TypedExpression`, the parsed, typed value;
- ``bind.py``: a view's expressions typed when definitions load (:func:`check_view`),
  and the side table the engines read them from (:func:`bind`);
- ``compile_sql.py``: the tree as DuckDB or Spark SQL;
- ``evaluate_python.py``: the tree evaluated over Arrow columns (a micro-batch);
- ``conformance.py``: checks that an evaluator gives DuckDB's values row by row.
"""

from confluens.plan.expressions.bind import BoundExpressions, bind, check_view
from confluens.plan.expressions.functions import ALLOWED_FUNCTIONS
from confluens.plan.expressions.typed import TypedExpression, typed_expression

__all__ = ["ALLOWED_FUNCTIONS", "BoundExpressions", "TypedExpression", "bind", "check_view",
           "typed_expression"]
